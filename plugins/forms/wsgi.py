"""The endpoint for a production WSGI server: `forms.wsgi:application`, with plugins/ on the Python path.

VETRINA_FORMS_SETTINGS names the settings file (default: publishconf.py of the project this file belongs to).
"""

from __future__ import annotations

import os
from pathlib import Path

from .server import load

SETTINGS = Path(os.environ.get("VETRINA_FORMS_SETTINGS") or Path(__file__).resolve().parents[2] / "publishconf.py")
application = load(SETTINGS)
application.start_delivery()  # the outbox, delivered beside the requests of this worker
