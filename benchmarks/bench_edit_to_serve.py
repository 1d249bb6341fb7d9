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

With `--peer hugo` (the default when `hugo` is installed) the same catalog is also
written as the Hugo peer's site (benchmarks/peers/hugo_content.py: one content file per
entry, untimed) and served by `hugo server` (its defaults: fast render mode, rendered
to memory, live reload) on a free loopback port. Each round then edits both, one after
the other: ours as above, then the newest publication's content file, retitled and
saved the same way, timed until `hugo server` serves that entry's page with the new
title (polled as above); Hugo's own "Total in N ms" line for that rebuild is read from
its log. Prints both and the ratio ours/Hugo of the medians. The catalog, the Hugo site
and everything the tools write go to tmpfs (/dev/shm) unless --workdir says otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import itertools
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from _common import (
    App,
    BenchError,
    child_pids,
    compile_package,
    free_port,
    machine_summary,
    make_workdir,
    median,
    print_table,
    start_app,
    stop,
    tail,
    tool_version,
    unwind_on_sigterm,
)
from gen_catalog import ensure_catalog, parse_size
from peers.hugo_content import content_path, write_site

from feeds.serve.reload import DEFAULT_INTERVAL

FEED = "/feed.atom"
POLL_TIMEOUT = 120.0  # seconds: a reload that takes longer is reported as a failure
_EDITS = itertools.count(1)  # each save gets a title never served before
HUGO = shutil.which("hugo")
HUGO_START_TIMEOUT = 600.0  # seconds: `hugo server`'s first build of 10k entries takes ~30 s


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


def newest_publication_id(catalog: Path) -> str:
    from feeds.catalog import load_catalog

    return load_catalog(catalog).publications[0].id


def edited(text: str, title_line: int, edit: int) -> bytes:
    lines = text.split("\n")
    line = lines[title_line].rstrip()
    if not line.endswith('"'):
        raise BenchError(f"expected a double-quoted title: {line}")
    lines[title_line] = re.sub(r'( \[edit \d+\])?"$', f' [edit {edit}]"', line)
    return "\n".join(lines).encode("utf-8")


def ours_round(
    app: App, catalog: Path, title_line: int, mode: str, args: argparse.Namespace
) -> Round:
    old = current_etag(app.port)
    data = edited(catalog.read_text(encoding="utf-8"), title_line, next(_EDITS))
    SAVES[mode](catalog, data)
    saved_at = time.perf_counter()
    result = wait_for_new_etag(app, old, saved_at, args.poll_pause)
    print(
        f"  {mode:<8} ours: first {result.first:6.2f} s, all workers {result.all_workers:6.2f} s",
        flush=True,
    )
    return result


@dataclass
class HugoServer(App):
    """`hugo server` on a loopback port, its output in `log` (an App's fields)."""

    def totals(self) -> list[float]:
        """Every "Total in N ms" hugo has logged so far: one per rebuild (milliseconds)."""
        return self._logged("Total")

    def first_build(self) -> float:
        """Its first, full build: "Built in N ms" (milliseconds)."""
        built = self._logged("Built")
        return built[0] if built else float("nan")

    def _logged(self, word: str) -> list[float]:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return [float(ms) for ms in re.findall(rf"^{word} in (\d+(?:\.\d+)?) ms", text, re.M)]


def hugo_server_argv(site: Path, port: int, cache: Path) -> list[str]:
    """`hugo server` as one runs it (fast render mode, to memory, live reload: its
    defaults), on 127.0.0.1 and a free port."""
    assert HUGO is not None
    return [
        HUGO, "server", "--source", str(site), "--bind", "127.0.0.1", "--port", str(port),
        "--baseURL", "http://127.0.0.1/", "--cacheDir", str(cache),
    ]  # fmt: skip


