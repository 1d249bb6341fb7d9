"""Serving: wrk against the app (documented gunicorn command) and nginx (the export), same run.

    .venv/bin/python benchmarks/bench_serve.py                  # 10k catalog, 10 s per wrk run
    .venv/bin/python benchmarks/bench_serve.py --duration 5 --paths /feed.atom

Builds the export of the catalog with `feeds build`, starts nginx on it with the shipped
deploy/nginx.conf (as many worker processes as gunicorn has workers) and the app with
`gunicorn -c gunicorn.conf.py asgi:app` (FEEDS_CATALOG set, bound to a free loopback
port), then for each path runs wrk against both, interleaved: a 200 without and with
`Accept-Encoding: gzip`, and a 304 (If-None-Match with that server's current ETag, via
benchmarks/wrk/status.lua, which also counts the statuses received). Prints requests/s,
p99 latency and app/nginx for each, then the bytes of a 304 answer on the wire.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from _common import (
    BENCH_DIR,
    BenchError,
    build_argv,
    compile_package,
    free_port,
    http_get,
    machine_summary,
    print_table,
    raw_exchange,
    run_measured,
    start_app,
    tool_version,
    unwind_on_sigterm,
)
from gen_catalog import ensure_catalog, parse_size

WRK = shutil.which("wrk") or "/usr/bin/wrk"
WRK_SCRIPT = BENCH_DIR / "wrk" / "status.lua"
GZIP = {"Accept-Encoding": "gzip"}


@dataclass(frozen=True)
class Target:
    name: str
    port: int

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@dataclass(frozen=True)
class WrkResult:
    requests_per_s: float
    p99_ms: float
    statuses: dict[int, int]
    errors: str  # wrk's "Socket errors" line, if any

    def describe_statuses(self) -> str:
        return ", ".join(f"{code}: {count}" for code, count in sorted(self.statuses.items()))


@dataclass(frozen=True)
class Scenario:
    name: str
    gzip: bool
    conditional: bool  # send If-None-Match with the current ETag: expect 304
    expected: int


SCENARIOS = (
    Scenario("200", gzip=False, conditional=False, expected=200),
    Scenario("200 gzip", gzip=True, conditional=False, expected=200),
    Scenario("304", gzip=False, conditional=True, expected=304),
)


def run_wrk(
    url: str, args: argparse.Namespace, headers: dict[str, str], etag: str | None
) -> WrkResult:
    argv = [WRK, f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s", "--latency"]
    argv += ["-s", str(WRK_SCRIPT)]
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    env = dict(os.environ, WRK_IF_NONE_MATCH=etag or "")
    done = subprocess.run([*argv, url], capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise BenchError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return parse_wrk(done.stdout)


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def parse_wrk(text: str) -> WrkResult:
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s|m)\b", text, re.MULTILINE)
    if rate is None or p99 is None:
        raise BenchError(f"cannot read wrk's output:\n{text}")
    statuses = {int(c): int(n) for c, n in re.findall(r"^status (\d+) (\d+)$", text, re.MULTILINE)}
    errors = re.search(r"^\s+Socket errors:.*$", text, re.MULTILINE)
    return WrkResult(
        requests_per_s=float(rate.group(1)),
        p99_ms=float(p99.group(1)) * _UNITS_MS[p99.group(2)],
        statuses=statuses,
        errors=errors.group(0).strip() if errors else "",
    )


def current_etag(target: Target, path: str, headers: dict[str, str]) -> str:
    status, answer, _ = http_get(target.url(path), headers)
    if status != 200 or "etag" not in answer:
        raise BenchError(f"{target.name} {path}: status {status}, ETag {answer.get('etag')}")
    return answer["etag"]


def poll_bytes(target: Target, path: str, etag: str) -> tuple[int, int, bytes]:
    """A reader's conditional poll that finds nothing new: (request bytes, answer bytes, answer)."""
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{target.port}\r\nUser-Agent: bench_serve\r\n"
        f"Accept-Encoding: gzip\r\nIf-None-Match: {etag}\r\nConnection: close\r\n\r\n"
    ).encode()
    answer = raw_exchange(target.port, request)
    return len(request), len(answer), answer


def export_site(catalog: Path, workdir: Path) -> Path:
    out = workdir / "export" / "site"
    argv, how = build_argv(catalog, out)
    print(f"export: {how} -> {out}")
    result = run_measured(argv)
    if result.returncode != 0:
        raise BenchError(f"the export failed:\n{result.output[-3000:]}")
    return out


