"""Keeping tracked data out of git: one ``/name`` line per tracked path in ``.gitignore``."""

from __future__ import annotations

import os
import uuid
from pathlib import Path


def ignore_in_git(data_path: Path) -> bool:
    """Add ``/name`` to the .gitignore beside ``data_path``; False when it was there already."""
    gitignore = data_path.parent / ".gitignore"
    line = "/" + data_path.name
    try:
        text = gitignore.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    if line in text.splitlines():
        return False
    if text and not text.endswith("\n"):
        text += "\n"
    tmp = gitignore.with_name(f".gitignore.{uuid.uuid4().hex[:8]}.tmp")
    try:
        tmp.write_text(text + line + "\n", encoding="utf-8")
        os.replace(tmp, gitignore)
    finally:
        tmp.unlink(missing_ok=True)
    return True
