"""One build shared by every worker: a builder writes the Site to a pack, workers map it.

Built in each gunicorn worker, a 10k-entry Site costs every worker its bodies (~140 MB),
its render caches and a second Site during each rebuild. Instead one builder process
(`feeds.serve.builder`) keeps the catalog, the caches and the Site, and publishes them here:

    <dir>/blobs-<pid>-<gen>    the bodies, identity and gzip, each stored once by ETag
    <dir>/rows-<pid>-<n>       the rows of a publish: one per Output (headers' inputs and
                               where its bodies lie), a flat table (`feeds.serve.rowtable`)
    <dir>/index                what to serve: the rows file, the rows changed since it,
                               and the builder's /health report

Workers `mmap` the blob file read-only: a body they never send is never resident in
them, and the pages they do send are the page cache's, one copy for all of them.

- Blob files only grow: a rebuild appends the bodies whose ETag is new and rewrites the
  index (temporary file + rename, so a reader sees the old index or the new one). The
  file is made sparse-large up front so that a worker maps each generation once.
- When the file is full, or more than half of it is bodies no longer served, the next
  publish starts a new generation with only the live bodies; workers map it at their
  next look, and the old file goes once no worker maps it (unlinked right away: Linux
  keeps an unlinked file's pages for as long as they are mapped).
- The rows (15,000 at 10k entries) are written whole to a rows file only now and then;
  each publish writes an index with the rows changed since (an edit changes a few
  dozen), so a publish pickles and a worker unpickles those few. A new rows file is
  written when the changes reach an eighth of the rows; the one before it is kept until
  the next, for a worker that read the index just before.
- Workers map the rows file too and read the row of a path when it is first requested:
  unpickled, the rows of a 100k-entry Site cost each worker ~100 MB of its own memory.

The index is a pickle, sealed with the user's key (`feeds.sealed`; the builder and the
workers run as one user): a file planted or replaced in the directory is never
unpickled, and a worker keeps serving what it has. The rows file is plain data, never
unpickled; the sealed index names it with its digest, checked when a worker maps it.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from .. import sealed
from . import rowtable
from .rowtable import RawRow, RowTable

INDEX = "index"
# What each sealed file holds (part of its seal: one cannot stand in for the other).
INDEX_PURPOSE = "shared build index"


class Row(NamedTuple):
    """One Output as a worker needs it; bodies as (offset, length) in the blob file.

    The index stores each as a plain tuple (`RawRow`): pickle writes and reads those in C,
    several times faster than named tuples; `Row._make(raw)` names the fields again. The
    rows file stores them as a table (`feeds.serve.rowtable`), read back as the same tuples.
    """

    path: str
    content_type: str
    etag: str
    gzip_etag: str | None
    last_modified: datetime
    cors: bool
    frameable: bool
    max_age: int
    body: tuple[int, int]
    gzip_body: tuple[int, int] | None


def wsgi_key(path: str) -> str:
    """A Site path as WSGI spells PATH_INFO (the raw bytes decoded as latin-1, PEP 3333)."""
    return path.encode("utf-8").decode("latin-1")


def site_tags(paths: Iterable[str]) -> frozenset[str]:
    """The tags that have a page (`/tags/<tag>/`): what `/embed/?tag=` may name. `paths`
    spelled as PATH_INFO (`wsgi_key`)."""
    parts = (path.split("/") for path in paths if path.startswith("/tags/"))
    return frozenset(p[2] for p in parts if len(p) == 4 and p[3] == "")


class Rows:
    """The rows of a publish: a mapped rows file with the changes since it made.

    Looked up by PATH_INFO (`wsgi_key`); a row is read from the table when asked for,
    so a worker holds no object for a path nobody requested.
    """

    def __init__(
        self, table: RowTable, changes: tuple[tuple[str, RawRow | None], ...] = ()
    ) -> None:
        self.table = table
        # PATH_INFO -> its row now (None: gone), for the paths changed since the table
        self.changed: dict[str, RawRow | None] = {wsgi_key(p): row for p, row in changes}
        self._len = len(table) + sum(
            (row is not None) - (self._in_table(key)) for key, row in self.changed.items()
        )

    def get(self, key: str) -> RawRow | None:
        """The row served at PATH_INFO `key`, None if there is none."""
        if key in self.changed:
            return self.changed[key]
        try:
            return self.table.get(key.encode("latin-1"))
        except UnicodeEncodeError:  # not a PATH_INFO: no Site path is spelled so
            return None

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[RawRow]:
        changed = self.changed
        for row in self.table:
            key = wsgi_key(row[0])
            if key not in changed:
                yield row
        for new in changed.values():
            if new is not None:
                yield new

    def _in_table(self, key: str) -> bool:
        return self.table.get(key.encode("latin-1")) is not None


@dataclass(frozen=True)
class Index:
    """What one publish says: the Site's rows (None before a good build) and health."""

    blobs: str | None  # blob file name in the pack directory
    rows: Rows | None
    version: str | None  # the catalog's content hash
    last_modified: datetime | None
    health: dict[str, Any]  # the builder's /health report (see web.health_report)
    tags: frozenset[str] = frozenset()  # `site_tags` of the rows' paths


