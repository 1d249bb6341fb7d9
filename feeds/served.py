"""What a request is answered from: every Output with its header lists prepared.

A `View` maps PATH_INFO to a `Served`: one `Variant` per encoding, each with the header
list of its 200 and of its 304, ready to hand to `start_response`. Preparing them takes
a few microseconds an output, which over a 10k-entry Site (tens of thousands of
outputs) is a noticeable part of a reload; `ViewMaker` therefore keeps the last View's
and reuses what an unchanged output needs: the same representation (type, ETag,
Last-Modified, policy flags) means the same header lists.

A body is `data[start:stop]`: `data` is the bytes of an Output (a full slice of bytes
is the bytes object itself, no copy), or the memory-mapped blob file of a shared pack
(`feeds.pack`), sliced per request so that a body never sent is never resident.
"""

from __future__ import annotations

import mmap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from .headers import Encoding, Headers, Representation, headers_for, not_modified_headers_for
from .pack import Mapped, RawRow, Row
from .site import Output

Body = bytes | mmap.mmap


@dataclass(frozen=True, slots=True)
class Variant:
    """One encoding of an output, with its answers ready to send."""

    data: Body
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
_Place = tuple[Body, int, int]
# Header fields repeat across outputs (the same CSP, Last-Modified, Cache-Control ...):
# one tuple per distinct field, so that thousands of outputs cost little memory.
_Shared = dict[tuple[str, str], tuple[str, str]]


def wsgi_key(path: str) -> str:
    """A Site path as WSGI spells PATH_INFO (the raw bytes decoded as latin-1, PEP 3333)."""
    return path.encode("utf-8").decode("latin-1")


def site_tags(paths: Iterable[str]) -> frozenset[str]:
    """The tags that have a page (`/tags/<tag>/`): what `/embed/?tag=` may name."""
    parts = (path.split("/") for path in paths if path.startswith("/tags/"))
    return frozenset(p[2] for p in parts if len(p) == 4 and p[3] == "")


class ViewMaker:
    """Makes Views, reusing the header lists of every output unchanged since the last.

    Not thread-safe: one maker per watcher, called from its checking thread.
    """

    def __init__(self) -> None:
        self._last: Mapping[str, Served] = {}
        # from_pack: the last rows by path, with their PATH_INFO and Served, and the mapping
        self._last_rows: dict[str, tuple[RawRow, str, Served]] = {}
        self._last_blobs: mmap.mmap | None = None
        self._tags: frozenset[str] = frozenset()

    def from_outputs(self, outputs: Iterable[Output], version: str) -> View:
        """A View of in-memory Outputs (a Site built in this process)."""
        places = (
            (
                output.path,
                output,
                (output.body, 0, len(output.body)),
                (output.gzip_body, 0, len(output.gzip_body))
                if output.gzip_body is not None
                else None,
            )
            for output in outputs
        )
        return self._make(places, version)

    def from_pack(self, mapped: Mapped) -> View | None:
        """A View of a shared pack (None while it has no good build).

        A row equal to the last one for its path, in the same mapping, keeps its Served
        as is: comparing two tuples is all an unchanged output costs a worker.
        """
        index, blobs = mapped.index, mapped.blobs
        if index.rows is None or blobs is None or index.version is None:
            return None
        last, last_blobs = self._last_rows, self._last_blobs
        rows: dict[str, tuple[RawRow, str, Served]] = {}
        served: dict[str, Served] = {}
        shared: _Shared = {}
        for raw in index.rows:
            path = raw[0]
            known = last.get(path) if blobs is last_blobs else None
            if known is not None and known[0] == raw:
                key, answer = known[1], known[2]
            else:
                key = wsgi_key(path)
                previous = known[2] if known is not None else self._last.get(key)
                answer = _served(*_row_places(Row._make(raw), blobs), previous, shared)
            rows[path] = (raw, key, answer)
            served[key] = answer
        if rows.keys() != last.keys():
            self._tags = site_tags(served)  # the same paths, the same tag pages
        self._last_rows, self._last_blobs, self._last = rows, blobs, served
        return View(served, index.version, self._tags)

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
