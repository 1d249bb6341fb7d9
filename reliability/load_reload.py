"""Load while the catalog churns: wrk against gunicorn while the catalog is rewritten
every second, good and broken in turn, by atomic rename and by writing in place.

    .venv/bin/python reliability/load_reload.py                       # 60 s, 64 connections
    .venv/bin/python reliability/load_reload.py --seconds 8 --connections 16 --json out.json

What runs, all on 127.0.0.1:
- gunicorn as documented (`gunicorn -c gunicorn.conf.py asgi:app`, FEEDS_CATALOG set,
  a free port), production settings: reload on, 1 s stat interval;
- wrk (reliability/paths.lua) over every path of the Site, with and without gzip, some
  requests revalidating with an ETag; it counts every status;
- a rewriter: every `--interval` s the next version of the catalog, cycling through
  three good versions (every output differs between them) and three broken ones (an
  impossible date, a file cut mid-entry, bytes that are not YAML), half written with
  an atomic rename, half in place in two halves with a pause between (a half-written
  file on disk for a moment, as a slow editor leaves it);
- a checker: threads fetching every path again and again; each body's sha256 must be
  the body of its ETag in one of the good versions' Sites (built beforehand with
  build_site): an answer mixing two versions, or any other bytes, is "torn";
- a sampler: each gunicorn worker's VmRSS every second.

Holds when: every answer 2xx/304, no socket errors, no torn answer, no worker's RSS
grown by more than `--rss-growth-mib` from first to last sample, no traceback logged.
Exit status 0 when it holds, 1 otherwise; figures on stdout (and as JSON).
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # tests/servers.py: free ports, clean stops

from servers import Server, start_gunicorn  # noqa: E402

from feeds.catalog import parse_catalog  # noqa: E402
from feeds.site import Site, build_site  # noqa: E402

WRK = shutil.which("wrk") or "/usr/bin/wrk"
WRK_SCRIPT = Path(__file__).resolve().parent / "paths.lua"
TITLE = "\n  title: "  # the feed's title: the first one in the file
IMPOSSIBLE = "\n    published: 2019-02-30"


# --- the catalog versions ------------------------------------------------------------------


@dataclass(frozen=True)
class Version:
    name: str
    data: bytes
    good: bool


def catalog_versions(source: bytes) -> list[Version]:
    """Good and broken versions alternating: good 0, broken 0, good 1, broken 1, ...

    The good ones differ in the feed title, so every output (and ETag) differs.
    """
    text = source.decode()
    goods = [
        Version(f"good {n}", text.replace(TITLE, f"{TITLE}Load {n} - ", 1).encode(), True)
        for n in range(3)
    ]
    published = re.search(r"\n    published: [^\n]+", text)
    assert published is not None, "the catalog needs an entry with `published:`"
    last_entry = text.rindex("\n  - id: ")
    broken = [
        Version("impossible date", text.replace(published[0], IMPOSSIBLE, 1).encode(), False),
        Version("cut mid-entry", text[: last_entry + 12].encode(), False),
        Version("not YAML", b"feed: [\x00\xff" + source[:100], False),
    ]
    return [version for pair in zip(goods, broken, strict=True) for version in pair]


def expected_bodies(versions: list[Version]) -> dict[str, str]:
    """{ETag: sha256 of the body} over every output and encoding of every good version."""
    expected: dict[str, str] = {}
    for version in versions:
        if version.good:
            site = build_site(parse_catalog(version.data, "entries.yaml"))
            expected.update(_etags_of(site))
    return expected


def _etags_of(site: Site) -> dict[str, str]:
    etags = {}
    for output in site.outputs.values():
        etags[output.etag] = hashlib.sha256(output.body).hexdigest()
        if output.gzip_body is not None and output.gzip_etag is not None:
            etags[output.gzip_etag] = hashlib.sha256(output.gzip_body).hexdigest()
    return etags


# --- the rewriter -----------------------------------------------------------------------------


@dataclass
class Rewrites:
    good: int = 0
    broken: int = 0
    atomic: int = 0
    in_place: int = 0


def rewrite_forever(
    path: Path,
    versions: list[Version],
    interval: float,
    pause: float,
    stop: threading.Event,
    log: Rewrites,
) -> None:
    """Every `interval` s the next version; in-place writes pause `pause` s halfway."""
    number = 1  # version 0 is what gunicorn starts with
    while not stop.wait(interval):
        version = versions[number % len(versions)]
        if number % 4 in (1, 2):  # atomic and in place each reach good and broken versions
            temporary = path.with_name(f".{path.name}.tmp")
            temporary.write_bytes(version.data)
            os.replace(temporary, path)
            log.atomic += 1
        else:
            with path.open("r+b") as file:
                file.truncate(0)
                half = len(version.data) // 2
                file.write(version.data[:half])
                if pause:
                    file.flush()
                    time.sleep(pause)  # half a file on disk, as a slow writer leaves it
                file.write(version.data[half:])
            log.in_place += 1
        if version.good:
            log.good += 1
        else:
            log.broken += 1
        number += 1


# --- the checker ------------------------------------------------------------------------------


@dataclass
class Checks:
    fetched: int = 0
    torn: int = 0  # a body that is not its ETag's
    unknown_etag: int = 0  # an ETag of no good version: a Site built from a partial file
    bad_status: dict[int, int] = field(default_factory=dict)  # status (0: no answer): count
    examples: list[str] = field(default_factory=list)


def check_forever(
    port: int, paths: list[str], expected: dict[str, str], stop: threading.Event, log: Checks
) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    encodings = ["gzip", "identity"]
    n = 0
    while not stop.is_set():
        path, encoding = paths[n % len(paths)], encodings[(n // len(paths)) % 2]
        n += 1
        try:
            connection.request("GET", path, headers={"Accept-Encoding": encoding})
            response = connection.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as exc:
            log.bad_status[0] = log.bad_status.get(0, 0) + 1
            log.examples.append(f"{path}: {type(exc).__name__}: {exc}")
            connection.close()
            continue
        log.fetched += 1
        etag = response.getheader("ETag") or ""
        if response.status != 200:
            log.bad_status[response.status] = log.bad_status.get(response.status, 0) + 1
        elif etag not in expected:
            log.unknown_etag += 1
            log.examples.append(f"{path}: unknown ETag {etag}")
        elif hashlib.sha256(body).hexdigest() != expected[etag]:
            log.torn += 1
            log.examples.append(f"{path}: body does not match ETag {etag}")
    connection.close()


# --- the memory sampler -------------------------------------------------------------------------


def worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return sorted(int(pid) for pid in children)


def rss_mib(pid: int) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) / 1024 if match else None


def process_name(pid: int) -> str:
    """ "gunicorn: worker [asgi:app]" and the like: what the process is."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    return " ".join(a.decode(errors="replace") for a in argv if a)[:80]


