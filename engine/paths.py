"""Where the engine's plugins and theme are: inside the installed package, or beside it in a source checkout."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# An installed engine carries plugins/ and theme/ inside the package; a checkout has them next to engine/.
ENGINE = HERE if (HERE / "plugins").is_dir() else HERE.parent
PLUGINS = ENGINE / "plugins"
THEME = ENGINE / "theme"


def use_plugins() -> None:
    """Make the plugins importable (`from core.build import build_site`), as Pelican's PLUGIN_PATHS does."""
    if str(PLUGINS) not in sys.path:
        sys.path.insert(0, str(PLUGINS))
