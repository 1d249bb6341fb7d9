"""Re-reading a catalog after an edit: only the entries whose text changed are parsed.

    parser = CatalogParser()
    catalog = parser.parse(data, "entries.yaml")   # same result as parse_catalog(data, ...)

A server re-reads its catalog after every save, and a save usually changes one entry
of thousands; reading all 10,000 entries again takes seconds, dominated by YAML
parsing. `CatalogParser` splits the file into its `feed:` block and one chunk of text
per entry (`layout.split`), and keeps, from its last good parse, the `Entry` each chunk
produced, keyed by the chunk's text and the feed's zones (the only thing an entry's
checks take from the feed). A chunk seen before costs a dictionary lookup; a new one
is parsed and checked alone, as the document `entries:\\n<chunk>`, with the same code
as the full reader, then its line numbers are moved to where the chunk sits.

After a good parse the next version is not even split whole: `edit_layout.edited` finds
the bytes that differ and splits only the chunks around them, and the entries before
and after those are the last catalog's (moved by the lines the edit added or removed),
so a save that changes one entry of 10,000 costs a few milliseconds, most of them the
file's hash.

The result must be exactly what `parse_catalog` gives, errors included (`feeds check`,
`feeds build` and the server are one reader: tests/test_one_reader.py reads mutated
files by every path), so this is a cache in front of the full reader, not a second
one: an entry is only ever made by the full reader's own code (`EntryReader`, on the
chunk's text), and every shortcut is taken only when it is provably the same. Anything
else goes to the full reader: a file of another shape (`layout.split`: directives,
a top level other than a block mapping starting with `feed:`, CR line breaks, a
BOM ...), a chunk or a feed block with any problem at all (the full reader then
reports them with their exact lines and paths), a chunk that reads as anything but one
entry, duplicate ids. No message is ever made here: a broken file is as slow to
report as before; a good edit is fast.

The Catalog's orders (`publications`, `events`, `tags`: sorting 10,000 aware datetimes
in a dozen zones costs ~0.1 s) are carried over from the last catalog when the edit
left every entry where it was and changed nothing they are sorted by (`_carry_orders`):
the sort would make the very same comparisons, so it would give the same permutation.

The same chunks let a first read be shared (`Parts`, `read_part`, `join_parts`): each
process of `feeds build` reads a run of consecutive entries as one document, with the
same proofs, and the runs are put together into the catalog `parse_catalog` gives.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import compress
from operator import is_not

from ..model import Catalog, Entry, Feed, compare_alike
from . import DEFAULT_MAX_BYTES, parse_catalog
from .assemble import CatalogAssembler, EntryReader
from .edit_layout import Edit, Split, edited
from .errors import Problems, StopReading
from .layout import Chunk, Layout, split
from .rules import Zones, build_feed, feed_zones
from .yamlnodes import Map, Node, compose

_DOCUMENT_HEAD = b"entries:\n"  # a chunk is read as this line plus its own lines
_HEAD_LINES = 1
# Past this many new or changed entries, one full parse is faster than parsing each alone
# (libyaml's setup per document; on the 10k benchmark catalog the break-even is far above).
_MOST_MISSES_PER_PARSE = 200


class _Fallback(Exception):
    """This file (or part of it) is not for the shortcut: read it as a whole."""


class CatalogParser:
    """`parse_catalog` with a memory of the entries of the last good parse.

    One per process that re-reads a catalog (the server's watcher); not thread-safe,
    call it from one thread at a time. Memory: one catalog's chunks and entries (the
    entries are shared with the Catalog served).
    """

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        # chunk text -> its entry, and the entry's line counted from the chunk's first line;
        # valid for `_zones` (the feed's zones the entries were checked with)
        self._entries: dict[bytes, tuple[Entry, int]] = {}
        self._zones: Zones | None = None
        self._feeds: dict[bytes, tuple[Feed, Zones]] = {}
        self._catalog: Catalog | None = None  # the last good parse, whose orders we carry
        # The last good parse's file, when its entries are its chunks' in order: the next
        # version is split by its difference from it (`edit_layout`).
        self._split: Split | None = None
        self.reused = 0  # entries taken from the last parse, for logs and tests
        self.parsed = 0  # entries parsed this time by the shortcut

    def parse(self, data: bytes, source: str = "entries.yaml") -> Catalog:
        """The Catalog of `data`, or CatalogErrors: the same as `parse_catalog`."""
        self.reused = self.parsed = 0
        catalog: Catalog | None = None
        layout: Layout | None = None
        if len(data) <= self.max_bytes:
            edit = edited(self._split, data) if self._split is not None else None
            layout = edit.split.layout if edit is not None else split(data)
            if layout is not None:
                try:
                    catalog = self._shortcut(layout, edit, data, source)
                except _Fallback:
                    self.reused = self.parsed = 0
        if catalog is None:
            catalog = parse_catalog(data, source, self.max_bytes)
            self._split = None
            if layout is not None:
                self._remember(layout, catalog, data)
        if self._catalog is not None:
            _carry_orders(self._catalog, catalog)
        self._catalog = catalog
        return catalog

    def _shortcut(self, layout: Layout, edit: Edit | None, data: bytes, source: str) -> Catalog:
        """The catalog read chunk by chunk, or _Fallback (also when reading the file
        whole is faster: one libyaml parse of it all beats thousands of small ones)."""
        feed, zones = self._feed(layout.feed)
        same_zones = zones == self._zones
        if same_zones and edit is not None and self._catalog is not None:
            entries = self._edited_entries(edit, zones)
            self._split = edit.split
            return self._catalog_of(feed, zones, layout, entries, data, source)
        cache = self._entries if same_zones else {}  # entries checked with other zones: no
        if sum(1 for chunk in layout.chunks if chunk.text not in cache) > _MOST_MISSES_PER_PARSE:
            raise _Fallback
        entries = self._chunk_entries(layout, zones, cache)
        self._split = Split.of(data, layout)
        return self._catalog_of(feed, zones, layout, entries, data, source)

    def _chunk_entries(
        self, layout: Layout, zones: Zones, cache: dict[bytes, tuple[Entry, int]]
    ) -> tuple[Entry, ...]:
        """Every chunk's entry, from the cache or read now."""
        entries: dict[bytes, tuple[Entry, int]] = {}
        for chunk in layout.chunks:
            entries[chunk.text] = self._entry(chunk, zones, cache)
        if len(entries) != len(layout.chunks):
            raise _Fallback  # two chunks with the same text: duplicate ids
        _check_ids(entry for entry, _ in entries.values())
        self._entries = entries
        return tuple(entry for entry, _ in entries.values())

    def _edited_entries(self, edit: Edit, zones: Zones) -> tuple[Entry, ...]:
        """The last catalog's entries with those of the edited chunks replaced, and the
        ones after them moved by the lines the edit added or removed."""
        assert self._catalog is not None and self._split is not None
        chunks = edit.split.layout.chunks
        middle = chunks[edit.first : edit.first + edit.count]
        if sum(1 for chunk in middle if chunk.text not in self._entries) > _MOST_MISSES_PER_PARSE:
            raise _Fallback
        read = [self._entry(chunk, zones, self._entries) for chunk in middle]
        before, after = self._catalog.entries[: edit.first], self._catalog.entries[edit.end :]
        if edit.lines:
            after = tuple(_at_line(entry, entry.line + edit.lines) for entry in after)
        entries = before + tuple(entry for entry, _ in read) + after
        _check_ids(entries)
        self.reused += len(entries) - len(middle)
        # The cache follows: the replaced chunks out, the new ones in, the moved ones moved.
        for chunk in self._split.layout.chunks[edit.first : edit.end]:
            del self._entries[chunk.text]
        self._entries.update((chunk.text, known) for chunk, known in zip(middle, read, strict=True))
        if edit.lines:
            moved = chunks[edit.first + edit.count :]
            for chunk, entry in zip(moved, after, strict=True):
                self._entries[chunk.text] = (entry, self._entries[chunk.text][1])
        return entries

    def _entry(
        self, chunk: Chunk, zones: Zones, cache: dict[bytes, tuple[Entry, int]]
    ) -> tuple[Entry, int]:
        """The chunk's entry at the chunk's line, and its offset in the chunk."""
        known = cache.get(chunk.text)
        if known is None:
            self.parsed += 1
            return _read_entry(chunk, zones)
        self.reused += 1
        entry, offset = known
        return _at_line(entry, chunk.line + offset), offset

    def _catalog_of(
        self,
        feed: Feed,
        zones: Zones,
        layout: Layout,
        entries: tuple[Entry, ...],
        data: bytes,
        source: str,
    ) -> Catalog:
        self._zones = zones
        self._feeds = {layout.feed: (feed, zones)}
        version = hashlib.sha256(data).hexdigest()
        return Catalog(feed=feed, entries=entries, source=source, version=version)

    def _remember(self, layout: Layout, catalog: Catalog, data: bytes) -> None:
        """Fill the cache from a full parse of a file of the usual shape.

        Chunk i gave entry i when there are as many chunks as entries and each entry
        starts within its chunk: every item of the list starts a chunk (a line at the
        list's indentation beginning with `- `), so equal counts leave no chunk that is
        not an item (such as a line inside a quoted text that looks like one).
        """
        chunks = layout.chunks
        if len(chunks) != len(catalog.entries):
            return
        last = chunks[-1]
        ends = [chunk.line for chunk in chunks[1:]] + [last.line + last.text.count(b"\n")]
        pairs = zip(chunks, ends, catalog.entries, strict=True)
        if not all(chunk.line <= entry.line < end for chunk, end, entry in pairs):
            return
        try:
            feed, zones = self._feed(layout.feed)
        except _Fallback:
            return
        self._entries = {
            chunk.text: (entry, entry.line - chunk.line)
            for chunk, entry in zip(chunks, catalog.entries, strict=True)
        }
        self._zones = zones
        self._feeds = {layout.feed: (feed, zones)}
        self._split = Split.of(data, layout)

    def entry_names(self, catalog: Catalog) -> list[tuple[bytes, Entry]]:
        """The entries of `catalog`, the last good parse, each with a name for its source
        (`name_entries`); none for another catalog, or when that parse's entries were not
        its chunks' in order."""
        if self._split is None or self._catalog is not catalog or self._zones is None:
            return []
        return name_entries(self._zones, self._split.layout.chunks, self._catalog.entries)

    def _feed(self, text: bytes) -> tuple[Feed, Zones]:
        known = self._feeds.get(text)
        if known is None:
            known = _read_feed(text)
        return known


