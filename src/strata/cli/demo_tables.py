"""The tables chapter of ``strata demo``: a deliveries table appended to, corrected by a merge,
read as it was, compared, pinned for a model, and restored."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from strata.workspace import Workspace

if TYPE_CHECKING:
    import pyarrow as pa


def _day(day: int, rng: random.Random, count: int = 200) -> pa.Table:
    import pyarrow as pa

    weather = [rng.choice(["sun", "rain", "snow"]) for _ in range(count)]
    return pa.table(
        {
            "delivery_id": [f"{day}-{i}" for i in range(count)],
            "day": [f"2024-10-{day:02d}"] * count,
            "weather": weather,
            "delay_min": [max(0, int(rng.gauss(8, 6))) for _ in range(count)],
        }
    )


def chapter(ws: Workspace, say: Callable[[str], None]) -> None:
    import pyarrow as pa

    rng = random.Random(7)
    tables = ws.tables
    table = tables.create("deliveries", _day(1, rng), message="1 October")
    say(
        f"strata table create deliveries: table:deliveries@0, a Delta table at "
        f"{table.location}, that Spark, DuckDB and Polars read as it is."
    )
    second = _day(2, rng)
    table.append(second, message="2 October")
    before_fix = time.time()
    fixes = second.slice(0, 12).set_column(3, "delay_min", pa.array([45] * 12))
    more = pa.table(
        {
            "delivery_id": ["2-late-1", "2-late-2"],
            "day": ["2024-10-02"] * 2,
            "weather": ["snow"] * 2,
            "delay_min": [90, 75],
        }
    )
    merged = table.merge(pa.concat_tables([fixes, more]), on=["delivery_id"], message="fixes")
    say(
        f"strata table merge deliveries fixes.csv --on delivery_id: table:deliveries@"
        f"{merged.version}, 12 delays corrected and 2 late deliveries added in one commit."
    )
    old = table.at(1).to_arrow(where="delay_min >= 45")
    new = table.at(merged.version).to_arrow(where="delay_min >= 45")
    say(
        f"strata table show table:deliveries@1 --where 'delay_min >= 45': {old.num_rows} rows, "
        f"as version 1 had them (@{merged.version} has {new.num_rows})."
    )
    stats = table.stats(merged.version)
    delay = stats.columns["delay_min"]
    say(
        f"strata table stats table:deliveries@{merged.version}: {stats.row_count} rows in "
        f"{stats.file_count} files, delay {delay.min}-{delay.max} min, read from the Delta log."
    )
    diff = tables.diff(
        "table:deliveries@1", f"table:deliveries@{merged.version}", key=["delivery_id"]
    )
    assert diff.rows is not None
    say(
        f"strata table diff @1 @{merged.version} --key delivery_id: +{diff.rows.added} rows, "
        f"~{diff.rows.changed} changed ({', '.join(diff.rows.changed_by_column)})."
    )
    tables.pin("deliveries", 1, by="model:delay-classifier@1")
    say("strata table pin table:deliveries@1 --by model:delay-classifier@1: vacuum keeps it.")
    moment = datetime.fromtimestamp(before_fix, UTC)
    target = table.resolve(moment)  # the version current just before the fixes
    restored = table.restore(target, message="undo the fixes")
    say(
        f"strata table restore deliveries {moment.isoformat(timespec='seconds')}: "
        f"table:deliveries@{restored.version} holds version {target}'s files again, without "
        f"copying data; @{merged.version} stays readable."
    )
