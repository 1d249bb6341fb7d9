"""Edit-to-serve: from saving an edited catalog to the first answer with the new ETag.

    .venv/bin/python benchmarks/bench_edit_to_serve.py            # 10k catalog, 5 edits per mode
    .venv/bin/python benchmarks/bench_edit_to_serve.py --size 1k --repeat 3

Starts the app with the documented command (`gunicorn -c gunicorn.conf.py asgi:app`,
FEEDS_CATALOG pointing at a copy of the generated catalog, a free loopback port, and
FEEDS_WORKER_HEADER=true so answers say which worker sent them). Each round changes the
title of the newest publication (so /feed.atom must change) and saves the file, either
atomically (write a temporary file, rename it over the catalog) or in place (truncate
and write, as many editors do), then polls /feed.atom on a new connection each time,
with If-None-Match set to the old ETag, 5 ms apart (`--poll-pause`; with no pause the
poller would take a core from the rebuild it is timing). Reports, per mode, the median
and maximum time from the save to the first 200 carrying a new ETag, and to the moment
every worker has served it. The app's own "reloaded ... built in X s" log lines
show how much of that is the rebuild.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from _common import (
    App,
    BenchError,
    child_pids,
    compile_package,
    machine_summary,
    median,
    print_table,
    start_app,
    unwind_on_sigterm,
)
from gen_catalog import ensure_catalog, parse_size

from feeds.reload import DEFAULT_INTERVAL

FEED = "/feed.atom"
POLL_TIMEOUT = 120.0  # seconds: a reload that takes longer is reported as a failure
_EDITS = itertools.count(1)  # each save gets a title never served before


@dataclass(frozen=True)
class Round:
    first: float  # seconds from the save to the first answer with the new ETag
    all_workers: float  # ... to the moment every worker has served it


def poll_once(port: int, etag: str) -> tuple[int, str, str]:
    """One conditional GET on a new connection: status, ETag, worker pid."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", FEED, headers={"If-None-Match": etag})
        response = connection.getresponse()
        response.read()
        return response.status, response.getheader("ETag", ""), response.getheader("X-Worker", "")
    finally:
        connection.close()


def current_etag(port: int) -> str:
    status, etag, _ = poll_once(port, '"none"')
    if status != 200 or not etag:
        raise BenchError(f"{FEED} answered {status} with ETag {etag!r}")
    return etag


def wait_for_new_etag(app: App, old: str, saved_at: float, pause: float) -> Round:
    """Poll until every worker answers with an ETag other than `old`."""
    workers = {str(pid) for pid in child_pids(app.process.pid)}
    if not workers:
        raise BenchError("no gunicorn worker processes found")
    updated: set[str] = set()
    first = 0.0
    while time.perf_counter() - saved_at < POLL_TIMEOUT:
        status, etag, worker = poll_once(app.port, old)
        if status == 200 and etag != old:
            if not first:
                first = time.perf_counter() - saved_at
            updated.add(worker)
            if workers <= updated:
                return Round(first, time.perf_counter() - saved_at)
        elif status not in (200, 304):
            raise BenchError(f"{FEED} answered {status} while reloading")
        time.sleep(pause)
    raise BenchError(f"no new ETag from every worker within {POLL_TIMEOUT:.0f} s")


