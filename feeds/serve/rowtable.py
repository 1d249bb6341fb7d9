"""The rows of a shared pack as a flat table that workers map rather than unpickle.

Unpickled, the rows of a 100k-entry Site (150,000 tuples with their strings, dates and
offsets) cost every worker ~100 MB of private heap. Mapped read-only, a table of plain
bytes and integers costs them nothing private: its pages are the page cache's, one copy
for all workers, and only the rows of paths actually requested are ever read.

    header   magic, row count, slot count, where each part starts
    records  one fixed-width record per row (`_RECORD`): string places, offsets, flags
    slots    an open-addressing hash index: slot -> record number + 1 (0: empty),
             by CRC-32 of the path's UTF-8 bytes, linear probing, at most half full
    strings  paths, content types and ETags as UTF-8, each content type stored once

It is data, never code: reading it is `struct` and slicing, nothing is deserialised
into objects by type. The sealed index names the table with its BLAKE2b digest, checked
once when a worker maps it, so a table the builder did not write is never served.
"""

from __future__ import annotations

import hashlib
import mmap
import struct
import zlib
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta

RawRow = tuple[
    str, str, str, str | None, datetime, bool, bool, int, tuple[int, int], tuple[int, int] | None
]

_MAGIC = b"feeds-rowtable-1"
_HEADER = struct.Struct("<16sIIQQQ")  # magic, rows, slots, records at, slots at, strings at
# path, content type, etag, gzip etag (at, length each); Last-Modified (microseconds
# since the epoch); body and gzip body (offset, length each); max-age; flags.
_RECORD = struct.Struct("<IIIIIIIIqQQQQqB")
_SLOT = struct.Struct("<I")
_CORS, _FRAMEABLE, _GZIP = 1, 2, 4
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


class BadTable(ValueError):
    """A table that is not one `encode` wrote (damaged, truncated or foreign)."""


def digest(data: bytes | mmap.mmap) -> str:
    return hashlib.blake2b(data, digest_size=32).hexdigest()


def encode(rows: Iterable[RawRow]) -> bytes:
    """The table of `rows` (their paths distinct)."""
    rows = list(rows)
    strings = bytearray()
    placed: dict[str, tuple[int, int]] = {}  # content types repeat: stored once

    def place(text: str, share: bool = False) -> tuple[int, int]:
        if share and text in placed:
            return placed[text]
        data = text.encode("utf-8")
        where = (len(strings), len(data))
        strings.extend(data)
        if share:
            placed[text] = where
        return where

    slot_count = 8
    while slot_count < 2 * len(rows):
        slot_count *= 2
    slots = [0] * slot_count
    records = bytearray()
    for number, row in enumerate(rows):
        path, content_type, etag, gzip_etag, moment, cors, frameable, max_age, body, gz = row
        path_place = place(path)
        slot = _hash(path.encode("utf-8")) & (slot_count - 1)
        while slots[slot]:
            slot = (slot + 1) & (slot_count - 1)
        slots[slot] = number + 1
        flags = (_CORS if cors else 0) | (_FRAMEABLE if frameable else 0)
        flags |= _GZIP if gzip_etag is not None else 0
        records += _RECORD.pack(
            *path_place,
            *place(content_type, share=True),
            *place(etag),
            *(place(gzip_etag) if gzip_etag is not None else (0, 0)),
            _microseconds(moment),
            *body,
            *(gz if gz is not None else (0, 0)),
            max_age,
            flags,
        )
    records_at = _HEADER.size
    slots_at = records_at + len(records)
    strings_at = slots_at + slot_count * _SLOT.size
    header = _HEADER.pack(_MAGIC, len(rows), slot_count, records_at, slots_at, strings_at)
    return b"".join([header, records, struct.pack(f"<{slot_count}I", *slots), strings])


class RowTable:
    """A table `encode` wrote, read in place (`data` is typically a read-only mmap)."""

    def __init__(self, data: bytes | mmap.mmap) -> None:
        if len(data) < _HEADER.size:
            raise BadTable("too short for a row table")
        magic, count, slots, records_at, slots_at, strings_at = _HEADER.unpack_from(data)
        if (
            magic != _MAGIC
            or slots < 8
            or slots & (slots - 1)
            or count > slots // 2
            or records_at != _HEADER.size
            or slots_at != records_at + count * _RECORD.size
            or strings_at != slots_at + slots * _SLOT.size
            or strings_at > len(data)
        ):
            raise BadTable("not a row table of this version of feeds")
        self._data = data
        self._count: int = count
        self._mask: int = slots - 1
        self._slots_at: int = slots_at
        self._strings_at: int = strings_at

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[RawRow]:
        return (self._row(number) for number in range(self._count))

    def get(self, path: bytes) -> RawRow | None:
        """The row of the path whose UTF-8 bytes are `path`; None if it has none."""
        number = self._find(path)
        return None if number is None else self._row(number)

    def _find(self, path: bytes) -> int | None:
        data, mask = self._data, self._mask
        slot = _hash(path) & mask
        for _ in range(mask + 1):  # bounded even in a table whose slots are all full
            (entry,) = _SLOT.unpack_from(data, self._slots_at + slot * _SLOT.size)
            if entry == 0 or entry > self._count:
                return None
            at, length = _RECORD_PATH.unpack_from(data, _HEADER.size + (entry - 1) * _RECORD.size)
            start = self._strings_at + at
            if length == len(path) and data[start : start + length] == path:
                return int(entry) - 1
            slot = (slot + 1) & mask
        return None

    def _row(self, number: int) -> RawRow:
        (
            *places,
            microseconds,
            body_at,
            body_length,
            gzip_at,
            gzip_length,
            max_age,
            flags,
        ) = _RECORD.unpack_from(self._data, _HEADER.size + number * _RECORD.size)
        path, content_type, etag, gzip_etag = (
            self._text(places[i], places[i + 1]) for i in range(0, 8, 2)
        )
        gzip = bool(flags & _GZIP)
        return (
            path,
            content_type,
            etag,
            gzip_etag if gzip else None,
            _EPOCH + microseconds * _MICROSECOND,
            bool(flags & _CORS),
            bool(flags & _FRAMEABLE),
            max_age,
            (body_at, body_length),
            (gzip_at, gzip_length) if gzip else None,
        )

    def _text(self, at: int, length: int) -> str:
        start = self._strings_at + at
        data = self._data[start : start + length]
        if len(data) != length:
            raise BadTable("a string lies outside the row table")
        return data.decode("utf-8")


_RECORD_PATH = struct.Struct("<II")  # the first two fields of a record: the path's place


def _hash(path: bytes) -> int:
    return zlib.crc32(path)


def _microseconds(moment: datetime) -> int:
    aware = moment if moment.tzinfo is not None else moment.astimezone()
    return (aware - _EPOCH) // _MICROSECOND
