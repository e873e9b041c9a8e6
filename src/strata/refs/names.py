"""The names of refs that are not plain identifiers: workspace paths and datasets.

A dataset is what OpenLineage calls one: a ``namespace`` (where it lives, usually
``scheme://authority`` such as ``s3://bucket``, ``postgres://db:5432``, or a bare word such as
``file`` or ``bigquery``) and a ``name`` within it. Its ref name is ``NAMESPACE/NAME``, read back
by one rule:

- a namespace with ``://`` ends at the first ``/`` after the ``://`` (the authority);
  ``dataset:s3://bucket/raw/deliveries`` is namespace ``s3://bucket``, name ``raw/deliveries``;
- any other namespace ends at the first ``/``; ``dataset:file//data/deliveries`` is namespace
  ``file``, name ``/data/deliveries``.

So that every (namespace, name) pair has exactly one ref name and every ref name reads back as
the pair it came from, ``%``, ``@``, whitespace and control characters are percent-encoded in
both parts, and so is a ``/`` in a namespace where the rule would end it (a namespace with a
path), and a ``:`` in a namespace without ``://``.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import quote, unquote

MAX_PATH_LENGTH: Final = 4096
MAX_DATASET_LENGTH: Final = 4096
_SCHEME: Final = "://"
# Printable ASCII but '%', '@', ' ': kept as they are in a dataset's ref name.
_SAFE: Final = "".join(chr(c) for c in range(33, 127) if chr(c) not in "%@")


def path_problem(path: str) -> str | None:
    if len(path) > MAX_PATH_LENGTH:
        return f"a file path is at most {MAX_PATH_LENGTH} characters"
    if path.startswith("/"):
        return "a file path is relative to the workspace, without a leading '/'"
    if "@" in path:
        return "a file path can't contain '@'"
    if not path.isprintable():
        return "a file path can't contain tabs, newlines or other control characters"
    return next(filter(None, map(_path_part_problem, path.split("/"))), None)


def _path_part_problem(part: str) -> str | None:
    if not part:
        return "a file path has no empty components ('//' or a trailing '/')"
    if part in (".", ".."):
        return "a file path has no '.' or '..' components"
    if part != part.strip():
        return f"file path component {part!r} starts or ends with whitespace"
    return None


def dataset_name(namespace: str, name: str) -> str:
    """The ref name of an OpenLineage dataset: ``NAMESPACE/NAME``, encoded as above."""
    scheme, sep, authority = namespace.partition(_SCHEME)
    if sep and scheme:
        encoded = quote(scheme, safe=_SAFE.replace("/", "")) + sep
        encoded += quote(authority, safe=_SAFE.replace("/", ""))
    else:  # ':' too, so that no "://" appears where the rule would look for one
        encoded = quote(namespace, safe=_SAFE.replace("/", "").replace(":", ""))
    return f"{encoded}/{quote(name, safe=_SAFE)}"


def split_dataset_name(text: str) -> tuple[str, str]:
    """(namespace, name) of a dataset's ref name; ValueError saying why it is not one."""
    if len(text) > MAX_DATASET_LENGTH:
        raise ValueError(f"a dataset name is at most {MAX_DATASET_LENGTH} characters")
    if "@" in text or not text.isprintable() or any(c.isspace() for c in text):
        raise ValueError("a dataset name percent-encodes '@', whitespace and control characters")
    start = text.find(_SCHEME)
    start = start + len(_SCHEME) if start > 0 and "/" not in text[:start] else 0
    slash = text.find("/", start)
    if slash <= 0 or slash == len(text) - 1:
        raise ValueError(
            "a dataset is NAMESPACE/NAME, e.g. dataset:s3://bucket/raw/deliveries or "
            "dataset:file//data/deliveries"
        )
    try:
        namespace = unquote(text[:slash], errors="strict")
        name = unquote(text[slash + 1 :], errors="strict")
    except UnicodeDecodeError:
        raise ValueError("a dataset name's %-escapes are not UTF-8") from None
    if dataset_name(namespace, name) != text:
        raise ValueError(f"write it as dataset:{dataset_name(namespace, name)}")
    return namespace, name
