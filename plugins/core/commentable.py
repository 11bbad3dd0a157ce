"""Which items beside Pelican's posts can carry comments: plugins register them, the comments plugin reads them.

The list lives on the build's shared context (never in a module global), so a second build starts empty.
"""

from __future__ import annotations

CONTEXT_KEY = "commentable_items"


def register(context: dict, kind: str, items) -> None:
    """Add items of a kind ("product") with url, title, lang and metadata that visitors may comment on."""
    context.setdefault(CONTEXT_KEY, {}).setdefault(kind, []).extend(items)


def registered(context: dict) -> dict[str, list]:
    """{kind: items} registered by plugins for this build."""
    return {kind: list(items) for kind, items in context.get(CONTEXT_KEY, {}).items()}