@contextlib.contextmanager
def start_hugo_server(site: Path, log: Path, cache: Path, probe: str) -> Iterator[HugoServer]:
    """`hugo server` on the peer site, once it serves `probe` (its first build is a full one)."""
    port = free_port()
    argv = hugo_server_argv(site, port, cache)
    with log.open("wb") as sink:
        process = subprocess.Popen(argv, stdout=sink, stderr=subprocess.STDOUT)
    server = HugoServer(process, port, log)
    try:
        deadline = time.monotonic() + HUGO_START_TIMEOUT
        while True:
            if process.poll() is not None:
                raise BenchError(f"hugo server exited with {process.returncode}:\n{tail(log)}")
            try:
                if page_status(server, probe)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise BenchError(f"hugo server did not serve {probe}:\n{tail(log)}")
            time.sleep(0.2)
        print(f"hugo: {' '.join(argv)}  (first build: {server.first_build() / 1000:.1f} s)")
        yield server
    finally:
        stop(process, signal.SIGTERM)


def page_status(server: HugoServer, path: str) -> tuple[int, bytes]:
    """One GET on a new connection, as the poller of ours does."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@dataclass(frozen=True)
class HugoRound:
    served: float  # seconds from the save to the entry page served with the new title
    total: float | None  # seconds: hugo's own "Total in" for that rebuild (the last, if more)
    feed_updated: bool  # whether /feed.atom had the new title too, once hugo had rebuilt


_HUGO_TITLE = re.compile(r'^title: "(.*?)(?: \[edit \d+\])?"$', re.M)


def hugo_round(
    server: HugoServer, content: Path, page: str, mode: str, args: argparse.Namespace
) -> HugoRound:
    """Retitle the entry's content file, save it as `mode` does, poll its page until it
    shows the new title; then hugo's log line for that rebuild."""
    edit = next(_EDITS)
    marker = f"[edit {edit}]".encode()
    text = content.read_text(encoding="utf-8")
    data, count = _HUGO_TITLE.subn(lambda m: f'title: "{m.group(1)} [edit {edit}]"', text, 1)
    if count != 1:
        raise BenchError(f"no title line in {content}")
    before = len(server.totals())
    SAVES[mode](content, data.encode("utf-8"))
    saved_at = time.perf_counter()
    while True:
        elapsed = time.perf_counter() - saved_at
        status, body = page_status(server, page)
        if status == 200 and marker in body:
            served = elapsed
            break
        if server.process.poll() is not None:
            raise BenchError(f"hugo server exited:\n{tail(server.log)}")
        if elapsed > POLL_TIMEOUT:
            raise BenchError(f"hugo server did not serve the new title within {POLL_TIMEOUT} s")
        time.sleep(args.poll_pause)
    # The rebuild's "Total in" line, logged when the whole rebuild ends (after the page is
    # served): wait for it, then for a second without another (an atomic save may be seen
    # as two changes), so that the next round starts on an idle hugo.
    quiet_since, seen = time.monotonic(), before
    while time.perf_counter() - saved_at < POLL_TIMEOUT:
        now = len(server.totals())
        if now != seen:
            quiet_since, seen = time.monotonic(), now
        if seen > before and time.monotonic() - quiet_since >= 1.0:
            break
        time.sleep(0.05)
    totals = server.totals()[before:]
    feed_updated = marker in page_status(server, FEED)[1]
    total = totals[-1] / 1000 if totals else None
    said = f"{total:6.2f} s" if total is not None else "  none"
    if len(totals) > 1:
        said += f" (rebuilds: {', '.join(f'{t:.0f} ms' for t in totals)})"
    print(
        f"  {mode:<8} hugo: served {served:6.2f} s, its Total in {said}"
        f"{'' if feed_updated else '; /feed.atom after it: still the old title'}",
        flush=True,
    )
    return HugoRound(served, total, feed_updated)


