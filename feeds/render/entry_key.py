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

from collections.abc import Callable, Iterable
from typing import Any, cast

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

    def __reduce__(self) -> tuple[Callable[[Feed, Any], EntryKey], tuple[Feed, Any]]:
        # Rebuilt (hash recomputed) when unpickled: string hashes differ between processes.
        # An entry of the catalog being built goes by its name (see `use_entry_names`).
        named = _NAMES.get(id(self.entry))
        if named is not None and named[0] is self.entry:
            return (_named_key, (self.feed, named[1]))
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


# --- Keys saved by name -----------------------------------------------------------------------
#
# A memo table saved by `feeds build` has an EntryKey for each entry it rendered; pickled
# whole, the keys cost 0.1-0.19 s of a 0.2-0.3 s save at 10k (each process), and as much
# to load again. The entries of the catalog being built have names instead: a digest of
# the text each was read from and the zones it was checked with
# (`catalog.chunk_reader.name_entries`), which read again give an equal Entry. A key is
# saved as (feed, name), and loaded as the key of this build's entry of that name, the
# very object the renderers ask with; a name this build does not have (the entry was
# edited or removed) gives a key equal to no other, whose value the build's sweep drops.

_NAMES: dict[int, tuple[Entry, bytes]] = {}  # id(entry) -> (entry, name): for saving
_NAMED: dict[bytes, Entry] = {}  # name -> entry: for loading
_named_feed: Feed | None = None  # the catalog's feed, which equal loaded feeds become
_loaded_feed: tuple[Feed, Feed] | None = None  # the last loaded feed, and what it became


def use_entry_names(feed: Feed, named: Iterable[tuple[bytes, Entry]]) -> None:
    """Save and load the keys of these entries (of the catalog of `feed`) by name, until
    the next call; an entry not named is saved whole, as before."""
    global _named_feed, _loaded_feed
    _NAMES.clear()
    _NAMED.clear()
    for name, entry in named:
        _NAMES[id(entry)] = (entry, name)
        _NAMED[name] = entry
    _named_feed, _loaded_feed = feed, None


def _named_key(feed: Feed, name: bytes) -> EntryKey:
    """The key of the entry called `name`, unpickled (see `use_entry_names`)."""
    global _loaded_feed
    # One unpickled Feed per file (pickle shares it): compared once, not per key.
    if _loaded_feed is None or _loaded_feed[0] is not feed:
        current = _named_feed
        _loaded_feed = (feed, current if current is not None and feed == current else feed)
    feed = _loaded_feed[1]
    entry = _NAMED.get(name)
    if entry is None:
        return EntryKey._make(feed, cast(Entry, _Unknown()))
    return EntryKey(feed, entry)


class _Unknown:
    """Stands for an entry that a saved key names and this build does not have."""

    __slots__ = ()
