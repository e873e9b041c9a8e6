"""The README documents every command, and opens with the two commands that matter."""

from __future__ import annotations

from pathlib import Path

import typer.main

from strata.cli.main import app

README = Path(__file__).resolve().parents[1] / "README.md"


def _commands() -> list[str]:
    group = typer.main.get_group(app)
    return sorted(group.commands)


def test_every_command_is_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    missing = [name for name in _commands() if f"strata {name}" not in text]
    assert missing == []


def test_the_readme_opens_with_the_quickstart() -> None:
    head = README.read_text(encoding="utf-8")[:400]
    assert "make demo" in head
    assert "make test" in head