def run_rounds(
    app: App,
    catalog: Path,
    mode: str,
    args: argparse.Namespace,
    interval: float,
    hugo: tuple[HugoServer, Path, str] | None = None,
) -> tuple[list[Round], list[HugoRound]]:
    """`args.repeat` rounds; each edits ours, then (with `hugo`) the Hugo peer."""
    title_line = newest_publication_title_line(catalog)
    rounds: list[Round] = []
    hugo_rounds: list[HugoRound] = []
    for _ in range(args.repeat):
        rounds.append(ours_round(app, catalog, title_line, mode, args))
        time.sleep(interval + 0.2)  # let the next check see a quiet file, as after a real edit
        if hugo is not None:
            server, content, page = hugo
            hugo_rounds.append(hugo_round(server, content, page, mode, args))
            time.sleep(0.2)
    return rounds, hugo_rounds


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
    parser.add_argument(
        "--peer",
        choices=("hugo", "none"),
        default="hugo" if HUGO else "none",
        help="also time `hugo server` on the same edits (default: hugo when installed)",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        help="put the catalog, the Hugo site and logs under this folder instead of tmpfs",
    )
    args = parser.parse_args(argv)
    if args.peer == "hugo" and HUGO is None:
        parser.error("--peer hugo: no `hugo` on PATH (apt-get install hugo)")
    interval = float(os.environ.get("FEEDS_RELOAD_INTERVAL", str(DEFAULT_INTERVAL)))
    print(f"# bench_edit_to_serve: {machine_summary()}")
    compile_package()
    print(f"# FEEDS_RELOAD_INTERVAL={interval} (the app's default unless set in the environment)")
    if args.peer == "hugo":
        print(f"# {tool_version([str(HUGO), 'version'])}")
    try:
        workdir, where = make_workdir("feeds-bench-edit-", args.workdir)
    except BenchError as exc:
        print(f"bench_edit_to_serve: {exc}", file=sys.stderr)
        return 1
    print(f"# {where}")
    rows: list[list[str]] = []
    versus: list[list[str]] = []
    try:
        catalog = workdir / "entries.yaml"
        shutil.copyfile(ensure_catalog(parse_size(args.size)), catalog)
        log = workdir / "gunicorn.log"
        with contextlib.ExitStack() as stack:
            app = stack.enter_context(start_app(catalog, log, env={"FEEDS_WORKER_HEADER": "true"}))
            print(
                f"app: gunicorn -c gunicorn.conf.py asgi:app on port {app.port}, catalog {catalog}"
            )
            hugo: tuple[HugoServer, Path, str] | None = None
            if args.peer == "hugo":
                site = workdir / "hugo-site"
                count = write_site(catalog, site)
                newest = newest_publication_id(catalog)
                page = f"/entries/{newest}/"
                edits = content_path(site, newest).name
                print(f"hugo: {count:,} content files in {site}; each round edits {edits}")
                server = stack.enter_context(
                    start_hugo_server(site, workdir / "hugo.log", workdir / "hugo-cache", page)
                )
                hugo = (server, content_path(site, newest), page)
            for mode in args.modes.split(","):
                rounds, hugo_rounds = run_rounds(app, catalog, mode, args, interval, hugo)
                firsts, alls = [r.first for r in rounds], [r.all_workers for r in rounds]
                rows.append([
                    mode, f"{median(firsts):.2f} s", f"{max(firsts):.2f} s",
                    f"{median(alls):.2f} s", f"{max(alls):.2f} s",
                ])  # fmt: skip
                if hugo_rounds:
                    versus.append(compare_row(mode, firsts, hugo_rounds))
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
    if versus:
        print("\nOurs (first new ETag of /feed.atom) against `hugo server` (the edited entry's")
        print("page with the new title; its own 'Total in' for that rebuild), edits alternating:\n")
        header = ["save", "ours (median)", "ours (range)", "hugo server (median)"]
        header += ["hugo server (range)", "hugo Total in (median)", "ours/hugo"]
        print_table(header, versus)
    return 0


def compare_row(mode: str, ours: list[float], hugo: list[HugoRound]) -> list[str]:
    served = [r.served for r in hugo]
    totals = [r.total for r in hugo if r.total is not None]
    return [
        mode,
        f"{median(ours):.2f} s",
        f"{min(ours):.2f}-{max(ours):.2f} s",
        f"{median(served):.2f} s",
        f"{min(served):.2f}-{max(served):.2f} s",
        f"{median(totals):.2f} s" if totals else "-",
        f"{median(ours) / median(served):.2f}x",
    ]


if __name__ == "__main__":
    unwind_on_sigterm()
    sys.exit(main())
