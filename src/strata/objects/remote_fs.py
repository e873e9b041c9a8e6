"""Opening a remote's filesystem: the options and credentials each backend takes, and the
errors a failed remote call becomes (with no secret in them)."""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from strata.config import REDACTED, redact
from strata.errors import DiskFullError, RemoteError, StorageError

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

EXTRAS = {"s3": "s3", "gs": "gcs", "gcs": "gcs", "az": "azure", "abfs": "azure"}


# Credential settings (kept in the local config) by the name each filesystem takes them under.
_CREDENTIALS: dict[str, dict[str, str]] = {
    "s3": {"access_key_id": "key", "secret_access_key": "secret", "session_token": "token"},
    "az": {
        "account_name": "account_name",
        "account_key": "account_key",
        "sas_token": "sas_token",
        "connection_string": "connection_string",
    },
    "gs": {"credentials": "token"},
}
_CREDENTIALS.update(abfs=_CREDENTIALS["az"], gcs=_CREDENTIALS["gs"])


def storage_options(protocol: str, options: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "endpoint_url" in options:
        out["endpoint_url"] = options["endpoint_url"]
    if "region" in options:
        out["client_kwargs"] = {"region_name": options["region"]}
    if "profile" in options:
        out["profile"] = options["profile"]
    for setting, name in _CREDENTIALS.get(protocol, {}).items():
        if options.get(setting):
            out[name] = options[setting]
    return out


def storage_failure(
    exc: BaseException, doing: str, where: str, secrets: Sequence[str]
) -> StorageError:
    """The error for ``exc``, met at ``where`` while doing ``doing``; none of ``secrets``
    appears in it."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return DiskFullError(
            f"{where}: cannot {doing}: no space left on the remote",
            hint="free space on the remote (or raise its quota), then run the command again",
        )
    reason = redact(str(exc) or type(exc).__name__)
    for secret in secrets:
        reason = reason.replace(secret, REDACTED)  # quoted by a library in its own way
    if isinstance(exc, PermissionError):
        hint = "check the credentials (environment or .strata/config.local.toml)"
    elif isinstance(exc, FileNotFoundError):
        hint = "check that the bucket or folder exists"
    else:
        hint = "check the URL, the endpoint and the network"
    first_line = reason.splitlines()[0] if reason.splitlines() else reason
    return RemoteError(f"{where}: cannot {doing}: {first_line}", hint=hint)


def stream_up(fs: AbstractFileSystem, local: Path, target: str, block: int) -> None:
    """Upload a local file through a remote file written ``block`` bytes at a time: memory
    stays a block or two, where a whole-file upload may read many parts at once. An error,
    in the last block or the completion too, discards the upload rather than finishing it
    with what was sent."""
    out = fs.open(target, "wb", block_size=block)
    try:
        with open(local, "rb") as source:
            while data := source.read(block):
                out.write(data)
        out.close()
    except BaseException:
        _discard(out)
        raise


def _discard(out: Any) -> None:
    """Abort the upload of a remote file being written, where its filesystem can (a multipart
    upload); it counts as closed after, so that collecting it never finishes the upload."""
    try:
        discard = getattr(out, "discard", None)
        if discard is not None:
            with contextlib.suppress(Exception):  # the error that led here is the one to report
                discard()
    finally:
        out.closed = True