def _check_ids(entries: Iterable[Entry]) -> None:
    entries = tuple(entries)
    ids = [entry.id for entry in entries]
    if len(set(ids)) != len(ids):
        raise _Fallback  # duplicate ids: the full reader says where each one is
    # The same for ids kept from an earlier publisher (legacy_id, event.uid).
    for kept in (
        [entry.legacy_id for entry in entries if entry.legacy_id is not None],
        [entry.event.uid for entry in entries if entry.event and entry.event.uid is not None],
    ):
        if len(set(kept)) != len(kept):
            raise _Fallback


def _read_feed(text: bytes) -> tuple[Feed, Zones]:
    """The `feed:` block read alone: it must be a mapping with that one key, no problem."""
    problems = Problems("")
    assembler = CatalogAssembler(problems)
    root = _compose(text, problems, assembler)
    if not _only_key(root, "feed") or assembler.feed_fields is None:
        raise _Fallback
    feed = build_feed(assembler.feed_fields)
    if feed is None or problems:
        raise _Fallback
    return feed, feed_zones(assembler.feed_fields)


class _OneEntry:
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


def _read_entry(chunk: Chunk, zones: Zones) -> tuple[Entry, int]:
    """One chunk read as `entries:` + its lines: exactly one entry and no problem, or
    _Fallback. Also gives the entry's line counted from the chunk's first line."""
    problems = Problems("")
    reader = EntryReader(problems)
    reader.zones = zones
    root = _compose(_DOCUMENT_HEAD + chunk.text, problems, _OneEntry(reader))
    if problems or not _only_key(root, "entries") or reader.count != 1 or not reader.entries:
        raise _Fallback
    entry = reader.entries[0]
    offset = entry.line - _HEAD_LINES - 1  # the chunk's first line is the document's second
    return _at_line(entry, chunk.line + offset), offset


