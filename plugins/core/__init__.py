"""Core site support for the Vetrina theme: UI translations, dates, descriptions, content checks."""

from .plugin import register

__all__ = ["register"]
