"""The feed documents of a catalog, independent of format: what each holds and links to.

Atom, RSS and JSON Feed render the same documents, so the three formats always agree on
which entries a document holds, its id, title, `updated` and its links:

| document                | Site path base                 | id (feeds.ids)                 |
|-------------------------|--------------------------------|--------------------------------|
| publications, live      | `/`                            | `feed_uri(feed)`               |
| publications, year Y    | `/archive/Y/`                  | `archive_uri(feed, "Y")`       |
| tag T, live             | `/tags/T/`                     | `feed_uri(feed, T)`            |
| tag T, year Y           | `/tags/T/archive/Y/`           | `archive_uri(feed, "Y", T)`    |

Each format writes `<base>feed.atom`, `<base>feed.rss` and `<base>feed.json`.

How a format writes them (`assemble`): a 10k catalog has ~470 documents and each
publication is in several of them (the live feed or a yearly archive, plus the live
feed or an archive of each of its tags). So each entry is serialized ONCE per format,
to the exact bytes it has inside a document (indentation included), and every document
is the bytes of its frame (everything but the entries: a `Frame` head and tail) with
its entries' bytes joined in between. Both kinds of pieces are kept in `feeds.memo`
tables keyed by content: entry bytes by (feed, entry) (an `EntryKey`), frames by the document's
`frame_key` (every field but the entries, plus the `updated` they give). A rebuild after
one entry is edited serializes that entry and the frames whose `updated` moved, and
joins bytes for the rest.

And a rebuild after an edit that moved no publication (a title, a summary, a link: the
usual edit) does not even walk the 10k entries of each format: `feed_documents` hands
the last build's documents over, the same objects for the documents the edit did not
touch, and each format finds those documents' bytes by identity (`Format.documents`).
Only the few documents holding an edited entry are joined again.
"""

from __future__ import annotations

import weakref
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, tzinfo
from functools import cached_property, partial
from itertools import chain, compress
from operator import is_not
from zoneinfo import ZoneInfo

from .. import ids
from ..body import Body
from ..memo import ByIdentity, Memo
from ..model import Catalog, Entry, Feed
from .archive import archive_year, partition
from .entry_key import EntryKey

# `updated` of a document without entries: fixed, so that an empty feed is still
# byte-stable (never the build time). Same instant as feeds.site's Last-Modified fallback.
EMPTY_FEED_UPDATED = datetime(2000, 1, 1, tzinfo=UTC)

# Category schemes: a tag's scheme is the folder of the tag pages (scheme + term is the
# tag's page), the entry type is a free label, so its scheme is a tag: URI of our own.
TYPE_SCHEME_SUFFIX = ":type"


@dataclass(frozen=True)
class Category:
    term: str
    scheme: str


@dataclass(frozen=True)
class FeedDocument:
    feed: Feed
    base: str  # Site path prefix ending in "/"; the document is `<base>feed.<ext>`
    id: str
    title: str
    entries: tuple[Entry, ...]  # newest first
    page_url: str  # absolute URL of the HTML page that lists the same publications
    tag: str | None = None
    year: int | None = None  # set on archive documents only
    current: str | None = None  # archives: base of the live document
    prev_archive: str | None = None  # base of the next older archive
    next_archive: str | None = None  # base of the next newer archive

    @property
    def is_archive(self) -> bool:
        return self.year is not None

    @cached_property
    def updated(self) -> datetime:
        """Newest `modified` of the entries held: moves only when one of them changes."""
        stamps = [entry.modified for entry in self.entries if entry.modified is not None]
        return max(stamps) if stamps else EMPTY_FEED_UPDATED

    @property
    def subtitle(self) -> str:
        return self.feed.subtitle or self.feed.title

    def path(self, extension: str) -> str:
        return f"{self.base}feed.{extension}"

    def url(self, extension: str) -> str:
        return self.feed.url(self.path(extension))

    @property
    def frame_key(self) -> Hashable:
        """Everything a document's frame depends on: all fields but the entries, whose
        newest `modified` (the frame's `updated`) and presence it does depend on."""
        return (
            self.feed,
            self.base,
            self.id,
            self.title,
            self.page_url,
            self.tag,
            self.year,
            self.current,
            self.prev_archive,
            self.next_archive,
            self.updated,
            bool(self.entries),
        )


