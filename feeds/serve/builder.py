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
import fcntl
import gc
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import suppress
from pathlib import Path
from typing import Any

from .. import sealed
from ..publish import marks
from ..render.pages_env import keep_compiled_templates
from . import heartbeat
from .health import health_report
from .listeners import configure_logging, log_when_good_again, notify_hub_on_change
from .pack import INDEX, PackWriter
from .reload import DEFAULT_INTERVAL, CatalogWatcher, Live

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


# --- for the server that runs a builder -------------------------------------------------


SHARED_PREFIX = "feeds-shared-build-"
_OWNER_LOCK = ".owner.lock"
# The mark (`feeds.publish.marks`) of every shared build folder: one made here, or one given in
# FEEDS_SHARED_BUILD and adopted empty. Only a folder holding it is written or removed.
SHARED_MARK = marks.mark_text("shared build", "")


class SharedDirectoryError(RuntimeError):
    """FEEDS_SHARED_BUILD names a folder the builder must not take over. A RuntimeError:
    gunicorn prints its message (no traceback) and exits with status 1."""


def claim_shared_directory(directory: Path, given_as: str = "FEEDS_SHARED_BUILD") -> None:
    """Make `directory` (FEEDS_SHARED_BUILD) a shared build folder, or refuse it.

    The builder removes and replaces files there (`PackWriter`), so it takes only a
    folder that is ours: one holding the mark, or one it makes or finds empty (marked
    then, before anything else is written). Any other folder is refused untouched: a
    user's folder given by mistake loses nothing. `given_as`: where the messages say
    the folder was named."""
    try:
        os.mkdir(directory, 0o700)  # the workers run as this user: nobody else reads it
    except FileExistsError:
        pass
    except OSError as exc:
        raise SharedDirectoryError(
            f"{given_as}={directory}: cannot make that folder "
            f"({exc.strerror or exc}); point it at a folder this user may write"
        ) from exc
    else:
        marks.write_mark(directory, SHARED_MARK)
        return
    if marks.read_mark(directory, follow=True) == SHARED_MARK:
        return
    if directory.is_dir() and not any(directory.iterdir()):
        try:
            marks.write_mark(directory, SHARED_MARK)
        except OSError as exc:
            raise SharedDirectoryError(
                f"{given_as}={directory}: cannot write in it "
                f"({exc.strerror or exc}); point it at a folder this user may write"
            ) from exc
        return
    raise SharedDirectoryError(
        f"{given_as}={directory} is not an empty folder and was not made by feeds "
        f"(it holds no {marks.MARK} of a shared build); the builder replaces and removes "
        f"files there, so it was left untouched. Point {given_as} at a new or empty folder"
        + (", or unset it for a temporary one." if given_as == "FEEDS_SHARED_BUILD" else ".")
    )


