"""Write rows to a file (``strata table export``): Parquet, CSV, JSON Lines or an Arrow IPC
stream, atomically."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from strata.errors import UserInputError
from strata.tables.error_text import first_line
from strata.tables.inputs import SUFFIXES

if TYPE_CHECKING:
    import pyarrow as pa


def write_file(data: pa.Table, path: Path) -> None:
    """Write to a temp file beside ``path`` and rename it into place."""
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise UserInputError(
            f"cannot tell the format to write {path} in from its suffix",
            hint="use .parquet, .csv, .jsonl or .arrows",
        )
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    import pyarrow as pa

    try:
        _write(data, tmp, kind)
        os.replace(tmp, path)
    except OSError as exc:
        raise UserInputError(f"cannot write {path}: {exc.strerror}") from exc
    except pa.ArrowException as exc:  # e.g. a list column has no CSV form
        raise UserInputError(
            f"cannot write {path} as {kind}: {first_line(exc)}",
            hint="export to .parquet, or choose columns with --columns",
        ) from exc
    finally:
        tmp.unlink(missing_ok=True)


def _write(data: pa.Table, path: Path, kind: str) -> None:
    if kind == "parquet":
        import pyarrow.parquet as pq

        pq.write_table(data, path)
    elif kind == "csv":
        import pyarrow.csv as pcsv

        pcsv.write_csv(data, path)
    elif kind == "arrow":
        import pyarrow as pa

        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_stream(sink, data.schema) as out:
            out.write_table(data)
    else:
        from strata.tables.stats import json_value

        with open(path, "w", encoding="utf-8") as fh:
            for row in data.to_pylist():
                fh.write(json.dumps({k: json_value(v) for k, v in row.items()}) + "\n")
