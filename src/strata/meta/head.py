"""The schema revision this Strata writes. Bump it with every new migration (a test checks)."""

SCHEMA_HEAD = "0007"