def make_shared_directory(parent: Path | None = None) -> tuple[Path, int]:
    """A new folder in `parent` (default: the temporary folder) for a server's shared
    build, and a descriptor that holds the folder's lock until it is closed or the
    server is gone (the process and every worker it forked: they share the lock).

    The server removes its folder when it stops (gunicorn's on_exit); one that was killed
    (SIGKILL, the OOM killer) left it behind, a published build of up to a few hundred
    MB, so the folders whose lock nobody holds are removed here first
    (`remove_abandoned`). The folder is marked before anything else goes in."""
    parent = Path(parent if parent is not None else tempfile.gettempdir())
    for folder in remove_abandoned(parent):
        log.info("removed %s, left by a server that was stopped without its cleanup", folder)
    directory = Path(tempfile.mkdtemp(prefix=SHARED_PREFIX, dir=parent))
    marks.write_mark(directory, SHARED_MARK)
    # Locked before it is given its name: a server starting meanwhile must never find
    # the lock free.
    fd = os.open(directory / f"{_OWNER_LOCK}.new", os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.rename(directory / f"{_OWNER_LOCK}.new", directory / _OWNER_LOCK)
    except BaseException:
        os.close(fd)
        raise
    return directory, fd


def remove_abandoned(parent: Path) -> list[Path]:
    """Remove the shared-build folders in `parent` whose server is gone: those that hold
    the mark and whose lock (`make_shared_directory`) can be taken. A folder without
    either (being made right now, or not ours) is left alone, and so is any folder of
    another user."""
    removed: list[Path] = []
    for folder in sorted(parent.glob(f"{SHARED_PREFIX}*")):
        if marks.read_mark(folder) != SHARED_MARK:
            continue  # not ours (another user's, a symlink, unmarked): never removed
        try:
            fd = os.open(folder / _OWNER_LOCK, os.O_RDWR | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue  # held: its server lives
        try:
            with suppress(OSError):  # cut short: still marked, the next server retries
                marks.remove_marked(folder, SHARED_MARK)
        finally:
            os.close(fd)
        removed.append(folder)
    return removed


def remove_shared_directory(directory: Path) -> None:
    """Remove a shared build folder this server made (gunicorn's on_exit); the mark
    goes last, so a removal cut short leaves one the next server removes."""
    with suppress(OSError):
        marks.remove_marked(directory, SHARED_MARK)


def start(
    catalog: Path, directory: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[Any]:
    """Start a builder; its log lines go where this process's stderr goes."""
    (directory / INDEX).unlink(missing_ok=True)  # an earlier run's: not what to wait for
    interval = (env or os.environ).get("FEEDS_RELOAD_INTERVAL", str(DEFAULT_INTERVAL))
    argv = [sys.executable, "-m", "feeds.serve.builder", str(directory), "--catalog", str(catalog)]
    argv += ["--interval", interval]
    if (env or os.environ).get("FEEDS_WEBSUB", "true").lower() in ("false", "0"):
        argv.append("--no-websub")
    return subprocess.Popen(argv, env=env)


def wait_until_published(process: subprocess.Popen[Any], directory: Path) -> bool:
    """Wait for the builder's first publish (a first build may take a while at 100k
    entries); False if it exited first."""
    while not (directory / INDEX).exists():
        if process.poll() is not None:
            return False
        time.sleep(0.05)
    return True


def stop(process: subprocess.Popen[Any]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# The supervisor's timing (seconds).
SUPERVISE_EVERY = 0.5  # how often it looks at the builder
RESTART_FIRST = 0.5  # the first restart's delay, doubled at each restart in a row ...
RESTART_MAX = 30.0  # ... up to this
RESTART_RESET = 60.0  # a builder that ran this long is not "in a row" any more
HUNG_KILL_AFTER = 60.0  # no heartbeat this long (stopped, hung): killed, then restarted


class Supervisor:
    """The server's side of one builder (gunicorn's master runs it in a thread): when
    the builder exits, log it and start a new one, with backoff; when it stopped
    beating for HUNG_KILL_AFTER s (SIGSTOP, a hang), kill it so that it restarts.
    Workers' /health says `stale` meanwhile (`web.SharedSource.health`)."""

    def __init__(self, catalog: Path, directory: Path, process: subprocess.Popen[Any]) -> None:
        self.catalog = catalog
        self.directory = directory
        self.process = process
        self.restarts = 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="feeds-supervisor", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop supervising, then the builder (the server is stopping)."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        stop(self.process)

    def _run(self) -> None:
        delay = RESTART_FIRST
        started = time.monotonic()
        while not self._stopping.wait(SUPERVISE_EVERY):
            if self.process.poll() is None:
                self._kill_if_hung()
                if time.monotonic() - started > RESTART_RESET:
                    delay = RESTART_FIRST
                continue
            log.error(
                "the feeds builder (pid %d) %s: edits are not served until it runs again; "
                "starting a new one in %.1f s",
                self.process.pid,
                _ended(self.process.returncode),
                delay,
            )
            if self._stopping.wait(delay):
                return
            delay = min(delay * 2, RESTART_MAX)
            try:
                self.process = start(self.catalog, self.directory)
            except OSError as exc:
                log.error("cannot start the feeds builder: %s; trying again", exc)
                continue
            self.restarts += 1
            started = time.monotonic()
            log.info("started a new feeds builder (pid %d)", self.process.pid)

    def _kill_if_hung(self) -> None:
        beat = heartbeat.read(self.directory)
        if beat is None or beat["pid"] != self.process.pid:
            return  # not beating yet (starting), or an older builder's beat
        silent = time.time() - beat["at"]
        if silent > HUNG_KILL_AFTER:
            log.error(
                "the feeds builder (pid %d) has not responded for %.0f s; killing it",
                self.process.pid,
                silent,
            )
            self.process.kill()


def _ended(returncode: int | None) -> str:
    if returncode is not None and returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    if returncode:
        return f"exited with status {returncode}"
    return "exited"  # (gunicorn may have collected its status first)


if __name__ == "__main__":
    sys.exit(main())
