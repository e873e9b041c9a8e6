"""``strata migrate dvc`` on a 20,000-file DVC repository, next to ``dvc pull`` of the same.

Run it from the project root:

    .venv/bin/python benchmarks/bench_migrate.py            # 20,000 files of 4 KiB, 3 runs
    .venv/bin/python benchmarks/bench_migrate.py --files 2000 --runs 1   # a smoke test

It builds a DVC repository (``dvc add`` of one folder of random files, ``dvc push`` to a folder
remote, one git commit; DVC installed into ``~/.cache/strata-bench/dvc-venv`` the first time),
then times, each on a fresh ``git clone`` of it:

  dvc-pull           ``dvc pull``: the remote's objects into DVC's cache and the workspace
  migrate-remote     ``strata migrate dvc --from-remote storage`` then ``strata checkout``:
                     the same objects into Strata's cache (each md5-checked, stored under
                     BLAKE3), pointers written, and the workspace filled
  migrate-in-place   ``strata migrate dvc`` in a clone where ``dvc pull`` already ran: the
                     usual case, a team's own repository with its DVC cache

Only the commands are timed. Each case prints one JSON line with the median seconds; a last
line describes the machine. Temporary data is removed at the end.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench_files import bench_env, build_folder, cache_home, ensure_dvc, log, run, strata_exe

DVC_SPEC = "dvc==3.67.1"


def build_source(work: Path, dvc: Path, env: dict[str, str], files: int) -> Path:
    source, remote = work / "source", work / "remote"
    source.mkdir()
    run(["git", "init", "-q"], source, env)
    run([dvc, "init", "-q"], source, env)
    run([dvc, "config", "core.analytics", "false"], source, env)
    run([dvc, "config", "core.check_update", "false"], source, env)
    run([dvc, "remote", "add", "-d", "storage", remote], source, env)
    build_folder(source / "data", files)
    run([dvc, "add", "-q", "data"], source, env)
    run([dvc, "push", "-q"], source, env)
    run(["git", "add", "-A"], source, env)
    run(["git", "commit", "-q", "-m", "data"], source, env)
    return source


def clone(source: Path, target: Path, env: dict[str, str]) -> Path:
    run(["git", "clone", "-q", source, target], source.parent, env)
    return target


def timed(steps: list[list[str | Path]], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    for step in steps:
        run(step, cwd, env)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dvc-venv", type=Path, default=cache_home() / "dvc-venv")
    args = parser.parse_args()
    dvc, strata = ensure_dvc(args.dvc_venv, DVC_SPEC), strata_exe()
    with tempfile.TemporaryDirectory(prefix="bench-migrate-") as tmp:
        work = Path(tmp)
        env = bench_env(work)
        log(f"building a DVC repository of {args.files} files")
        source = build_source(work, dvc, env, args.files)
        runs = iter(range(10**6))

        def fresh(pulled: bool) -> Path:
            repo = clone(source, work / f"clone-{next(runs)}", env)
            if pulled:
                run([dvc, "pull", "-q"], repo, env)
            return repo

        cases: dict[str, tuple[bool, list[list[str | Path]]]] = {
            "dvc-pull": (False, [[dvc, "pull", "-q"]]),
            "migrate-remote": (
                False,
                [[strata, "migrate", "dvc", "--from-remote", "storage"], [strata, "checkout"]],
            ),
            "migrate-in-place": (True, [[strata, "migrate", "dvc"]]),
        }
        check: dict[str, Callable[[Path], None]] = {"migrate-remote": _check_migrated}
        for case, (pulled, steps) in cases.items():
            seconds = []
            for _ in range(args.runs):
                repo = fresh(pulled)
                run(["sync"], repo, env)
                seconds.append(timed(steps, repo, env))
                check.get(case, lambda _: None)(repo)
                shutil.rmtree(repo)
            log(f"{case}: {statistics.median(seconds):.2f}s")
            record = {"case": case, "files": args.files, "median_s": statistics.median(seconds)}
            print(json.dumps({**record, "all_s": [round(s, 3) for s in seconds]}), flush=True)
    print(
        json.dumps(
            {
                "machine": platform.machine(),
                "python": platform.python_version(),
                "dvc": DVC_SPEC,
                "date": time.strftime("%Y-%m-%d"),
            }
        )
    )


def _check_migrated(repo: Path) -> None:
    """The migrated workspace holds every file, and the DVC file is gone."""
    count = sum(1 for p in (repo / "data").rglob("*") if p.is_file())
    if not (repo / "data.strata").is_file() or (repo / "data.dvc").exists() or count == 0:
        raise SystemExit(f"migration in {repo} is incomplete ({count} files)")


if __name__ == "__main__":
    main()
