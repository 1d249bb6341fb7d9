"""One piece of a catalog read alone, with the proof that it reads as the whole file
would: the `feed:` block, one entry's chunk, a run of chunks.

The incremental reader (`catalog.incremental`) and the two processes of `feeds build`
(`catalog.parts`) read pieces of the file instead of the whole. Each piece is read with
the full reader's own code (`CatalogAssembler`, `EntryReader`) as a small document, and
taken only when that is provably what the whole file gives: no problem at all, exactly
the expected keys and entries. Anything else raises `NotProvable`, and the caller reads
the whole file, which reports every problem where it is.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from ..model import Entry, Feed
from .assemble import CatalogAssembler, EntryReader
from .errors import Problems, StopReading
from .layout import Chunk
from .rules import Zones, build_feed, feed_zones
from .yamlnodes import Map, Node, compose

DOCUMENT_HEAD = b"entries:\n"  # a chunk is read as this line plus its own lines
HEAD_LINES = 1


class NotProvable(Exception):
    """This file (or part of it) is not for the shortcut: read it as a whole."""


def check_ids(entries: Iterable[Entry]) -> None:
    entries = tuple(entries)
    ids = [entry.id for entry in entries]
    if len(set(ids)) != len(ids):
        raise NotProvable  # duplicate ids: the full reader says where each one is
    # The same for ids kept from an earlier publisher (legacy_id, event.uid).
    for kept in (
        [entry.legacy_id for entry in entries if entry.legacy_id is not None],
        [entry.event.uid for entry in entries if entry.event and entry.event.uid is not None],
    ):
        if len(set(kept)) != len(kept):
            raise NotProvable


def read_feed(text: bytes) -> tuple[Feed, Zones]:
    """The `feed:` block read alone: it must be a mapping with that one key, no problem."""
    problems = Problems("")
    assembler = CatalogAssembler(problems)
    root = compose_alone(text, problems, assembler)
    if not only_key(root, "feed") or assembler.feed_fields is None:
        raise NotProvable
    feed = build_feed(assembler.feed_fields)
    if feed is None or problems:
        raise NotProvable
    return feed, feed_zones(assembler.feed_fields)


class OneEntry:
    """`yamlnodes.TopLevelHooks` for a chunk document: checks the items of `entries:`."""

    def __init__(self, reader: EntryReader) -> None:
        self.reader = reader

    def top_value(self, key: str, key_line: int, node: Node) -> None:
        return None

    def top_item(self, key: str, node: Node) -> bool:
        if key != "entries":
            return False
        self.reader.add(node)
        return True


def read_entry(chunk: Chunk, zones: Zones) -> tuple[Entry, int]:
    """One chunk read as `entries:` + its lines: exactly one entry and no problem, or
    NotProvable. Also gives the entry's line counted from the chunk's first line."""
    problems = Problems("")
    reader = EntryReader(problems)
    reader.zones = zones
    root = compose_alone(DOCUMENT_HEAD + chunk.text, problems, OneEntry(reader))
    if problems or not only_key(root, "entries") or reader.count != 1 or not reader.entries:
        raise NotProvable
    entry = reader.entries[0]
    offset = entry.line - HEAD_LINES - 1  # the chunk's first line is the document's second
    return at_line(entry, chunk.line + offset), offset


def compose_alone(
    text: bytes, problems: Problems, hooks: CatalogAssembler | OneEntry
) -> Node | None:
    try:
        root = compose(text, problems, hooks)
    except StopReading:
        raise NotProvable from None
    if problems:
        raise NotProvable
    return root


def only_key(root: Node | None, key: str) -> bool:
    return isinstance(root, Map) and list(root.fields) == [key]


def at_line(entry: Entry, line: int) -> Entry:
    """`entry` at another line of the file (line is not part of an Entry's equality).

    A shallow copy with one attribute changed, made through the instance dict: a frozen
    dataclass refuses setattr, and `dataclasses.replace` (the whole constructor) or
    `copy.copy` cost several times more when an inserted line moves thousands of entries.
    """
    if entry.line == line:
        return entry
    moved = object.__new__(Entry)
    moved.__dict__.update(entry.__dict__)
    moved.__dict__["line"] = line
    return moved


def name_entries(
    zones: Zones, chunks: Sequence[Chunk], entries: Sequence[Entry]
) -> list[tuple[bytes, Entry]]:
    """Each entry with a name for where it came from: a digest of its chunk of text and
    of the zones it was checked with, which together give an equal Entry every time they
    are read (what `CatalogParser` relies on). A cache can then refer to an entry by name
    instead of holding a copy of it (`render.entry_key`). Empty if the counts differ."""
    if len(chunks) != len(entries):
        return []
    checked_with = repr(zones).encode() + b"\0"
    return [
        (hashlib.blake2b(checked_with + chunk.text, digest_size=16).digest(), entry)
        for chunk, entry in zip(chunks, entries, strict=True)
    ]