@dataclass(frozen=True)
class Head:
    """The index file: an Index whose rows are a rows file and the changes since it."""

    blobs: str | None
    rows_file: str | None  # None before a good build
    rows_digest: str | None  # the rows file's `rowtable.digest`
    changes: tuple[tuple[str, RawRow | None], ...]  # path -> its row now (None: gone)
    version: str | None
    last_modified: datetime | None
    health: dict[str, Any]
    tags: frozenset[str]


@dataclass(frozen=True)
class Mapped:
    """An index with its blob file mapped: what a worker serves from."""

    index: Index
    blobs: mmap.mmap | None


class PackReader:
    """A worker's side: `read()` gives the latest publish, mapping each blob file once and
    reading each rows file once."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._stamp: tuple[int, int] | None = None
        self._mapped: Mapped | None = None
        self._map_name: str | None = None
        self._map: mmap.mmap | None = None
        self._table_name: str | None = None
        self._table: RowTable | None = None

    def read(self) -> Mapped | None:
        """The latest publish; the same object while the index is unchanged; None before
        the first. Raises OSError or ValueError on a damaged pack, or on a file in it
        that the builder did not write (`sealed.Unsealed`: never unpickled; a rows file
        whose digest is not the one the index names: never read)."""
        try:
            stat = os.stat(self.directory / INDEX)
        except FileNotFoundError:
            return None
        stamp = (stat.st_ino, stat.st_mtime_ns)
        if stamp == self._stamp and self._mapped is not None:
            return self._mapped
        head = self._load(INDEX, INDEX_PURPOSE)
        if not isinstance(head, Head):
            raise TypeError(f"{self.directory / INDEX} is not a pack index")
        table = self._table_of(head.rows_file, head.rows_digest)
        rows = Rows(table, head.changes) if table is not None else None
        index = Index(head.blobs, rows, head.version, head.last_modified, head.health, head.tags)
        self._mapped = Mapped(index, self._blobs(index.blobs))
        self._stamp = stamp
        return self._mapped

    def _table_of(self, name: str | None, digest: str | None) -> RowTable | None:
        """The rows file `name`, mapped once, and only if its digest is `digest`."""
        if name is None or digest is None:
            return None
        if name != self._table_name:
            path = self.directory / name
            with open(path, "rb") as file:
                data = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
            if rowtable.digest(data) != digest:
                data.close()
                raise ValueError(f"{path} is not the rows file the index names; not read")
            self._table, self._table_name = RowTable(data), name
        return self._table

    def _load(self, name: str, purpose: str) -> object:
        path = self.directory / name
        try:
            return sealed.load(path, purpose)
        except sealed.Unsealed as exc:  # the one line the worker logs: say which file
            raise sealed.Unsealed(sealed.ignored(path, exc)) from None

    def _blobs(self, name: str | None) -> mmap.mmap | None:
        if name is not None and name != self._map_name:
            # FileNotFoundError: a newer generation replaced it since the index was read;
            # the caller keeps what it serves and reads the newer index at its next look.
            with open(self.directory / name, "rb") as file:
                self._map = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
            self._map_name = name
        return self._map