def sample_forever(
    master: int, stop: threading.Event, samples: dict[int, list[float]], names: dict[int, str]
) -> None:
    """Every second, the RSS of each child of the gunicorn master (its workers, and any
    helper process it started)."""
    while True:
        for pid in worker_pids(master):
            value = rss_mib(pid)
            if value is not None:
                samples.setdefault(pid, []).append(round(value, 1))
                names.setdefault(pid, process_name(pid))
        if stop.wait(1.0):
            return


# --- wrk --------------------------------------------------------------------------------------


@dataclass
class WrkResult:
    requests: int
    statuses: dict[int, int]
    socket_errors: str  # wrk's line, "" when none
    requests_per_second: float
    latency_p99: str


def wrk_request_list(site: Site, etag_of_good_0: dict[str, str], file: Path) -> None:
    """One line a request: every path plain and gzip, and revalidating with version 0's ETag."""
    lines = []
    for path in site:
        lines += [f"{path} - -", f"{path} gzip -"]
        if path in etag_of_good_0:
            lines.append(f"{path} - {etag_of_good_0[path]}")
    file.write_text("\n".join(lines) + "\n")


def run_wrk(port: int, seconds: float, connections: int, paths_file: Path) -> WrkResult:
    argv = [
        WRK, "-t", "2", "-c", str(connections), "-d", f"{seconds:g}s", "--latency",
        "-s", str(WRK_SCRIPT), f"http://127.0.0.1:{port}/",
    ]  # fmt: skip
    env = {**os.environ, "WRK_PATHS": str(paths_file)}
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=seconds + 60)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return parse_wrk(done.stdout)


