"""The builder's side of a shared build (`feeds.serve.pack`): `PackWriter.publish(site,
health)` after every change it serves, writing only what changed."""

from __future__ import annotations

import os
from collections.abc import Container, Iterable, Iterator
from pathlib import Path
from typing import Any

from .. import sealed
from ..site import Output, Site
from . import rowtable
from .pack import INDEX, INDEX_PURPOSE, Head, site_tags, wsgi_key
from .rowtable import RawRow

_MIN_CAPACITY = 64 * 1024 * 1024  # sparse: costs no disk or memory until written


_REWRITE_ROWS_AT = 8  # a new rows file once the changes reach 1/8 of the rows


class PackWriter:
    """The builder's side: `publish(site, health)` after every change it serves.

    A publish costs what changed: rows are kept by path and remade only for outputs
    whose ETags or Last-Modified differ, and only bodies not yet in the file are written.
    """

    def __init__(self, directory: Path) -> None:
        """Take over `directory` (one per server): what an earlier run left is removed
        first, so that no worker maps the old index over a blob file being rewritten.
        Raises `sealed.NoKey` where this user can keep no key to seal the files with."""
        sealed.key()
        self.directory = directory
        (directory / INDEX).unlink(missing_ok=True)
        for stale in [*directory.glob("blobs-*"), *directory.glob("rows-*")]:
            stale.unlink()
        self._generation = 0
        self._rows_files: list[tuple[str, str]] = []  # the last two (name, digest), newest last
        self._rows_written = 0
        self._since_rows_file: set[str] = set()  # paths whose row changed since it
        self._blobs: str | None = None
        self._capacity = 0
        self._size = 0  # bytes written to the current blob file
        self._dead = 0  # of those, bytes no row refers to any more (an upper bound)
        self._where: dict[str, tuple[int, int]] = {}  # ETag -> (offset, length) in the file
        self._rows: dict[str, RawRow] = {}  # path -> its row, for the Site last published
        self._tags: frozenset[str] = frozenset()
        self._site: Site | None = None

    def publish(self, site: Site | None, health: dict[str, Any]) -> None:
        if site is not None and site is not self._site:
            self._store(site)
            self._site = site
        site = self._site
        rows_file, digest, changes = (
            self._rows_and_changes() if site is not None else (None, None, ())
        )
        head = Head(
            blobs=self._blobs,
            rows_file=rows_file,
            rows_digest=digest,
            changes=changes,
            version=site.version if site is not None else None,
            last_modified=site.last_modified if site is not None else None,
            health=health,
            tags=self._tags,
        )
        sealed.dump(self.directory / INDEX, INDEX_PURPOSE, head)

    def _rows_and_changes(self) -> tuple[str, str, tuple[tuple[str, RawRow | None], ...]]:
        """The rows file to read (name, digest) and the changes since it; a new one when
        they are many."""
        since = self._since_rows_file
        if not self._rows_files or len(since) * _REWRITE_ROWS_AT > len(self._rows):
            self._write_rows_file()
            return *self._rows_files[-1], ()
        changes = tuple((path, self._rows.get(path)) for path in sorted(since))
        return *self._rows_files[-1], changes

    def _write_rows_file(self) -> None:
        self._rows_written += 1  # a name is never reused for other rows, even by a restart
        name = f"rows-{os.getpid()}-{self._rows_written}"
        table = rowtable.encode(self._rows.values())
        descriptor = os.open(self.directory / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(table)
        self._rows_files.append((name, rowtable.digest(table)))
        if len(self._rows_files) > 2:  # a worker may still be about to read the one before
            (self.directory / self._rows_files.pop(0)[0]).unlink(missing_ok=True)
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
        new = sum(size for etag, size in _sizes(changed) if etag not in self._where)
        live = self._size - self._dead - freed + new
        if self._blobs is None or self._size + new > self._capacity or self._dead + freed > live:
            self._start_generation(sum(_length(output) for output in outputs.values()))
            rows, changed, freed = {}, list(outputs.values()), 0
        paths_changed = bool(gone) or rows is not self._rows
        paths_changed = paths_changed or any(output.path not in rows for output in changed)
        for path in gone:
            rows.pop(path, None)
        self._dead += freed
        self._append(changed)
        for output in changed:
            rows[output.path] = _row(output, self._where)
        self._since_rows_file.update(output.path for output in changed)
        self._since_rows_file.update(gone)
        if paths_changed:
            self._tags = site_tags(wsgi_key(path) for path in outputs)
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

    def _append(self, outputs: list[Output]) -> None:
        """Write the bodies not in the file yet, and note where each one is."""
        if all(etag in self._where for etag, _ in _sizes(outputs)):
            return
        assert self._blobs is not None
        end = self._size
        with open(self.directory / self._blobs, "r+b") as file:
            file.seek(end)
            # Body by body, each made (decompressed) as it is written: held together they
            # would be the builder's peak (100k entries: 1.3 GB of bodies).
            for etag, body in _bodies(outputs, self._where):
                self._where[etag] = (end, len(body))
                file.write(body)
                end += len(body)
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


def _bodies(outputs: Iterable[Output], written: Container[str]) -> Iterator[tuple[str, bytes]]:
    """The bodies of `outputs` not `written` yet, with their ETags (identity and gzip
    have distinct ETags; one body may be at several paths)."""
    for output in outputs:
        if output.etag not in written:
            yield output.etag, output.body
        gzip_etag = output.gzip_etag
        if output.gzip_body is not None and gzip_etag is not None and gzip_etag not in written:
            yield gzip_etag, output.gzip_body


def _sizes(outputs: Iterable[Output]) -> Iterator[tuple[str, int]]:
    """What `_bodies` gives, as sizes (without decompressing a body)."""
    for output in outputs:
        yield output.etag, output.size
        if output.gzip_body is not None and output.gzip_etag is not None:
            yield output.gzip_etag, len(output.gzip_body)


def _length(output: Output) -> int:
    return output.size + len(output.gzip_body or b"")


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
