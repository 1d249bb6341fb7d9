"""The builder process of a shared build: one process builds, every worker serves it.

    python -m feeds.builder --catalog entries.yaml DIRECTORY

Watches the catalog like the app does (`reload.CatalogWatcher`: incremental parse, the
render caches, the last good Site kept on a bad edit) and publishes every change to a
pack in DIRECTORY (`feeds.pack`), the Site and the /health report alike; the app's
workers, started with SHARED_BUILD=DIRECTORY, serve from it. gunicorn.conf.py starts
it before the workers and stops it with the server (`start`, `wait_until_published`,
`stop`); it also exits by itself when the process that started it is gone.
"""

from __future__ import annotations

import argparse
import fcntl
import gc
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .pack import INDEX, PackWriter
from .reload import DEFAULT_INTERVAL, CatalogWatcher, Live
from .render.pages_env import keep_compiled_templates
from .web import configure_logging, health_report, notify_hub_on_change

log = logging.getLogger("feeds.builder")


def run(catalog: Path, directory: Path, interval: float, websub: bool) -> int:
    keep_compiled_templates()
    writer = PackWriter(directory)
    watcher: CatalogWatcher[None] = CatalogWatcher(
        catalog, lambda site, problems: None, interval=interval, settle_in_place=True
    )

    def publish(old: Live[None], new: Live[None]) -> None:
        started = time.perf_counter()
        writer.publish(new.site, health_report(new, catalog))
        if new.site is not old.site and new.site is not None:
            seconds = time.perf_counter() - started
            log.info("published version %s in %.2f s", new.site.version[:12], seconds)

    watcher.add_listener(publish)
    if websub:
        notify_hub_on_change(watcher, catalog)
    if not watcher.check_now():  # nothing to say (a missing file already reported ...)
        writer.publish(None, health_report(watcher.live, catalog))
    _settle_heap()
    # A flag, not a threading.Event: setting an Event from a signal handler deadlocks when
    # the signal lands while the main thread holds the Event's lock (inside its wait).
    stopping: list[int] = []
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda number, frame: stopping.append(number))
    parent = os.getppid()
    unsettled = False  # a rebuild's leftovers are not collected yet
    while not stopping:
        time.sleep(watcher.next_wait())  # a signal cuts it short
        if stopping:
            break
        if os.getppid() != parent:
            log.info("the server that started this builder is gone; stopping")
            break
        try:
            if _check_without_collector(watcher):
                unsettled = True  # left for the next quiet look: the workers read now
            elif unsettled:
                _settle_heap()
                unsettled = False
        except Exception:  # never let the builder die: the next check may succeed
            log.exception("checking %s failed", catalog)
    return 0


# The builder holds a large heap that outlives every rebuild (the catalog, the render
# caches, the Site: ~150,000 objects at 10k entries), and a rebuild allocates enough for
# Python's cyclic collector to walk all of it every second rebuild (~70 ms at 10k, in the
# middle of the edit's way to the workers). So a rebuild runs with the collector paused,
# and at the first look after it that finds nothing new (when the workers have mapped
# the new pack: they share the two cores), what it left in cycles is collected (only the
# objects made since the last time: ~20 ms) and the survivors are frozen out of the
# collector's sight (`gc.freeze`); a frozen object that is dropped later is still freed
# by its reference count, as the Site and catalog an edit replaces are.


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
    parser = argparse.ArgumentParser(prog="python -m feeds.builder", description=__doc__)
    parser.add_argument("directory", type=Path, help="where to publish the pack")
    parser.add_argument("--catalog", type=Path, default=Path("entries.yaml"))
    parser.add_argument("--interval", type=float, default=DEFAULT_INTERVAL)
    parser.add_argument("--no-websub", action="store_true", help="never ping feed.hub")
    args = parser.parse_args(argv)
    configure_logging()
    return run(args.catalog, args.directory, args.interval, websub=not args.no_websub)


# --- for the server that runs a builder -------------------------------------------------


SHARED_PREFIX = "feeds-shared-build-"
_OWNER_LOCK = ".owner.lock"


def make_shared_directory(parent: Path | None = None) -> tuple[Path, int]:
    """A new folder in `parent` (default: the temporary folder) for a server's shared
    build, and a descriptor that holds the folder's lock until it is closed or the
    server is gone (the process and every worker it forked: they share the lock).

    The server removes its folder when it stops (gunicorn's on_exit); one that was killed
    (SIGKILL, the OOM killer) left it behind, a published build of up to a few hundred
    MB, so the folders whose lock nobody holds are removed here first
    (`remove_abandoned`)."""
    parent = Path(parent if parent is not None else tempfile.gettempdir())
    for folder in remove_abandoned(parent):
        log.info("removed %s, left by a server that was stopped without its cleanup", folder)
    directory = Path(tempfile.mkdtemp(prefix=SHARED_PREFIX, dir=parent))
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
    """Remove the shared-build folders in `parent` whose server is gone: those whose lock
    (`make_shared_directory`) can be taken. A folder without one (being made right now,
    or not ours) is left alone."""
    removed: list[Path] = []
    for folder in sorted(parent.glob(f"{SHARED_PREFIX}*")):
        try:
            if folder.lstat().st_uid != os.getuid() or folder.is_symlink():
                continue  # another user's (even as root: theirs to clean)
            fd = os.open(folder / _OWNER_LOCK, os.O_RDWR | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue  # held: its server lives
        try:
            shutil.rmtree(folder, ignore_errors=True)
        finally:
            os.close(fd)
        removed.append(folder)
    return removed


def start(
    catalog: Path, directory: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[Any]:
    """Start a builder; its log lines go where this process's stderr goes."""
    (directory / INDEX).unlink(missing_ok=True)  # an earlier run's: not what to wait for
    interval = (env or os.environ).get("FEEDS_RELOAD_INTERVAL", str(DEFAULT_INTERVAL))
    argv = [sys.executable, "-m", "feeds.builder", str(directory), "--catalog", str(catalog)]
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


if __name__ == "__main__":
    sys.exit(main())
