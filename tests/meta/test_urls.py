from __future__ import annotations

import pytest

from strata.errors import MetadataError
from strata.meta.urls import parse, redact


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
        ("postgresql://u@h:5432/db", "postgresql://u@h:5432/db"),
        ("postgresql://u:pw@h:5432/db", "postgresql://u:***@h:5432/db"),
        ("postgresql+psycopg://u:p/w:x@h/db", "postgresql+psycopg://u:***@h/db"),
        (
            "postgresql://u@h/db?sslmode=require&password=pw",
            "postgresql://u@h/db?sslmode=require&password=***",
        ),
        ("not a url", "not a url"),
    ],
)
def test_redact(url: str, shown: str) -> None:
    assert redact(url) == shown


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg"),
        ("postgres://u@h/db", "postgresql+psycopg"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg"),
        ("sqlite:////tmp/x.db", "sqlite"),
    ],
)
def test_parse_maps_postgresql_to_psycopg(url: str, driver: str) -> None:
    assert parse(url).drivername == driver


def test_parse_refuses_other_backends() -> None:
    with pytest.raises(MetadataError, match="only SQLite and PostgreSQL"):
        parse("mysql://u@h/db")
