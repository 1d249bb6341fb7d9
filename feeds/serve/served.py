"""What a request is answered from: every Output with its header lists prepared.

A `View` maps PATH_INFO to a `Served`: one `Variant` per encoding, each with the header
list of its 200 and of its 304, ready to hand to `start_response`. Preparing them takes
a few microseconds an output, which over a 10k-entry Site (tens of thousands of
outputs) is a noticeable part of a reload; `ViewMaker` therefore keeps the last View's
and reuses what an unchanged output needs: the same representation (type, ETag,
Last-Modified, policy flags) means the same header lists.

A View of a shared pack prepares nothing up front (`PackServed`): a path's answers are
made from its row when it is first requested and kept in a bounded cache. Prepared
for every output of a 100k-entry Site, they cost each worker ~200 MB; a server answers
most of its requests from a few hundred paths (feeds, home, calendars).

A body is `data[start:stop]`: `data` is the bytes of an Output (a full slice of bytes
is the bytes object itself, no copy), or the memory-mapped blob file of a shared pack
(`feeds.serve.pack`), sliced per request so that a body never sent is never resident.
"""

from __future__ import annotations

import mmap
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

from ..body import Body
from ..site import Output
from .headers import Encoding, Headers, Representation, headers_for, not_modified_headers_for
from .pack import Mapped, Row, Rows, site_tags, wsgi_key

__all__ = ["PackServed", "Served", "Variant", "View", "ViewMaker", "site_tags", "wsgi_key"]

# Where a body's bytes are: an Output's bytes or Body (a Body is decompressed per request;
# its gzip is bytes, served as is), or a pack's mapped blob file.
Data = bytes | mmap.mmap | Body


@dataclass(frozen=True, slots=True)
class Variant:
    """One encoding of an output, with its answers ready to send."""

    data: Data
    start: int
    stop: int
    etag: str
    ok_headers: Headers  # 200, Content-Length included
    not_modified_headers: Headers  # 304

    @property
    def body(self) -> bytes:
        return self.data[self.start : self.stop]


# What the header lists of an output depend on; equal keys, equal lists.
_Key = tuple[str, str, str | None, datetime, bool, bool, int]


@dataclass(frozen=True, slots=True)
class Served:
    identity: Variant
    gzip: Variant | None
    last_modified: int  # POSIX seconds, for If-Modified-Since
    key: _Key


@dataclass(frozen=True)
class View:
    """A Site made ready to serve: {PATH_INFO: Served}."""

    served: Mapping[str, Served]
    version: str  # the catalog's content hash
    tags: frozenset[str] = frozenset()  # for checking /embed/?tag=


# A body's place: (data, start, stop).
_Place = tuple[Data, int, int]
# Header fields repeat across outputs (the same CSP, Last-Modified, Cache-Control ...):
# one tuple per distinct field, so that thousands of outputs cost little memory.
_Shared = dict[tuple[str, str], tuple[str, str]]


# How many paths a pack's View keeps prepared: enough for every path a busy server
# answers often, a few MB at most.
CACHED_PATHS = 4096
# Header fields shared between prepared answers (see _Shared); let go when this many.
_SHARED_MOST = 4096
_GONE = ("no row",)


