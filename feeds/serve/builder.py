"""The builder process of a shared build: one process builds, every worker serves it.

    python -m feeds.serve.builder --catalog entries.yaml DIRECTORY

Watches the catalog like the app does (`reload.CatalogWatcher`: incremental parse, the
render caches, the last good Site kept on a bad edit) and publishes every change to a
pack in DIRECTORY (`feeds.serve.pack`), the Site and the /health report alike; the app's
workers, started with SHARED_BUILD=DIRECTORY, serve from it. gunicorn.conf.py starts
it before the workers and stops it with the server (`start`, `wait_until_published`,
`stop`), and restarts it when it exits or hangs (`Supervisor`); it also exits by itself
when the process that started it is gone. A thread of its own writes a heartbeat
(`feeds.serve.heartbeat`) with its /health report twice a second, through long builds: the
workers' /health tells a stopped or hung builder from a busy one.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from .. import sealed
from ..render.pages_env import keep_compiled_templates
from . import heartbeat
from .health import health_report
from .listeners import configure_logging, log_when_good_again, notify_hub_on_change
from .live import Live
from .pack_writer import PackWriter
from .reload import DEFAULT_INTERVAL, CatalogWatcher
from .supervisor import SharedDirectoryError, claim_shared_directory

log = logging.getLogger("feeds.serve.builder")


def run(
    catalog: Path,
    directory: Path,
    interval: float,
    websub: bool,
    large_rss: int | None = None,
) -> int:
    # Before the first build: a server killed during it (gunicorn waits for it in
    # on_starting) must not leave this process running on as an orphan of init.
    parent = os.getppid()
    keep_compiled_templates()
    writer = PackWriter(directory)
    watcher: CatalogWatcher[None] = CatalogWatcher(
        catalog, lambda site, problems: None, interval=interval, settle_in_place=True
    )
    # Before the first read: a writer at work from now on is seen (Linux).
    watcher.open_close_watch()

    def report() -> dict[str, Any]:
        return health_report(watcher.live, catalog, watcher.activity())

    def publish(old: Live[None], new: Live[None]) -> None:
        started = time.perf_counter()
        # What this publish serves; the heartbeat says what happens next.
        writer.publish(new.site, health_report(new, catalog))
        if new.site is not old.site and new.site is not None:
            seconds = time.perf_counter() - started
            log.info("published version %s in %.2f s", new.site.version[:12], seconds)

    watcher.add_listener(publish)
    log_when_good_again(watcher, catalog)
    if websub:
        notify_hub_on_change(watcher, catalog)
    # From its own thread: it beats on through a long build, and stops when we do. The
    # first beat already says that the first build is under way.
    watcher.building_since = time.time()
    heart = heartbeat.Heart(directory, report)
    if not watcher.check_now():  # nothing to say (a missing file already reported ...)
        writer.publish(None, health_report(watcher.live, catalog))
    watcher.building_since = None
    heart.beat()
    _settle_heap()
    _watch_until_stopped(watcher, heart, parent, large_rss or LARGE_RSS)
    return 0


def _watch_until_stopped(
    watcher: CatalogWatcher[None], heart: heartbeat.Heart, parent: int, large_rss: int
) -> None:
    """Check the catalog whenever it may have changed, until SIGTERM or SIGINT, or until
    the server that started this process is gone; settle the heap after each rebuild
    and start afresh when a much larger past is held (see `_holds_a_bigger_past`)."""
    # A flag, not a threading.Event: setting an Event from a signal handler deadlocks when
    # the signal lands while the main thread holds the Event's lock (inside its wait).
    stopping: list[int] = []
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda number, frame: stopping.append(number))
    unsettled = False  # a rebuild's leftovers are not collected yet
    largest = _entries(watcher)  # the most entries this process has built
    while not stopping:
        watcher.wait(watcher.next_wait())  # news from inotify or a signal cut it short
        if stopping:
            break
        if os.getppid() != parent:
            log.info("the server that started this builder is gone; stopping")
            break
        try:
            if _check_without_collector(watcher):
                heart.beat()  # not building any more: say so now, not at the next beat
                unsettled = True  # left for the next quiet look: the workers read now
            elif unsettled:
                _settle_heap()
                unsettled = False
                largest = max(largest, _entries(watcher))
                if _holds_a_bigger_past(watcher, largest, large_rss):
                    heart.stop()
                    _start_afresh()
        except Exception:  # never let the builder die: the next check may succeed
            log.exception("checking %s failed", watcher.path)


# The builder holds a large heap that outlives every rebuild (the catalog, the render
# caches, the Site: ~150,000 objects at 10k entries), and a rebuild allocates enough for
# Python's cyclic collector to walk all of it every second rebuild (~70 ms at 10k, in the
# middle of the edit's way to the workers). So a rebuild runs with the collector paused,
# and at the first look after it that finds nothing new (when the workers have mapped
# the new pack: they share the two cores), what it left in cycles is collected (only the
# objects made since the last time: ~20 ms) and the survivors are frozen out of the
# collector's sight (`gc.freeze`); a frozen object that is dropped later is still freed
# by its reference count, as the Site and catalog an edit replaces are.


# Memory: CPython gives little of a freed heap back to the system (its arenas stay as
# long as one object in them lives), so a builder that built 100k entries holds most of
# its peak after the catalog shrinks to 10 (1.9 GB, finding 9). When the catalog now
# served is a small part of the largest built and the process is large, it execs itself
# afresh (same pid, so the server's supervisor sees no exit): a cold build of the small
# catalog, while the workers serve what they map.
SHRINK_FACTOR = 4  # the largest catalog built has this many times the entries of today's
LARGE_RSS = 256 * 1024 * 1024  # bytes: below this, nothing is worth giving back


def _entries(watcher: CatalogWatcher[None]) -> int:
    catalog = watcher.live.catalog
    return len(catalog.entries) if catalog is not None else 0


def _holds_a_bigger_past(watcher: CatalogWatcher[None], largest: int, large_rss: int) -> bool:
    now = _entries(watcher)
    if now == 0 or now * SHRINK_FACTOR > largest:
        return False
    rss = _resident_bytes()
    if rss < large_rss:
        return False
    log.info(
        "holding %d MB after the catalog went from %d to %d entries: starting afresh",
        rss // (1024 * 1024),
        largest,
        now,
    )
    return True


def _resident_bytes() -> int:
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0  # not Linux: never restarts for memory
    return pages * os.sysconf("SC_PAGE_SIZE")


def _start_afresh() -> None:
    """Replace this process by a new builder with the same arguments (same pid)."""
    for handler in logging.getLogger("feeds").handlers:
        handler.flush()
    argv = [sys.executable, "-m", "feeds.serve.builder", *sys.argv[1:]]
    os.execv(sys.executable, argv)


def _check_without_collector(watcher: CatalogWatcher[None]) -> bool:
    gc.disable()
    try:
        return watcher.check_now()
    finally:
        gc.enable()


def _settle_heap() -> None:
    gc.collect()
    gc.freeze()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m feeds.serve.builder", description=__doc__)
    parser.add_argument("directory", type=Path, help="where to publish the pack")
    parser.add_argument("--catalog", type=Path, default=Path("entries.yaml"))
    parser.add_argument("--interval", type=float, default=DEFAULT_INTERVAL)
    parser.add_argument("--no-websub", action="store_true", help="never ping feed.hub")
    parser.add_argument(
        "--large-mb",
        type=int,
        default=LARGE_RSS // (1024 * 1024),
        help="start afresh after the catalog shrank if holding more than this (MB)",
    )
    args = parser.parse_args(argv)
    configure_logging()
    large = args.large_mb * 1024 * 1024
    try:
        # Run by hand too: PackWriter removes files there, so the folder must be ours.
        claim_shared_directory(args.directory, given_as="DIRECTORY")
        return run(args.catalog, args.directory, args.interval, not args.no_websub, large)
    except SharedDirectoryError as exc:
        log.error("%s", exc)
    except sealed.NoKey as exc:
        # The pack is sealed with this user's key (`feeds.sealed`): without one, nothing
        # can be published that the workers would trust.
        log.error(
            "cannot publish the shared build: %s. Set XDG_STATE_HOME to a folder of this "
            "user's that only it may write (e.g. mkdir -m 700 /var/lib/feeds/state), or "
            "give the user a writable home",
            exc,
        )
    return EXIT_REFUSED


EXIT_REFUSED = 1  # the server's on_starting reports it, after the line saying why


if __name__ == "__main__":
    sys.exit(main())
