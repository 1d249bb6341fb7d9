"""A catalog read in parts, one per process of `feeds build`: each process reads a run of
consecutive entries as one document (`read_part`), with the same proofs as the
incremental reader (`catalog.chunk_reader`), and the runs are put together into the
catalog `parse_catalog` gives (`join_parts`)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from ..model import Catalog, Entry, Feed
from . import DEFAULT_MAX_BYTES
from .assemble import EntryReader
from .chunk_reader import (
    DOCUMENT_HEAD,
    HEAD_LINES,
    NotProvable,
    OneEntry,
    at_line,
    check_ids,
    compose_alone,
    name_entries,
    only_key,
    read_feed,
)
from .errors import Problems
from .incremental import CatalogParser
from .layout import Layout, split


@dataclass(frozen=True)
class Parts:
    """A file of the usual shape cut into runs of consecutive entries, for processes
    that each read one run (`read_part`) and then put the runs together (`join_parts`).

    Every process makes the same `Parts` from the same bytes. A run is read as one
    document (`entries:` and its chunks' lines): one libyaml parse per process, not one
    per entry, so two processes read a 10k-entry file in about half the time of one.
    """

    data: bytes
    layout: Layout
    bounds: tuple[int, ...]  # chunk index where each run starts, then the chunk count

    @classmethod
    def of(cls, data: bytes, count: int, max_bytes: int = DEFAULT_MAX_BYTES) -> Parts | None:
        """`data` cut into `count` runs of about equal size; None when it is not of the
        usual shape (or too large: the full reader says so)."""
        if len(data) > max_bytes:
            return None
        layout = split(data)
        if layout is None or len(layout.chunks) < count:
            return None
        step = len(layout.chunks) / count
        bounds = tuple(round(step * index) for index in range(count)) + (len(layout.chunks),)
        return cls(data, layout, bounds)


def part_entry_names(parts: Parts, catalog: Catalog) -> list[tuple[bytes, Entry]]:
    """`name_entries` for a catalog put together from `parts` (`join_parts`)."""
    try:
        zones = read_feed(parts.layout.feed)[1]
    except NotProvable:
        return []
    return name_entries(zones, parts.layout.chunks, catalog.entries)


def part_feed(parts: Parts) -> Feed | None:
    """The feed of the file being read in parts (None: the full reader will say why)."""
    try:
        return read_feed(parts.layout.feed)[0]
    except NotProvable:
        return None


def read_part(parts: Parts, index: int) -> tuple[Entry, ...] | None:
    """The entries of run `index`, at their lines in the file; None if anything at all
    is off (a problem, a run that does not read as its chunks' entries): the caller then
    reads the whole file, which reports every problem where it is."""
    start, stop = parts.bounds[index], parts.bounds[index + 1]
    chunks = parts.layout.chunks[start:stop]
    try:
        _, zones = read_feed(parts.layout.feed)
        problems = Problems("")
        reader = EntryReader(problems)
        reader.zones = zones
        text = DOCUMENT_HEAD + b"".join(chunk.text for chunk in chunks)
        root = compose_alone(text, problems, OneEntry(reader))
    except NotProvable:
        return None
    if problems or not only_key(root, "entries") or reader.count != len(chunks):
        return None
    if len(reader.entries) != len(chunks):
        return None
    # Document line 2 is the run's first line in the file.
    shift = chunks[0].line - HEAD_LINES - 1
    entries = tuple(at_line(entry, entry.line + shift) for entry in reader.entries)
    # Each entry starts inside its own chunk, as in `CatalogParser._remember`: then the
    # run read alone cut no entry differently from the whole file.
    ends = [chunk.line for chunk in chunks[1:]] + [_end_line(parts, stop)]
    if not all(
        chunk.line <= entry.line < end
        for chunk, end, entry in zip(chunks, ends, entries, strict=True)
    ):
        return None
    return entries


def _end_line(parts: Parts, stop: int) -> int:
    """The line after the last line of chunk `stop - 1`."""
    chunks = parts.layout.chunks
    if stop < len(chunks):
        return chunks[stop].line
    return chunks[-1].line + chunks[-1].text.count(b"\n") + 1


def join_parts(
    parser: CatalogParser | None, parts: Parts, runs: Sequence[tuple[Entry, ...]], source: str
) -> Catalog | None:
    """The Catalog of the whole file from its runs' entries (the same as `parse_catalog`
    gives), remembered by `parser` (if one is given) for the next version of the file;
    None when the runs do not make a catalog (duplicate ids across them: the full reader
    says where)."""
    entries = tuple(entry for run in runs for entry in run)
    if len(entries) != len(parts.layout.chunks):
        return None
    try:
        check_ids(entries)
        feed, _ = read_feed(parts.layout.feed)
    except NotProvable:
        return None
    version = hashlib.sha256(parts.data).hexdigest()
    catalog = Catalog(feed=feed, entries=entries, source=source, version=version)
    if parser is not None:
        parser.adopt(parts.layout, catalog, parts.data)
    return catalog
