"""What a server's catalog watcher does beside serving: a log line when a fix brings
back the version served, the WebSub ping for the feeds a reload changed, and the log
format of the server's processes. Shared by the app (`feeds.serve.web`) and the builder
(`feeds.serve.builder`), which must not load a web framework.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

from ..publish.websub import HubNotifier, default_lock_path
from .live import Live
from .reload import CatalogWatcher

log = logging.getLogger("feeds.serve.web")


def log_when_good_again(watcher: CatalogWatcher[Any], path: Path) -> None:
    """Log a line when a fix brings back the version already served: nothing is rebuilt,
    so no reload says so, and the problems logged last would seem to stand."""

    def on_change(old: Live[Any], new: Live[Any]) -> None:
        if old.problems and not new.problems and new.site is old.site and new.catalog:
            version = new.catalog.version[:12]
            log.info("%s: catalog is good again: served version %s", path, version)

    watcher.add_listener(on_change)


def notify_hub_on_change(watcher: CatalogWatcher[Any], path: Path) -> HubNotifier:
    """Ping `feed.hub` for the feeds a reload changed (a lock file makes one process of
    several send each ping)."""
    notifier = HubNotifier(default_lock_path(path))

    def on_change(old: Live[Any], new: Live[Any]) -> None:
        if old.site is not None and new.site is not None and new.site is not old.site:
            assert new.catalog is not None
            notifier.notify_change(new.catalog.feed, old.site, new.site)

    watcher.add_listener(on_change)
    return notifier


def configure_logging(level: int = logging.INFO) -> None:
    """One line per event on stderr for the `feeds` loggers (reloads, errors, pings)."""
    logger = logging.getLogger("feeds")
    if logger.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("[%(asctime)s] [%(process)d] [%(levelname)s] %(message)s")
    )
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
