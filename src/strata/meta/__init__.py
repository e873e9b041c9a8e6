"""The metadata database: everything Strata knows that is not file content.

SQLite in the workspace by default, PostgreSQL by URL for teams; SQLAlchemy Core, with the
schema migrated by the Alembic scripts in ``migrations/`` whenever a database is opened.
Importing this package does not import SQLAlchemy or Alembic.

    with open_database("sqlite:////work/project/.strata/strata.db") as db:
        db.record_file_versions([FileVersion("data/raw.csv", hash_, "file", 1024, 1)])
        db.file_versions("data/raw.csv")

Every failure is raised as ``strata.errors.MetadataError``.
"""

from strata.meta.database import MetadataDB, open_database
from strata.meta.head import SCHEMA_HEAD
from strata.meta.records import FileVersion

__all__ = ["FileVersion", "MetadataDB", "SCHEMA_HEAD", "open_database"]
