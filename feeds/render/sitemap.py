"""`/sitemap.xml` and `/robots.txt`: every HTML page of the Site, for search engines.

The sitemap (sitemaps.org protocol 0.9) lists each page once: the home page, /events/,
/subscribe/, each tag's page and each entry's, with `lastmod` from the newest
`updated` (else `published`) of the entries the page shows; a page with no dated entry
has none rather than an invented one. Not listed: the feeds and calendars (not pages),
/embed/ (a frame page marked noindex) and /404.html.

The protocol allows 50,000 URLs in one file: beyond that, /sitemap.xml is a sitemap
index of /sitemaps/1.xml, /sitemaps/2.xml ..., each of at most 50,000 (a URL here is
well under 1 KB, so a file stays far below the protocol's 50 MB too).

robots.txt allows everything and names the sitemap. Crawlers read it at the host's
root only: a Site mounted under a path (`base_url` https://example.org/feeds/) writes it
at /feeds/robots.txt, for the host's own robots.txt to take the `Sitemap:` line from.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from .. import ids
from ..body import Body
from ..memo import ByIdentity
from ..model import Catalog, Entry, Feed

SITEMAP_PATH = "/sitemap.xml"
ROBOTS_PATH = "/robots.txt"
MAX_URLS = 50_000  # per sitemap file (the protocol's limit)

_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
# What the protocol requires escaped in <loc>, `&` first.
_ENTITIES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("'", "&apos;"), ('"', "&quot;"))
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# (instant, as the catalog wrote it): lastmod is compared by the first, written as the second
_Stamp = tuple[timedelta, datetime]


def render(catalog: Catalog) -> dict[str, bytes | Body]:
    return render_sitemaps(catalog, MAX_URLS)


def render_sitemaps(catalog: Catalog, max_urls: int) -> dict[str, bytes | Body]:
    """The sitemap (or index and its parts, past `max_urls` pages) and robots.txt."""
    feed = catalog.feed
    found = pages(catalog)
    outputs: dict[str, bytes | Body] = {ROBOTS_PATH: robots_txt(feed)}
    if len(found) <= max_urls:
        outputs[SITEMAP_PATH] = _document(SITEMAP_PATH, "urlset", [line for line, _ in found])
        return outputs
    parts = [found[start : start + max_urls] for start in range(0, len(found), max_urls)]
    index: list[str] = []
    for number, part in enumerate(parts, 1):
        path = f"/sitemaps/{number}.xml"
        outputs[path] = _document(path, "urlset", [line for line, _ in part])
        index.append(_line(feed, "sitemap", path, _latest(instant for _, instant in part)))
    outputs[SITEMAP_PATH] = _document(SITEMAP_PATH, "sitemapindex", index)
    return outputs


# A page: its <url> line and the instant of its lastmod (for the index's), if any.
Page = tuple[str, _Stamp | None]


def pages(catalog: Catalog) -> list[Page]:
    """Every HTML page of the Site but /embed/ and /404.html, each once, in a stable
    order: the home page, /events/, /subscribe/, the tags', the entries' (file order)."""
    feed = catalog.feed
    entries = [_entry_page(feed, entry) for entry in catalog.entries]
    home, events, tags = _newest(catalog, [stamp for _, stamp in entries])
    found: list[Page] = [
        _page(feed, "/", home),
        _page(feed, "/events/", events),
        # the feeds' addresses: no entry's date says when it changed
        _page(feed, "/subscribe/", None),
    ]
    found += [_page(feed, ids.tag_path(tag), tags.get(tag)) for tag in catalog.tags]
    return found + entries


def _page(feed: Feed, path: str, stamp: _Stamp | None) -> Page:
    return _line(feed, "url", path, stamp), stamp


# An entry's page line and stamp, kept while the entry is the same object (a reload
# hands over the entries an edit did not touch) under the same base_url: making them
# was ~75 ms of a 0.25 s rebuild at 10k entries, mostly aware-datetime arithmetic.
_ENTRY_PAGES: ByIdentity[Entry, tuple[str, Page]] = ByIdentity("sitemap.entry")


def _entry_page(feed: Feed, entry: Entry) -> Page:
    known = _ENTRY_PAGES.find(entry)
    if known is not None and known[0] == feed.base_url:
        return known[1]
    modified = entry.modified
    stamp = (modified - _EPOCH, modified) if modified is not None else None
    page = _page(feed, ids.entry_page_path(entry.id), stamp)
    _ENTRY_PAGES.put(entry, (feed.base_url, page))
    return page


def _newest(
    catalog: Catalog, stamps: list[_Stamp | None]
) -> tuple[_Stamp | None, _Stamp | None, dict[str, _Stamp]]:
    """The newest stamp of all entries, of the events and of each tag's entries, in one
    pass. Compared by instant (equal instants in other zones alike): comparing aware
    datetimes of different zones looks both offsets up at every comparison."""
    newest: dict[str | None, _Stamp] = {}
    for entry, stamp in zip(catalog.entries, stamps, strict=True):
        if stamp is None:
            continue
        # None: the home page; "": /events/ (no tag is empty); else the tag's page
        for key in (None, "" if entry.event is not None else None, *entry.tags):
            if key not in newest or stamp[0] > newest[key][0]:
                newest[key] = stamp
    home, events = newest.pop(None, None), newest.pop("", None)
    return home, events, {tag: stamp for tag, stamp in newest.items() if tag}


def _latest(stamps: Iterable[_Stamp | None]) -> _Stamp | None:
    return max((s for s in stamps if s is not None), key=lambda s: s[0], default=None)


def _line(feed: Feed, element: str, path: str, stamp: _Stamp | None) -> str:
    # W3C Datetime with the entry's own offset, as the catalog gives it
    lastmod = f"<lastmod>{stamp[1].isoformat()}</lastmod>" if stamp is not None else ""
    loc = _xml_escape(feed.url(path))
    return f"<{element}><loc>{loc}</loc>{lastmod}</{element}>\n"


def _document(path: str, root: str, lines: list[str]) -> Body:
    """A sitemap file (one line per page: 100k entries make 12 MB, kept as gzip)."""
    text = "".join([_HEAD, f'<{root} xmlns="{_NS}">\n', *lines, f"</{root}>\n"])
    return Body.of(path, text.encode())


def _xml_escape(text: str) -> str:
    """The protocol's entity escapes (& ' " < >), in C (str.replace)."""
    for char, entity in _ENTITIES:
        text = text.replace(char, entity)
    return text


def robots_txt(feed: Feed) -> bytes:
    return f"User-agent: *\nDisallow:\n\nSitemap: {feed.url(SITEMAP_PATH)}\n".encode()
