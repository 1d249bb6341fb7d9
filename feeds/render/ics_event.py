"""One catalog event as the bytes of its VEVENT, and the rules behind each property.

A VEVENT depends only on the feed and the entry, so its bytes are rendered once and
reused by `/events.ics`, every tag calendar and the entry's own `.ics`; the cache also
outlives one build, so a reload re-renders only the entries that changed.

Rules a calendar client relies on:
- UID is the entry's tag: URI (`feeds.ids.entry_uri`): id authority + entry id, so
  moving the site or editing the event updates it in place, never duplicates it.
- DTSTAMP and LAST-MODIFIED are the entry's `updated` (else `published`), CREATED its
  `published`, all in UTC. An entry with neither (an event announced without a
  publication date) gets DTSTAMP 2000-01-01T00:00:00Z, a fixed "unknown" (the same
  fallback as the site's Last-Modified), and no CREATED or LAST-MODIFIED.
- SEQUENCE is the number of whole minutes from 2000-01-01T00:00Z to DTSTAMP (so 0 for
  an entry with no date at all). The loader makes `updated` default to `published`, so
  it depends on `updated` alone: every later `updated` gives a higher SEQUENCE (and
  LAST-MODIFIED), whatever else the editor changed. A large first value is harmless:
  clients only compare it with the version they already have.
- All-day: DTSTART/DTEND are DATEs and DTEND is the day after the catalog's inclusive
  last day. Timed: local times with TZID when the catalog names a zone, UTC ("Z") when
  it gave a fixed offset or names UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Event as VEvent
from icalendar import vCategory, vGeo, vUri

from .. import ids, text
from ..model import Entry, Event, Feed
from .ics_rrule import event_rrule
from .ics_text import Text
from .ics_timezone import zone_of

UNKNOWN_STAMP = datetime(2000, 1, 1, tzinfo=UTC)


def sequence(entry: Entry) -> int:
    """SEQUENCE: whole minutes from 2000-01-01T00:00Z to the entry's DTSTAMP (never below 0)."""
    return max(0, int((dtstamp(entry) - UNKNOWN_STAMP).total_seconds()) // 60)


def dtstamp(entry: Entry) -> datetime:
    """When the entry last changed, in UTC; the fixed UNKNOWN_STAMP when it never says."""
    return _utc(entry.modified) if entry.modified is not None else UNKNOWN_STAMP


def event_url(feed: Feed, entry: Entry, event: Event) -> str:
    """Where to read more: the event's own URL, else the entry's link, else its page."""
    return event.url or entry.link or feed.url(ids.entry_page_path(entry.id))


@lru_cache(maxsize=65536)
def vevent_bytes(feed: Feed, entry: Entry) -> bytes:
    """The VEVENT of an event entry: folded content lines, CRLF, ready to concatenate."""
    return bytes(vevent(feed, entry).to_ical(sorted=False))


def vevent(feed: Feed, entry: Entry) -> VEvent:
    event = entry.event
    if event is None:
        raise ValueError(f"entry {entry.id!r} has no event")
    component = VEvent()
    component.add("UID", Text(ids.entry_uri(feed, entry.id)))
    component.add("DTSTAMP", dtstamp(entry))
    _add_time(component, "DTSTART", event, event.start)
    _add_time(component, "DTEND", event, _exclusive_end(event))
    rule = event_rrule(event)
    if rule is not None:
        component.add("RRULE", rule)
    component.add("SUMMARY", Text(entry.title))
    description = text.summary_text(entry.summary)
    if description:
        component.add("DESCRIPTION", Text(description))
    if event.location:
        component.add("LOCATION", Text(event.location))
    if event.geo is not None:
        component.add("GEO", vGeo(event.geo))
    component.add("URL", vUri(event_url(feed, entry, event)))
    if entry.tags:
        component.add("CATEGORIES", vCategory([Text(tag) for tag in entry.tags]))
    component.add("STATUS", event.status.upper())
    if entry.published is not None:
        component.add("CREATED", _utc(entry.published))
    if entry.modified is not None:
        component.add("LAST-MODIFIED", _utc(entry.modified))
    component.add("SEQUENCE", sequence(entry))
    return component


def _exclusive_end(event: Event) -> date | datetime:
    """DTEND: for all-day events the day after the inclusive last day (21-22 May -> 23 May)."""
    if isinstance(event.end, datetime):
        return event.end
    return event.end + timedelta(days=1)


def _add_time(component: VEvent, name: str, event: Event, value: date | datetime) -> None:
    """A DATE as is; a local time with the TZID its VTIMEZONE has; else a UTC time ("Z")."""
    if not isinstance(value, datetime):
        component.add(name, value)
        return
    zone = zone_of(event)
    if zone is None:
        component.add(name, _utc(value))
        return
    # The TZID is set here, not derived by icalendar from the tzinfo (which may pick an
    # equivalent name), so that it is exactly the TZID of the VTIMEZONE written for it.
    local = value.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    component.add(name, local, parameters={"TZID": zone})


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)
