"""Who a campaign's next attempt sends to, and why the others are skipped. Pure: lists and states in, a plan out."""

from __future__ import annotations

from dataclasses import dataclass, field

from .journal import Entry, State
from .recipients import Recipient


@dataclass(frozen=True)
class Audience:
    """Who a run may send to: the subscribers' file, the unsubscribed keys, and the lines of both that were
    skipped (reported in the summary)."""

    listed: list[Recipient]
    unsubscribed: set[str]
    problems: list = field(default_factory=list)


@dataclass
class Plan:
    to_send: list[Recipient] = field(default_factory=list)  # pending, or failed before: tried again
    resend: list[Recipient] = field(default_factory=list)  # in doubt, resent on request with their Message-ID
    already_sent: list[Recipient] = field(default_factory=list)
    bounced: list[Entry] = field(default_factory=list)  # refused for good (5xx): never tried again
    suppressed: list[Recipient] = field(default_factory=list)
    in_doubt: list[Entry] = field(default_factory=list)  # skipped: the server may have received them
    in_flight: list[Entry] = field(default_factory=list)  # only seen while another run is sending
    retries: int = 0  # how many of to_send failed before

    @property
    def unfinished(self) -> bool:
        """Someone on the list still waits for this issue (in-doubt and bounced messages do not hold a
        campaign open: a bounced address is wrong for good, and a corrected one is a new subscriber)."""
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
        elif state is State.BOUNCED:
            plan.bounced.append(entry)
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


def doubtful(entries: dict[str, Entry], audience: Audience) -> list[Entry]:
    """A campaign's messages in doubt whose recipient is still subscribed (the others concern nobody now)."""
    return make(audience.listed, audience.unsubscribed, entries, completed=True).in_doubt
