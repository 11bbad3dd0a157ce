"""Vetrina's engine: the plugins, the theme and the `vetrina` command, for the demo shop and shops of their own."""

__version__ = "0.13.0"
