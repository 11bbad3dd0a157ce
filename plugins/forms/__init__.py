"""The shop's one write path: a small WSGI endpoint for orders, EU withdrawals and the newsletter's sign-ups."""

from .plugin import register

__all__ = ["register"]
