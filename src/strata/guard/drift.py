"""Drift: the Population Stability Index per column, and how the null rate moved.

A reference is first summarised into a ``Profile`` — quantile bin edges and the share of rows in
each bin for numbers, the share of each category for everything else, plus the null rate. The
profile is small JSON, so it can be stored with a model version and serving-side checks need no
access to the training table. The current data is then binned on the reference's edges.

    PSI = Σ (current% - reference%) · ln(current% / reference%)

with every share floored at ``FLOOR`` so that an empty bin does not make it infinite. Rules of
thumb: below 0.1 stable, 0.1 to 0.25 moderate shift, above 0.25 significant.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from strata.errors import GuardError, UserInputError

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

FLOOR = 1e-4
DEFAULT_BINS = 10
PROFILE_FORMAT = 1

ColumnKind = Literal["numeric", "categorical"]


@dataclass(frozen=True)
class ColumnProfile:
    """One column of the reference: bin edges (numbers) or categories, and their shares."""

    kind: ColumnKind
    rows: int
    null_rate: float
    edges: tuple[float, ...] = ()
    shares: tuple[float, ...] = ()
    categories: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind, "rows": self.rows, "null_rate": self.null_rate}
        if self.kind == "numeric":
            data["edges"] = list(self.edges)
        else:
            data["categories"] = list(self.categories)
        data["shares"] = list(self.shares)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ColumnProfile:
        return cls(
            kind=data["kind"],
            rows=int(data["rows"]),
            null_rate=float(data["null_rate"]),
            edges=tuple(float(e) for e in data.get("edges", ())),
            shares=tuple(float(s) for s in data["shares"]),
            categories=tuple(str(c) for c in data.get("categories", ())),
        )


@dataclass(frozen=True)
class Profile:
    columns: dict[str, ColumnProfile]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": PROFILE_FORMAT,
            "columns": {name: column.to_json() for name, column in self.columns.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Profile:
        if data.get("format") != PROFILE_FORMAT or not isinstance(data.get("columns"), dict):
            raise GuardError(
                "the stored reference profile has an unknown format",
                hint="profile the reference again with this Strata",
            )
        return cls({name: ColumnProfile.from_json(c) for name, c in data["columns"].items()})


@dataclass(frozen=True)
class ColumnDrift:
    column: str
    kind: ColumnKind
    psi: float
    reference_null_rate: float
    current_null_rate: float

    @property
    def null_rate_change(self) -> float:
        return self.current_null_rate - self.reference_null_rate

    def to_json(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "kind": self.kind,
            "psi": self.psi,
            "reference_null_rate": self.reference_null_rate,
            "current_null_rate": self.current_null_rate,
            "null_rate_change": self.null_rate_change,
        }


def _is_numeric(type_: pa.DataType) -> bool:
    import pyarrow as pa

    return bool(
        pa.types.is_integer(type_)
        or pa.types.is_floating(type_)
        or pa.types.is_decimal(type_)
        or pa.types.is_temporal(type_)
    )


def _numbers(column: pa.ChunkedArray) -> np.ndarray[Any, Any]:
    """Non-null values as float64 (times as their integer ticks), NaN dropped."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    values = column.drop_null()
    if pa.types.is_temporal(values.type):  # date32 and time32 cast only to their own width
        values = values.cast(pa.int32() if values.type.bit_width == 32 else pa.int64())
    array = np.asarray(pc.cast(values, pa.float64()).to_numpy(), dtype=np.float64)
    return array[~np.isnan(array)]


def _bin_shares(values: np.ndarray[Any, Any], edges: tuple[float, ...]) -> tuple[float, ...]:
    """The share of ``values`` in each bin: below the first edge, between edges, from the last.

    One vectorised comparison per edge: with ten bins that is several times faster than a
    binary search per value.
    """
    import numpy as np

    if values.size == 0:
        return tuple(0.0 for _ in range(len(edges) + 1))
    below = [int(np.count_nonzero(values < edge)) for edge in edges]
    cumulative = [0, *below, values.size]
    return tuple((cumulative[i + 1] - cumulative[i]) / values.size for i in range(len(edges) + 1))


