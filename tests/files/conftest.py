"""Fixtures for these tests; the general ones come from tests/factories.py."""

from pathlib import Path

import pytest

from factories import cli, make_workspace

__all__ = ["cli", "make_workspace", "remote_url"]


@pytest.fixture(params=["folder", "s3"])
def remote_url(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, dict[str, str]]:
    """A remote's URL and options: a local folder, then a bucket on the loopback S3 server."""
    if request.param == "folder":
        return str(tmp_path / "remote"), {}
    endpoint: str = request.getfixturevalue("s3_endpoint")
    bucket: str = request.getfixturevalue("s3_bucket")
    return f"s3://{bucket}/store", {"endpoint_url": endpoint}