def _compose(text: bytes, problems: Problems, hooks: CatalogAssembler | _OneEntry) -> Node | None:
    try:
        root = compose(text, problems, hooks)
    except StopReading:
        raise _Fallback from None
    if problems:
        raise _Fallback
    return root


def _only_key(root: Node | None, key: str) -> bool:
    return isinstance(root, Map) and list(root.fields) == [key]


def _at_line(entry: Entry, line: int) -> Entry:
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


# --- orders carried from the last catalog ------------------------------------------------

# What each order of `model.Catalog` sorts its entries by (see the properties there).
_ORDER_KEYS: dict[str, Callable[[Entry], object]] = {
    "publications": lambda entry: (entry.id, entry.published),
    "events": lambda entry: (entry.id, entry.event.start if entry.event else None),
    "tags": lambda entry: entry.tags,
}


def _carry_orders(previous: Catalog, catalog: Catalog) -> None:
    """Give `catalog` the orders `previous` computed, with its replaced entries swapped
    in, where that is what computing them would give.

    It is when the entries differ only where one entry replaced another at the same
    position with sort keys that compare exactly alike (`model.compare_alike`): sorting
    then makes the same comparisons with the same outcomes, so it gives the same
    permutation. Else the order is left to be computed (a `cached_property`, which this
    fills by assignment).
    """
    if len(previous.entries) != len(catalog.entries):
        return
    positions = list(
        compress(range(len(catalog.entries)), map(is_not, previous.entries, catalog.entries))
    )
    pairs = [(previous.entries[i], catalog.entries[i]) for i in positions]
    swapped = {id(old): new for old, new in pairs}
    for name, key in _ORDER_KEYS.items():
        order = previous.__dict__.get(name)  # where cached_property keeps a computed order
        if order is None or not all(compare_alike(key(old), key(new)) for old, new in pairs):
            continue
        if name != "tags":
            order = tuple([swapped.get(id(entry), entry) for entry in order])
        object.__setattr__(catalog, name, order)  # frozen: assign past its __setattr__


