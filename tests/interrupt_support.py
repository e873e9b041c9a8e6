"""Interrupting a real ``strata`` process at a chosen moment of its work."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from factories import STRATA, Outcome


def stopped(pid: int) -> bool:
    """Whether every thread of the process is stopped (or gone), from /proc."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return True
    for task in tasks:
        try:
            stat = Path(f"/proc/{pid}/task/{task}/stat").read_text()
        except FileNotFoundError:
            continue
        if stat.rsplit(")", 1)[1].split()[0] not in ("T", "t", "Z", "X"):
            return False
    return True


def interrupt_when(
    args: list[str],
    cwd: Path,
    underway: Callable[[], bool],
    sig: signal.Signals,
    *,
    run_for: float = 0.0005,
) -> Outcome:
    """Start ``strata ARGS``, let it run in short slices (SIGCONT, ``run_for`` seconds,
    SIGSTOP) until ``underway()`` holds while it is stopped, then send ``sig`` and wait for
    the end.

    Running in slices makes the moment of interruption independent of how busy the machine
    is: the command cannot race past the point the test waits for."""
    proc = subprocess.Popen(
        [str(STRATA), *args],
        cwd=cwd,
        env={**os.environ, "PYTHONFAULTHANDLER": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    try:
        while True:
            os.kill(proc.pid, signal.SIGSTOP)
            while not stopped(proc.pid):
                time.sleep(0.0001)
            if proc.poll() is not None:
                pytest.fail(f"strata {' '.join(args)} finished before it could be interrupted")
            if underway():
                break
            if time.monotonic() > deadline:
                pytest.fail(f"strata {' '.join(args)} never got underway")
            os.kill(proc.pid, signal.SIGCONT)
            time.sleep(run_for)
        proc.send_signal(sig)
        os.kill(proc.pid, signal.SIGCONT)
        try:
            stdout, stderr = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGABRT)  # faulthandler prints every thread's stack
            stdout, stderr = proc.communicate()
            pytest.fail(f"strata {' '.join(args)} hangs after {sig.name}:\n{stderr}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()  # also when the test failed before reading them
    return Outcome(proc.returncode, stdout, stderr)
