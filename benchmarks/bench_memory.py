"""Memory: RSS of the app's gunicorn workers with a catalog loaded, before and after a reload.

    .venv/bin/python benchmarks/bench_memory.py                    # 10k catalog
    .venv/bin/python benchmarks/bench_memory.py --size 100k --no-reload
    .venv/bin/python benchmarks/bench_memory.py --size 100k --shrink-to 10   # finding 9

Starts the app with the documented command (`gunicorn -c gunicorn.conf.py asgi:app`,
FEEDS_CATALOG set, a free loopback port), sends warm-up requests to the main URLs (every
worker answers some), then reads each worker's VmRSS (resident, shared pages included),
RssAnon (its private heap) and Pss (proportional share of pages shared with the master
after fork: the sum over processes is what they really cost together) from /proc.
Then edits the catalog once, waits until the workers serve the new version and reads
them again: after a reload the new Site lives in each worker's own memory, the usual
steady state of a long-running server.

With --shrink-to N it then saves a catalog of N entries in its place, waits until it is
served, and reads them again ("after shrinking"), then starts a second server on the N
entries from scratch ("fresh"): the builder after shrinking should hold no more than
twice what a fresh one holds. Each row also has VmHWM (the process's peak resident
size) and USS (its private pages: what it costs beyond the page cache and the others).
"""

from __future__ import annotations

import argparse
import functools
import shutil
import sys
import tempfile
import time
from pathlib import Path

import _common
from _common import (
    App,
    BenchError,
    builder_pids,
    child_pids,
    compile_package,
    http_get,
    machine_summary,
    print_table,
    rss_kb,
    start_app,
    unwind_on_sigterm,
)
from bench_edit_to_serve import edited, newest_publication_title_line, save_atomically
from gen_catalog import ensure_catalog, parse_size

WARM_UP_PATHS = ("/feed.atom", "/feed.rss", "/feed.json", "/events.ics", "/", "/events/")
WARM_UP_ROUNDS = 20  # per path, on new connections: the kernel spreads them over workers
RELOAD_TIMEOUT = 120.0


def pss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    raise BenchError(f"no Pss for pid {pid}")


def uss_kb(pid: int) -> int:
    """Private_Clean + Private_Dirty: the pages only this process holds."""
    total = 0
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith(("Private_Clean:", "Private_Dirty:")):
            total += int(line.split()[1])
    return total


def warm_up(app: App) -> None:
    for _ in range(WARM_UP_ROUNDS):
        for path in WARM_UP_PATHS:
            for headers in ({}, {"Accept-Encoding": "gzip"}):
                http_get(app.url(path), headers)


def snapshot(app: App, label: str) -> list[list[str]]:
    master = app.process.pid
    rows = []
    roles = [("master", master)] + [("builder", p) for p in builder_pids(master)]
    for role, pid in roles + [("worker", p) for p in child_pids(master)]:
        mb = [
            rss_kb(pid) / 1024,
            rss_kb(pid, "RssAnon") / 1024,
            pss_kb(pid) / 1024,
            uss_kb(pid) / 1024,
            rss_kb(pid, "VmHWM") / 1024,
        ]
        rows.append([label, f"{role} {pid}", *(f"{v:.0f} MB" for v in mb)])
    return rows


def edit_catalog(catalog: Path) -> None:
    """A real change (the newest publication's title), saved atomically: every worker reloads."""
    title_line = newest_publication_title_line(catalog)
    save_atomically(catalog, edited(catalog.read_text(encoding="utf-8"), title_line, 1))


def wait_for_reload(app: App, old_etag: str) -> None:
    """Until a round of requests on new connections finds no worker with the old Site."""
    workers = set(child_pids(app.process.pid))
    deadline = time.monotonic() + RELOAD_TIMEOUT
    fresh: set[str] = set()
    while time.monotonic() < deadline:
        status, headers, _ = http_get(app.url("/feed.atom"))
        if status == 200 and headers.get("etag") != old_etag:
            fresh.add(headers.get("x-worker", ""))
            if {str(w) for w in workers} <= fresh:
                return
        time.sleep(0.05)
    raise BenchError(f"the workers did not all reload within {RELOAD_TIMEOUT:.0f} s")


def shrink(app: App, catalog: Path, entries: int) -> list[list[str]]:
    """Serve a catalog of `entries` instead, then read the processes once the builder has
    settled (it may start itself afresh to give its heap back: same pid, a cold build)."""
    old = http_get(app.url("/feed.atom"))[1].get("etag", "")
    save_atomically(catalog, ensure_catalog(entries).read_bytes())
    wait_for_reload(app, old)
    deadline = time.monotonic() + RELOAD_TIMEOUT
    while time.monotonic() < deadline:  # until /health is ok again (after a fresh start)
        time.sleep(1.0)
        status, _headers, body = http_get(app.url("/health?strict=1"))
        if status == 200 and f'"entries": {entries},' in body.decode():
            break
    time.sleep(2.0)  # a fresh start comes after the first quiet look
    warm_up(app)
    return snapshot(app, "after shrinking")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--size", default="10k", help="catalog entries (1k, 10k, 100k or an integer)"
    )
    parser.add_argument("--no-reload", action="store_true", help="skip the after-reload reading")
    parser.add_argument(
        "--shrink-to", type=int, default=0, help="then serve a catalog of this many entries"
    )
    parser.add_argument(
        "--start-timeout",
        type=float,
        default=600.0,
        help="seconds to wait for the first answer (the builder's first 100k build: 60+ s)",
    )
    args = parser.parse_args(argv)
    # start_app waits with _common's default (120 s), too short for a 100k first build on
    # a loaded machine; _common is shared by every benchmark, so the wait is set here.
    _common.wait_until_serving = functools.partial(
        _common.wait_until_serving, timeout=args.start_timeout
    )
    print(f"# bench_memory: {machine_summary()}")
    compile_package()
    workdir = Path(tempfile.mkdtemp(prefix="feeds-bench-memory-"))
    rows: list[list[str]] = []
    try:
        catalog = workdir / "entries.yaml"
        shutil.copyfile(ensure_catalog(parse_size(args.size)), catalog)
        with start_app(
            catalog, workdir / "gunicorn.log", env={"FEEDS_WORKER_HEADER": "true"}
        ) as app:
            warm_up(app)
            rows += snapshot(app, "loaded")
            if not args.no_reload:
                old = http_get(app.url("/feed.atom"))[1].get("etag", "")
                edit_catalog(catalog)
                wait_for_reload(app, old)
                warm_up(app)
                rows += snapshot(app, "after a reload")
            if args.shrink_to:
                rows += shrink(app, catalog, args.shrink_to)
        if args.shrink_to:
            small = workdir / "small.yaml"
            shutil.copyfile(ensure_catalog(args.shrink_to), small)
            with start_app(
                small, workdir / "fresh.log", env={"FEEDS_WORKER_HEADER": "true"}
            ) as app:
                warm_up(app)
                rows += snapshot(app, "fresh")
    except BenchError as exc:
        print(f"\nbench_memory: {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"\n{parse_size(args.size):,} entries; MB = MiB from /proc/<pid>/status, smaps_rollup\n")
    print_table(["when", "process", "VmRSS", "RssAnon", "Pss", "USS", "VmHWM"], rows)
    return 0


if __name__ == "__main__":
    unwind_on_sigterm()
    sys.exit(main())
