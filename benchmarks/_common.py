"""Shared plumbing for the bench_*.py scripts: paths, timed subprocesses, servers, tables.

Servers bind 127.0.0.1 on free ports only; every process started here is stopped by
the context manager that started it, even when the benchmark fails.
"""

from __future__ import annotations

import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
VENV_BIN = ROOT / ".venv" / "bin"
FEEDS = VENV_BIN / "feeds"
GUNICORN = VENV_BIN / "gunicorn"

sys.path.insert(0, str(ROOT / "tests"))  # tests/servers.py: nginx with deploy/nginx.conf


def unwind_on_sigterm() -> None:
    """Make `kill` (SIGTERM) unwind the script like Ctrl-C, so that its `finally` blocks
    stop the servers and remove the temporary folders and git worktrees it made; by
    default Python dies at once and leaves them behind. Called by each script's main."""

    def stop(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)


class BenchError(Exception):
    """A benchmark cannot run (missing tool, part of the publisher not there yet)."""


@dataclass(frozen=True)
class RunResult:
    wall: float  # seconds
    cpu: float  # user + system seconds of the child (less skewed than wall by other load)
    max_rss_kb: int  # peak resident set of the process (ru_maxrss of its own rusage)
    returncode: int
    output: str  # stdout + stderr, for error messages


def run_measured(
    argv: Sequence[str], cwd: Path | None = None, env: dict[str, str] | None = None
) -> RunResult:
    """Run a command to completion; wall clock and the peak RSS of that one child.

    `os.wait4` gives the rusage of exactly this child (RUSAGE_CHILDREN would report the
    maximum over every child this script ever waited for).
    """
    start = time.perf_counter()
    process = subprocess.Popen(
        list(argv), cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    assert process.stdout is not None
    try:
        output = process.stdout.read()  # until the child closes it (exits)
        _, status, usage = os.wait4(process.pid, 0)
    except BaseException:  # stopped (Ctrl-C, SIGTERM): the command must not write on
        process.kill()
        process.wait()
        raise
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    process.stdout.close()
    cpu = usage.ru_utime + usage.ru_stime
    return RunResult(
        wall, cpu, usage.ru_maxrss, process.returncode, output.decode(errors="replace")
    )


TMPFS = Path("/dev/shm")


def file_system_type(path: Path) -> str:
    """The type of the file system holding `path` (the longest mount point above it, from
    /proc/self/mounts): "tmpfs", "ext4", ..."""
    resolved = str(path.resolve())
    best, kind = "", "unknown"
    for line in Path("/proc/self/mounts").read_text().splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        mount = fields[1].replace("\\040", " ")
        inside = resolved == mount or resolved.startswith(mount.rstrip("/") + "/")
        if inside and len(mount) >= len(best):
            best, kind = mount, fields[2]
    return kind


def make_workdir(prefix: str, parent: Path | None) -> tuple[Path, str]:
    """A new temporary folder for a benchmark's outputs, and a line saying where it is.

    By default on tmpfs (/dev/shm): the figures are then those of the tools, not of the
    disk (on this machine's ext4 without a journal, creating files just after many were
    removed costs seconds: see README.md). `parent` (--workdir) puts it on that folder's
    file system instead, to measure a build as it writes to a disk.
    """
    if parent is None:
        if not TMPFS.is_dir() or file_system_type(TMPFS) != "tmpfs":
            raise BenchError(f"{TMPFS} is not a tmpfs here: pass --workdir DIR")
        parent = TMPFS
    parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    kind = file_system_type(folder)
    where = "tmpfs: memory, no disk" if kind == "tmpfs" else f"{kind}: on disk"
    return folder, f"outputs under {folder} ({where})"


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_get(
    url: str, headers: dict[str, str] | None = None, timeout: float = 10.0
) -> tuple[int, dict[str, str], bytes]:
    """GET a loopback URL: status, headers (lower-case names), body; 304 is not an error."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return (
                response.status,
                {k.lower(): v for k, v in response.headers.items()},
                response.read(),
            )
    except urllib.error.HTTPError as err:
        return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read()


def raw_exchange(port: int, request: bytes, timeout: float = 10.0) -> bytes:
    """Send raw bytes to 127.0.0.1:port, return everything the server sends until it closes."""
    chunks: list[bytes] = []
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def wait_until_serving(
    url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 120.0
) -> None:
    """Block until `url` answers 200 (the app loads its catalog first, which takes seconds)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"server exited with {process.returncode}:\n{tail(log)}")
        try:
            if http_get(url, timeout=2.0)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise BenchError(f"{url} did not answer 200 within {timeout:.0f} s:\n{tail(log)}")


def tail(log: Path, lines: int = 30) -> str:
    if not log.exists():
        return "(no output)"
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def require_app() -> None:
    """The web app's pieces must exist: asgi.py, gunicorn.conf.py, feeds.serve.web."""
    missing = [p.name for p in (ROOT / "asgi.py", ROOT / "gunicorn.conf.py") if not p.exists()]
    if not (ROOT / "feeds" / "serve" / "web.py").exists():
        missing.append("feeds/serve/web.py")
    if missing:
        raise BenchError(f"the web app is not there yet (missing: {', '.join(missing)})")


