"""Push and pull: Strata against DVC, side by side; chunker throughput; S3 request counts.

Data sets: a folder of 20,000 files of 4 KiB and one 1 GiB file (random bytes). Remotes: a local
folder, and moto's S3 server on loopback (started here, as tests/s3_server.py does, behind a
small WSGI wrapper that counts requests by method). Each tool runs as a CLI subprocess with its
default parallelism, in its own git repository; every run pushes to a fresh remote location and
pulls into a fresh clone with an empty cache, so each run moves everything.

Printed, one JSON line each:
- ``push`` / ``pull`` per data set and remote: median seconds of each tool over the runs,
  ``ratio`` = dvc/strata (above 1: Strata is faster), and each tool's peak resident set
  over the runs (``wait4``, file-mapped pages included);
- ``s3-requests``: requests by HTTP method while each tool pushed the 20,000-file folder;
- ``copy-floor``: the one file copied in the kernel into the remotes' folder by this process,
  without and with an fsync (medians, interleaved with the runs), beside half of DVC's push:
  a push twice as fast as DVC's must take no longer than that half, start-up included;
- ``chunker``: chunking a 256 MiB file: pyfastcdc in memory on one thread, and Strata's
  ``split`` (cut and hashed) with one cutter and with two (MiB/s, medians);
  skipped with the reason when pyfastcdc is not installed.

    .venv/bin/python benchmarks/bench_transfer.py               # full sizes, 3 runs
    .venv/bin/python benchmarks/bench_transfer.py --quick       # 2,000 files, 64 MiB
    .venv/bin/python benchmarks/bench_transfer.py --remotes local --data folder --runs 5
    .venv/bin/python benchmarks/bench_transfer.py --data folder --files 200000 --runs 1
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from bench_files import (
    GIB,
    MIB,
    BenchError,
    Tool,
    bench_env,
    build_folder,
    cache_home,
    count_files,
    ensure_dvc,
    log,
    run,
    strata_exe,
    write_random_file,
)

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}
BUCKET = "bench"
COUNTS_PATH = "/__bench__/counts"


# -- the S3 server -------------------------------------------------------------------------
def serve_s3(port: int) -> None:
    """moto's S3 server on loopback, counting requests by method (GET COUNTS_PATH reads and
    resets them). Runs in a subprocess: ``bench_transfer.py --serve-s3 PORT``."""
    import collections
    import threading

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import run_simple

    moto_app = DomainDispatcherApplication(create_backend_app)
    counts: collections.Counter[str] = collections.Counter()
    lock = threading.Lock()

    def app(environ: dict[str, object], start_response: object) -> object:
        if environ.get("PATH_INFO") == COUNTS_PATH:
            with lock:
                body = json.dumps(dict(counts)).encode()
                counts.clear()
            start_response("200 OK", [("Content-Type", "application/json")])  # type: ignore[operator]
            return [body]
        with lock:
            counts[str(environ.get("REQUEST_METHOD"))] += 1
        return moto_app(environ, start_response)

    run_simple("127.0.0.1", port, app, threaded=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def s3_server() -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve-s3", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **CREDENTIALS},
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(endpoint + COUNTS_PATH, timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise BenchError("the moto S3 server did not start") from None
                time.sleep(0.2)
        yield endpoint
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def timed_rss(cmd: Sequence[str | Path], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Run a command; its wall-clock seconds and its peak resident set in MiB (``wait4``)."""
    args = [os.fspath(c) for c in cmd]
    start = time.perf_counter()
    proc = subprocess.Popen(
        args, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    assert proc.stderr is not None
    errors = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        shown = " ".join(args)
        raise BenchError(f"`{shown}` failed ({proc.returncode}) in {cwd}:\n{errors.decode()}")
    return elapsed, usage.ru_maxrss / 1024


def s3_counts(endpoint: str) -> dict[str, int]:
    with urllib.request.urlopen(endpoint + COUNTS_PATH, timeout=30) as resp:
        counts: dict[str, int] = json.loads(resp.read())
    return counts


def s3fs_for(endpoint: str) -> object:
    import s3fs

    return s3fs.S3FileSystem(endpoint_url=endpoint, skip_instance_cache=True, **_s3_key())


def _s3_key() -> dict[str, str]:
    return {"key": CREDENTIALS["AWS_ACCESS_KEY_ID"], "secret": CREDENTIALS["AWS_SECRET_ACCESS_KEY"]}


# -- one tool, one data set ----------------------------------------------------------------
class Bench:
    def __init__(
        self, work: Path, env: dict[str, str], runs: int, endpoint: str | None, jobs: int | None
    ) -> None:
        self.jobs = ["-j", str(jobs)] if jobs else []
        self.work = work
        self.env = {**env, **CREDENTIALS}
        self.runs = runs
        self.endpoint = endpoint
        self.data: dict[str, Path] = {}
        self.rss: dict[tuple[str, str, str], list[tuple[float, float]]] = {}  # MiB

    def build_data(self, names: Sequence[str], files: int, size: int) -> None:
        if "folder" in names:
            log(f"building {files:,} files of 4 KiB")
            folder = self.work / "src-folder" / "data"
            folder.mkdir(parents=True)
            build_folder(folder, files)
            self.data["folder"] = folder
        if "file" in names:
            log(f"building a file of {size // MIB} MiB")
            (self.work / "src-file").mkdir()
            path = self.work / "src-file" / "data"
            write_random_file(path, size)
            self.data["file"] = path

    def tracked_repo(self, tool: Tool, name: str) -> Path:
        """A repository of ``tool`` with data set ``name`` added and committed."""
        repo = self.work / f"{tool.name}-{name}"
        tool.init(repo)
        src = self.data[name]
        if src.is_dir():
            shutil.copytree(src, repo / "data")
        else:
            shutil.copyfile(src, repo / "data")
        run([tool.exe, "add", "data"], repo, tool.env)
        run(["git", "add", "-A"], repo, tool.env)
        run(["git", "commit", "-q", "-m", "data"], repo, tool.env)
        return repo

    def add_remote(self, tool: Tool, repo: Path, remote: str, url: str) -> None:
        if tool.name == "strata":
            run([tool.exe, "remote", "add", remote, url], repo, tool.env)
            if url.startswith("s3://"):
                assert self.endpoint
                cmd = [tool.exe, "remote", "modify", remote, "endpoint_url", self.endpoint]
                run(cmd, repo, tool.env)
        else:
            run([tool.exe, "remote", "add", remote, url], repo, tool.env)
            if url.startswith("s3://"):
                assert self.endpoint
                cmd = [tool.exe, "remote", "modify", remote, "endpointurl", self.endpoint]
                run(cmd, repo, tool.env)

    def location(self, kind: str, label: str) -> str:
        if kind == "local":
            return str(self.work / "remotes" / label)
        return f"s3://{BUCKET}/{label}"

    def forget(self, kind: str, url: str) -> None:
        if kind == "local":
            shutil.rmtree(url, ignore_errors=True)
        else:
            fs = s3fs_for(self.endpoint or "")
            if fs.exists(url):  # type: ignore[attr-defined]
                fs.rm(url, recursive=True)  # type: ignore[attr-defined]

    def one_run(
        self, tool: Tool, repo: Path, name: str, kind: str, index: int
    ) -> tuple[float, float, dict[str, dict[str, int]]]:
        """Push to a fresh remote location, pull into a fresh clone: their seconds, and on
        S3 the requests each made."""
        label = f"{tool.name}-{name}-{kind}-{index}"
        remote, url = f"{kind}{index}", self.location(kind, label)
        self.add_remote(tool, repo, remote, url)
        if self.endpoint:
            s3_counts(self.endpoint)  # reset
        os.sync()  # neither tool waits on the disk for what the other left unwritten
        push_s, push_rss = timed_rss([tool.exe, "push", "-r", remote, *self.jobs], repo, tool.env)
        counts = {"push": s3_counts(self.endpoint)} if kind == "s3" and self.endpoint else {}
        clone = self.work / f"clone-{label}"
        run(["git", "clone", "-q", str(repo), str(clone)], self.work, tool.env)
        self.add_remote(tool, clone, remote, url)
        os.sync()
        pull_s, pull_rss = timed_rss([tool.exe, "pull", "-r", remote, *self.jobs], clone, tool.env)
        if counts and self.endpoint:
            counts["pull"] = s3_counts(self.endpoint)
        self.check_pulled(clone / "data", name)
        shutil.rmtree(clone)
        self.forget(kind, url)
        self.rss.setdefault((tool.name, name, kind), []).append((push_rss, pull_rss))
        return push_s, pull_s, counts

    def bare_copy(self, src: Path, *, fsync: bool) -> float:
        """Seconds to copy ``src`` into the remotes' folder in the kernel (sendfile, as DVC's
        copy does), in this process, with or without an fsync: what any tool that stores a
        copy of the file pays, start-up aside."""
        target = self.work / "remotes" / "bare-copy"
        target.parent.mkdir(parents=True, exist_ok=True)
        os.sync()
        start = time.perf_counter()
        with open(src, "rb") as fin, open(target, "wb") as fout:
            size, offset = os.fstat(fin.fileno()).st_size, 0
            while offset < size:
                offset += os.sendfile(fout.fileno(), fin.fileno(), offset, size - offset)
            if fsync:
                os.fsync(fout.fileno())
        seconds = time.perf_counter() - start
        target.unlink()
        return seconds

    def check_pulled(self, data: Path, name: str) -> None:
        src = self.data[name]
        if src.is_dir():
            got, want = count_files(data), count_files(src)
        else:
            got, want = data.stat().st_size, src.stat().st_size
        if got != want:
            raise BenchError(f"pull brought {got}, expected {want} ({data})")

    def measure(self, tools: Sequence[Tool], name: str, kinds: Sequence[str]) -> None:
        repos = {tool.name: self.tracked_repo(tool, name) for tool in tools}
        for kind in kinds:
            times: dict[str, dict[str, list[float]]] = {
                t.name: {"push": [], "pull": []} for t in tools
            }
            requests: dict[str, dict[str, dict[str, int]]] = {}
            floor: dict[bool, list[float]] = {False: [], True: []}
            for index in range(self.runs):
                order = tools if index % 2 == 0 else list(reversed(tools))
                for tool in order:
                    log(f"{name} → {kind}, run {index + 1}/{self.runs}: {tool.name}")
                    push_s, pull_s, counts = self.one_run(tool, repos[tool.name], name, kind, index)
                    times[tool.name]["push"].append(push_s)
                    times[tool.name]["pull"].append(pull_s)
                    if counts and index == 0:
                        requests[tool.name] = counts
                if name == "file" and kind == "local":
                    for fsync in (False, True):
                        floor[fsync].append(self.bare_copy(self.data[name], fsync=fsync))
            for index, op in enumerate(("push", "pull")):
                figure = _figure(op, name, kind, times, self.runs)
                for tool in tools:
                    peaks = [pair[index] for pair in self.rss[(tool.name, name, kind)]]
                    figure[f"{tool.name}_peak_rss_mib"] = round(max(peaks), 1)
                print(json.dumps(figure), flush=True)
            if floor[False]:
                copy_s, synced_s = (statistics.median(floor[k]) for k in (False, True))
                record = {
                    "case": "copy-floor",
                    "data": name,
                    "remote": kind,
                    "copy_s": round(copy_s, 3),
                    "copy_fsync_s": round(synced_s, 3),
                    "dvc_push_half_s": round(statistics.median(times["dvc"]["push"]) / 2, 3),
                    "runs": self.runs,
                }
                print(json.dumps(record), flush=True)
            if requests and name == "folder":
                record = {
                    "case": "s3-requests",
                    "data": name,
                    "objects": count_files(self.data[name]),
                }
                print(json.dumps({**record, **requests}), flush=True)
        for repo in repos.values():
            shutil.rmtree(repo)


def _figure(
    op: str, name: str, kind: str, times: dict[str, dict[str, list[float]]], runs: int
) -> dict[str, object]:
    strata = statistics.median(times["strata"][op])
    dvc = statistics.median(times["dvc"][op])
    return {
        "case": op,
        "data": name,
        "remote": kind,
        "strata_s": round(strata, 3),
        "dvc_s": round(dvc, 3),
        "ratio": round(dvc / strata, 2),
        "runs": runs,
        "strata_all": [round(t, 3) for t in times["strata"][op]],
        "dvc_all": [round(t, 3) for t in times["dvc"][op]],
        "target": "ratio >= 2",
    }


# -- chunkers ------------------------------------------------------------------------------
def bench_chunkers(size: int, runs: int, work: Path) -> dict[str, object]:
    """Chunking throughput on one file of ``size`` random bytes (MiB/s, medians): pyfastcdc
    cutting it in memory on one thread, and Strata's ``split`` (mapped windows, cut and
    hashed) with one cutter and with two (the second half on a thread)."""
    from pyfastcdc import FastCDC

    from strata.objects import chunks

    path = work / "chunker-data"
    write_random_file(path, size)
    buffer = path.read_bytes()
    one_cutter = 1 << 62

    def cut_in_memory() -> int:
        cutter = FastCDC(chunks.AVG_CHUNK, min_size=chunks.MIN_CHUNK, max_size=chunks.MAX_CHUNK)
        return sum(1 for _ in cutter.cut_buf(buffer))

    def split(parallel_min: int) -> int:
        saved, chunks.PARALLEL_MIN = chunks.PARALLEL_MIN, parallel_min
        try:
            return sum(1 for _ in chunks.split(path))
        finally:
            chunks.PARALLEL_MIN = saved

    cases = {
        "pyfastcdc_in_memory": cut_in_memory,
        "split_one_cutter": lambda: split(one_cutter),
        "split_two_cutters": lambda: split(chunks.PARALLEL_MIN),
    }
    record: dict[str, object] = {"case": "chunker", "bytes": size, "runs": runs}
    seconds: dict[str, list[float]] = {name: [] for name in cases}
    counts: dict[str, int] = {}
    for _ in range(runs):  # interleaved
        for name, cut in cases.items():
            start = time.perf_counter()
            counts[name] = cut()
            seconds[name].append(time.perf_counter() - start)
    for name in cases:
        record[name] = {
            "mib_per_s": round(size / MIB / statistics.median(seconds[name]), 1),
            "chunks": counts[name],
        }
    path.unlink()
    return record


# -- main ----------------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 files and 64 MiB")
    parser.add_argument("--runs", type=int, default=3, help="repeats per case (median)")
    parser.add_argument("--data", nargs="+", default=["folder", "file"])
    parser.add_argument("--remotes", nargs="+", default=["local", "s3"])
    parser.add_argument("--jobs", type=int, help="-j for both tools (default: their own)")
    parser.add_argument("--no-chunker", action="store_true", help="skip the chunker figures")
    parser.add_argument("--files", type=int, help="files in the folder data set")
    parser.add_argument("--size-mib", type=int, help="size of the one-file data set, MiB")
    parser.add_argument("--serve-s3", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_s3:
        serve_s3(args.serve_s3)
        return 0
    files, size = (2_000, 64 * MIB) if args.quick else (20_000, GIB)
    files, size = args.files or files, args.size_mib * MIB if args.size_mib else size
    work = Path(tempfile.mkdtemp(prefix="strata-bench-transfer-"))
    try:
        if not args.no_chunker:
            print(json.dumps(bench_chunkers(256 * MIB, max(args.runs, 3), work)), flush=True)
        env = bench_env(work)
        dvc_exe = ensure_dvc(cache_home() / "dvc-venv", "dvc[s3]")
        if "s3" in args.remotes:
            ensure_dvc_s3(dvc_exe)
        tools = [Tool("strata", strata_exe(), env), Tool("dvc", dvc_exe, env)]
        with _maybe_s3("s3" in args.remotes) as endpoint:
            if endpoint:
                s3fs_for(endpoint).mkdir(BUCKET)  # type: ignore[attr-defined]
            bench = Bench(work, env, args.runs, endpoint, args.jobs)
            tools = [Tool(t.name, t.exe, bench.env) for t in tools]
            bench.build_data(args.data, files, size)
            for name in args.data:
                bench.measure(tools, name, args.remotes)
        print(json.dumps({"summary": "bench_transfer", "date": time.strftime("%Y-%m-%d")}))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def ensure_dvc_s3(dvc_exe: Path) -> None:
    """DVC's S3 support in its venv (an existing venv may have been made without it)."""
    python = dvc_exe.parent / "python"
    if subprocess.run([python, "-c", "import dvc_s3"], capture_output=True).returncode == 0:
        return
    log("installing dvc-s3 into the DVC venv (once)")
    if subprocess.run([python, "-m", "pip", "install", "-q", "dvc-s3"]).returncode != 0:
        raise BenchError("could not install dvc-s3 into the DVC venv")


@contextmanager
def _maybe_s3(wanted: bool) -> Iterator[str | None]:
    if not wanted:
        yield None
        return
    with s3_server() as endpoint:
        yield endpoint


if __name__ == "__main__":
    sys.exit(main())
