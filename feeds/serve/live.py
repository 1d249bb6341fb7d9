"""What a process serves (`Live`) and what its watcher is doing about the file on disk
(`Activity`): the values a `reload.CatalogWatcher` swaps in and /health reads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from ..catalog import CatalogError
from ..model import Catalog
from ..site import Site

View = TypeVar("View")  # what the web layer serves from, made by its `derive`


@dataclass(frozen=True)
class Live(Generic[View]):
    """What a process serves now, and what it knows about the file on disk."""

    catalog: Catalog | None = None  # the last good catalog; None until one loaded
    site: Site | None = None
    view: View | None = None  # `derive(site, problems)`, what requests are answered from
    loaded_at: datetime | None = None  # when the served catalog was loaded (wall clock)
    problems: tuple[str, ...] = ()  # why the file on disk is not served; () when it is
    # The same problems, located (file, line, field path): /health shows only where they
    # are, never their messages, which quote the file.
    errors: tuple[CatalogError, ...] = ()
    last_error: tuple[str, ...] = ()  # the most recent failed load, kept after a fix
    last_error_at: datetime | None = None
    reloads: int = 0  # good catalogs swapped in after the first
    failures: int = 0  # loads that failed


@dataclass(frozen=True)
class Activity:
    """What a watcher is doing about the file on disk, for /health (wall-clock seconds)."""

    building_since: float | None = None  # reading, parsing, building, publishing
    writing_since: float | None = None  # a writer has had the file open since
    unread_change: bool = False  # its stat differs from the one last read: not looked at yet
    disk_version: str | None = None  # sha256 of the bytes last read


Listener = Callable[["Live[View]", "Live[View]"], None]
