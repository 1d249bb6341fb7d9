"""Live reload: notice a changed catalog, build its Site off the request path, swap it in.

A `CatalogWatcher` owns what one process serves: a frozen `Live` value that it replaces
with a single reference assignment, so a request sees the old Site or the new one,
never a mix. Rules:
- a cheap stat (mtime, size, inode) at most once per `interval`; the bytes are read and
  hashed only when the stat changed, and the Site is rebuilt only when the hash did;
- a broken, missing, unreadable or half-written file never replaces a good Site: the
  last good one stays, its problems are logged (file:line, no traceback) and kept in
  `Live.problems` for /health and the development banner;
- the build is deterministic, so every gunicorn worker, each with its own watcher,
  converges on the same bytes and ETags.

No web framework here: the web layer passes `derive`, which turns a Site (and the
problems of the file on disk) into whatever it serves from, so that the swap installs
a ready-to-serve value.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Generic

from ..catalog import DEFAULT_MAX_BYTES, CatalogError, CatalogErrors, read_catalog_file
from ..catalog.incremental import CatalogParser
from ..model import Catalog
from ..site import Site, build_site
from .filewatch import CloseWatch
from .live import Activity, Listener, Live, View
from .polling import Polling

log = logging.getLogger("feeds.serve.reload")

Parse = Callable[[bytes, Path], Catalog]
#: Seconds between two stats of the catalog. A stat costs microseconds, and the time from
#: a save to serving it starts with this wait (half of it on average).
DEFAULT_INTERVAL = 0.1
Build = Callable[[Catalog], Site]
_CLOCK_TICK = 0.01  # seconds: how far a file's ctime may lag behind time.time()
_STOP_SLICE = 0.25  # seconds: how long a stopped watcher thread may take to notice


@dataclass(frozen=True)
class _Stamp:
    """What a stat says about the file; a change in any of these means "read it again"."""

    mtime_ns: int
    size: int
    inode: int

    @classmethod
    def of(cls, stat: os.stat_result) -> _Stamp:
        return cls(stat.st_mtime_ns, stat.st_size, stat.st_ino)


class _Unsettled(Exception):
    """The file changed while it was being read: try again at the next check."""


@dataclass
class _Seen:
    """What the last check saw, so that an unchanged file costs one stat."""

    stamp: _Stamp | None = None
    digest: str | None = None


def incremental_parser() -> Parse:
    """The watcher's default: the validator, re-reading only the entries an edit changed
    (`catalog.incremental`; the same Catalog or errors as `parse_catalog`)."""
    parser = CatalogParser()

    def parse(data: bytes, path: Path) -> Catalog:
        return parser.parse(data, str(path))

    return parse


class CatalogWatcher(Polling, Generic[View]):
    """Keeps `live` in step with the catalog file; see the module doc for the rules.

    Call `check_now()` to look once (tests drive it directly); `start()` runs it every
    `interval` seconds in a daemon thread of the calling process (call it after fork:
    threads do not survive one).
    """

    _thread_name = "feeds-catalog-watcher"

    def __init__(
        self,
        path: Path,
        derive: Callable[[Site, tuple[str, ...]], View],
        *,
        parse: Parse | None = None,
        build: Build = build_site,
        interval: float = DEFAULT_INTERVAL,
        settle_in_place: bool = False,
        watch_closes: bool = True,
    ) -> None:
        super().__init__(interval)
        self.path = path
        # With inotify (Linux; `filewatch`), a file is read only when no writer has it
        # open, and at once when its writer closes it: no settle time to wait out.
        self.watch_closes = watch_closes
        self._closes: CloseWatch | None = None
        self._closes_pid = 0
        self._vouched = False  # inotify saw what changed the file since the last read
        self.building_since: float | None = None
        self.writing_since: float | None = None
        # An editor that rewrites the file in place (same inode) can be caught between two
        # writes, and the first part alone may be valid YAML: with this, a file changed in
        # place is read only once it held still for `interval`: its stat stayed the same
        # for one more check, or its ctime (which the kernel sets at every write and no
        # writer can set back, unlike the mtime) is that old. The ctime lets the read come
        # `interval` after the save instead of a whole check after the save was noticed.
        self.settle_in_place = settle_in_place
        self._pending: _Stamp | None = None
        self._look_again: float | None = None  # seconds: when the pending file will be old
        self._derive = derive
        self._parse = parse if parse is not None else incremental_parser()
        self._build = build
        self._live: Live[View] = Live()
        self._seen = _Seen()
        self._looked_at: _Stamp | None = None  # the stat of the last look that decided
        self._lock = threading.Lock()  # one check at a time (thread and callers)
        self._listeners: list[Listener[View]] = []

    @property
    def live(self) -> Live[View]:
        return self._live

    def add_listener(self, listener: Listener[View]) -> None:
        """Call `listener(old, new)` after every change of `live`, in the checking thread."""
        self._listeners.append(listener)

    # --- checking ------------------------------------------------------------------------

    def open_close_watch(self) -> bool:
        """Start following the file's writers with inotify (in the thread that checks);
        False where inotify is not available: the settle time applies."""
        closes = self._closes
        if closes is not None and self._closes_pid != os.getpid():
            closes.close()  # a fork's copy: its parent reads that queue, we need our own
            self._closes = closes = None
        if self.watch_closes and closes is None:
            self._closes, self._closes_pid = CloseWatch.open(self.path), os.getpid()
        return self._closes is not None

    def start(self) -> None:
        # Watch before the thread's first read: a write from now on is seen. (Not under
        # the check's lock: a request starting the watcher must not wait for a build.)
        self.open_close_watch()
        super().start()

    def wait(self, seconds: float) -> None:
        """Sleep up to `seconds`, waking early when inotify has news of the file."""
        closes = self._closes
        if closes is None:
            time.sleep(seconds)
        else:
            closes.wait(seconds)

    def _wait(self, stop: threading.Event, seconds: float) -> bool:
        if self._closes is None and not self.open_close_watch():
            return stop.wait(seconds)
        closes = self._closes
        assert closes is not None
        deadline = time.monotonic() + seconds
        # In slices: `stop()` is not an inotify event, and must not wait a whole interval.
        while not stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0 or closes.wait(min(left, _STOP_SLICE)):
                break
        return stop.is_set()

    def stop(self) -> None:
        super().stop()
        closes, self._closes = self._closes, None
        if closes is not None:
            closes.close()

    def activity(self) -> Activity:
        """What is going on with the file on disk now (cheap: one stat)."""
        try:
            unread = _Stamp.of(os.stat(self.path)) != self._looked_at
        except OSError:
            unread = False  # already a problem (or about to be): the check reports it
        return Activity(self.building_since, self.writing_since, unread, self._seen.digest)

    def _writer_at_work(self) -> bool:
        """Whether a writer still has the file open (inotify), draining its news."""
        closes = self._closes
        if closes is None:
            return False
        self._drain(closes)
        if closes.writing:
            if self.writing_since is None:
                self.writing_since = time.time()
                log.info("%s is being written; read when its writer closes it", self.path)
            return True
        self.writing_since = None
        return False

    def _changed_while_read(self) -> bool:
        """Whether inotify saw the file change since `_writer_at_work` looked: a writer
        that opened it with O_TRUNC in between leaves an empty (or partial) file that a
        stat cannot tell from a finished one. The read is then dropped; the next check
        comes at once when that writer has closed it already, else at its close."""
        closes = self._closes
        if closes is None or not self._drain(closes):
            return False
        if not closes.writing:
            self._look_again = 0.0
        return True

    def _drain(self, closes: CloseWatch) -> bool:
        """Read inotify's news of the file; True if there was any. News without a lost
        event vouches for the file: inotify saw every change since the last read."""
        news = closes.drain()
        if news.touched:
            self._vouched = not news.events_lost
        return news.touched

    def check_now(self) -> bool:
        """Look at the file once; swap in a new Site if it changed and is good.

        Returns whether `live` changed (a new Site, or new problems).
        """
        with self._lock:
            if self._writer_at_work():
                return False
            try:
                data, stamp = self._read_if_changed()
            except _Unsettled:
                return False
            except CatalogErrors as exc:  # not a file, unreadable, too large
                self._seen = _Seen()
                self._looked_at = _stamp_or_none(self.path)
                return self._fail(tuple(exc.errors))
            except OSError as exc:
                self._seen = _Seen()  # read again from scratch once it is back
                self._looked_at = _stamp_or_none(self.path)
                message = f"cannot read the catalog: {_reason(exc)}"
                return self._fail((CatalogError(str(self.path), 0, "", message),))
            self._looked_at = stamp
            if data is None:
                return False
            if self._changed_while_read():
                return False
            self._vouched = False
            digest = hashlib.sha256(data).hexdigest()
            previous, self._seen = self._seen.digest, _Seen(stamp, digest)
            if digest == previous:
                return False  # touched or rewritten with the same bytes
            self.building_since = time.time()
            try:
                return self._load(data, digest)
            finally:
                self.building_since = None

    def next_wait(self) -> float:
        look_again, self._look_again = self._look_again, None
        return self.interval if look_again is None else min(self.interval, look_again)

    def _read_if_changed(self) -> tuple[bytes | None, _Stamp]:
        info = os.stat(self.path)
        stamp = _Stamp.of(info)
        if stamp == self._seen.stamp:
            return None, stamp
        seen = self._seen.stamp
        # inotify saw the writer close the file: it is complete, nothing to wait for.
        settle = self.settle_in_place and not self._vouched
        if settle and seen is not None and stamp.inode == seen.inode:
            pending, self._pending = self._pending, stamp
            unsettled = self._unsettled_for(info)
            if pending != stamp and unsettled > 0:
                self._look_again = unsettled
                raise _Unsettled  # changed in place since the last look: let it settle
        # The one reader's read, as `feeds check` and `feeds build` do: a FIFO, device or
        # folder in place of the catalog is refused (CatalogErrors) without blocking.
        data, after_read = read_catalog_file(self.path)
        during = _Stamp.of(after_read)
        # A writer still at work (or a rename in between) shows up as a different stat;
        # reading again at the next check avoids building from a half-written file.
        settled = during == stamp and _Stamp.of(os.stat(self.path)) == stamp
        if not settled or len(data) != min(stamp.size, DEFAULT_MAX_BYTES + 1):
            raise _Unsettled
        return data, stamp

    def _unsettled_for(self, info: os.stat_result) -> float:
        """Seconds until the file's last change is `interval` old (0: it is); `interval`
        when its ctime is in the future (another clock: only the next check can tell)."""
        age = time.time_ns() - info.st_ctime_ns
        if age < 0:
            return self.interval
        # The kernel stamps files from a coarse clock, up to a tick behind time.time().
        return max(0.0, self.interval + _CLOCK_TICK - age / 1e9)

    def _load(self, data: bytes, digest: str) -> bool:
        live = self._live
        if live.site is not None and live.catalog is not None and live.catalog.version == digest:
            # Back to the bytes being served (a broken edit undone): nothing to build.
            return self._set(self._with_problems(live, ()))
        started = time.perf_counter()
        try:
            catalog = self._parse(data, self.path)
            site = self._build(catalog)
        except Exception as exc:  # noqa: BLE001 - whatever fails, the last good Site stays
            return self._fail(_problems_of(exc, self.path))
        self._swap(catalog, site, time.perf_counter() - started)
        return True

    def _swap(self, catalog: Catalog, site: Site, seconds: float) -> None:
        live = self._live
        first = live.site is None
        self._set(
            replace(
                live,
                catalog=catalog,
                site=site,
                view=self._derive(site, ()),
                loaded_at=datetime.now(UTC),
                problems=(),
                errors=(),
                reloads=live.reloads if first else live.reloads + 1,
            )
        )
        log.info(
            "%s %s: version %s, %d entries, %d outputs, built in %.2f s",
            "loaded" if first else "reloaded",
            self.path,
            catalog.version[:12],
            len(catalog.entries),
            len(site),
            seconds,
        )

    def _fail(self, errors: tuple[CatalogError, ...]) -> bool:
        live = self._live
        problems = tuple(str(error) for error in errors)
        if problems == live.problems:
            return False  # the same trouble as at the last check (a file still missing)
        kept = (
            f"still serving version {live.catalog.version[:12]}"
            if live.catalog
            else "no good catalog loaded yet"
        )
        log.error("%s has %d problem(s); %s", self.path, len(problems), kept)
        for problem in problems:
            log.error("%s", problem)
        failed = replace(
            live, last_error=problems, last_error_at=datetime.now(UTC), failures=live.failures + 1
        )
        return self._set(self._with_problems(failed, errors))

    def _with_problems(self, live: Live[View], errors: tuple[CatalogError, ...]) -> Live[View]:
        problems = tuple(str(error) for error in errors)
        if live.problems == problems:
            return live
        view = self._derive(live.site, problems) if live.site is not None else None
        return replace(live, problems=problems, errors=errors, view=view)

    def _set(self, new: Live[View]) -> bool:
        old = self._live
        if new is old:
            return False
        self._live = new  # the atomic swap: one reference assignment
        for listener in self._listeners:
            try:
                listener(old, new)
            except Exception:  # a listener's bug must not stop reloading
                log.exception("reload listener failed")
        return True


def _problems_of(exc: Exception, path: Path) -> tuple[CatalogError, ...]:
    """The problems for the log and the banner: file:line for catalog errors, one line
    otherwise."""
    if isinstance(exc, CatalogErrors):
        return tuple(exc.errors)
    # Not the editor's mistake but ours (a renderer bug): keep the traceback in the log.
    log.error("building the site from %s failed", path, exc_info=exc)
    message = f"could not build the site: {type(exc).__name__}: {exc}"
    return (CatalogError(str(path), 0, "", message),)


def _stamp_or_none(path: Path) -> _Stamp | None:
    try:
        return _Stamp.of(os.stat(path))
    except OSError:
        return None


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)
