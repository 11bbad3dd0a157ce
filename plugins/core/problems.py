"""The build's problems as one-line messages: where (file and line), what, and how to fix it.

Pure functions only: callers read the files and pass their text in.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import yaml

DATE_EXAMPLE = "2026-11-22 10:15"

# A metadata line of a Pelican Markdown file ("Date: 2026-11-22 10:15"), as Python-Markdown's meta reads it.
_HEADER_FIELD = re.compile(r"^[ ]{0,3}(?P<key>[A-Za-z0-9_-]+):\s*(?P<value>.*)$")
# "field 'variants[0].options.colore'" -> variants, 0, options, colore
_FIELD_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
_ISO_DAY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})\b")


@dataclass(frozen=True, order=True)
class Problem:
    """One problem of a build: the file relative to the project (or ""), the line (0 when unknown) and the text."""

    file: str
    line: int
    text: str

    def __str__(self) -> str:
        if not self.file:
            return self.text
        return f"{self.file}:{self.line}: {self.text}" if self.line else f"{self.file}: {self.text}"


def report(problems) -> str:
    """The block printed at the end of a failed build: a count, then one line per problem, by file and line."""
    unique = sorted(set(problems))
    files = {problem.file for problem in unique if problem.file}
    count = f"{len(unique)} problem{'s' if len(unique) != 1 else ''}"
    if files:
        count += f" in {len(files)} file{'s' if len(files) != 1 else ''}"
    return "\n".join([f"{count}:", *(f"  {problem}" for problem in unique)])


def relative(message: str, root: str) -> str:
    """The message with the project folder's absolute prefix removed from the paths it names."""
    prefix = root.rstrip("/\\") + "/"
    return message.replace(prefix, "")


def split_location(message: str, is_file) -> Problem:
    """A Problem from a "path[:line]: text" message; is_file(path) says whether the prefix names a file."""
    head, sep, rest = message.partition(": ")
    if sep:
        path, colon, line = head.rpartition(":")
        if colon and line.isdigit() and is_file(path):
            return Problem(path, int(line), rest)
        if is_file(head):
            return Problem(head, 0, rest)
    return Problem("", 0, message)


# --- where a field is written -----------------------------------------------------------------------------

def field_path(field: str) -> list:
    """'variants[0].sku' -> ['variants', 0, 'sku']."""
    return [int(index) if index else name for name, index in _FIELD_PART.findall(field)]


def field_line(text: str, field: str) -> int | None:
    """The 1-based line of the file where field is written: YAML front matter or Pelican's "Name: value" header."""
    lines = text.lstrip("\ufeff").splitlines()
    if lines and lines[0].strip() == "---":
        return _yaml_field_line(lines, field_path(field))
    return _header_field_line(lines, field)


def _header_field_line(lines: list[str], field: str) -> int | None:
    name = field_path(field)[0] if field_path(field) else field
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            return None  # the header ends at the first blank line
        match = _HEADER_FIELD.match(line)
        if match and match["key"].lower() == str(name).lower():
            return number
    return None


def _yaml_field_line(lines: list[str], parts: list) -> int | None:
    end = next((i for i, line in enumerate(lines[1:], start=1) if line.strip() in ("---", "...")), None)
    if end is None:
        return None
    try:
        node = yaml.compose("\n".join(lines[1:end]))
    except yaml.YAMLError:
        return None
    found = None  # the line of the deepest part that exists: a missing sub-field is reported on its parent
    for part in parts:
        child = _child(node, part)
        if child is None:
            break
        node, mark = child
        found = mark.line + 2  # + the opening fence, + 1-based
    return found


def _child(node, part):
    """(child node, mark of where it is written) of a YAML mapping key or sequence index."""
    if isinstance(node, yaml.MappingNode) and isinstance(part, str):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and str(key.value).lower() == part.lower():
                return value, key.start_mark
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        return node.value[part], node.value[part].start_mark
    return None


def text_line(text: str, needle: str) -> int | None:
    """The 1-based line where needle first appears in text."""
    index = text.find(needle)
    return None if index < 0 else text.count("\n", 0, index) + 1


# --- explanations -----------------------------------------------------------------------------------------

def not_utf8(data: bytes, error: UnicodeDecodeError) -> tuple[int, str]:
    """(line, message) for a file that is not UTF-8, naming the first bad byte and the text around it."""
    line = data.count(b"\n", 0, error.start) + 1
    start = data.rfind(b"\n", 0, error.start) + 1
    # Shown as Windows-1252 (Latin-1's superset), the encoding such files usually have, so the word reads right.
    around = data[start:error.start + 12].split(b"\n")[0].decode("cp1252", errors="replace").strip()
    byte = data[error.start:error.start + 1].hex()
    return line, (f"the file is not UTF-8 text (byte 0x{byte} in {around!r}, perhaps Latin-1 or Windows-1252); "
                  f"save it again with the UTF-8 encoding")


def not_a_date(value: str) -> str:
    """Why a date field's value is refused, and how to write it."""
    day = _ISO_DAY.match(value.strip())
    if day:
        try:
            dt.date(*(int(part) for part in day.groups()))
        except ValueError:
            return f"{value!r} is not a day of the calendar; write a real date like {DATE_EXAMPLE}"
    return f"{value!r} is not a date; write it like {DATE_EXAMPLE}"


def pelican_date_value(error: BaseException) -> str | None:
    """The value Pelican's get_date refused (its ValueError reads "'yesterday' is not a valid date")."""
    match = re.fullmatch(r"(['\"])(?P<value>.*)\1 is not a valid date", str(error))
    return match["value"] if match else None


def header_field_with_value(text: str, fields: tuple[str, ...], value: str) -> tuple[str, int] | None:
    """(field, line) of the first of fields in Pelican's header whose value is value."""
    for number, line in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        if not line.strip():
            return None
        match = _HEADER_FIELD.match(line)
        if match and match["key"].lower() in fields and _same_value(match["value"], value):
            return match["key"].lower(), number
    return None


def _same_value(written: str, value: str) -> bool:
    # Pelican reads "2026-11-22_10:15" as "2026-11-22 10:15" and collapses runs of spaces.
    return " ".join(written.replace("_", " ").split()) == " ".join(value.replace("_", " ").split())


def offset_time(moment: dt.datetime) -> str:
    """'2027-01-10 09:00 +01:00': a date as the writer wrote it, with its UTC offset."""
    offset = moment.strftime("%z")
    offset = f"{offset[:3]}:{offset[3:]}" if offset else ""
    return f"{moment:%Y-%m-%d %H:%M} {offset}".strip()
