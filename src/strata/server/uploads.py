"""Request bodies streamed to files in the workspace's ``.strata/tmp/uploads``, never whole
into memory, and removed when the request is done, whatever happened.

    async with receive_form(request, ws.root, "artifact") as form:
        form.file            # the uploaded file, under the client's base name
        form.values("tag")   # every value of a text field
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import Request
from python_multipart import FormParser
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import Field, File, parse_options_header

from strata.config import STRATA_DIR
from strata.errors import UserInputError
from strata.paths import unsafe_reason

MAX_FIELD = 64 * 1024  # bytes a text field may hold
MAX_FIELDS = 256
DEFAULT_NAME = "artifact"


@dataclass
class Form:
    """A multipart form: its text fields, and the one file it carried."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    file: Path | None = None

    def values(self, name: str) -> list[str]:
        return self.fields.get(name, [])

    def value(self, name: str) -> str | None:
        found = self.values(name)
        if len(found) > 1:
            raise UserInputError(f"field {name!r} is given {len(found)} times", hint="give it once")
        return found[0] if found else None


@asynccontextmanager
async def upload_folder(root: Path) -> AsyncIterator[Path]:
    """A fresh folder under ``.strata/tmp/uploads``, removed afterwards."""
    base = root / STRATA_DIR / "tmp" / "uploads"
    base.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="upload-", dir=base))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@asynccontextmanager
async def receive_body(request: Request, root: Path, name: str) -> AsyncIterator[Path]:
    """The raw request body, written to ``name`` in a fresh upload folder."""
    async with upload_folder(root) as folder:
        path = folder / name
        with path.open("wb") as out:
            async for chunk in request.stream():
                out.write(chunk)
        yield path


@asynccontextmanager
async def receive_form(request: Request, root: Path, file_field: str) -> AsyncIterator[Form]:
    """A ``multipart/form-data`` body: text fields in memory (each ≤ 64 KiB), the file
    ``file_field`` streamed to disk; a second file or a malformed body is a 400."""
    kind, options = parse_options_header(request.headers.get("content-type"))
    if kind != b"multipart/form-data" or b"boundary" not in options:
        raise UserInputError(
            "the body is not multipart/form-data",
            hint=f"send the file as a form field {file_field!r}, e.g. curl -F {file_field}=@FILE",
        )
    async with upload_folder(root) as folder:
        form, files = Form(), list[File]()

        def on_field(found: Field) -> None:
            name = (found.field_name or b"").decode("utf-8", "replace")
            value = (found.value or b"").decode("utf-8", "replace")
            form.fields.setdefault(name, []).append(value)

        config = {
            "UPLOAD_DIR": str(folder), "UPLOAD_DELETE_TMP": False, "MAX_MEMORY_FILE_SIZE": 0,
            "MAX_FIELD_SIZE": MAX_FIELD, "MAX_FIELDS": MAX_FIELDS,
        }  # fmt: skip
        parser = FormParser(
            "multipart/form-data", on_field, files.append, boundary=options[b"boundary"],
            config=config,
        )  # fmt: skip
        try:
            async for chunk in request.stream():
                parser.write(chunk)
            parser.finalize()
            for found in files:
                if found.in_memory:
                    found.flush_to_disk()  # an empty file never reached the disk
        except FormParserError as exc:
            raise UserInputError(f"malformed multipart body: {exc}") from None
        finally:
            for found in files:
                found.close()
        form.file = _the_file(files, file_field, folder)
        yield form


def _the_file(files: list[File], file_field: str, folder: Path) -> Path | None:
    """The one uploaded file, moved to its client's base name (when that is a safe one)."""
    if not files:
        return None
    if len(files) > 1 or files[0].field_name != file_field.encode():
        names = ", ".join(repr((f.field_name or b"").decode("utf-8", "replace")) for f in files)
        raise UserInputError(
            f"the form carries the files {names}", hint=f"send one file, as {file_field!r}"
        )
    upload = files[0]
    stored = Path((upload.actual_file_name or b"").decode())
    name = Path((upload.file_name or b"").decode("utf-8", "replace")).name
    if unsafe_reason(name) is not None or name.startswith("."):
        name = DEFAULT_NAME
    named = folder / "file" / name
    named.parent.mkdir()
    stored.rename(named)
    return named
