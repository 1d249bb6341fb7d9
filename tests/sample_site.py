"""A small Site with one path of every kind the publisher serves, for export/nginx tests.

Built with `build_site` and a stand-in renderer, so these tests exercise the export and
the nginx configuration whatever state the real renderers are in; bodies are chosen so
that some outputs get a gzip variant and some do not.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from feeds.model import Catalog, Entry, Feed
from feeds.site import Site, build_site

LAST_MODIFIED = datetime(2019, 5, 21, 9, 30, 15, tzinfo=UTC)


def sample_catalog(version: str = "0123456789abcdef") -> Catalog:
    feed = Feed(
        title="Sample",
        link="https://www.example.org/",
        base_url="https://feeds.example.org/",
        id_authority="example.org,2019",
    )
    entry = Entry(id="antwerp-academy", title="Antwerp academy", published=LAST_MODIFIED)
    return Catalog(feed=feed, entries=(entry,), version=version)


def _long(text: str, repeat: int = 40) -> bytes:
    return (text * repeat).encode()


def _incompressible(size: int, seed: str) -> bytes:
    """Deterministic bytes that gzip cannot shrink (so the Output has no .gz)."""
    out = b""
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}{counter}".encode()).digest()
        counter += 1
    return out[:size]


def sample_bodies(variant: str = "") -> dict[str, bytes]:
    """Path -> body; `variant` changes every body, for old-versus-new export tests."""
    return {
        "/": _long(f"<!doctype html><title>home{variant}</title><p>Latest</p>"),
        "/events/": _long(f"<!doctype html><title>events{variant}</title>"),
        "/entries/antwerp-academy/": f"<!doctype html><p>short{variant}</p>".encode(),
        "/entries/antwerp-academy.ics": _long(f"BEGIN:VCALENDAR{variant}\r\n"),
        "/embed/": _long(f"<!doctype html><title>widget{variant}</title>"),
        "/embed.js": _long(f"customElements.define('x-{variant}w', class {{}});\n"),
        "/events.ics": _long(f"BEGIN:VCALENDAR\r\nX-WR-CALNAME:events{variant}\r\n"),
        "/feed.atom": _long(f"<feed xmlns='http://www.w3.org/2005/Atom'>{variant}</feed>"),
        "/feed.rss": _long(f"<rss version='2.0'>{variant}</rss>"),
        "/feed.json": f'{{"version": "https://jsonfeed.org/version/1.1"{variant}}}'.encode(),
        "/feed.xsl": _long(f"<xsl:stylesheet>{variant}</xsl:stylesheet>"),
        "/style.css": _long(f"body {{ margin: 0 }} /*{variant}*/\n"),
        "/archive/2019.atom": _long(f"<feed>{variant}archive</feed>"),
        "/tags/culture/": _long(f"<!doctype html><title>culture{variant}</title>"),
        "/tags/culture/feed.atom": _long(f"<feed>{variant}culture</feed>"),
        "/tags/culture/events.ics": _long(f"BEGIN:VCALENDAR\r\n{variant}culture"),
        "/robots.txt": f"User-agent: *\nAllow: /\n#{variant}\n".encode(),
        "/sitemap.xml": _long(f"<urlset>{variant}</urlset>"),
        "/logo.svg": _incompressible(300, f"svg{variant}"),
    }


def sample_site(variant: str = "", version: str = "0123456789abcdef") -> Site:
    bodies = sample_bodies(variant)
    return build_site(sample_catalog(version), renderers=[lambda _catalog: bodies])