class PackServed(Mapping[str, Served]):
    """{PATH_INFO: Served} of a shared pack, each made when first asked for.

    What is made is kept (at most `CACHED_PATHS`, the oldest let go first), so a path
    requested again costs one dict lookup, as with answers prepared up front. Safe to
    use from several request threads: a path made twice by two of them is made alike.
    """

    def __init__(
        self, rows: Rows, blobs: mmap.mmap, cached: dict[str, Served], shared: _Shared
    ) -> None:
        self.rows, self.blobs = rows, blobs
        self._cached = cached
        self._shared = shared
        self._lock = threading.Lock()

    def get(self, key: str, default: Served | None = None) -> Served | None:  # type: ignore[override]
        served = self._cached.get(key)
        if served is not None:
            return served
        row = self.rows.get(key)
        if row is None:
            return default
        served = _served(*_row_places(Row._make(row), self.blobs), None, self._shared)
        with self._lock:
            cached = self._cached
            while len(cached) >= CACHED_PATHS:
                del cached[next(iter(cached))]  # the oldest made
            cached[key] = served
            if len(self._shared) > _SHARED_MOST:
                self._shared.clear()  # new answers share anew; made ones keep theirs
        return served

    def __getitem__(self, key: str) -> Served:
        served = self.get(key)
        if served is None:
            raise KeyError(key)
        return served

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and (key in self._cached or self.rows.get(key) is not None)

    def __iter__(self) -> Iterator[str]:
        return (wsgi_key(row[0]) for row in self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def cached(self) -> dict[str, Served]:
        """A copy of what is made (copying a dict is one step for other threads)."""
        return dict(self._cached)


class ViewMaker:
    """Makes Views, reusing the header lists of every output unchanged since the last.

    Not thread-safe: one maker per watcher, called from its checking thread.
    """

    def __init__(self) -> None:
        self._last: Mapping[str, Served] = {}
        self._last_pack: PackServed | None = None
        self._shared: _Shared = {}

    def from_outputs(self, outputs: Iterable[Output], version: str) -> View:
        """A View of in-memory Outputs (a Site built in this process)."""
        places = (
            (
                output.path,
                output,
                (output.source, 0, output.size),
                (output.gzip_body, 0, len(output.gzip_body))
                if output.gzip_body is not None
                else None,
            )
            for output in outputs
        )
        return self._make(places, version)

    def from_pack(self, mapped: Mapped) -> View | None:
        """A View of a shared pack (None while it has no good build).

        Answers are made as paths are requested (`PackServed`); those the last View had
        made are kept when their row is unchanged, in the same blob mapping.
        """
        index, blobs = mapped.index, mapped.blobs
        if index.rows is None or blobs is None or index.version is None:
            return None
        rows, last = index.rows, self._last_pack
        kept = _unchanged(last, rows) if last is not None and last.blobs is blobs else {}
        self._last_pack = served = PackServed(rows, blobs, kept, self._shared)
        return View(served, index.version, index.tags)

    def _make(
        self, places: Iterable[tuple[str, Representation, _Place, _Place | None]], version: str
    ) -> View:
        shared: _Shared = {}
        served: dict[str, Served] = {}
        last = self._last
        for path, representation, identity, gzip in places:
            key = wsgi_key(path)
            served[key] = _served(representation, identity, gzip, last.get(key), shared)
        self._last = served
        return View(served, version, site_tags(served))


def _unchanged(last: PackServed, rows: Rows) -> dict[str, Served]:
    """What `last` made that `rows` serves alike. With the same rows file, a path
    changed in neither publish is unchanged; any other is compared (at most
    `CACHED_PATHS` of them, when a new rows file is written now and then)."""
    now, before = rows.changed, last.rows.changed
    same_table = last.rows.table is rows.table
    return {
        key: served
        for key, served in last.cached().items()
        if (same_table and key not in now and key not in before)
        or (rows.get(key) or _GONE) == last.rows.get(key)
    }


def _row_places(row: Row, blobs: mmap.mmap) -> tuple[Representation, _Place, _Place | None]:
    start, length = row.body
    gzip = None
    if row.gzip_body is not None:
        gzip_start, gzip_length = row.gzip_body
        gzip = (blobs, gzip_start, gzip_start + gzip_length)
    return row, (blobs, start, start + length), gzip


def _served(
    representation: Representation,
    identity: _Place,
    gzip: _Place | None,
    last: Served | None,
    shared: _Shared,
) -> Served:
    key: _Key = (
        representation.content_type,
        representation.etag,
        representation.gzip_etag,
        representation.last_modified,
        representation.cors,
        representation.frameable,
        representation.max_age,
    )
    if last is not None and last.key == key and (last.gzip is None) == (gzip is None):
        if _same_place(last.identity, identity) and (
            gzip is None or (last.gzip is not None and _same_place(last.gzip, gzip))
        ):
            return last
        return Served(
            _moved(last.identity, identity),
            _moved(last.gzip, gzip) if last.gzip is not None and gzip is not None else None,
            last.last_modified,
            key,
        )
    return Served(
        _variant(representation, "identity", identity, shared),
        _variant(representation, "gzip", gzip, shared) if gzip is not None else None,
        int(representation.last_modified.timestamp()),
        key,
    )


def _same_place(variant: Variant, place: _Place) -> bool:
    data, start, stop = place
    return variant.data is data and variant.start == start and variant.stop == stop


def _moved(variant: Variant, place: _Place) -> Variant:
    """The same answers with the body found elsewhere (a new Site's bytes, a new pack)."""
    data, start, stop = place
    return Variant(
        data, start, stop, variant.etag, variant.ok_headers, variant.not_modified_headers
    )


def _variant(
    representation: Representation, encoding: Encoding, place: _Place, shared: _Shared
) -> Variant:
    data, start, stop = place
    ok = [*headers_for(representation, encoding), ("Content-Length", str(stop - start))]
    not_modified = not_modified_headers_for(representation, encoding)
    return Variant(
        data,
        start,
        stop,
        dict(ok)["ETag"],
        [shared.setdefault(field, field) for field in ok],
        [shared.setdefault(field, field) for field in not_modified],
    )
