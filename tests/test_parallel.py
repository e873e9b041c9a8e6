"""Work on threads: ``Background`` hands its value, or its error, to the thread that waits."""

from __future__ import annotations

import threading

import pytest

from strata.errors import MetadataError
from strata.parallel import Background


def test_background_runs_on_another_thread_and_hands_back_its_value() -> None:
    started = threading.Event()

    def work() -> str:
        started.set()
        return threading.current_thread().name

    job = Background(work, name="test-background")
    assert started.wait(timeout=60)
    assert job.result() == "test-background"
    assert job.result() == "test-background"  # asking again waits for nothing


def test_background_raises_its_error_on_the_waiting_thread() -> None:
    def fail() -> None:
        raise MetadataError("cannot open metadata database")

    job = Background(fail, name="test-background")
    job.wait()  # waiting alone does not raise
    with pytest.raises(MetadataError, match="cannot open metadata database"):
        job.result()
