"""Strata against DVC on file versioning: add, status and checkout, timed side by side.

Run it from the project root (the ``strata`` console script next to the interpreter is used):

    make bench                                  # = .venv/bin/python benchmarks/bench_files.py
    .venv/bin/python benchmarks/bench_files.py --quick                # small sizes, smoke test
    .venv/bin/python benchmarks/bench_files.py --case status-unchanged --runs 9
    .venv/bin/python benchmarks/bench_files.py --case add-file --file-gib 4 --against OLD/src

The script builds its own data (random bytes) in a temporary folder, installs DVC into a
throwaway venv under ``~/.cache/strata-bench/dvc-venv`` the first time (reused afterwards), and
runs both tools as CLI subprocesses the same way, each in its own fresh git repository in the
same folder (so on the same filesystem), with the same data. Each tool keeps its defaults:
Strata links reflink,hardlink,copy (no hardlinks when run as root) and DVC reflink,copy; the
link type each used is reported (``--strata-cache-type`` overrides Strata's).
DVC's analytics and update check are switched off, so it makes no network calls.
With ``--against SRC`` a third tool, ``strata-against``, is Strata run from another source tree
(e.g. the code before a change, from ``git archive``), in turn with the other two on the same
data, so a change is measured against its baseline and DVC in one run.

Cases:
  add-file          ``add`` of one 1 GiB file (``--file-gib``; fresh repo and copy each run)
  add-dir           ``add`` of a folder of 20,000 files of 4 KiB (fresh repo and copy each run)
  status-unchanged  ``status`` of that folder, nothing changed, state caches warm
  status-changed    ``status`` after 10 files of the folder were rewritten
  checkout          ``checkout`` after the folder was deleted

Only the tool's command is timed (time.perf_counter around subprocess.run); building repos,
copying data and syncing the disk are not. Each case prints one JSON line on stdout with the
median seconds of each tool and ``ratio`` = dvc/strata (above 1: Strata is faster; with
``--against``, also ``against_ratio`` = dvc/strata-against and ``speedup`` =
strata-against/strata), then a
last line describes the machine. Progress goes to stderr. Temporary data is removed at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

MIB = 1024 * 1024
GIB = 1024 * MIB
BLOCK = 4 * MIB
SMALL_FILE_SIZE = 4096
CHANGED_FILES = 10
SUBFOLDERS = 20

AGAINST = "strata-against"  # Strata from another source tree (--against)
CASES = ("add-file", "add-dir", "status-unchanged", "status-changed", "checkout")
DEFAULT_RUNS = {
    "add-file": 3,
    "add-dir": 3,
    "status-unchanged": 5,
    "status-changed": 5,
    "checkout": 5,
}
# dvc/strata ratio to reach, and (for status) an absolute bound on Strata's median.
TARGETS: dict[str, tuple[float, float | None]] = {
    "add-file": (3.0, None),
    "status-unchanged": (5.0, 0.25),
    "checkout": (1.5, None),
}
GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
}


class BenchError(RuntimeError):
    """A command failed or produced something other than what the case expects."""


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- running commands ----------------------------------------------------------------------


def bench_env(work: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(GIT_ENV)
    env["DVC_NO_ANALYTICS"] = "1"
    # Both tools start from compiled bytecode (DVC's venv has it; Strata's source may not).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    # DVC's site cache (state, index) defaults to /var/tmp/dvc: keep it in the bench folder.
    env["DVC_SITE_CACHE_DIR"] = str(work / "dvc-site-cache")
    return env


def run(cmd: Sequence[str | Path], cwd: Path, env: dict[str, str]) -> str:
    """Run a command untimed; its stdout, or BenchError with its stderr."""
    proc = subprocess.run(
        [os.fspath(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True
    )
    if proc.returncode != 0:
        shown = " ".join(os.fspath(c) for c in cmd)
        raise BenchError(f"`{shown}` failed ({proc.returncode}) in {cwd}:\n{proc.stderr}")
    return proc.stdout


def timed(cmd: Sequence[str | Path], cwd: Path, env: dict[str, str]) -> tuple[float, str]:
    """Run a command; its wall-clock seconds and its stdout (plus stderr)."""
    args = [os.fspath(c) for c in cmd]
    start = time.perf_counter()
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise BenchError(f"`{' '.join(args)}` failed ({proc.returncode}) in {cwd}:\n{proc.stderr}")
    return elapsed, proc.stdout + proc.stderr


# -- the two tools -------------------------------------------------------------------------


@dataclass(frozen=True)
class Tool:
    name: str
    exe: Path
    env: dict[str, str]

    @property
    def is_strata(self) -> bool:
        return self.name.startswith("strata")

    def init(self, repo: Path) -> None:
        repo.mkdir(parents=True)
        run(["git", "init", "-q"], repo, self.env)
        if self.is_strata:
            run([self.exe, "init"], repo, self.env)
        else:
            run([self.exe, "init", "-q"], repo, self.env)
            run([self.exe, "config", "core.analytics", "false"], repo, self.env)
            run([self.exe, "config", "core.check_update", "false"], repo, self.env)
        run(["git", "add", "-A"], repo, self.env)
        run(["git", "commit", "-q", "-m", f"{self.name} init"], repo, self.env)

    def add(self, target: str) -> list[str | Path]:
        return [self.exe, "add", "--json", target] if self.is_strata else [self.exe, "add", target]

    def status(self) -> list[str | Path]:
        return [self.exe, "status"]

    def checkout(self) -> list[str | Path]:
        return [self.exe, "checkout"]

    def version(self) -> str:
        return run([self.exe, "--version"], Path.cwd(), self.env).strip().split()[-1]


def cache_home() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "strata-bench"


def ensure_dvc(venv: Path, spec: str) -> Path:
    """DVC's console script in its own venv, created and installed on first use."""
    dvc = venv / "bin" / "dvc"
    if dvc.exists():
        probe = subprocess.run([dvc, "--version"], capture_output=True, text=True)
        if probe.returncode == 0:
            return dvc
        log(f"the DVC venv at {venv} is broken: installing it again")
        shutil.rmtree(venv)
    log(f"installing {spec} into {venv} (once; reused by later runs)")
    venv.parent.mkdir(parents=True, exist_ok=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    for step in (
        [sys.executable, "-m", "venv", str(venv)],
        [*pip, "--upgrade", "pip"],
        [*pip, spec],
    ):
        if subprocess.run(step).returncode != 0:
            raise BenchError(f"could not install DVC: `{' '.join(step)}` failed")
    return dvc


def strata_exe() -> Path:
    exe = Path(sys.executable).parent / "strata"
    if not exe.exists():
        raise BenchError(f"no strata console script beside {sys.executable}: pip install -e .")
    return exe


# -- data ----------------------------------------------------------------------------------


def write_random_file(path: Path, size: int) -> None:
    with open(path, "wb") as fh:
        left = size
        while left > 0:
            fh.write(os.urandom(min(BLOCK, left)))
            left -= BLOCK


def build_folder(folder: Path, count: int) -> list[str]:
    """``count`` files of random bytes spread over subfolders; their relative paths."""
    names = []
    for i in range(count):
        rel = f"part-{i % SUBFOLDERS:02d}/file-{i:05d}.bin"
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(SMALL_FILE_SIZE))
        names.append(rel)
    return names


