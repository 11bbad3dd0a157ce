"""Who a campaign's next attempt sends to, and why the others are skipped. Pure: lists and states in, a plan out."""

from __future__ import annotations

from dataclasses import dataclass, field

from .journal import Entry, State
from .recipients import Recipient


@dataclass
class Plan:
    to_send: list[Recipient] = field(default_factory=list)  # pending, or failed before: tried again
    resend: list[Recipient] = field(default_factory=list)  # in doubt, resent on request with their Message-ID
    already_sent: list[Recipient] = field(default_factory=list)
    suppressed: list[Recipient] = field(default_factory=list)
    in_doubt: list[Entry] = field(default_factory=list)  # skipped: the server may have received them
    in_flight: list[Entry] = field(default_factory=list)  # only seen while another run is sending
    retries: int = 0  # how many of to_send failed before

    @property
    def unfinished(self) -> bool:
        """Someone on the list still waits for this issue (in-doubt messages do not hold a campaign open)."""
        return bool(self.to_send)

    @property
    def recipients(self) -> list[Recipient]:
        return [*self.to_send, *self.resend]


def make(listed: list[Recipient], suppressed: set[str], entries: dict[str, Entry], *,
         completed: bool = False, resend_in_doubt: bool = False) -> Plan:
    """A completed campaign sends to no one new; only its in-doubt messages can still be resent."""
    plan = Plan()
    for recipient in listed:
        entry = entries.get(recipient.key)
        state = entry.state if entry else State.PENDING
        if recipient.key in suppressed and state is not State.SENT:
            plan.suppressed.append(recipient)
        elif state is State.SENT:
            plan.already_sent.append(recipient)
        elif state is State.IN_DOUBT:
            if resend_in_doubt:
                plan.resend.append(Recipient(entry.address, recipient.line))
            else:
                plan.in_doubt.append(entry)
        elif state is State.IN_FLIGHT:
            plan.in_flight.append(entry)
        elif not completed:
            plan.to_send.append(recipient)
            plan.retries += state is State.FAILED
    return plan
