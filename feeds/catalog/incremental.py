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

Each piece is read alone by `catalog.chunk_reader`; the same chunks let a first read be
shared between the processes of `feeds build` (`catalog.parts`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from itertools import compress
from operator import is_not

from ..model import Catalog, Entry, Feed, compare_alike
from . import DEFAULT_MAX_BYTES, parse_catalog
from .chunk_reader import NotProvable, at_line, check_ids, name_entries, read_entry, read_feed
from .edit_layout import Edit, Split, edited
from .layout import Chunk, Layout, split
from .rules import Zones

# Past this many new or changed entries, one full parse is faster than parsing each alone
# (libyaml's setup per document; on the 10k benchmark catalog the break-even is far above).
_MOST_MISSES_PER_PARSE = 200


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
                except NotProvable:
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
        """The catalog read chunk by chunk, or NotProvable (also when reading the file
        whole is faster: one libyaml parse of it all beats thousands of small ones)."""
        feed, zones = self._feed(layout.feed)
        same_zones = zones == self._zones
        if same_zones and edit is not None and self._catalog is not None:
            entries = self._edited_entries(edit, zones)
            self._split = edit.split
            return self._catalog_of(feed, zones, layout, entries, data, source)
        cache = self._entries if same_zones else {}  # entries checked with other zones: no
        if sum(1 for chunk in layout.chunks if chunk.text not in cache) > _MOST_MISSES_PER_PARSE:
            raise NotProvable
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
            raise NotProvable  # two chunks with the same text: duplicate ids
        check_ids(entry for entry, _ in entries.values())
        self._entries = entries
        return tuple(entry for entry, _ in entries.values())

    def _edited_entries(self, edit: Edit, zones: Zones) -> tuple[Entry, ...]:
        """The last catalog's entries with those of the edited chunks replaced, and the
        ones after them moved by the lines the edit added or removed."""
        assert self._catalog is not None and self._split is not None
        chunks = edit.split.layout.chunks
        middle = chunks[edit.first : edit.first + edit.count]
        if sum(1 for chunk in middle if chunk.text not in self._entries) > _MOST_MISSES_PER_PARSE:
            raise NotProvable
        read = [self._entry(chunk, zones, self._entries) for chunk in middle]
        before, after = self._catalog.entries[: edit.first], self._catalog.entries[edit.end :]
        if edit.lines:
            after = tuple(at_line(entry, entry.line + edit.lines) for entry in after)
        entries = before + tuple(entry for entry, _ in read) + after
        check_ids(entries)
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
            return read_entry(chunk, zones)
        self.reused += 1
        entry, offset = known
        return at_line(entry, chunk.line + offset), offset

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
        except NotProvable:
            return
        self._entries = {
            chunk.text: (entry, entry.line - chunk.line)
            for chunk, entry in zip(chunks, catalog.entries, strict=True)
        }
        self._zones = zones
        self._feeds = {layout.feed: (feed, zones)}
        self._split = Split.of(data, layout)

    def adopt(self, layout: Layout, catalog: Catalog, data: bytes) -> None:
        """Take `catalog`, read from `data` by other means (`catalog.parts`), as the last
        good parse."""
        self._remember(layout, catalog, data)
        self._catalog = catalog

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
            known = read_feed(text)
        return known


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