def rewrite(path: Path) -> None:
    """New content through a temp file and a rename (tracked files may be read-only links)."""
    tmp = path.with_name(path.name + ".bench-tmp")
    tmp.write_bytes(os.urandom(SMALL_FILE_SIZE))
    os.replace(tmp, path)


def count_files(folder: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(folder))


# -- results -------------------------------------------------------------------------------


@dataclass
class Figure:
    case: str
    times: dict[str, list[float]] = field(default_factory=dict)  # tool -> seconds of each run
    extra: dict[str, object] = field(default_factory=dict)
    links: dict[str, list[str]] = field(default_factory=dict)  # tool -> link type of each run

    def add(self, tool: str, seconds: float, link_type: str) -> None:
        self.times.setdefault(tool, []).append(seconds)
        self.links.setdefault(tool, []).append(link_type)
        log(f"  {self.case}: {tool} {seconds:.3f} s ({link_type})")

    def to_dict(self) -> dict[str, object]:
        median = {tool: statistics.median(times) for tool, times in self.times.items()}
        strata_s, dvc_s = median["strata"], median["dvc"]
        ratio = dvc_s / strata_s if strata_s > 0 else float("inf")
        out: dict[str, object] = {
            "case": self.case,
            "strata_s": round(strata_s, 4),
            "dvc_s": round(dvc_s, 4),
            "ratio": round(ratio, 2),
        }
        if AGAINST in median:
            out["against_s"] = round(median[AGAINST], 4)
            out["against_ratio"] = round(dvc_s / median[AGAINST], 2)
            out["speedup"] = round(median[AGAINST] / strata_s, 2)
        out.update(
            {
                "runs": len(self.times["strata"]),
                **self.extra,
                **{
                    f"{tool.replace('-', '_')}_link_type": ",".join(dict.fromkeys(links))
                    for tool, links in self.links.items()
                },
                "loadavg_1m": round(os.getloadavg()[0], 2),
                **{
                    f"{tool.replace('-', '_')}_all": [round(t, 4) for t in times]
                    for tool, times in self.times.items()
                },
            }
        )
        if self.case in TARGETS:
            min_ratio, max_seconds = TARGETS[self.case]
            text = f"dvc/strata >= {min_ratio:g}"
            met = ratio >= min_ratio
            if max_seconds is not None:
                text = f"strata < {max_seconds:g} s and {text}"
                met = met and strata_s < max_seconds
            out["target"] = text
            out["target_met"] = met
        return out


