"""A campaign's journal: one durable file per recipient with the state of its message.

A recipient without a file is pending. Its file is written (durably) before its message is handed to the
SMTP server (`in_flight`) and again after the server answered: `sent` with the reply, `bounced` when the
server refused it for good (a 5xx reply: final, never tried again), `failed` when it may work later (a 4xx
reply, a lost connection: tried again by the next run). A file still `in_flight` when a run starts belongs to a run that died while talking to the
server: nobody knows whether the message arrived, so it becomes `in_doubt` and is resent only on request.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from core import durable
from .result import NewsletterError


class State(str, enum.Enum):
    PENDING = "pending"
    IN_FLIGHT = "in_flight"
    SENT = "sent"
    FAILED = "failed"
    BOUNCED = "bounced"
    IN_DOUBT = "in_doubt"


# Which state may follow which: a sent or bounced message is final; a failed or in-doubt one may be tried again.
NEXT = {
    State.PENDING: {State.IN_FLIGHT},
    State.IN_FLIGHT: {State.SENT, State.FAILED, State.BOUNCED, State.IN_DOUBT},
    State.FAILED: {State.IN_FLIGHT},
    State.IN_DOUBT: {State.IN_FLIGHT},
    State.SENT: set(),
    State.BOUNCED: set(),
}


STOPPED = "the sending run stopped before the server answered"


class JournalError(NewsletterError):
    """A journal file cannot be read, or a change of state that the journal forbids."""


@dataclass(frozen=True)
class Entry:
    key: str  # the recipient's identity (see recipients.Recipient.key)
    address: str  # the address the message is sent to
    state: State = State.PENDING
    message_id: str = ""  # fixed at the first attempt, the same for every later one
    date: str = ""  # the Date header of the first attempt, so that a resend is the same message
    reply: str = ""  # the server's reply (sent, failed, bounced) or why the outcome is unknown (in doubt)
    attempts: int = 0
    updated: str = ""


def file_name(key: str) -> str:
    """Addresses never appear in file names (case, length and characters would all be trouble)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32] + ".json"


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


class Journal:
    """The entries of one campaign, kept in memory and written through to `folder` at every change."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.entries: dict[str, Entry] = {}
        if folder.is_dir():
            for path in sorted(folder.iterdir()):
                if durable.is_temp(path):
                    continue  # half-written by a run that was killed: the previous file still stands
                if path.suffix == ".json":
                    entry = self._read(path)
                    self.entries[entry.key] = entry

    @staticmethod
    def _read(path: Path) -> Entry:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return Entry(**{**data, "state": State(data["state"])})
        except (ValueError, TypeError, KeyError) as error:
            raise JournalError(f"{path}: not a journal entry ({error}); restore it or remove the campaign folder "
                               "only if you know who received the issue") from None

    def entry(self, key: str, address: str) -> Entry:
        return self.entries.get(key) or Entry(key, address)

    def state(self, key: str) -> State:
        entry = self.entries.get(key)
        return entry.state if entry else State.PENDING

    def _move(self, entry: Entry, state: State, **changes) -> Entry:
        if state not in NEXT[entry.state]:
            raise JournalError(f"{entry.address}: a message cannot go from {entry.state.value} to {state.value}")
        moved = replace(entry, state=state, updated=now(), **changes)
        durable.write_json(self.folder / file_name(moved.key), {**asdict(moved), "state": moved.state.value})
        self.entries[moved.key] = moved
        return moved

    def begin(self, key: str, address: str, message_id: str, date: str) -> Entry:
        """Record that the message is about to be handed over (before the first SMTP command for it).

        The Message-ID and Date of the first attempt are kept: a retry sends the very same message.
        """
        entry = self.entry(key, address)
        return self._move(entry, State.IN_FLIGHT, message_id=entry.message_id or message_id,
                          date=entry.date or date, attempts=entry.attempts + 1, reply="")

    def sent(self, key: str, reply: str) -> Entry:
        return self._move(self.entry(key, key), State.SENT, reply=reply)

    def failed(self, key: str, reason: str) -> Entry:
        return self._move(self.entry(key, key), State.FAILED, reply=reason)

    def bounced(self, key: str, reply: str) -> Entry:
        return self._move(self.entry(key, key), State.BOUNCED, reply=reply)

    def in_doubt(self, key: str, reason: str) -> Entry:
        return self._move(self.entry(key, key), State.IN_DOUBT, reply=reason)

    def recover(self) -> list[Entry]:
        """Turn every `in_flight` entry into `in_doubt`. Only for a run that holds the lock: then no one
        else is sending, and an entry in flight was left by a run that died before the server's answer."""
        return [self.in_doubt(entry.key, STOPPED)
                for entry in list(self.entries.values()) if entry.state is State.IN_FLIGHT]

    def as_recovered(self) -> dict[str, Entry]:
        """The entries as recover() would leave them, without writing (for --status and --dry-run, when no
        run holds the lock)."""
        return {key: replace(entry, state=State.IN_DOUBT, reply=STOPPED) if entry.state is State.IN_FLIGHT else entry
                for key, entry in self.entries.items()}

    def with_state(self, state: State) -> list[Entry]:
        return [entry for entry in self.entries.values() if entry.state is state]

    def remove_temp_files(self) -> None:
        if self.folder.is_dir():
            for path in self.folder.iterdir():
                if durable.is_temp(path):
                    path.unlink(missing_ok=True)
