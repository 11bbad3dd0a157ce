"""What each issue contained: a JSON file committed with the site, so an item is never sent twice or skipped."""

from __future__ import annotations

import json
import os
from pathlib import Path


def load(path: Path) -> dict:
    if not path.is_file():
        return {"issues": []}
    return json.loads(path.read_text(encoding="utf-8"))


def sent_guids(state: dict) -> set[str]:
    return {guid for issue in state["issues"] for guid in issue["items"]}


def with_issue(state: dict, issue: dict) -> dict:
    return {**state, "issues": [*state["issues"], issue]}


def save(path: Path, state: dict) -> None:
    """Write atomically: a crash never leaves half a state file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    partial.write_text(json.dumps(state, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(partial, path)
