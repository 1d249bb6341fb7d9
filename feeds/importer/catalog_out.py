"""Imported items as the text of a catalog (`entries.yaml`) that `feeds check` accepts.

Every string is written double-quoted (JSON's escapes are YAML's), with every
character YAML would fold or refuse escaped, so the catalog reads back exactly what
the source said. The `feed:` block gets placeholders where the source cannot know
the answer (where the site will be served), each with a comment saying what to set.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime
from urllib.parse import urlsplit

from ..catalog.values import ID_PATTERN, slugify
from ..recurrence import day_of
from .items import FeedInfo, ImportedEvent, Item, one_line

PLACEHOLDER_BASE_URL = "https://feeds.example.org/"
PLACEHOLDER_LINK = "https://example.org/"
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")
_HOST_LABELS = re.compile(
    r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
)
_ID_MAX = 80
# Characters a YAML double-quoted scalar must not hold raw: line breaks YAML 1.1 folds
# (NEL, LS, PS), a BOM, and anything not printable.
_YAML_UNSAFE = re.compile("[\x85\u2028\u2029\ufeff]")


def quoted(value: str) -> str:
    text = json.dumps(value, ensure_ascii=False)
    text = _YAML_UNSAFE.sub(lambda m: f"\\u{ord(m[0]):04x}", text)
    return "".join(c if c.isprintable() or c in '\\"' else f"\\u{ord(c):04x}" for c in text)


def catalog_text(info: FeedInfo, items: list[Item], sources: Iterable[str]) -> str:
    ids = unique_ids(items)
    lines = [
        "# Imported by `feeds import` from: " + ", ".join(one_line(s, 200)[0] for s in sources),
        "# Check it with `feeds check`; feeds' docs/catalog.md lists every key.",
        "feed:",
        *_feed_lines(info, items),
        "",
        "entries:",
    ]
    for entry_id, item in zip(ids, items, strict=True):
        lines.extend(_entry_lines(entry_id, item))
    return "\n".join(lines) + "\n"


def _feed_lines(info: FeedInfo, items: list[Item]) -> list[str]:
    title = one_line(info.title or "")[0] or "Imported feed"
    link = (
        info.link if info.link and info.link.lower().startswith(("http://", "https://")) else None
    )
    lines = [f"  title: {quoted(title)}"]
    if link:
        lines.append(f"  link: {quoted(link)}")
    else:
        lines += [
            "  # The source named no web site: set the publisher's own site here.",
            f"  link: {PLACEHOLDER_LINK}",
        ]
    lines += [
        "  # Set where this publisher will be served (the feeds, calendars and pages).",
        f"  base_url: {PLACEHOLDER_BASE_URL}",
        "  # The authority of the ids of entries added from now on: a domain you owned and",
        "  # a year then (imported entries keep their old ids: legacy_id, event.uid).",
        "  # Check it now; never change it once published.",
        f"  id_authority: {id_authority(link, items)}",
    ]
    if info.author:
        lines += ["  author:", f"    name: {quoted(one_line(info.author)[0])}"]
    if info.language and _LANGUAGE.fullmatch(info.language) and len(info.language) <= 35:
        lines.append(f"  language: {quoted(info.language)}")
    return lines


def id_authority(link: str | None, items: list[Item]) -> str:
    host = (urlsplit(link).hostname or "") if link else ""
    host = host.removeprefix("www.")
    if not _HOST_LABELS.fullmatch(host):
        host = "example.org"
    years = [item.published.year for item in items if item.published is not None]
    years += [day_of(item.event.start).year for item in items if item.event is not None]
    # RFC 4151: a date when the domain was yours, so never a future one (a calendar of
    # next year's events imported today says this year).
    year = min([*years, datetime.now(UTC).year])
    return f"{host},{year}"


def unique_ids(items: list[Item]) -> list[str]:
    """Each item's catalog id: a slug of its link's last path segment (a post's slug, as
    most sites have) when that has words, else of its title; made unique with -2, -3."""
    taken: set[str] = set()
    ids = []
    for item in items:
        base = _slug_of(item)
        candidate, n = base, 1
        while candidate in taken:
            n += 1
            candidate = f"{base[: _ID_MAX - len(str(n)) - 1]}-{n}"
        taken.add(candidate)
        ids.append(candidate)
    return ids


def _slug_of(item: Item) -> str:
    if item.link:
        segment = urlsplit(item.link).path.rstrip("/").rsplit("/", 1)[-1]
        segment = segment.rsplit(".", 1)[0] if "." in segment else segment
        slug = slugify(segment)[:_ID_MAX].strip("-")
        if "-" in slug and any(c.isalpha() for c in slug):
            return slug
    slug = slugify(item.title or "")[:_ID_MAX].strip("-") or "entry"
    return slug if ID_PATTERN.fullmatch(slug) else "entry"


def _entry_lines(entry_id: str, item: Item) -> list[str]:
    lines = [f"  - id: {entry_id}", f"    title: {quoted(item.title or '')}"]
    if item.type:
        lines.append(f"    type: {quoted(one_line(item.type, 100)[0])}")
    if item.tags:
        lines.append(f"    tags: [{', '.join(item.tags)}]")
    if item.published is not None:
        lines.append(f"    published: {_instant(item.published)}")
    updated = item.updated
    if updated is not None and (item.published is None or updated > item.published):
        lines.append(f"    updated: {_instant(updated)}")
    if item.summary:
        lines.append(f"    summary: {quoted(item.summary)}")
    if item.link:
        lines.append(f"    link: {quoted(item.link)}")
    if item.legacy_id:
        lines.append(f"    legacy_id: {quoted(item.legacy_id)}")
    if item.event is not None:
        lines.extend(_event_lines(item.event))
    lines.append("")
    return lines


def _event_lines(event: ImportedEvent) -> list[str]:
    lines = ["    event:", f"      start: {_when(event.start, event.timezone)}"]
    if event.end != event.start or isinstance(event.start, datetime):
        lines.append(f"      end: {_when(event.end, event.timezone)}")
    if event.timezone:
        lines.append(f"      timezone: {event.timezone}")
    if event.location:
        lines.append(f"      location: {quoted(event.location)}")
    if event.geo is not None:
        lines.append(f"      geo: [{event.geo[0]!r}, {event.geo[1]!r}]")
    if event.url:
        lines.append(f"      url: {quoted(event.url)}")
    if event.status and event.status != "confirmed":
        lines.append(f"      status: {event.status}")
    if event.rrule:
        lines.append(f"      rrule: {quoted(event.rrule)}")
    if event.exdate:
        lines.append(f"      exdate: [{', '.join(day.isoformat() for day in event.exdate)}]")
    if event.uid:
        lines.append(f"      uid: {quoted(event.uid)}")
    return lines


def _instant(moment: datetime) -> str:
    return moment.isoformat()


def _when(moment: date | datetime, zone: str | None) -> str:
    """A date as is; a time as the wall time in its zone (which `timezone` names), or
    with its UTC offset when there is no zone."""
    if not isinstance(moment, datetime):
        return moment.isoformat()
    if zone:
        return moment.replace(tzinfo=None).isoformat()
    return moment.isoformat()
