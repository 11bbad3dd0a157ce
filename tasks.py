"""The demo shop's tasks: the engine's own (engine/tasks.py), run on this folder by `./vetrina TASK`."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from engine import tasks as _engine  # noqa: E402
from engine.tasks import *  # noqa: E402,F401,F403  (invoke finds the tasks here)

# `import tasks` (the tests) is the engine's module itself, so a setting patched on it is the one its tasks read.
sys.modules[__name__] = _engine
