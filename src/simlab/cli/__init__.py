"""The ``simlab`` command line (typer). Thin wrappers over the public API; imports stay lazy for a fast --help."""

from simlab.cli.main import app, main

__all__ = ["app", "main"]
