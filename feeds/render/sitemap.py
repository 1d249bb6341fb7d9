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
from ..model import Catalog, Feed

SITEMAP_PATH = "/sitemap.xml"
ROBOTS_PATH = "/robots.txt"
MAX_URLS = 50_000  # per sitemap file (the protocol's limit)

_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
# What the protocol requires escaped in <loc>, `&` first.
_ENTITIES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("'", "&apos;"), ('"', "&quot;"))
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Page = tuple[str, datetime | None]  # (Site path, lastmod)


def render(catalog: Catalog) -> dict[str, bytes]:
    return render_sitemaps(catalog, MAX_URLS)


def render_sitemaps(catalog: Catalog, max_urls: int) -> dict[str, bytes]:
    """The sitemap (or index and its parts, past `max_urls` pages) and robots.txt."""
    feed = catalog.feed
    found = pages(catalog)
    outputs = {ROBOTS_PATH: robots_txt(feed)}
    if len(found) <= max_urls:
        outputs[SITEMAP_PATH] = _urlset(feed, found)
        return outputs
    parts = [found[start : start + max_urls] for start in range(0, len(found), max_urls)]
    index: list[Page] = []
    for number, part in enumerate(parts, 1):
        path = f"/sitemaps/{number}.xml"
        outputs[path] = _urlset(feed, part)
        index.append((path, _latest(lastmod for _, lastmod in part)))
    outputs[SITEMAP_PATH] = _document(feed, "sitemapindex", "sitemap", index)
    return outputs


def pages(catalog: Catalog) -> list[Page]:
    """Every HTML page of the Site but /embed/ and /404.html, each once, in a stable
    order: the home page, /events/, /subscribe/, the tags', the entries' (file order)."""
    home, events, tags = _newest(catalog)
    found: list[Page] = [
        ("/", home),
        ("/events/", events),
        ("/subscribe/", None),  # the feeds' addresses: no entry's date says when it changed
    ]
    found += [(ids.tag_path(tag), tags.get(tag)) for tag in catalog.tags]
    found += [(ids.entry_page_path(e.id), e.modified) for e in catalog.entries]
    return found


def _newest(catalog: Catalog) -> tuple[datetime | None, datetime | None, dict[str, datetime]]:
    """The newest `modified` of all entries, of the events and of each tag's entries, in
    one pass. Compared by instant (equal instants in other zones alike), each entry's
    offset from the epoch computed once: comparing aware datetimes of different zones
    looks both offsets up at every comparison."""
    since: dict[str | None, timedelta] = {}
    newest: dict[str | None, datetime] = {}
    for entry in catalog.entries:
        modified = entry.modified
        if modified is None:
            continue
        instant = modified - _EPOCH
        # None: the home page; "": /events/ (no tag is empty); else the tag's page
        for key in (None, "" if entry.event is not None else None, *entry.tags):
            if key not in since or instant > since[key]:
                since[key], newest[key] = instant, modified
    home, events = newest.pop(None, None), newest.pop("", None)
    return home, events, {tag: stamp for tag, stamp in newest.items() if tag}


def _latest(stamps: Iterable[datetime | None]) -> datetime | None:
    return max((s for s in stamps if s is not None), key=lambda s: s - _EPOCH, default=None)


def _urlset(feed: Feed, found: list[Page]) -> bytes:
    return _document(feed, "urlset", "url", found)


def _document(feed: Feed, root: str, element: str, found: list[Page]) -> bytes:
    lines = [_HEAD, f'<{root} xmlns="{_NS}">\n']
    for path, lastmod in found:
        # W3C Datetime with the entry's own offset, as the catalog gives it
        stamp = f"<lastmod>{lastmod.isoformat()}</lastmod>" if lastmod is not None else ""
        loc = _xml_escape(feed.url(path))
        lines.append(f"<{element}><loc>{loc}</loc>{stamp}</{element}>\n")
    lines.append(f"</{root}>\n")
    return "".join(lines).encode("utf-8")


def _xml_escape(text: str) -> str:
    """The protocol's entity escapes (& ' " < >), in C (str.replace)."""
    for char, entity in _ENTITIES:
        text = text.replace(char, entity)
    return text


def robots_txt(feed: Feed) -> bytes:
    return f"User-agent: *\nDisallow:\n\nSitemap: {feed.url(SITEMAP_PATH)}\n".encode()
