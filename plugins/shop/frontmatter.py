"""Split a Markdown file with YAML front matter into its fields and its body."""

from __future__ import annotations

import yaml


class FrontMatterError(ValueError):
    """The front matter is missing or is not valid YAML; .line is the line of the file, when known."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


class _Loader(yaml.SafeLoader):
    """YAML's safe loader, but an impossible date (2026-02-30) is an error at its line, not a bare ValueError."""


class _ImpossibleDate(yaml.constructor.ConstructorError):
    pass


def _timestamp(loader, node):
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        raise _ImpossibleDate(None, None, f"{node.value!r} is not a day of the calendar; write a real date "
                              "like 2026-11-22", node.start_mark) from None


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)

if hasattr(yaml, "CSafeLoader"):  # PyYAML built with libyaml: the same data, parsed in C

    class _FastLoader(yaml.CSafeLoader):
        """The safe loader on libyaml's parser, with the same date check; its errors are explained by _Loader."""

    _FastLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)
else:  # pragma: no cover - PyYAML without libyaml
    _FastLoader = None


def load(yaml_text: str):
    """The YAML fields' data, read with libyaml when it is there; any error is reported by the Python loader."""
    if _FastLoader is not None:
        try:
            return yaml.load(yaml_text, Loader=_FastLoader)
        except yaml.YAMLError:
            pass  # the pure-Python loader below raises it again, with the marks and wording the messages expect
    return yaml.load(yaml_text, Loader=_Loader)


def split(text: str) -> tuple[dict, str]:
    """(fields, markdown body) of a file that starts with a --- fenced YAML block."""
    lines = text.lstrip("\ufeff").splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise FrontMatterError("the file must start with a line '---' opening the YAML fields", 1)
    for index, line in enumerate(lines[1:], start=1):
        if line.strip() in ("---", "..."):
            break
    else:
        raise FrontMatterError("the YAML fields are not closed by a line '---'", 1)
    yaml_text = "".join(lines[1:index])
    try:
        fields = load(yaml_text) or {}
    except _ImpossibleDate as error:
        name = _field_at(yaml.compose(yaml_text), error.problem_mark.line)
        raise FrontMatterError(f"field '{name}': {error.problem}" if name else error.problem,
                               error.problem_mark.line + 2) from None
    except yaml.YAMLError as error:
        raise FrontMatterError(f"the YAML fields are not valid: {_explain(error)}", _error_line(error)) from None
    if not isinstance(fields, dict):
        raise FrontMatterError("the YAML fields must be 'name: value' pairs", 2)
    return fields, "".join(lines[index + 1 :])


def _field_at(node, line: int, path: str = "") -> str | None:
    """The dotted name ('sale.start', 'price_history[1].date') of the scalar value written on a line."""
    if isinstance(node, yaml.MappingNode):
        children = [(f"{path}.{key.value}" if path else str(key.value), value) for key, value in node.value]
    elif isinstance(node, yaml.SequenceNode):
        children = [(f"{path}[{i}]", value) for i, value in enumerate(node.value)]
    else:
        return path if node.start_mark.line == line else None
    for name, child in children:
        found = _field_at(child, line, name)
        if found:
            return found
    return None


def _error_line(error: yaml.YAMLError) -> int | None:
    """The file's line of a YAML error: the YAML starts on line 2, after the '---' fence.

    An unclosed bracket or quote is only noticed further down (at the next key, or at the end of the
    fields): then the line where it was opened (the error's context) is the one to fix.
    """
    mark = getattr(error, "problem_mark", None)
    if _unclosed(error) and getattr(error, "context_mark", None) is not None:
        mark = error.context_mark
    return mark.line + 2 if mark is not None else None


def _unclosed(error: yaml.YAMLError) -> bool:
    context = str(getattr(error, "context", "") or "")
    return "flow" in context or "quoted scalar" in context


def _explain(error: yaml.YAMLError) -> str:
    problem = str(getattr(error, "problem", None) or error)
    context = getattr(error, "context", None)
    hint = ""
    if "mapping values are not allowed" in problem:
        hint = "; a value that contains ': ' needs quotes"
    elif "'\\t'" in problem:
        hint = "; indent with spaces, not tabs"
    elif _unclosed(error):
        hint = "; close the bracket or quote opened on this line"
    return f"{context}, {problem}{hint}" if context else f"{problem}{hint}"
