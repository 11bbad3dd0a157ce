"""What each issue contained: a JSON file committed with the site, so an item is never sent twice or skipped.

An issue is recorded when its campaign is frozen, before the first message goes out: from then on its
items belong to it, whatever happens to the sending.
"""

from __future__ import annotations

import json
from pathlib import Path

from core import durable
from .result import NewsletterError


def load(path: Path) -> dict:
    if not path.is_file():
        return {"issues": []}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise NewsletterError(f"{path}: not valid JSON ({error}); restore it from git") from None


def sent_guids(state: dict) -> set[str]:
    """Every item an issue contained, and those an import marked as announced (the old site's posts)."""
    return {guid for issue in state["issues"] for guid in issue["items"]} | set(state.get("announced", ()))


def with_announced(state: dict, guids) -> dict:
    """The state with these GUIDs marked as already announced (sorted, each once)."""
    return {**state, "announced": sorted(set(state.get("announced", ())) | set(guids))}


def last_number(state: dict) -> int:
    return max((issue["number"] for issue in state["issues"]), default=0)


def issue(state: dict, number: int) -> dict | None:
    return next((issue for issue in state["issues"] if issue["number"] == number), None)


def with_issue(state: dict, record: dict) -> dict:
    """The state with `record` as issue record["number"] (replacing an earlier record of that number)."""
    others = [issue for issue in state["issues"] if issue["number"] != record["number"]]
    return {**state, "issues": sorted([*others, record], key=lambda issue: issue["number"])}


def save(path: Path, state: dict) -> None:
    """Durably and atomically: a crash never leaves half a state file, and a saved one survives a power cut."""
    durable.write_json(path, state)