def in_turn(tools: Sequence[Tool], run_index: int) -> Sequence[Tool]:
    """Alternate which tool goes first, so neither always runs on a warmer machine."""
    return tools if run_index % 2 == 0 else list(reversed(tools))


# -- the cases -----------------------------------------------------------------------------


@dataclass
class Bench:
    work: Path
    tools: list[Tool]
    file_size: int
    folder_files: int
    runs: dict[str, int]
    env: dict[str, str]
    reflink: bool
    big_file: Path = field(init=False)
    folder: Path = field(init=False)
    folder_names: list[str] = field(init=False)
    tracked: dict[str, Path] = field(default_factory=dict)  # tool -> repo with the folder added
    _repo_count: int = 0

    def build_data(self, cases: Sequence[str]) -> None:
        data = self.work / "data"
        data.mkdir()
        self.big_file = data / "big.bin"
        self.folder = data / "folder"
        if "add-file" in cases:
            log(f"writing a {self.file_size / MIB:.0f} MiB file of random bytes")
            write_random_file(self.big_file, self.file_size)
        log(f"writing {self.folder_files} files of {SMALL_FILE_SIZE} B")
        self.folder_names = build_folder(self.folder, self.folder_files)
        os.sync()

    def new_repo(self, tool: Tool, label: str) -> Path:
        self._repo_count += 1
        repo = self.work / f"{label}-{tool.name}-{self._repo_count}"
        tool.init(repo)
        return repo

    def seen_link_type(self, path: Path) -> str:
        """How a workspace file is tied to the cache: a hardlink shares the inode; reflink
        and copy cannot be told apart here, so it is reflink where the filesystem can."""
        if path.stat().st_nlink > 1:
            return "hardlink"
        return "reflink" if self.reflink else "copy"

    def added_link_type(self, tool: Tool, output: str, data: Path) -> str:
        """Strata reports the link type of ``add --json``; DVC's is seen on the file."""
        if tool.is_strata:
            return str(json.loads(output)[0]["link_type"])
        return self.seen_link_type(data)

    def case_add_file(self) -> Figure:
        fig = Figure("add-file", extra={"bytes": self.file_size})
        for i in range(self.runs["add-file"]):
            for tool in in_turn(self.tools, i):
                repo = self.new_repo(tool, "add-file")
                shutil.copyfile(self.big_file, repo / "big.bin")
                os.sync()
                seconds, out = timed(tool.add("big.bin"), repo, tool.env)
                fig.add(tool.name, seconds, self.added_link_type(tool, out, repo / "big.bin"))
                shutil.rmtree(repo)
        return fig

    def case_add_dir(self) -> Figure:
        extra: dict[str, object] = {"files": self.folder_files, "file_bytes": SMALL_FILE_SIZE}
        fig = Figure("add-dir", extra=extra)
        runs = self.runs["add-dir"]
        for i in range(runs):
            for tool in in_turn(self.tools, i):
                repo = self.new_repo(tool, "add-dir")
                shutil.copytree(self.folder, repo / "folder")
                os.sync()
                seconds, out = timed(tool.add("folder"), repo, tool.env)
                first = repo / "folder" / self.folder_names[0]
                fig.add(tool.name, seconds, self.added_link_type(tool, out, first))
                if i == runs - 1 and tool.name not in self.tracked:
                    self.commit(repo, "add folder")
                    self.tracked[tool.name] = repo  # reused by the status and checkout cases
                else:
                    shutil.rmtree(repo)
        return fig

    def commit(self, repo: Path, message: str) -> None:
        run(["git", "add", "-A"], repo, self.env)
        run(["git", "commit", "-q", "-m", message], repo, self.env)

    def tracked_repo(self, tool: Tool) -> Path:
        """A repo of ``tool`` with the folder added and committed."""
        if tool.name not in self.tracked:
            log(f"preparing a {tool.name} repo with the folder added")
            repo = self.new_repo(tool, "tracked")
            shutil.copytree(self.folder, repo / "folder")
            run(tool.add("folder"), repo, tool.env)
            self.commit(repo, "add folder")
            self.tracked[tool.name] = repo
        return self.tracked[tool.name]

    def folder_file(self, tool: Tool, index: int) -> Path:
        """A file of the tracked folder; with index 1, one that status-changed leaves alone."""
        return self.tracked[tool.name] / "folder" / self.folder_names[index]

    def case_status_unchanged(self) -> Figure:
        fig = Figure("status-unchanged", extra={"files": self.folder_files})
        for tool in self.tools:
            repo = self.tracked_repo(tool)
            out = run(tool.status(), repo, tool.env)  # warm-up, untimed
            log(f"  {tool.name} status (warm-up): {out.strip().splitlines()[:1]}")
        os.sync()
        for i in range(self.runs["status-unchanged"]):
            for tool in in_turn(self.tools, i):
                seconds, out = timed(tool.status(), self.tracked[tool.name], tool.env)
                expect_unchanged(tool, out)
                fig.add(tool.name, seconds, self.seen_link_type(self.folder_file(tool, 0)))
        return fig

    def case_status_changed(self) -> Figure:
        step = max(1, len(self.folder_names) // CHANGED_FILES)
        changed = self.folder_names[::step][:CHANGED_FILES]
        fig = Figure("status-changed", extra={"files": self.folder_files, "changed": len(changed)})
        for i in range(self.runs["status-changed"]):
            for tool in in_turn(self.tools, i):
                repo = self.tracked_repo(tool)
                for rel in changed:  # new content every run, so no tool has it hashed yet
                    rewrite(repo / "folder" / rel)
                os.sync()
                seconds, out = timed(tool.status(), repo, tool.env)
                expect_changed(tool, out)
                fig.add(tool.name, seconds, self.seen_link_type(self.folder_file(tool, 1)))
        return fig

    def case_checkout(self) -> Figure:
        fig = Figure("checkout", extra={"files": self.folder_files})
        for i in range(self.runs["checkout"]):
            for tool in in_turn(self.tools, i):
                repo = self.tracked_repo(tool)
                shutil.rmtree(repo / "folder")
                os.sync()
                seconds, _ = timed(tool.checkout(), repo, tool.env)
                restored = count_files(repo / "folder")
                if restored != self.folder_files:
                    raise BenchError(f"{tool.name} checkout restored {restored} files")
                fig.add(tool.name, seconds, self.seen_link_type(self.folder_file(tool, 0)))
        return fig

    def run_case(self, case: str) -> Figure:
        cases: dict[str, Callable[[], Figure]] = {
            "add-file": self.case_add_file,
            "add-dir": self.case_add_dir,
            "status-unchanged": self.case_status_unchanged,
            "status-changed": self.case_status_changed,
            "checkout": self.case_checkout,
        }
        log(f"case {case} ({self.runs[case]} runs)")
        return cases[case]()


def expect_unchanged(tool: Tool, out: str) -> None:
    ok = "matches its pointers" in out if tool.is_strata else "up to date" in out
    if not ok:
        raise BenchError(f"{tool.name} status should find nothing changed, said:\n{out}")


def expect_changed(tool: Tool, out: str) -> None:
    if "modified" not in out:
        raise BenchError(f"{tool.name} status should report a modification, said:\n{out}")


# -- the machine ---------------------------------------------------------------------------


def filesystem_of(path: Path) -> str:
    best, kind = "", "unknown"
    try:
        with open("/proc/mounts", encoding="utf-8") as fh:
            for line in fh:
                parts = line.split()
                mount, fstype = parts[1], parts[2]
                inside = str(path).startswith(mount.rstrip("/") + "/") or str(path) == mount
                if inside and len(mount) > len(best):
                    best, kind = mount, fstype
    except OSError:
        pass
    return kind


def reflink_works(folder: Path) -> bool:
    """Whether the filesystem under ``folder`` can clone files (Linux FICLONE)."""
    try:
        import fcntl
    except ImportError:
        return False
    src, dst = folder / "reflink-probe-src", folder / "reflink-probe-dst"
    src.write_bytes(b"probe")
    try:
        with open(src, "rb") as fin, open(dst, "wb") as fout:
            fcntl.ioctl(fout.fileno(), 0x40049409, fin.fileno())
        return True
    except OSError:
        return False
    finally:
        src.unlink(missing_ok=True)
        dst.unlink(missing_ok=True)


def strata_source() -> dict[str, object]:
    """Where the Strata under test comes from: the git commit of its source and whether that
    source has uncommitted changes (the code under test can change between runs)."""
    spec = importlib.util.find_spec("strata")
    if spec is None or spec.origin is None:
        return {"strata_commit": None}
    package = Path(spec.origin).parent
    git = ["git", "-C", str(package)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    if head.returncode != 0:
        return {"strata_commit": None, "strata_path": str(package)}
    dirty = subprocess.run(
        [*git, "status", "--porcelain", "--", "."], capture_output=True, text=True
    )
    return {"strata_commit": head.stdout.strip(), "strata_src_dirty": bool(dirty.stdout.strip())}


def changed_source(before: dict[str, object]) -> dict[str, object]:
    """The Strata commit at the end of the run when it is not the one at the start."""
    after = strata_source()
    if after == before:
        return {}
    log("warning: the Strata source changed during the run; the figures mix versions")
    return {f"{key}_at_end": value for key, value in after.items()}


def memory_gib() -> float:
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GIB, 1)
    except (ValueError, OSError, AttributeError):
        return 0.0


def emit(record: dict[str, object]) -> None:
    print(json.dumps(record), flush=True)


@contextmanager
def work_folder(parent: str | None, keep: bool) -> Iterator[Path]:
    work = Path(tempfile.mkdtemp(prefix="strata-bench-", dir=parent)).resolve()
    try:
        yield work
    finally:
        if keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


# -- main ----------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, help="repetitions of every case (default 3 or 5)")
    parser.add_argument("--quick", action="store_true", help="64 MiB and 2,000 files")
    parser.add_argument(
        "--file-gib", type=float, default=1.0, help="size of the add-file case's file (GiB)"
    )
    parser.add_argument(
        "--against",
        type=Path,
        help="another Strata source tree (its src/) to run in turn as strata-against",
    )
    parser.add_argument("--case", action="append", choices=CASES, help="only these cases")
    parser.add_argument("--workdir", help="where to make the temporary folder (default: TMPDIR)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument(
        "--strata-cache-type",
        help="set Strata's cache.type (e.g. hardlink,copy) instead of its default",
    )
    parser.add_argument("--dvc-spec", default="dvc", help="pip requirement for DVC")
    parser.add_argument("--dvc-venv", type=Path, default=cache_home() / "dvc-venv")
    args = parser.parse_args(argv)
    if args.runs is not None and args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.file_gib <= 0:
        parser.error("--file-gib must be above 0")
    if args.against is not None and not (args.against / "strata" / "__init__.py").is_file():
        parser.error(f"--against {args.against}: no strata package there (give its src/)")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        bench_files(args)
    except BenchError as exc:
        log(f"error: {exc}")
        return 1
    return 0


def bench_files(args: argparse.Namespace) -> None:
    cases = [c for c in CASES if c in (args.case or CASES)]
    runs = {c: args.runs or DEFAULT_RUNS[c] for c in CASES}
    strata = strata_exe()
    dvc = ensure_dvc(args.dvc_venv, args.dvc_spec)
    with work_folder(args.workdir, args.keep) as work:
        env = bench_env(work)
        if args.strata_cache_type:
            env["STRATA_CACHE_TYPE"] = args.strata_cache_type
        tools = [Tool("strata", strata, env), Tool("dvc", dvc, env)]
        if args.against is not None:
            against_env = {**env, "PYTHONPATH": str(args.against.resolve())}
            tools.append(Tool(AGAINST, strata, against_env))
        versions = {t.name: t.version() for t in tools}
        log(f"strata {versions['strata']}, dvc {versions['dvc']}, in {work}")
        bench = Bench(
            work=work,
            tools=tools,
            file_size=64 * MIB if args.quick else int(args.file_gib * GIB),
            folder_files=2_000 if args.quick else 20_000,
            runs=runs,
            env=env,
            reflink=reflink_works(work),
        )
        source = strata_source()
        started = time.perf_counter()
        bench.build_data(cases)
        for case in cases:
            emit(bench.run_case(case).to_dict())
        emit(
            {
                "summary": "bench_files",
                "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "cpus": os.cpu_count(),
                "memory_gib": memory_gib(),
                "platform": platform.platform(),
                "python": platform.python_version(),
                "filesystem": filesystem_of(work),
                "reflink": bench.reflink,
                "strata_version": versions["strata"],
                **source,
                **changed_source(source),
                "dvc_version": versions["dvc"],
                "against": str(args.against) if args.against else None,
                "strata_cache_type": args.strata_cache_type or "default",
                "euid": os.geteuid(),
                "loadavg": [round(x, 2) for x in os.getloadavg()],
                "quick": args.quick,
                "total_s": round(time.perf_counter() - started, 1),
            }
        )


if __name__ == "__main__":
    sys.exit(main())