# --- a catalog read in parts, one per process --------------------------------------------


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


def part_entry_names(parts: Parts, catalog: Catalog) -> list[tuple[bytes, Entry]]:
    """`name_entries` for a catalog put together from `parts` (`join_parts`)."""
    try:
        zones = _read_feed(parts.layout.feed)[1]
    except _Fallback:
        return []
    return name_entries(zones, parts.layout.chunks, catalog.entries)


def part_feed(parts: Parts) -> Feed | None:
    """The feed of the file being read in parts (None: the full reader will say why)."""
    try:
        return _read_feed(parts.layout.feed)[0]
    except _Fallback:
        return None


def read_part(parts: Parts, index: int) -> tuple[Entry, ...] | None:
    """The entries of run `index`, at their lines in the file; None if anything at all
    is off (a problem, a run that does not read as its chunks' entries): the caller then
    reads the whole file, which reports every problem where it is."""
    start, stop = parts.bounds[index], parts.bounds[index + 1]
    chunks = parts.layout.chunks[start:stop]
    try:
        _, zones = _read_feed(parts.layout.feed)
        problems = Problems("")
        reader = EntryReader(problems)
        reader.zones = zones
        text = _DOCUMENT_HEAD + b"".join(chunk.text for chunk in chunks)
        root = _compose(text, problems, _OneEntry(reader))
    except _Fallback:
        return None
    if problems or not _only_key(root, "entries") or reader.count != len(chunks):
        return None
    if len(reader.entries) != len(chunks):
        return None
    # Document line 2 is the run's first line in the file.
    shift = chunks[0].line - _HEAD_LINES - 1
    entries = tuple(_at_line(entry, entry.line + shift) for entry in reader.entries)
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
        _check_ids(entries)
        feed, _ = _read_feed(parts.layout.feed)
    except _Fallback:
        return None
    version = hashlib.sha256(parts.data).hexdigest()
    catalog = Catalog(feed=feed, entries=entries, source=source, version=version)
    if parser is not None:
        parser._remember(parts.layout, catalog, parts.data)
        parser._catalog = catalog
    return catalog
