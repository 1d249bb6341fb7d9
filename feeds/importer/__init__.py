"""`feeds import`: a catalog from the feeds and calendars an earlier site published.

    feeds import https://old.example.org/feed/ calendar.ics -o entries.yaml

Each source (a file or an http(s) URL) is read by the parser of its format: Atom
and RSS by feedparser, JSON Feed as checked JSON, iCalendar by icalendar
(`feeds_in`, `ics_in`). Items that describe the same thing are merged: the same
id across feeds (a site's Atom, RSS and JSON Feed list the same posts), the same
UID across calendars, and a feed item with a calendar event when they share a link,
or a title and a date (the item's publication date is the event's first day or the
day it was announced). Every item keeps the id its old site published (`legacy_id`,
`event.uid`), so readers and calendars do not see it again as new.

What cannot be carried over is reported, one `SOURCE: item N: ...` line each, and
skipped or kept without it; never guessed. The catalog is checked by the real reader
before it is written, and written once, atomically, never over an existing file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ..catalog import CatalogErrors, parse_catalog
from ..catalog.values import slugify
from ..catalog.written import temporary_beside
from ..recurrence import day_of
from .catalog_out import catalog_text
from .feeds_in import read_json_feed, read_xml_feed, title_line
from .ics_in import read_calendar
from .items import FeedInfo, Item, Report, SourceError, is_url, read_source

__all__ = ["ImportFailed", "Report", "import_catalog", "write_new"]


class ImportFailed(Exception):
    """The import made no catalog: the one-line reason."""


@dataclass
class Imported:
    text: str  # the catalog
    entries: int


def import_catalog(sources: list[str], report: Report) -> Imported:
    """The catalog text of `sources`; ImportFailed if a source cannot be read or
    nothing could be imported (what was left out is in `report`)."""
    info: FeedInfo | None = None
    items: list[Item] = []
    for source in sources:
        try:
            found_info, found = read_any(source, report)
        except SourceError as exc:
            raise ImportFailed(f"{source}: {exc}") from None
        if info is None or (info.link is None and found_info.link is not None):
            info = found_info if info is None else _fill(info, found_info)
        items.extend(found)
    kept = merged([item for item in items if _importable(item, report)], report)
    if not kept:
        why = "(see above)" if report.lines else "(no feed items or events found)"
        raise ImportFailed(f"{', '.join(sources)}: nothing could be imported {why}")
    text = catalog_text(info or FeedInfo(), kept, sources)
    try:
        parse_catalog(text.encode("utf-8"), "imported catalog")
    except CatalogErrors as exc:  # a bug here, never the editor's: say what was refused
        raise ImportFailed(f"the imported catalog does not pass `feeds check`: {exc}") from None
    return Imported(text, len(kept))


def _fill(first: FeedInfo, later: FeedInfo) -> FeedInfo:
    return FeedInfo(
        title=first.title or later.title,
        link=first.link or later.link,
        language=first.language or later.language,
        author=first.author or later.author,
    )


def read_any(source: str, report: Report) -> tuple[FeedInfo, list[Item]]:
    data = read_source(source)
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:64]
    if head.startswith(b"{"):
        return read_json_feed(data, source, report)
    if head.upper().startswith(b"BEGIN:"):  # a VCALENDAR, or a bare VEVENT
        return read_calendar(data, source, report)
    return read_xml_feed(data, source, source if is_url(source) else None, report)


def _importable(item: Item, report: Report) -> bool:
    item.title = title_line(item, report)
    if item.link and not item.link.lower().startswith(("http://", "https://")):
        report.say(f"{item.where}: link {item.link[:80]!r} is not http(s): left out")
        item.link = None
    if item.title is None:
        if item.link is None:
            report.say(f"{item.where}: no title and no link: skipped")
            return False
        report.say(f"{item.where}: no title: its link is used as the title")
        item.title = item.link[:1000]
    if item.legacy_id is None and item.event is None:
        report.say(f"{item.where}: no id (Atom id, RSS guid): readers may show it again as new")
    if item.published is None and item.event is None:
        report.say(f"{item.where}: no date: imported without `published`, so it is in no feed")
    if item.published and item.updated and item.updated < item.published:
        report.say(f"{item.where}: updated before published: updated left out")
        item.updated = None
    return True


def merged(items: list[Item], report: Report) -> list[Item]:
    """Items with the same id (feeds) or UID (calendars) as one; then each calendar
    event joined with the feed item that describes the same thing."""
    posts: list[Item] = []
    events: list[Item] = []
    by_id: dict[str, Item] = {}
    by_uid: dict[str, Item] = {}
    for item in items:
        if item.event is None:
            key = item.legacy_id
            if key is not None and key in by_id:
                _fill_item(by_id[key], item)
                continue
            if key is not None:
                by_id[key] = item
            posts.append(item)
        else:
            uid = item.event.uid
            if uid is not None and uid in by_uid:
                report.say(f"{item.where}: same UID as {by_uid[uid].where}: merged")
                continue
            if uid is not None:
                by_uid[uid] = item
            events.append(item)
    return _join_events(posts, events)


def _fill_item(kept: Item, other: Item) -> None:
    """A second copy of a post (the RSS of an Atom item): what the first lacks."""
    for name in ("link", "published", "updated", "summary", "type"):
        if not getattr(kept, name) and getattr(other, name):
            setattr(kept, name, getattr(other, name))
    # A JSON Feed has no type label apart from its tags: our own lists it among them.
    label = slugify(kept.type) if kept.type else None
    kept.tags += [tag for tag in other.tags if tag not in kept.tags and tag != label]


def _join_events(posts: list[Item], events: list[Item]) -> list[Item]:
    by_link = {post.link: post for post in posts if post.link}
    by_title_day: dict[tuple[str, date], Item] = {}
    for post in posts:
        if post.published is not None and post.title:
            by_title_day.setdefault((post.title, post.published.date()), post)
    alone: list[Item] = []
    for item in events:
        partner = _partner(item, by_link, by_title_day)
        if partner is None or partner.event is not None:
            alone.append(item)
            continue
        partner.event = item.event
        if not partner.summary:
            partner.summary = item.summary
        partner.tags += [tag for tag in item.tags if tag not in partner.tags]
    return posts + alone


def _partner(
    item: Item, by_link: dict[str, Item], by_title_day: dict[tuple[str, date], Item]
) -> Item | None:
    assert item.event is not None
    for link in (item.event.url, item.link):
        if link and link in by_link:
            return by_link[link]
    days = {day_of(item.event.start), item.event.created}
    for day in days:
        if day is not None and item.title and (item.title, day) in by_title_day:
            return by_title_day[(item.title, day)]
    return None


def write_new(path: Path, text: str) -> None:
    """Write `text` to a new file at `path`, atomically; FileExistsError if one is there
    (a hard link of a complete temporary file: never over a file, never half written)."""
    temporary = temporary_beside(path, text)
    try:
        os.link(temporary, path)
    finally:
        os.unlink(temporary)
