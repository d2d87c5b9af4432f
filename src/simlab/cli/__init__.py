"""The ``simlab`` command line (typer): thin wrappers over the public API; lazy imports keep --help fast."""

from simlab.cli.main import app, main

__all__ = ["app", "main"]