def save_atomically(path: Path, data: bytes) -> None:
    """Write a sibling temporary file, then rename it over the catalog (one atomic step)."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def save_in_place(path: Path, data: bytes) -> None:
    """Truncate and write the same file (the watcher may see it half-written)."""
    with path.open("wb") as file:
        file.write(data)


SAVES: dict[str, Callable[[Path, bytes], None]] = {
    "atomic": save_atomically,
    "in-place": save_in_place,
}


def newest_publication_title_line(catalog: Path) -> int:
    """0-based index of the `title:` line of the newest publication (it is in /feed.atom)."""
    from feeds.catalog import load_catalog

    newest = load_catalog(catalog).publications[0]
    lines = catalog.read_text(encoding="utf-8").splitlines()
    for index in range(newest.line - 1, min(newest.line + 10, len(lines))):
        if lines[index].lstrip().startswith("title:"):
            return index
    raise BenchError(f"no title line for entry {newest.id} near line {newest.line}")


def edited(text: str, title_line: int, edit: int) -> bytes:
    lines = text.split("\n")
    line = lines[title_line].rstrip()
    if not line.endswith('"'):
        raise BenchError(f"expected a double-quoted title: {line}")
    lines[title_line] = re.sub(r'( \[edit \d+\])?"$', f' [edit {edit}]"', line)
    return "\n".join(lines).encode("utf-8")


def run_rounds(
    app: App, catalog: Path, mode: str, args: argparse.Namespace, interval: float
) -> list[Round]:
    title_line = newest_publication_title_line(catalog)
    rounds: list[Round] = []
    for _ in range(args.repeat):
        old = current_etag(app.port)
        data = edited(catalog.read_text(encoding="utf-8"), title_line, next(_EDITS))
        SAVES[mode](catalog, data)
        saved_at = time.perf_counter()
        result = wait_for_new_etag(app, old, saved_at, args.poll_pause)
        rounds.append(result)
        print(
            f"  {mode:<8} first {result.first:6.2f} s, all workers {result.all_workers:6.2f} s",
            flush=True,
        )
        time.sleep(interval + 0.2)  # let the next check see a quiet file, as after a real edit
    return rounds


def rebuild_times(log: Path) -> list[float]:
    text = log.read_text(errors="replace") if log.exists() else ""
    return [float(s) for s in re.findall(r"reloaded .* built in ([\d.]+) s", text)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--size", default="10k", help="catalog entries (1k, 10k, 100k or an integer)"
    )
    parser.add_argument("--repeat", type=int, default=5, help="edits per save mode (default 5)")
    parser.add_argument(
        "--modes", default="atomic,in-place", help="comma-separated: atomic,in-place"
    )
    parser.add_argument(
        "--poll-pause",
        type=float,
        default=0.005,
        help="seconds between polls (default 0.005: the resolution; 0 = a poller using a core)",
    )
    args = parser.parse_args(argv)
    interval = float(os.environ.get("FEEDS_RELOAD_INTERVAL", str(DEFAULT_INTERVAL)))
    print(f"# bench_edit_to_serve: {machine_summary()}")
    compile_package()
    print(f"# FEEDS_RELOAD_INTERVAL={interval} (the app's default unless set in the environment)")
    workdir = Path(tempfile.mkdtemp(prefix="feeds-bench-edit-"))
    rows: list[list[str]] = []
    try:
        catalog = workdir / "entries.yaml"
        shutil.copyfile(ensure_catalog(parse_size(args.size)), catalog)
        log = workdir / "gunicorn.log"
        with start_app(catalog, log, env={"FEEDS_WORKER_HEADER": "true"}) as app:
            print(
                f"app: gunicorn -c gunicorn.conf.py asgi:app on port {app.port}, catalog {catalog}"
            )
            for mode in args.modes.split(","):
                rounds = run_rounds(app, catalog, mode, args, interval)
                firsts, alls = [r.first for r in rounds], [r.all_workers for r in rounds]
                rows.append([
                    mode, f"{median(firsts):.2f} s", f"{max(firsts):.2f} s",
                    f"{median(alls):.2f} s", f"{max(alls):.2f} s",
                ])  # fmt: skip
        builds = rebuild_times(log)
    except BenchError as exc:
        print(f"\nbench_edit_to_serve: {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"\n{args.repeat} edits per mode, {parse_size(args.size):,} entries\n")
    print_table(["save", "first new ETag (median)", "max", "all workers (median)", "max"], rows)
    if builds:
        typical, worst = median(builds), max(builds)
        print(f"\nrebuilds logged by the workers: median {typical:.2f} s, max {worst:.2f} s")
    return 0


if __name__ == "__main__":
    unwind_on_sigterm()
    sys.exit(main())