@dataclass(frozen=True)
class Frame:
    """A serialized document without its entries: they go, joined by `separator`, between
    `head` and `tail` (a document without entries is its head and tail)."""

    head: bytes
    tail: bytes
    separator: bytes = b""

    def wrap(self, fragments: Iterable[bytes]) -> bytes:
        return b"".join(chain((self.head,), self._separated(fragments), (self.tail,)))

    def _separated(self, fragments: Iterable[bytes]) -> Iterable[bytes]:
        return (self.separator.join(fragments),) if self.separator else fragments


@dataclass(frozen=True)
class Format:
    """How one format serializes the two kinds of pieces `assemble` joins, and the tables
    that keep them (and whole documents) between builds."""

    extension: str  # "atom": documents are `<base>feed.atom`
    frame: Callable[[FeedDocument], Frame]
    entry: Callable[[Feed, Entry], bytes]  # the entry's bytes as they sit in a document
    frames: Memo[Hashable, Frame]
    entries: Memo[EntryKey, bytes]
    documents: ByIdentity[FeedDocument, Body]  # a document handed over by `feed_documents`


def assemble(catalog: Catalog, fmt: Format) -> dict[str, Body]:
    """Every feed document of `catalog` in one format: {Site path: its Body}.

    A document that `feed_documents` handed over unchanged from the last build is the
    same object, whose bytes are found by identity; only the others are joined.
    """
    feed = catalog.feed
    # Entry bytes by object identity for this call: each publication is in several
    # documents, and one memo lookup per publication is enough.
    seen: dict[int, bytes] = {}

    def entry_bytes(entry: Entry) -> bytes:
        found = seen.get(id(entry))
        if found is None:
            compute = partial(fmt.entry, feed, entry)
            found = seen[id(entry)] = fmt.entries.get(EntryKey(feed, entry), compute)
        return found

    def document_body(document: FeedDocument) -> Body:
        frame = fmt.frames.get(document.frame_key, partial(fmt.frame, document))
        return Body.of(document.path(fmt.extension), frame.wrap(map(entry_bytes, document.entries)))

    state = _documents(catalog)
    if state.handed_over:
        # This build asks only for the pieces of the documents the edit changed: the
        # others' stay in the tables for a build that will ask (after an entry is added,
        # say), all but those of what the edit replaced.
        fmt.entries.keep_previous(EntryKey(feed, entry) for entry in state.replaced_entries)
        fmt.frames.keep_previous(document.frame_key for document in state.replaced_documents)
    return {
        document.path(fmt.extension): fmt.documents.get(
            document,
            partial(document_body, document),
        )
        for document in state.documents
    }


@dataclass(frozen=True)
class _Documents:
    """The documents of the last catalog asked about (Atom, RSS and JSON Feed each ask in
    one build), and what it takes to hand them over to the next catalog."""

    catalog: weakref.ref[Catalog]  # weak: never keeps an old catalog alive
    feed: Feed
    publications: tuple[Entry, ...]  # the catalog's, which `holding` refers to
    documents: tuple[FeedDocument, ...]
    holding: dict[int, list[int]]  # id(publication) -> positions of the documents with it
    handed_over: bool = False  # from the catalog before, replacing these:
    replaced_entries: tuple[Entry, ...] = ()
    replaced_documents: tuple[FeedDocument, ...] = ()


# One slot: the documents of the last catalog. A memo table, so that it is swept with the
# others, and emptied with them by `memo.clear_all()` (a cold start).
_LAST: Memo[str, _Documents | None] = Memo("documents.last", saved=False)
_SLOT = "last"


def feed_documents(catalog: Catalog) -> tuple[FeedDocument, ...]:
    """Every feed document: the publications, then each tag, each live before its archives.

    After an edit that left every publication where it was in `catalog.publications`,
    with its tags and archive year, the documents are those of the last catalog: the
    same objects where none of their entries changed, the edited entries swapped in
    where some did (`_handed_over`). Else they are made again.
    """
    return _documents(catalog).documents


def _documents(catalog: Catalog) -> _Documents:
    last = _LAST.get(_SLOT, _no_documents)
    if last is not None and last.catalog() is catalog:
        return last
    handed_over = _handed_over(last, catalog) if last is not None else None
    current = handed_over if handed_over is not None else _made(catalog)
    _LAST.put(_SLOT, current)
    return current


def _no_documents() -> None:
    return None


def _made(catalog: Catalog) -> _Documents:
    documents = _feed_documents(catalog)
    holding: defaultdict[int, list[int]] = defaultdict(list)
    for position, document in enumerate(documents):
        for entry in document.entries:
            holding[id(entry)].append(position)
    return _Documents(
        weakref.ref(catalog), catalog.feed, catalog.publications, documents, dict(holding)
    )


