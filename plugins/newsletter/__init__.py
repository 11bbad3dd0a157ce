"""The newsletter digest: built from the newsletter feed, rendered, sent once, remembered.

Not a Pelican plugin: `invoke newsletter` runs it after a production build.
"""

from .digest import NewsletterError, run

__all__ = ["NewsletterError", "run"]