def parse_wrk(text: str) -> WrkResult:
    total = re.search(r"(\d+) requests in", text)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", text)
    p99 = re.search(r"^\s+99%\s+(\S+)", text, re.MULTILINE)
    errors = re.search(r"Socket errors:[^\n]+", text)
    if total is None or rate is None:
        raise RuntimeError(f"cannot read wrk's output:\n{text}")
    statuses = {int(c): int(n) for c, n in re.findall(r"^status (\d+) (\d+)$", text, re.MULTILINE)}
    return WrkResult(
        requests=int(total.group(1)),
        statuses=statuses,
        socket_errors=errors.group(0) if errors else "",
        requests_per_second=float(rate.group(1)),
        latency_p99=p99.group(1) if p99 else "?",
    )


# --- the run ------------------------------------------------------------------------------------


@dataclass
class Report:
    seconds: float
    connections: int
    workers: int
    wrk: WrkResult | None = None
    checks: Checks = field(default_factory=Checks)
    rewrites: Rewrites = field(default_factory=Rewrites)
    rss_mib: dict[int, dict[str, float]] = field(default_factory=dict)
    process_names: dict[int, str] = field(default_factory=dict)
    reloads_logged: int = 0
    failed_loads_logged: int = 0
    tracebacks: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@contextmanager
def gunicorn(catalog: Path, workers: int, log: Path) -> Iterator[Server]:
    """The documented production command, on a free loopback port."""
    settings = {"FEEDS_WORKERS": str(workers), "FEEDS_WEBSUB": "false"}
    with start_gunicorn(catalog, log, settings) as server:
        yield server


def run(args: argparse.Namespace, workdir: Path) -> Report:
    versions = catalog_versions(args.catalog.read_bytes())
    expected = expected_bodies(versions)
    first = build_site(parse_catalog(versions[0].data, "entries.yaml"))
    paths_file = workdir / "requests.txt"
    wrk_request_list(first, {p: first[p].etag for p in first}, paths_file)
    catalog = workdir / "entries.yaml"
    catalog.write_bytes(versions[0].data)
    report = Report(seconds=args.seconds, connections=args.connections, workers=args.workers)
    samples: dict[int, list[float]] = {}
    names: dict[int, str] = {}
    log = workdir / "gunicorn.log"
    with gunicorn(catalog, args.workers, log) as server:
        stop = threading.Event()
        helpers = [
            threading.Thread(
                target=rewrite_forever,
                args=(catalog, versions, args.interval, args.in_place_pause, stop, report.rewrites),
            ),
            threading.Thread(
                target=sample_forever, args=(server.process.pid, stop, samples, names)
            ),
            *(
                threading.Thread(
                    target=check_forever,
                    args=(server.port, list(first), expected, stop, report.checks),
                )
                for _ in range(args.checkers)
            ),
        ]
        for helper in helpers:
            helper.start()
        try:
            report.wrk = run_wrk(server.port, args.seconds, args.connections, paths_file)
        finally:
            stop.set()
            for helper in helpers:
                helper.join()
    output = log.read_text(errors="replace")
    report.reloads_logged = output.count("] reloaded ")
    report.failed_loads_logged = len(re.findall(r"has \d+ problem", output))
    report.tracebacks = output.count("Traceback")
    report.rss_mib = {
        pid: {"first": values[0], "last": values[-1], "max": max(values), "samples": len(values)}
        for pid, values in samples.items()
    }
    report.process_names = names
    report.problems = judge(report, args.rss_growth_mib)
    return report


