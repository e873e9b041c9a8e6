"""Fixtures for these tests come from tests/factories.py."""

from factories import cli, make_workspace

__all__ = ["cli", "make_workspace"]
