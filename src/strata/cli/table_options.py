"""What the ``strata table`` commands share: their arguments and options, the reading of
option values (column lists, durations) and the report of a commit."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from strata.cli.output import print_result
from strata.errors import UserInputError

if TYPE_CHECKING:
    from strata.tables import WriteResult

NameArg = Annotated[str, typer.Argument(help="Table name.")]
RefArg = Annotated[str, typer.Argument(help="table:NAME@VERSION (or @TIMESTAMP, @TAG).")]
DataFileArg = Annotated[Path, typer.Argument(help="Parquet, CSV or JSON Lines file.")]
MessageOpt = Annotated[str | None, typer.Option("--message", "-m", help="Commit message.")]
MergeSchemaOpt = Annotated[
    bool, typer.Option("--merge-schema", help="Add the data's new columns to the table.")
]
ColumnsOpt = Annotated[
    str | None, typer.Option("--columns", help="Comma-separated columns to read.")
]
WhereOpt = Annotated[str | None, typer.Option("--where", help="SQL predicate on rows.")]
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw]?)")
_UNIT_HOURS = {"s": 1 / 3600, "m": 1 / 60, "h": 1.0, "": 1.0, "d": 24.0, "w": 168.0}


def split_names(text: str | None) -> list[str] | None:
    """Comma-separated names (``a, b``) as a list; ``None`` stays ``None``."""
    if text is None:
        return None
    return [part.strip() for part in text.split(",") if part.strip()]


def hours(text: str) -> float:
    """A duration like ``168h``, ``7d``, ``30m`` or ``0h`` in hours (a bare number is hours)."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise UserInputError(f"bad duration {text!r}", hint="write e.g. 168h, 7d, 30m or 0h")
    return float(match[1]) * _UNIT_HOURS[match[2]]


def print_commit(
    result: WriteResult,
    json_out: bool,
    *,
    rerun_of: Path | None = None,
    nothing_because: str | None = None,
) -> None:
    """What a write did: the new version and its operation, or that nothing was committed
    (nothing to do, for ``nothing_because`` when given, or, for a write from ``rerun_of``,
    that it had landed already)."""
    if not result.committed and rerun_of is not None:
        text = (
            f"{result.ref} already holds this write of {rerun_of} (a rerun): nothing written; "
            "pass --allow-duplicate to write it again"
        )
    elif not result.committed:
        why = f"{nothing_because}; " if nothing_because else ""
        text = f"nothing to do: {why}{result.ref} stays the latest version (no commit)"
    else:
        text = f"{result.ref} ({result.operation.lower()})"
    print_result(result, text, json_out=json_out)