def judge(report: Report, rss_growth_mib: float) -> list[str]:
    """What did not hold, one line each (empty: everything held)."""
    problems = []
    wrk = report.wrk
    if wrk is None:
        return ["wrk did not run"]
    bad = {code: n for code, n in wrk.statuses.items() if not (200 <= code < 300 or code == 304)}
    if bad:
        problems.append(f"wrk saw answers other than 2xx/304: {bad}")
    if sum(wrk.statuses.values()) != wrk.requests:
        problems.append(f"wrk counted {sum(wrk.statuses.values())} statuses for {wrk.requests}")
    if wrk.socket_errors:
        problems.append(f"wrk: {wrk.socket_errors}")
    checks = report.checks
    if checks.torn or checks.unknown_etag or checks.bad_status:
        problems.append(
            f"checker: {checks.torn} torn, {checks.unknown_etag} unknown ETags, "
            f"bad statuses {dict(checks.bad_status)}: {checks.examples[:5]}"
        )
    if checks.fetched == 0:
        problems.append("the checker fetched nothing")
    if report.rewrites.good == 0 or report.rewrites.broken == 0:
        problems.append(f"the catalog was not rewritten both ways: {report.rewrites}")
    for pid, rss in report.rss_mib.items():
        if rss["last"] - rss["first"] > rss_growth_mib:
            problems.append(f"process {pid} RSS grew {rss['first']} -> {rss['last']} MiB")
    if not report.rss_mib:
        problems.append("no worker RSS sampled")
    if report.tracebacks:
        problems.append(f"{report.tracebacks} traceback(s) in gunicorn's log")
    return problems


def print_report(report: Report) -> None:
    wrk = report.wrk
    rewrites, checks = report.rewrites, report.checks
    if wrk is not None:
        print(
            f"wrk {report.seconds:g} s, {report.connections} connections, "
            f"{report.workers} gunicorn workers: {wrk.requests} requests "
            f"({wrk.requests_per_second:.0f}/s, p99 {wrk.latency_p99}), "
            f"statuses {dict(sorted(wrk.statuses.items()))}"
            + (f", {wrk.socket_errors}" if wrk.socket_errors else ", no socket errors")
        )
    print(
        f"catalog rewritten {rewrites.good + rewrites.broken} times ({rewrites.good} good, "
        f"{rewrites.broken} broken; {rewrites.atomic} atomic, {rewrites.in_place} in place); "
        f"logged {report.reloads_logged} reloads, {report.failed_loads_logged} refused loads"
    )
    print(
        f"checker: {checks.fetched} answers verified against their ETag, {checks.torn} torn, "
        f"{checks.unknown_etag} unknown ETags, bad statuses {dict(checks.bad_status)}"
    )
    for pid, rss in sorted(report.rss_mib.items()):
        print(
            f"{report.process_names.get(pid, pid)} ({pid}) RSS: first {rss['first']:.1f}, "
            f"last {rss['last']:.1f}, "
            f"max {rss['max']:.1f} MiB ({rss['samples']:.0f} samples)"
        )
    print(f"tracebacks logged: {report.tracebacks}")
    print("OK" if report.ok else "FAILED:\n  " + "\n  ".join(report.problems))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60, help="wrk duration (60)")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections (64)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="gunicorn")
    parser.add_argument("--interval", type=float, default=1.0, help="s between rewrites (1)")
    parser.add_argument(
        "--in-place-pause",
        type=float,
        default=0.05,
        help="s an in-place write pauses halfway (0.05; 0: one write, as most editors)",
    )
    parser.add_argument("--checkers", type=int, default=2, help="checker threads (2)")
    parser.add_argument(
        "--catalog", type=Path, default=ROOT / "entries.yaml", help="the good version 0"
    )
    parser.add_argument(
        "--rss-growth-mib", type=float, default=32.0, help="allowed RSS growth per worker (32)"
    )
    parser.add_argument("--json", type=Path, help="also write the report here")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="feeds-load-reload-") as workdir:
        report = run(args, Path(workdir))
    print_report(report)
    if args.json:
        data = asdict(report)
        data["ok"] = report.ok
        args.json.write_text(json.dumps(data, indent=2, default=str) + "\n")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
