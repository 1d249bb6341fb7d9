"""The server's side of the builder process (`feeds.serve.builder`): its shared folder
(made, claimed or refused: only a folder marked as a shared build is ever written or
removed), starting it, waiting for its first publish, stopping it, and a `Supervisor`
that restarts it when it exits or hangs. gunicorn.conf.py uses these.
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

from ..publish import marks
from . import heartbeat
from .pack import INDEX
from .reload import DEFAULT_INTERVAL

log = logging.getLogger("feeds.serve.builder")

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
# A builder that stopped on SIGTERM or SIGINT (it then exits 0) was most likely told to
# with the whole server (systemd, Ctrl-C, kill of the process group): the master gets the
# same signal a moment later and stops the supervisor. Only if it does not within this
# long is the builder restarted, and said so.
STOP_GRACE = 5.0


class Supervisor:
    """The server's side of one builder (gunicorn's master runs it in a thread): when
    the builder exits, log it and start a new one, with backoff; when it stopped
    beating for HUNG_KILL_AFTER s (SIGSTOP, a hang), kill it so that it restarts.
    Workers' /health says `stale` meanwhile (`web.SharedSource.health`)."""

    def __init__(
        self,
        catalog: Path,
        directory: Path,
        process: subprocess.Popen[Any],
        server_stopping: Callable[[], bool] = lambda: False,
    ) -> None:
        self.catalog = catalog
        self.directory = directory
        self.process = process
        # True once the server has begun to stop (gunicorn closes its listeners first):
        # a builder that exits then is not restarted, whatever ended it.
        self.server_stopping = server_stopping
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
            if self.server_stopping():
                continue  # the server stops its workers, then this (its on_exit)
            if _asked_to_stop(self.process.returncode) and self._server_stops_within(STOP_GRACE):
                continue  # the signal went to the server's whole process group
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

    def _server_stops_within(self, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.server_stopping() or self._stopping.wait(SUPERVISE_EVERY):
                return True
        return False

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


def _asked_to_stop(returncode: int | None) -> bool:
    return returncode in (0, -signal.SIGTERM, -signal.SIGINT)


def _ended(returncode: int | None) -> str:
    if returncode is not None and returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    if returncode:
        return f"exited with status {returncode}"
    return "exited"  # (gunicorn may have collected its status first)