@contextmanager
def start_nginx(root: Path, workers: int, workdir: Path) -> Iterator[Target]:
    """nginx with deploy/nginx.conf (rendered by tests/servers.py), `workers` worker processes."""
    import servers  # tests/servers.py, on sys.path via _common

    port = free_port()
    prefix = workdir / "nginx"
    prefix.mkdir()
    conf = servers.render_nginx_conf(root, port, prefix)
    conf.write_text(conf.read_text().replace("worker_processes 1;", f"worker_processes {workers};"))
    argv = [
        servers.NGINX, "-p", str(prefix), "-c", str(conf), "-e", "stderr",
        "-g", f"daemon off; master_process on; pid {prefix}/nginx.pid; error_log stderr warn;",
    ]  # fmt: skip
    with servers.start_process(argv, port, prefix / "nginx.log", stop_signal=signal.SIGQUIT):
        yield Target("nginx", port)


def gunicorn_workers() -> int:
    """What gunicorn.conf.py will start: FEEDS_WORKERS, else one per CPU."""
    return int(os.environ.get("FEEDS_WORKERS", str(os.cpu_count() or 1)))


def check_same_bodies(app: Target, nginx: Target, paths: list[str]) -> None:
    for path in paths:
        a, n = http_get(app.url(path)), http_get(nginx.url(path))
        if a[0] != 200 or n[0] != 200:
            raise BenchError(f"{path}: app answered {a[0]}, nginx {n[0]}")
        same = "same bytes" if a[2] == n[2] else "DIFFERENT bytes"
        print(f"{path}: {len(a[2]):,} B from the app, {len(n[2]):,} B from nginx ({same})")


def bench(app: Target, nginx: Target, paths: list[str], args: argparse.Namespace) -> None:
    rows: list[list[str]] = []
    for path in paths:
        for scenario in SCENARIOS:
            measured: dict[str, WrkResult] = {}
            for target in (app, nginx):
                headers = GZIP if scenario.gzip else {}
                etag = current_etag(target, path, headers) if scenario.conditional else None
                result = run_wrk(target.url(path), args, headers, etag)
                measured[target.name] = result
                unexpected = set(result.statuses) - {scenario.expected}
                flag = f" UNEXPECTED {result.describe_statuses()}" if unexpected else ""
                rate, p99 = result.requests_per_s, result.p99_ms
                print(
                    f"  {target.name:<5} {path} {scenario.name:<8} {rate:9.0f} req/s"
                    f"  p99 {p99:7.2f} ms  {result.errors}{flag}",
                    flush=True,
                )
            a, n = measured["app"], measured["nginx"]
            rows.append([
                path, scenario.name,
                f"{a.requests_per_s:,.0f}", f"{a.p99_ms:.2f} ms",
                f"{n.requests_per_s:,.0f}", f"{n.p99_ms:.2f} ms",
                f"{a.requests_per_s / n.requests_per_s:.2f}x",
            ])  # fmt: skip
    print(f"\nwrk -t{args.threads} -c{args.connections} -d{args.duration}s --latency, 127.0.0.1\n")
    print_table(
        ["path", "answer", "app req/s", "app p99", "nginx req/s", "nginx p99", "app/nginx"], rows
    )


def report_poll_bytes(app: Target, nginx: Target, path: str) -> None:
    print(f"\nA conditional poll of {path} that finds nothing new (Accept-Encoding: gzip):")
    for target in (app, nginx):
        etag = current_etag(target, path, GZIP)
        sent, received, answer = poll_bytes(target, path, etag)
        status = answer.split(b"\r\n", 1)[0].decode()
        print(f"  {target.name:<5} request {sent} B, answer {received} B ({status})")
        print("    " + answer.decode(errors="replace").strip().replace("\r\n", "\n    "))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--size", default="10k", help="catalog entries (1k, 10k, 100k or an integer)"
    )
    parser.add_argument(
        "--paths", default="/feed.atom,/events.ics", help="comma-separated Site paths"
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (default 10)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    args = parser.parse_args(argv)
    paths = args.paths.split(",")
    print(f"# bench_serve: {machine_summary()}")
    compile_package()
    print(f"# {tool_version([WRK, '-v'])}; {tool_version(['nginx', '-v'])}")
    workdir = Path(tempfile.mkdtemp(prefix="feeds-bench-serve-"))
    try:
        catalog = ensure_catalog(parse_size(args.size))
        root = export_site(catalog, workdir)
        workers = gunicorn_workers()
        with ExitStack() as stack:
            started = stack.enter_context(start_app(catalog, workdir / "gunicorn.log"))
            app = Target("app", started.port)
            nginx = stack.enter_context(start_nginx(root, workers, workdir))
            print(f"app: gunicorn -c gunicorn.conf.py asgi:app ({workers} workers) on {app.port}")
            print(f"nginx: deploy/nginx.conf, worker_processes {workers}, on {nginx.port}")
            check_same_bodies(app, nginx, paths)
            bench(app, nginx, paths, args)
            report_poll_bytes(app, nginx, paths[0])
    except (BenchError, RuntimeError) as exc:  # RuntimeError: tests/servers.py's start failures
        print(f"\nbench_serve: {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    unwind_on_sigterm()
    sys.exit(main())