def _category_shares(column: pa.ChunkedArray) -> dict[str, float]:
    import pyarrow.compute as pc

    values = column.drop_null()
    total = len(values)
    if total == 0:
        return {}
    counts = pc.value_counts(values)
    return {
        str(item["values"]): int(item["counts"]) / total
        for item in counts.to_pylist()  # one entry per distinct value: small
    }


def _null_rate(column: pa.ChunkedArray) -> float:
    return column.null_count / len(column) if len(column) else 0.0


def profile_column(column: pa.ChunkedArray, bins: int = DEFAULT_BINS) -> ColumnProfile:
    import numpy as np

    rows = len(column)
    null_rate = _null_rate(column)
    if _is_numeric(column.type):
        values = _numbers(column)
        if values.size:
            quantiles = np.quantile(values, np.linspace(0, 1, bins + 1)[1:-1])
            edges = tuple(float(e) for e in np.unique(quantiles))
        else:
            edges = ()
        return ColumnProfile("numeric", rows, null_rate, edges, _bin_shares(values, edges))
    shares = _category_shares(column)
    categories = tuple(sorted(shares))
    return ColumnProfile(
        "categorical",
        rows,
        null_rate,
        categories=categories,
        shares=tuple(shares[c] for c in categories),
    )


def profile(table: pa.Table, columns: list[str] | None = None, bins: int = DEFAULT_BINS) -> Profile:
    """Summarise the reference ``table`` (all columns, or the ones named)."""
    names = _check_columns(table, columns, "reference")
    return Profile({name: profile_column(table.column(name), bins) for name in names})


def _psi(reference: tuple[float, ...], current: tuple[float, ...]) -> float:
    total = 0.0
    for ref, cur in zip(reference, current, strict=True):
        ref, cur = max(ref, FLOOR), max(cur, FLOOR)
        total += (cur - ref) * math.log(cur / ref)
    return total


def column_drift(name: str, reference: ColumnProfile, current: pa.ChunkedArray) -> ColumnDrift:
    current_null_rate = _null_rate(current)
    if reference.kind == "numeric":
        if not _is_numeric(current.type):
            raise UserInputError(
                f"column {name} is numeric in the reference but {current.type} in the current data",
                hint="compare data with the same schema, or leave the column out with --columns",
            )
        shares = _bin_shares(_numbers(current), reference.edges)
        psi = _psi(reference.shares, shares)
    else:
        current_shares = _category_shares(current)
        categories = sorted(set(reference.categories) | set(current_shares))
        ref_shares = dict(zip(reference.categories, reference.shares, strict=True))
        psi = _psi(
            tuple(ref_shares.get(c, 0.0) for c in categories),
            tuple(current_shares.get(c, 0.0) for c in categories),
        )
    return ColumnDrift(name, reference.kind, psi, reference.null_rate, current_null_rate)


def drift(
    reference: Profile, current: pa.Table, columns: list[str] | None = None
) -> list[ColumnDrift]:
    """PSI and null-rate change of each profiled column (or of ``columns``) in ``current``."""
    names = columns if columns is not None else list(reference.columns)
    for name in names:
        if name not in reference.columns:
            raise UserInputError(
                f"column {name} is not in the reference",
                hint=f"choose among {', '.join(reference.columns) or 'no columns'}",
            )
    _check_columns(current, names, "current data")
    return [column_drift(name, reference.columns[name], current.column(name)) for name in names]


def _check_columns(table: pa.Table, columns: list[str] | None, what: str) -> list[str]:
    if columns is None:
        return list(table.column_names)
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise UserInputError(
            f"the {what} has no column {', '.join(missing)}",
            hint=f"its columns are {', '.join(table.column_names)}",
        )
    return columns
