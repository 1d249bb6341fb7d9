"""`EntryKey`: the memo key of what is rendered from one entry of one feed.

A frozen dataclass computes its hash anew on every call, and an Entry's walks every
field (dates with their zones, the event, the tags): about two microseconds. A memo
table hashes a key when it is read, when it is marked used and again when the table is
swept after the build, for each of the ~10,000 entries of each format, so the key
computes the hash of (feed, entry) once and keeps it. Equality is still the content's.
"""

from __future__ import annotations

from ..model import Entry, Feed


class EntryKey:
    __slots__ = ("_hash", "entry", "feed")

    def __init__(self, feed: Feed, entry: Entry) -> None:
        self.feed = feed
        self.entry = entry
        self._hash = hash((feed, entry))

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EntryKey):
            return NotImplemented
        return self._hash == other._hash and self.entry == other.entry and self.feed == other.feed

    def __reduce__(self) -> tuple[type[EntryKey], tuple[Feed, Entry]]:
        # Rebuilt (hash recomputed) when unpickled: string hashes differ between processes.
        return (EntryKey, (self.feed, self.entry))
