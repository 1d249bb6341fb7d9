"""One build shared by every worker: a builder writes the Site to a pack, workers map it.

Built in each gunicorn worker, a 10k-entry Site costs every worker its bodies (~140 MB),
its render caches and a second Site during each rebuild. Instead one builder process
(`feeds.builder`) keeps the catalog, the caches and the Site, and publishes them here:

    <dir>/blobs-<pid>-<gen>    the bodies, identity and gzip, each stored once by ETag
    <dir>/rows-<pid>-<n>       the rows of a publish: one per Output (headers' inputs and
                               where its bodies lie)
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
  dozen), so a publish pickles and a worker unpickles those few (~15 ms each way saved
  at 10k), and the rows a worker rebuilds from its copy of the rows file are the same
  objects from one publish to the next (comparing them is comparing pointers). A new
  rows file is written when the changes reach an eighth of the rows; the one before it
  is kept until the next, for a worker that read the index just before.
"""

from __future__ import annotations

import mmap
import os
import pickle
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from .site import Output, Site

INDEX = "index"
_MIN_CAPACITY = 64 * 1024 * 1024  # sparse: costs no disk or memory until written
_REWRITE_ROWS_AT = 8  # a new rows file once the changes reach 1/8 of the rows


class Row(NamedTuple):
    """One Output as a worker needs it; bodies as (offset, length) in the blob file.

    The index stores each as a plain tuple (`RawRow`): pickle writes and reads those in C,
    several times faster than named tuples; `Row._make(raw)` names the fields again.
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


RawRow = tuple[
    str, str, str, str | None, datetime, bool, bool, int, tuple[int, int], tuple[int, int] | None
]


@dataclass(frozen=True)
class Index:
    """What one publish says: the Site's rows (None before a good build) and health."""

    blobs: str | None  # blob file name in the pack directory
    rows: tuple[RawRow, ...] | None
    version: str | None  # the catalog's content hash
    last_modified: datetime | None
    health: dict[str, Any]  # the builder's /health report (see web.health_report)


@dataclass(frozen=True)
class _Head:
    """The index file: an Index whose rows are a rows file and the changes since it."""

    blobs: str | None
    rows_file: str | None  # None before a good build
    changes: tuple[tuple[str, RawRow | None], ...]  # path -> its row now (None: gone)
    version: str | None
    last_modified: datetime | None
    health: dict[str, Any]


class PackWriter:
    """The builder's side: `publish(site, health)` after every change it serves.

    A publish costs what changed: rows are kept by path and remade only for outputs
    whose ETags or Last-Modified differ, and only bodies not yet in the file are written.
    """

    def __init__(self, directory: Path) -> None:
        """Take over `directory` (one per server): what an earlier run left is removed
        first, so that no worker maps the old index over a blob file being rewritten."""
        self.directory = directory
        (directory / INDEX).unlink(missing_ok=True)
        for stale in [*directory.glob("blobs-*"), *directory.glob("rows-*")]:
            stale.unlink()
        self._generation = 0
        self._rows_files: list[str] = []  # the last two written, the newest last
        self._rows_written = 0
        self._since_rows_file: set[str] = set()  # paths whose row changed since it
        self._blobs: str | None = None
        self._capacity = 0
        self._size = 0  # bytes written to the current blob file
        self._dead = 0  # of those, bytes no row refers to any more (an upper bound)
        self._where: dict[str, tuple[int, int]] = {}  # ETag -> (offset, length) in the file
        self._rows: dict[str, RawRow] = {}  # path -> its row, for the Site last published
        self._site: Site | None = None

    def publish(self, site: Site | None, health: dict[str, Any]) -> None:
        if site is not None and site is not self._site:
            self._store(site)
            self._site = site
        site = self._site
        rows_file, changes = self._rows_and_changes() if site is not None else (None, ())
        head = _Head(
            blobs=self._blobs,
            rows_file=rows_file,
            changes=changes,
            version=site.version if site is not None else None,
            last_modified=site.last_modified if site is not None else None,
            health=health,
        )
        _write_atomically(self.directory / INDEX, pickle.dumps(head, pickle.HIGHEST_PROTOCOL))

    def _rows_and_changes(self) -> tuple[str, tuple[tuple[str, RawRow | None], ...]]:
        """The rows file to read and the changes since it; a new one when they are many."""
        since = self._since_rows_file
        if not self._rows_files or len(since) * _REWRITE_ROWS_AT > len(self._rows):
            self._write_rows_file()
            return self._rows_files[-1], ()
        changes = tuple((path, self._rows.get(path)) for path in sorted(since))
        return self._rows_files[-1], changes

    def _write_rows_file(self) -> None:
        self._rows_written += 1  # a name is never reused for other rows, even by a restart
        name = f"rows-{os.getpid()}-{self._rows_written}"
        rows = tuple(self._rows.values())
        _write_atomically(self.directory / name, pickle.dumps(rows, pickle.HIGHEST_PROTOCOL))
        self._rows_files.append(name)
        if len(self._rows_files) > 2:  # a worker may still be about to read the one before
            (self.directory / self._rows_files.pop(0)).unlink(missing_ok=True)
        self._since_rows_file = set()

    def _store(self, site: Site) -> None:
        outputs = site.outputs
        rows = self._rows
        # An Output the last Site published too (the same object: reused by feeds.site)
        # has its row already; only the others are compared with theirs.
        last = self._site.outputs if self._site is not None else {}
        changed = [
            output
            for path, output in outputs.items()
            if last.get(path) is not output and _stale(rows.get(path), output)
        ]
        if len(rows) == len(outputs) and all(output.path in rows for output in changed):
            gone: list[str] = []  # as many paths, none new: the same paths
        else:
            gone = [path for path in rows if path not in outputs]
        freed = sum(_stored_length(rows[o.path]) for o in changed if o.path in rows)
        freed += sum(_stored_length(rows[path]) for path in gone)
        new = sum(len(body) for etag, body in _bodies(changed) if etag not in self._where)
        live = self._size - self._dead - freed + new
        if self._blobs is None or self._size + new > self._capacity or self._dead + freed > live:
            self._start_generation(sum(_length(output) for output in outputs.values()))
            rows, changed, freed = {}, list(outputs.values()), 0
        for path in gone:
            rows.pop(path, None)
        self._dead += freed
        self._append(_bodies(changed))
        for output in changed:
            rows[output.path] = _row(output, self._where)
        self._since_rows_file.update(output.path for output in changed)
        self._since_rows_file.update(gone)
        self._rows = rows

    def _start_generation(self, live: int) -> None:
        old = self._blobs
        self._generation += 1
        # Named by process too: a name is never reused for other bytes, even by a restart.
        self._blobs = f"blobs-{os.getpid()}-{self._generation}"
        self._capacity = max(2 * live, _MIN_CAPACITY)
        with open(self.directory / self._blobs, "wb") as file:
            file.truncate(self._capacity)
        self._size = self._dead = 0
        self._where = {}
        if old is not None:
            # Workers still map it until they see the new index; unlinking keeps it for them.
            (self.directory / old).unlink(missing_ok=True)

    def _append(self, bodies: Iterable[tuple[str, bytes]]) -> None:
        """Write the bodies not in the file yet, and note where each one is."""
        pending: list[bytes] = []
        end = self._size
        for etag, body in bodies:
            if etag not in self._where:
                self._where[etag] = (end, len(body))
                pending.append(body)
                end += len(body)
        if not pending:
            return
        assert self._blobs is not None
        with open(self.directory / self._blobs, "r+b") as file:
            file.seek(self._size)
            file.write(b"".join(pending))
        self._size = end


