"""`EntryKey`: the memo key of what is rendered from one entry of one feed.

A frozen dataclass computes its hash anew on every call, and an Entry's walks every
field (dates with their zones, the event, the tags): about two microseconds. A memo
table hashes a key when it is read, when it is marked used and again when the table is
swept after the build, for each of the ~10,000 entries of each format, so the key
computes the hash of (feed, entry) once and keeps it. Equality is still the content's
(checked by identity first).

One key per entry object: `EntryKey(feed, entry)` gives back the key made before for
that very Entry (and Feed), found by the entry's identity (`feeds.memo.ByIdentity`, a
table swept per build). A reload hands over unchanged entries as the same objects, so
all renderers of all builds share one key per entry, hashed once, and memo lookups
compare keys by identity instead of comparing entries field by field.
"""

from __future__ import annotations

from ..memo import ByIdentity
from ..model import Entry, Feed


class EntryKey:
    __slots__ = ("_hash", "entry", "feed")

    _hash: int
    entry: Entry
    feed: Feed

    def __new__(cls, feed: Feed, entry: Entry) -> EntryKey:
        key = _BY_IDENTITY.find(entry)
        if key is None or key.feed is not feed:  # unknown, or the entry in another feed
            key = cls._make(feed, entry)
            _BY_IDENTITY.put(entry, key)
        return key

    @classmethod
    def _make(cls, feed: Feed, entry: Entry) -> EntryKey:
        key = object.__new__(cls)
        key.feed = feed
        key.entry = entry
        key._hash = hash((_feed_hash(feed), entry))
        return key

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EntryKey):
            return NotImplemented
        # Identity first: a reload hands over unchanged entries as the same objects, and a
        # dataclass's == builds two tuples of all its fields before comparing them.
        return self is other or (
            self._hash == other._hash
            and (self.entry is other.entry or self.entry == other.entry)
            and (self.feed is other.feed or self.feed == other.feed)
        )

    def __reduce__(self) -> tuple[type[EntryKey], tuple[Feed, Entry]]:
        # Rebuilt (hash recomputed) when unpickled: string hashes differ between processes.
        return (EntryKey, (self.feed, self.entry))


# Each entry's key, by the entry's identity (see the module doc).
_BY_IDENTITY: ByIdentity[Entry, EntryKey] = ByIdentity("entry_key.by_identity")


# The hash of the feed the last key was for: every key of a build has the same Feed.
_last_feed: tuple[Feed, int] | None = None


def _feed_hash(feed: Feed) -> int:
    global _last_feed
    last = _last_feed
    if last is None or last[0] is not feed:
        last = _last_feed = (feed, hash(feed))
    return last[1]