def _handed_over(last: _Documents, catalog: Catalog) -> _Documents | None:
    """`last`'s documents with the publications that changed swapped in, when nothing
    that decides which document holds what changed: the feed, the order of the
    publications and each one's tags and archive year. None otherwise."""
    feed, old, new = catalog.feed, last.publications, catalog.publications
    if not (feed is last.feed or feed == last.feed) or len(old) != len(new):
        return None
    changed = list(compress(range(len(new)), map(is_not, old, new)))
    zone = feed_zone(feed)
    for position in changed:
        before, after = old[position], new[position]
        if before.tags != after.tags or archive_year(before, zone) != archive_year(after, zone):
            return None
    swapped = {id(old[position]): new[position] for position in changed}
    holding = dict(last.holding) if changed else last.holding
    for position in changed:
        holding[id(new[position])] = holding.pop(id(old[position]))
    documents = list(last.documents)
    for index in sorted({index for entry in swapped.values() for index in holding[id(entry)]}):
        document = documents[index]
        entries = tuple([swapped.get(id(entry), entry) for entry in document.entries])
        documents[index] = replace(document, entries=entries)
    replaced = tuple(
        old for old, new in zip(last.documents, documents, strict=True) if old is not new
    )
    return _Documents(
        catalog=weakref.ref(catalog),
        feed=feed,
        publications=new,
        documents=tuple(documents),
        holding=holding,
        handed_over=True,
        replaced_entries=tuple(old[position] for position in changed),
        replaced_documents=replaced,
    )


def _feed_documents(catalog: Catalog) -> tuple[FeedDocument, ...]:
    feed = catalog.feed
    documents = list(_series(feed, catalog.publications, tag=None))
    for tag, publications in _publications_by_tag(catalog).items():
        documents.extend(_series(feed, publications, tag=tag))
    return tuple(documents)


def entry_url(feed: Feed, entry: Entry) -> str:
    """The alternate (HTML) link of an entry: its own `link`, else its page on this site."""
    return entry.link or feed.url(ids.entry_page_path(entry.id))


def categories(feed: Feed, entry: Entry) -> tuple[Category, ...]:
    """Tags (scheme: the tag pages), then the entry's type label (scheme: a tag: URI)."""
    tag_scheme = feed.url("/tags/")
    found = [Category(term=tag, scheme=tag_scheme) for tag in entry.tags]
    if entry.type:
        found.append(Category(term=entry.type, scheme=type_scheme(feed)))
    return tuple(found)


def type_scheme(feed: Feed) -> str:
    return f"tag:{feed.id_authority}{TYPE_SCHEME_SUFFIX}"


def feed_zone(feed: Feed) -> tzinfo:
    return ZoneInfo(feed.timezone) if feed.timezone else UTC


def _publications_by_tag(catalog: Catalog) -> dict[str, tuple[Entry, ...]]:
    by_tag: defaultdict[str, list[Entry]] = defaultdict(list)
    for entry in catalog.publications:  # keeps newest-first order inside each tag
        for tag in entry.tags:
            by_tag[tag].append(entry)
    return {tag: tuple(by_tag[tag]) for tag in sorted(by_tag)}


def _series(feed: Feed, publications: tuple[Entry, ...], tag: str | None) -> list[FeedDocument]:
    """The live document of one feed (all publications or one tag) and its archives."""
    split = partition(publications, feed.feed_size, feed_zone(feed))
    live_base = ids.tag_path(tag) if tag else "/"
    title = f"{feed.title}: {tag}" if tag else feed.title
    page_url = feed.url(live_base)
    archive_bases = [f"{live_base}archive/{year}/" for year, _ in split.archives]
    live = FeedDocument(
        feed=feed,
        base=live_base,
        id=ids.feed_uri(feed, tag),
        title=title,
        entries=split.live,
        page_url=page_url,
        tag=tag,
        prev_archive=archive_bases[0] if archive_bases else None,
    )
    archives = [
        FeedDocument(
            feed=feed,
            base=base,
            id=ids.archive_uri(feed, str(year), tag),
            title=f"{title} ({year})",
            entries=entries,
            page_url=page_url,
            tag=tag,
            year=year,
            current=live_base,
            prev_archive=archive_bases[index + 1] if index + 1 < len(archive_bases) else None,
            next_archive=archive_bases[index - 1] if index > 0 else None,
        )
        for index, (base, (year, entries)) in enumerate(
            zip(archive_bases, split.archives, strict=True)
        )
    ]
    return [live, *archives]
