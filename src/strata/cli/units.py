"""Quantities as people read them: sizes in binary units, durations on a clock."""

from __future__ import annotations


def human_size(size: int | float | None) -> str:
    """``1.5 MiB``; whole bytes below a KiB; ``-`` for an unknown size."""
    if size is None:
        return "-"
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def clock(seconds: float) -> str:
    """``H:MM:SS`` of whole seconds."""
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"
