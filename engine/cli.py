"""The `vetrina` command of an installed engine: the same tasks as ./vetrina, on the shop in the current folder."""

from __future__ import annotations

from invoke import Collection, Program

from . import __version__, tasks


def main() -> None:
    Program(namespace=Collection.from_module(tasks), name="Vetrina", binary="vetrina",
            version=__version__).run()