def _stale(row: RawRow | None, output: Output) -> bool:
    """Whether `row` no longer describes `output` (the other fields follow from the path)."""
    return (
        row is None
        or row[2] != output.etag
        or row[3] != output.gzip_etag
        or row[4] != output.last_modified
        or row[1] != output.content_type
    )


def _bodies(outputs: Iterable[Output]) -> Iterator[tuple[str, bytes]]:
    """Every body of `outputs` with its ETag (identity and gzip have distinct ETags)."""
    for output in outputs:
        yield output.etag, output.body
        if output.gzip_body is not None and output.gzip_etag is not None:
            yield output.gzip_etag, output.gzip_body


def _length(output: Output) -> int:
    return len(output.body) + len(output.gzip_body or b"")


def _stored_length(row: RawRow) -> int:
    gzip = row[9]
    return row[8][1] + (gzip[1] if gzip is not None else 0)


def _row(output: Output, where: dict[str, tuple[int, int]]) -> RawRow:
    """The fields of `Row`, in its order."""
    gzip_etag = output.gzip_etag
    return (
        output.path,
        output.content_type,
        output.etag,
        gzip_etag,
        output.last_modified,
        output.cors,
        output.frameable,
        output.max_age,
        where[output.etag],
        where[gzip_etag] if gzip_etag is not None else None,
    )


def _write_atomically(path: Path, data: bytes) -> None:
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


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
        self._rows_name: str | None = None
        self._rows: tuple[RawRow, ...] = ()
        self._positions: dict[str, int] = {}  # path -> its place in `_rows`

    def read(self) -> Mapped | None:
        """The latest publish; the same object while the index is unchanged; None before
        the first. Raises OSError or pickle errors on a damaged pack."""
        try:
            stat = os.stat(self.directory / INDEX)
        except FileNotFoundError:
            return None
        stamp = (stat.st_ino, stat.st_mtime_ns)
        if stamp == self._stamp and self._mapped is not None:
            return self._mapped
        with open(self.directory / INDEX, "rb") as file:
            head = pickle.load(file)  # our own builder's file in our own directory
        if not isinstance(head, _Head):
            raise TypeError(f"{self.directory / INDEX} is not a pack index")
        rows = self._rows_of(head.rows_file, head.changes)
        index = Index(head.blobs, rows, head.version, head.last_modified, head.health)
        self._mapped = Mapped(index, self._blobs(index.blobs))
        self._stamp = stamp
        return self._mapped

    def _rows_of(
        self, name: str | None, changes: tuple[tuple[str, RawRow | None], ...]
    ) -> tuple[RawRow, ...] | None:
        """The rows file `name` (read once) with `changes` made: rows not changed are the
        very tuples of the last read."""
        if name is None:
            return None
        if name != self._rows_name:
            with open(self.directory / name, "rb") as file:
                rows = pickle.load(file)
            if not isinstance(rows, tuple):
                raise TypeError(f"{self.directory / name} is not a rows file")
            self._rows, self._rows_name = rows, name
            self._positions = {row[0]: position for position, row in enumerate(rows)}
        if not changes:
            return self._rows
        rows = list(self._rows)
        gone: set[int] = set()
        added: list[RawRow] = []
        for path, row in changes:
            position = self._positions.get(path)
            if position is None:
                if row is not None:
                    added.append(row)
            elif row is None:
                gone.add(position)
            else:
                rows[position] = row
        if gone:
            rows = [row for position, row in enumerate(rows) if position not in gone]
        return tuple(rows + added)

    def _blobs(self, name: str | None) -> mmap.mmap | None:
        if name is not None and name != self._map_name:
            # FileNotFoundError: a newer generation replaced it since the index was read;
            # the caller keeps what it serves and reads the newer index at its next look.
            with open(self.directory / name, "rb") as file:
                self._map = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
            self._map_name = name
        return self._map
