"""Address lists (subscribers, unsubscribed): parsed, checked, normalised and deduplicated. Pure: text in, data out.

One address a line; blank lines and `#` comments (a whole line, or after a space) are allowed.
Normalising: surrounding whitespace goes, the domain is lower-cased (and an international domain is
written in its ASCII form, by IDNA 2008 with UTS 46 non-transitional mapping: `straße.de` stays
`xn--strae-oqa.de`, the domain its owner registered, where Python's own IDNA 2003 codec would write the
different domain `strasse.de`), the local part keeps the case it was written in. Two addresses that differ
only in the case of the local part are one subscriber: RFC 5321 lets a server tell them apart, but no
mail provider in use does, and sending twice to the same person is the failure a shop cannot undo.
The first spelling in the file is the one the message goes to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import idna

# RFC 5322 dot-atom (the quoted local parts nobody uses are refused); RFC 1035/5890 host names.
LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


@dataclass(frozen=True)
class Recipient:
    address: str  # as the message is sent: local part as written, domain lower-cased
    line: int = 0

    @property
    def key(self) -> str:
        """The subscriber's identity: what deduplication, the journal and the unsubscribe list compare."""
        return self.address.lower()


@dataclass(frozen=True)
class Problem:
    source: str
    line: int
    text: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.text!r} {self.reason}; fix or remove the line"


@dataclass
class AddressList:
    recipients: list[Recipient] = field(default_factory=list)
    invalid: list[Problem] = field(default_factory=list)
    duplicates: list[Problem] = field(default_factory=list)

    @property
    def keys(self) -> set[str]:
        return {recipient.key for recipient in self.recipients}


def normalise(text: str) -> str:
    """The address in its normal form; ValueError with the reason when it is not an e-mail address."""
    address = text.strip()
    if not address:
        raise ValueError("is empty")
    if any(char.isspace() for char in address) or "<" in address or ">" in address or "," in address:
        raise ValueError("is not one bare e-mail address (write one address a line, without a name)")
    if address.count("@") != 1:
        raise ValueError("is not an e-mail address (it needs exactly one @)")
    local, domain = address.split("@")
    if not local.isascii():
        raise ValueError("has a non-ASCII local part, which needs SMTPUTF8 (not supported)")
    if len(local) > 64 or not LOCAL_PART.fullmatch(local):
        raise ValueError("has an invalid part before the @")
    domain = ascii_domain(domain.rstrip("."))
    labels = domain.split(".")
    if (len(domain) > 253 or len(labels) < 2 or labels[-1].isdigit()
            or not all(LABEL.fullmatch(label) for label in labels)):
        raise ValueError("has an invalid domain (it needs a name such as example.org)")
    if len(local) + 1 + len(domain) > 254:
        raise ValueError("is longer than an e-mail address can be")
    return f"{local}@{domain}"


def ascii_domain(domain: str) -> str:
    """The domain lower-cased, an international one in its ASCII (xn--) form; ValueError when it has none."""
    if domain.isascii():
        return domain.lower()
    try:
        return idna.encode(domain, uts46=True, transitional=False).decode("ascii").lower()
    except UnicodeError as error:  # idna.IDNAError is one
        raise ValueError(f"has an invalid international domain ({error})") from None


def strip_comment(line: str) -> str:
    # `#` is allowed inside an address, so only a whole-line comment or one after a space counts.
    stripped = line.strip()
    if stripped.startswith("#"):
        return ""
    return re.split(r"\s#", stripped, maxsplit=1)[0].strip()


def shown(path) -> str:
    """A file as the owner typed it: relative to the current folder when it is inside it."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def parse(text: str, source: str) -> AddressList:
    """Every valid address once, in file order; the invalid and repeated lines reported with their line."""
    parsed = AddressList()
    first_line: dict[str, int] = {}
    # Editors on Windows (and spreadsheet exports) start a UTF-8 file with a byte-order mark.
    for number, line in enumerate(text.removeprefix("\ufeff").splitlines(), start=1):
        candidate = strip_comment(line)
        if not candidate:
            continue
        try:
            recipient = Recipient(normalise(candidate), number)
        except ValueError as error:
            parsed.invalid.append(Problem(source, number, candidate, str(error)))
            continue
        if recipient.key in first_line:
            parsed.duplicates.append(Problem(source, number, candidate,
                                             f"repeats the address of line {first_line[recipient.key]}"))
            continue
        first_line[recipient.key] = number
        parsed.recipients.append(recipient)
    return parsed
