"""A check run every few seconds in a daemon thread (`Polling`), and the workers' watcher
of a shared build (`PackWatcher`): what serves the builder's latest publish."""

from __future__ import annotations

import logging
import os
import pickle
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic

from .live import View
from .pack import Mapped, PackReader

log = logging.getLogger("feeds.serve.reload")


#: Seconds between two stats of a shared build's index, in each worker: the second wait
#: of an edit-to-serve (after the builder's), on a file that only our builder writes.
PACK_INTERVAL = 0.02


@dataclass
class _Thread:
    thread: threading.Thread
    pid: int
    stop: threading.Event = field(default_factory=threading.Event)


class Polling:
    """A `check_now()` run every `interval` seconds in a daemon thread of this process."""

    interval: float
    _thread_name = "feeds-watcher"

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._start_lock = threading.Lock()  # separate: starting never waits for a check
        self._thread: _Thread | None = None

    def check_now(self) -> bool:
        raise NotImplementedError

    def next_wait(self) -> float:
        """Seconds until the next check: `interval`, or less when a check asked to look
        again sooner (a file that will have held still long enough by then)."""
        return self.interval

    def start(self) -> None:
        """Check now and then every `interval` s in a daemon thread of this process.

        Idempotent; after a fork the child has no thread (threads do not survive fork),
        so calling it again there starts that process's own.
        """
        with self._start_lock:  # two first requests at once start one thread
            current = self._thread
            if current is not None and current.pid == os.getpid() and current.thread.is_alive():
                return
            thread = threading.Thread(target=self._run, name=self._thread_name, daemon=True)
            self._thread = _Thread(thread, os.getpid())
            thread.start()

    def running_here(self) -> bool:
        """Cheap enough for every request: is this process's watcher started?"""
        current = self._thread
        return current is not None and current.pid == os.getpid()

    def stop(self) -> None:
        current, self._thread = self._thread, None
        if current is not None and current.pid == os.getpid():
            current.stop.set()
            current.thread.join(timeout=5)

    def _run(self) -> None:
        current = self._thread
        stop = current.stop if current is not None else threading.Event()
        while True:
            try:
                self.check_now()
            except Exception:  # never let the watcher die: the next check may succeed
                log.exception("%s: check failed", self._thread_name)
            if self._wait(stop, self.next_wait()):
                return

    def _wait(self, stop: threading.Event, seconds: float) -> bool:
        """Wait `seconds` (or less, when there is news); True when asked to stop."""
        return stop.wait(seconds)


class PackWatcher(Polling, Generic[View]):
    """A worker's side of a shared build (`feeds.serve.pack`): serves what the builder published.

    `check_now()` stats the pack's index; when the builder has published, it maps the
    new index and `derive`s what requests are answered from. A damaged or vanished pack
    never replaces what is served (it is logged, and read again at the next check).
    """

    _thread_name = "feeds-pack-watcher"

    def __init__(
        self,
        directory: Path,
        derive: Callable[[Mapped], View | None],
        *,
        interval: float = PACK_INTERVAL,
    ) -> None:
        super().__init__(interval)
        self.reader = PackReader(directory)
        self._derive = derive
        self._lock = threading.Lock()
        self.mapped: Mapped | None = None  # the publish being served
        self.view: View | None = None
        self._failing = False

    def check_now(self) -> bool:
        with self._lock:
            try:
                mapped = self.reader.read()
            except (OSError, pickle.UnpicklingError, EOFError, TypeError, ValueError) as exc:
                if not self._failing:
                    log.error("cannot read the shared build in %s: %s", self.reader.directory, exc)
                self._failing = True
                return False
            self._failing = False
            if mapped is None or mapped is self.mapped:
                return False
            view = self._derive(mapped)
            self.mapped, self.view = mapped, (view if view is not None else self.view)
            return True