@dataclass
class App:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def gunicorn_env(catalog: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment of the documented command: the catalog path (and what a benchmark adds)."""
    env = dict(os.environ)
    env["FEEDS_CATALOG"] = str(catalog)
    env.update(extra or {})
    return env


@contextmanager
def start_app(
    catalog: Path, log: Path, extra_args: Sequence[str] = (), env: dict[str, str] | None = None
) -> Iterator[App]:
    """`gunicorn -c gunicorn.conf.py asgi:app` (the documented command) on a free loopback port.

    `--bind` on the command line overrides the config file's bind; everything else
    (workers, threads, preload) is the shipped configuration.
    """
    require_app()
    port = free_port()
    argv = [
        str(GUNICORN),
        "-c",
        "gunicorn.conf.py",
        "--bind",
        f"127.0.0.1:{port}",
        *extra_args,
        "asgi:app",
    ]
    with log.open("wb") as sink:
        process = subprocess.Popen(
            argv, cwd=ROOT, env=gunicorn_env(catalog, env), stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        wait_until_serving(f"http://127.0.0.1:{port}/feed.atom", process, log)
        yield App(process, port, log)
    finally:
        stop(process, signal.SIGTERM)


def stop(process: subprocess.Popen[bytes], sig: int) -> None:
    if process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def child_pids(pid: int) -> list[int]:
    """gunicorn's workers: the direct children of `pid` other than the builder, from /proc."""
    return [p for p in _children(pid) if not is_builder(p)]


def builder_pids(pid: int) -> list[int]:
    """The builder process gunicorn.conf.py starts beside the workers (`feeds.serve.builder`)."""
    return [p for p in _children(pid) if is_builder(p)]


def is_builder(pid: int) -> bool:
    try:
        return b"feeds.serve.builder" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def rss_kb(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise BenchError(f"no {field} for pid {pid}")


def git_commit() -> str:
    result = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no", "feeds"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return result.stdout.strip() + (" (feeds/ modified)" if dirty else "")


def tool_version(argv: Sequence[str]) -> str:
    if shutil.which(argv[0]) is None and not Path(argv[0]).exists():
        return "not installed"
    result = subprocess.run(list(argv), capture_output=True, text=True, check=False)
    return (result.stdout or result.stderr).strip().splitlines()[0]


def compile_package(code: Path = ROOT) -> None:
    """Write the bytecode of the `feeds` package in `code` (a checkout), as installing a
    package does, before anything of it is timed.

    Otherwise every run compiles each module whose .pyc is missing or older than its
    source, where PYTHONDONTWRITEBYTECODE is set (it is on this machine) or for a fresh
    git worktree: ~60 ms of every start here, more than some changes measured."""
    subprocess.run(
        [str(VENV_BIN / "python"), "-m", "compileall", "-q", str(code / "feeds")],
        check=True,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": ""},
    )


def machine_summary() -> str:
    mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
    return (
        f"{os.cpu_count()} CPUs, {int(mem) / 1024 / 1024:.1f} GiB RAM, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}, commit {git_commit()}, "
        f"{load_average()}"
    )


def load_average() -> str:
    """Other work on the machine skews every figure: print it beside them."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A Markdown table (pastes straight into RESULTS.md), columns padded for the terminal."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = "| " + " | ".join(str(h).ljust(w) for h, w in zip(header, widths, strict=True)) + " |"
    print(line)
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + " |")


# Until `feeds build` is wired into the CLI, the same function called directly (reported).
_DIRECT_BUILD = (
    "import sys; from pathlib import Path; from feeds.publish.build import build_command; "
    "sys.exit(build_command(Path(sys.argv[1]), Path(sys.argv[2])))"
)


def build_argv(catalog: Path, out: Path) -> tuple[list[str], str]:
    """The command that builds our export, and how it was found (CLI or direct call).

    The build's reuse cache goes beside `out` (`--cache-dir`, once the CLI has it), not
    beside the catalog: whoever empties `out`'s folder then gets a truly cold build.
    """
    probe = run_measured([str(FEEDS), "build", "--help"])
    if probe.returncode == 0:
        argv = [str(FEEDS), "build", str(catalog), "--out", str(out)]
        if "--cache-dir" in probe.output:
            argv += ["--cache-dir", str(out.parent / "cache")]
        return argv, " ".join(["feeds", *argv[1:]])
    direct = run_measured([str(VENV_BIN / "python"), "-c", "import feeds.publish.build"])
    if direct.returncode == 0:
        argv = [str(VENV_BIN / "python"), "-c", _DIRECT_BUILD, str(catalog), str(out)]
        return argv, "feeds.publish.build.build_command (the `feeds build` CLI is not wired yet)"
    raise BenchError("`feeds build` is not there yet (no CLI command, no feeds.publish.build)")
