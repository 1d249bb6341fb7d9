"""Shared by the test_feeds* modules (no tests here): catalog factories, the Site of the
three feed renderers, and what each feed document should hold, computed from the catalog
independently of `feeds.render.documents`.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from feeds.model import Author, Catalog, Entry, Event, Feed
from feeds.render import atom, jsonfeed, rss
from feeds.site import Site, build_site

ZONE = ZoneInfo("Europe/Brussels")
FORMATS = ("atom", "rss", "json")

FEED = Feed(
    title="EUROCITIES news and events",
    link="https://www.eurocities.eu/",
    base_url="https://feeds.example.org/",
    id_authority="eurocities.eu,2019",
    subtitle="News of the network",
    author=Author(name="EUROCITIES", email="info@eurocities.eu", uri="https://www.eurocities.eu/"),
    language="en",
    timezone="Europe/Brussels",
    feed_size=50,
)


def day(year: int, month: int, dom: int, hour: int = 0, minute: int = 0) -> datetime:
    """A catalog day as the loader gives it: midnight (or a time) in the feed's zone."""
    return datetime(year, month, dom, hour, minute, tzinfo=ZONE)


def publication(entry_id: str, published: datetime, **fields: Any) -> Entry:
    fields.setdefault("title", f"Title of {entry_id}")
    fields.setdefault("summary", f"Summary of *{entry_id}* with [a link](/about/).")
    return Entry(id=entry_id, published=published, **fields)


def rich_catalog(**feed_changes: Any) -> Catalog:
    """Publications with tags, types, links, updates and events, plus an unpublished event."""
    feed = replace(FEED, **feed_changes)
    entries = (
        publication(
            "academy-antwerp",
            day(2019, 3, 20),
            type="event",
            tags=("migration", "culture"),
            updated=day(2019, 4, 2, 9, 30),
            event=Event(start=date(2019, 5, 21), end=date(2019, 5, 22), location="Antwerp"),
        ),
        publication(
            "report-housing",
            day(2019, 3, 14, 16, 45),
            type="report",
            tags=("housing",),
            link="https://www.eurocities.eu/reports/housing.pdf",
        ),
        publication(
            "meeting-glasgow",
            day(2019, 2, 28),
            tags=("culture",),
            event=Event(
                start=datetime(2019, 3, 27, 10, 0, tzinfo=ZoneInfo("Europe/London")),
                end=datetime(2019, 3, 27, 17, 0, tzinfo=ZoneInfo("Europe/London")),
                timezone="Europe/London",
                location="Glasgow",
                geo=(55.8642, -4.2518),
                url="https://www.eurocities.eu/register",
                status="tentative",
            ),
        ),
        publication("news-winter", day(2018, 12, 31, 23, 30), tags=("culture",)),
        Entry(
            id="unpublished-event",
            title="Not in the feeds",
            event=Event(start=date(2019, 6, 1), end=date(2019, 6, 1)),
        ),
    )
    return Catalog(feed=feed, entries=entries, version="rich")


def yearly_catalog(count: int = 14, feed_size: int = 3, **feed_changes: Any) -> Catalog:
    """`count` publications, two to three a year from 2015 on, tagged in a pattern."""
    entries = []
    for index in range(count):
        year = 2015 + index * 2 // 5
        published = day(year, 1 + (index * 5) % 12, 1 + index % 27, 8)
        tags = ("even",) if index % 2 == 0 else ("odd",)
        if index % 3 == 0:
            tags += ("third",)
        entries.append(publication(f"entry-{index:02d}", published, tags=tags))
    feed = replace(FEED, feed_size=feed_size, **feed_changes)
    return Catalog(feed=feed, entries=tuple(entries), version=f"yearly-{count}")


def feed_site(catalog: Catalog) -> Site:
    return build_site(catalog, renderers=[atom.render, rss.render, jsonfeed.render])


def doc_path(base: str, fmt: str) -> str:
    return f"{base}feed.{fmt}"


def expected_documents(catalog: Catalog) -> dict[str, tuple[Entry, ...]]:
    """Document base path -> its publications, newest first (live, then yearly archives)."""
    documents: dict[str, tuple[Entry, ...]] = {}
    tags = sorted({tag for entry in catalog.entries if entry.published for tag in entry.tags})
    for tag in [None, *tags]:
        dated = [e for e in catalog.entries if e.published and (tag is None or tag in e.tags)]
        dated.sort(key=lambda e: (-e.published.timestamp(), e.id))  # type: ignore[union-attr]
        base = "/" if tag is None else f"/tags/{tag}/"
        size = catalog.feed.feed_size
        documents[base] = tuple(dated[:size])
        for entry in dated[size:]:
            year = entry.published.astimezone(ZONE).year  # type: ignore[union-attr]
            archive = f"{base}archive/{year}/"
            documents[archive] = (*documents.get(archive, ()), entry)
    return documents


def json_body(site: Site, path: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(site[path].body)
    return document
