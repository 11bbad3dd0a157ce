"""The unsubscribed: a local list of addresses (personal data, never committed) that every send honours."""

from __future__ import annotations

from pathlib import Path

from core import durable

from . import recipients

HEADER = ("# Unsubscribed from the newsletter: never sent to, whatever the subscribers file says.\n"
          "# One address a line; add with `./vetrina newsletter --unsubscribe ADDRESS`.")


def load(path: Path) -> recipients.AddressList:
    if not path.is_file():
        return recipients.AddressList()
    return recipients.parse(path.read_text(encoding="utf-8"), recipients.shown(path))


def add(path: Path, address: str) -> tuple[str, bool]:
    """(normalised address, whether it was added); an address already there is not written again."""
    normal = recipients.normalise(address)
    key = recipients.Recipient(normal).key
    if key in load(path).keys:
        return normal, False
    if not path.exists():
        durable.append_line(path, HEADER)
    durable.append_line(path, normal)
    return normal, True
