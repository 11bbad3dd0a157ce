"""Split a Markdown file with YAML front matter into its fields and its body."""

from __future__ import annotations

import yaml


class FrontMatterError(ValueError):
    """The front matter is missing or is not valid YAML."""


def split(text: str) -> tuple[dict, str]:
    """(fields, markdown body) of a file that starts with a --- fenced YAML block."""
    lines = text.lstrip("\ufeff").splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise FrontMatterError("the file must start with a line '---' opening the YAML fields")
    for index, line in enumerate(lines[1:], start=1):
        if line.strip() in ("---", "..."):
            break
    else:
        raise FrontMatterError("the YAML fields are not closed by a line '---'")
    try:
        fields = yaml.safe_load("".join(lines[1:index])) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 2})" if mark else ""
        raise FrontMatterError(f"the YAML fields are not valid{where}: {getattr(error, 'problem', error)}") from None
    if not isinstance(fields, dict):
        raise FrontMatterError("the YAML fields must be 'name: value' pairs")
    return fields, "".join(lines[index + 1 :])
