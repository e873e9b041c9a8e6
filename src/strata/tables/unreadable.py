"""The error for a table version that maintenance removed (Delta's vacuum and log clean-up,
Iceberg's snapshot expiry), worded alike for every format: which version, why it is gone and
which versions are still readable."""

from __future__ import annotations

from collections.abc import Sequence

from strata.errors import TableVersionNotFoundError


def version_gone(
    table: str, version: int, why: str, readable: Sequence[int]
) -> TableVersionNotFoundError:
    """``version of table X is no longer readable: <why>``, with the ``readable`` versions."""
    return TableVersionNotFoundError(
        f"version {version} of table {table} is no longer readable: {why}",
        hint=f"versions still readable: {describe(readable)} "
        "(pin versions you need with `strata table pin` before vacuuming)",
    )


def describe(versions: Sequence[int]) -> str:
    """``[1, 5, 6, 7]`` → ``"1, 5..7"``."""
    runs: list[list[int]] = []
    for version in sorted(versions):
        if runs and version == runs[-1][-1] + 1:
            runs[-1].append(version)
        else:
            runs.append([version])
    return ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}..{r[-1]}" for r in runs) or "none"
