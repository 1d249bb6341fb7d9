"""`EntryKey`: the memo key of what is rendered from one entry of one feed.

A frozen dataclass computes its hash anew on every call, and an Entry's walks every
field (dates with their zones, the event, the tags): about two microseconds. A memo
table hashes a key when it is read, when it is marked used and again when the table is
swept after the build, for each of the ~10,000 entries of each format, so the key
computes the hash of (feed, entry) once and keeps it. Equality is still the content's
(checked by identity first).
"""

from __future__ import annotations

from ..model import Entry, Feed


class EntryKey:
    __slots__ = ("_hash", "entry", "feed")

    def __init__(self, feed: Feed, entry: Entry) -> None:
        self.feed = feed
        self.entry = entry
        self._hash = hash((_feed_hash(feed), entry))

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EntryKey):
            return NotImplemented
        # Identity first: a reload hands over unchanged entries as the same objects, and a
        # dataclass's == builds two tuples of all its fields before comparing them.
        return (
            self._hash == other._hash
            and (self.entry is other.entry or self.entry == other.entry)
            and (self.feed is other.feed or self.feed == other.feed)
        )

    def __reduce__(self) -> tuple[type[EntryKey], tuple[Feed, Entry]]:
        # Rebuilt (hash recomputed) when unpickled: string hashes differ between processes.
        return (EntryKey, (self.feed, self.entry))


# The hash of the feed the last key was for: every key of a build has the same Feed.
_last_feed: tuple[Feed, int] | None = None


def _feed_hash(feed: Feed) -> int:
    global _last_feed
    last = _last_feed
    if last is None or last[0] is not feed:
        last = _last_feed = (feed, hash(feed))
    return last[1]
