"""The newsletter digest: built from the newsletter feed, rendered, sent once per recipient, remembered.

Not a Pelican plugin: `invoke newsletter` runs it after a production build.
"""

from .digest import run
from .result import NewsletterError, Result
from .status import busy, status, unsubscribe

__all__ = ["NewsletterError", "Result", "busy", "run", "status", "unsubscribe"]
