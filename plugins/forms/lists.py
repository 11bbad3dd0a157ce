"""The newsletter's files kept by the endpoint: a confirmed address appended to the subscribers file that
`./vetrina newsletter --send` reads, an unsubscribed one added to the suppression list every send honours.

Each change is one atomic write (an O_APPEND line, or a temp file renamed over the list), so a send that reads
the file meanwhile sees it before or after, never half written; lines written by hand are kept as they are.
"""

from __future__ import annotations

from pathlib import Path

from core import durable
from newsletter import recipients, suppression

HEADER = ("# Newsletter subscribers: one address a line. Addresses confirmed through the sign-up form are added\n"
          "# by the forms endpoint; you may add or remove lines by hand.")


def keys_in(path: Path) -> set[str]:
    if not path.is_file():
        return set()
    return recipients.parse(path.read_text(encoding="utf-8"), recipients.shown(path)).keys


def subscribe(subscribers: Path, unsubscribed: Path, address: str) -> bool:
    """Add a confirmed address (once) and take it off the suppression list; whether the subscribers file changed."""
    key = recipients.Recipient(address).key
    lift(unsubscribed, key)
    if key in keys_in(subscribers):
        return False
    if not subscribers.exists():
        durable.append_line(subscribers, HEADER)
    durable.append_line(subscribers, address)
    return True


def lift(path: Path, key: str) -> None:
    """Remove an address from the suppression list: the owner asked again, and confirmed, to receive it."""
    if key not in keys_in(path):
        return
    kept = [line for line in path.read_text(encoding="utf-8").splitlines()
            if not _names(line, key)]
    durable.write_bytes(path, ("\n".join(kept) + "\n").encode("utf-8"))


def _names(line: str, key: str) -> bool:
    candidate = recipients.strip_comment(line)
    try:
        return bool(candidate) and recipients.Recipient(recipients.normalise(candidate)).key == key
    except ValueError:
        return False


def unsubscribe(path: Path, address: str) -> bool:
    return suppression.add(path, address)[1]
