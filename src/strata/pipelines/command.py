"""Running a stage's command: a shell line in its own process group, cancellable.

A cancel request (the command line's Ctrl-C handler, see ``strata.parallel``) or a
KeyboardInterrupt is passed on to the whole group as SIGINT; what is still running after a
grace period is killed, so an interrupted repro never leaves a stage running behind it.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from typing import IO

from strata.errors import PipelineError
from strata.parallel import check_cancelled

STOP_GRACE_SECONDS = 10.0


def execute(cmd: str, cwd: Path, env: dict[str, str], output: IO[str] | int | None) -> int:
    """Run ``cmd`` in a shell, in its own process group; its exit code (-N: signal N)."""
    if not cwd.is_dir():
        raise PipelineError(f"working directory {cwd} does not exist", hint="fix the stage's wdir")
    proc = subprocess.Popen(  # the stage's command is a shell line by design
        cmd, shell=True, cwd=cwd, env=env, stdout=output, start_new_session=True
    )
    try:
        while True:
            try:
                return proc.wait(timeout=0.1)
            except subprocess.TimeoutExpired:
                check_cancelled()
    except BaseException:
        _stop(proc)
        raise


def _stop(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=STOP_GRACE_SECONDS)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def exit_status(code: int) -> int:
    """The exit status a shell reports for ``code`` (a signal N is 128+N)."""
    return 128 - code if code < 0 else code
