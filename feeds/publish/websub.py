"""WebSub publishing: tell the hub (`feed.hub`) which feed URLs changed.

A publish ping is a form POST of `hub.mode=publish` and `hub.url=<feed URL>`; the hub
then fetches the feed and pushes it to subscribers. Only feeds whose ETag changed are
pinged (a catalog edit that touches one tag pings that tag's feeds and the main ones).

- `changed_feed_paths(old, new)` compares two Sites (or two {path: etag} maps, for a
  build that compares against the previous export);
- `publish_changes(feed, old, new)` pings synchronously with retries, for `feeds build`
  (`publish(hub, urls)` for a list of URLs);
- `HubNotifier` pings from a background thread for the web app, never blocking a
  request. Under gunicorn every worker reloads on its own; an advisory lock on a file
  elects one of them to ping, so the hub hears each change once.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import queue
import tempfile
import threading
import time
import urllib.error
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..model import Feed
from ..site import Site

log = logging.getLogger("feeds.publish.websub")

FEED_TYPES = ("application/atom+xml", "application/rss+xml", "application/feed+json")


@dataclass(frozen=True)
class Retry:
    """How hard to try: `attempts` tries, waiting `first_delay`, then twice as long each
    time up to `max_delay`; each try gives up after `timeout` seconds."""

    attempts: int = 5
    first_delay: float = 1.0
    max_delay: float = 30.0
    timeout: float = 5.0

    def delays(self) -> list[float]:
        """The waits between tries: 1, 2, 4, 8 s by default (about 15 s in all)."""
        return [min(self.first_delay * 2**n, self.max_delay) for n in range(self.attempts - 1)]


def feed_etags(site: Site) -> dict[str, str]:
    """{path: ETag} of the feeds (Atom, RSS, JSON Feed) in a Site."""
    return {
        path: output.etag
        for path, output in site.outputs.items()
        if output.content_type.split(";", 1)[0] in FEED_TYPES
    }


def changed_feed_paths(old: Site | Mapping[str, str], new: Site | Mapping[str, str]) -> list[str]:
    """Feed paths that are new or whose ETag differs, sorted. Removed feeds are not
    pinged: the hub would only fetch a 404."""
    before = feed_etags(old) if isinstance(old, Site) else old
    after = feed_etags(new) if isinstance(new, Site) else new
    return sorted(path for path, etag in after.items() if before.get(path) != etag)


class PingFailed(Exception):
    """The hub did not accept a ping; `retry` says whether trying again may help."""

    def __init__(self, message: str, retry: bool) -> None:
        super().__init__(message)
        self.retry = retry


def ping(hub: str, url: str, timeout: float) -> None:
    """One publish request; returns when the hub accepted it (any 2xx)."""
    from urllib.request import Request, urlopen  # here: 20 ms of imports every build paid

    body = urllib.parse.urlencode({"hub.mode": "publish", "hub.url": url}).encode()
    request = Request(
        hub,
        data=body,
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "feeds"},
    )
    try:
        with urlopen(request, timeout=timeout) as response:
            response.read(4096)
    except urllib.error.HTTPError as exc:
        # 4xx other than 429 means the hub refuses this ping: asking again will not help.
        retry = exc.code >= 500 or exc.code == 429
        raise PingFailed(f"hub answered {exc.code} {exc.reason}", retry) from None
    except (OSError, ValueError) as exc:  # refused, timed out, bad URL
        raise PingFailed(str(getattr(exc, "reason", exc)), True) from None


def publish(
    hub: str,
    urls: Iterable[str],
    retry: Retry = Retry(),
    sleep: Callable[[float], None] = time.sleep,
) -> list[str]:
    """Ping `hub` for each URL, retrying with backoff; returns the URLs that failed."""
    return [url for url in urls if not _publish_one(hub, url, retry, sleep)]


def publish_changes(
    feed: Feed,
    old: Site | Mapping[str, str],
    new: Site | Mapping[str, str],
    retry: Retry = Retry(),
) -> list[str]:
    """For `feeds build`: ping `feed.hub` (if set) for every feed that changed between
    the previous output (a Site or the {path: ETag} of the previous export) and the new
    Site; returns the URLs whose ping failed."""
    if not feed.hub:
        return []
    return publish(feed.hub, [feed.url(path) for path in changed_feed_paths(old, new)], retry)


def _publish_one(hub: str, url: str, retry: Retry, sleep: Callable[[float], None]) -> bool:
    waits = retry.delays()
    for attempt in range(1, retry.attempts + 1):
        try:
            ping(hub, url, retry.timeout)
        except PingFailed as exc:
            final = not exc.retry or attempt == retry.attempts
            log.warning(
                "WebSub ping to %s for %s failed (try %d of %d): %s%s",
                hub,
                url,
                attempt,
                retry.attempts,
                exc,
                "; giving up" if final else "",
            )
            if final:
                return False
            sleep(waits[attempt - 1])
        else:
            log.info("WebSub: pinged %s for %s", hub, url)
            return True
    return False


class HubNotifier:
    """Pings the hub from a daemon thread, one batch of URLs after another.

    `notify_change(feed, old, new)` is cheap and never blocks: it queues the changed
    feed URLs and returns. `lock_path` names the file whose lock elects the one process
    (of the gunicorn workers serving one catalog) that pings; None pings from every
    process.
    """

    def __init__(self, lock_path: Path | None, retry: Retry = Retry()) -> None:
        self.retry = retry
        self._lock_path = lock_path
        self._lock: tuple[int, int] | None = None  # (pid, fd) of the lock this process holds
        self._queue: queue.Queue[tuple[str, list[str]]] = queue.Queue()
        self._thread: tuple[int, threading.Thread] | None = None
        self._guard = threading.Lock()

    def notify_change(self, feed: Feed, old: Site, new: Site) -> None:
        if not feed.hub:
            return
        paths = changed_feed_paths(old, new)
        if not paths or not self._elected():
            return
        self._queue.put((feed.hub, [feed.url(path) for path in paths]))
        self._ensure_thread()

    def wait_idle(self, timeout: float) -> bool:
        """Block until every queued ping is done (for tests and orderly shutdown)."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
        return True

    def _elected(self) -> bool:
        if self._lock_path is None:
            return True
        pid = os.getpid()
        if self._lock is not None and self._lock[0] == pid:
            return True
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False  # another worker pings; it holds the lock for its lifetime
        self._lock = (pid, fd)
        return True

    def _ensure_thread(self) -> None:
        with self._guard:
            current = self._thread
            if current is not None and current[0] == os.getpid() and current[1].is_alive():
                return
            thread = threading.Thread(target=self._run, name="feeds-websub", daemon=True)
            self._thread = (os.getpid(), thread)
            thread.start()

    def _run(self) -> None:
        while True:
            hub, urls = self._queue.get()
            try:
                publish(hub, urls, self.retry)
            except Exception:  # a bug here must not end the pings that follow
                log.exception("WebSub publishing failed")
            finally:
                self._queue.task_done()


def default_lock_path(catalog_path: Path) -> Path:
    """One lock file per catalog: the processes serving it share the election."""
    key = hashlib.sha256(str(catalog_path.resolve()).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"feeds-websub-{key}.lock"
