"""One catalog event as the bytes of its VEVENT, and the rules behind each property.

A VEVENT depends only on the feed and the entry, so its bytes are rendered once and
reused by `/events.ics`, every tag calendar and the entry's own `.ics`. `event_pieces`
keeps them, with the years of time zone data the event needs, in a `feeds.memo` table
keyed by (feed, entry) (an `EntryKey`): a reload re-renders only the entries that
changed (an entry's `line` is not part of its equality: an edit above it does not
count), and the table is swept at the end of each build, never outgrowing one catalog.
The lines are written by `ics_lines` (icalendar's Component.to_ical costs 20 times
more); the tests read every calendar back with icalendar and ical.js.

Rules a calendar client relies on:
- UID is the entry's tag: URI (`feeds.ids.entry_uri`): id authority + entry id, so
  moving the site or editing the event updates it in place, never duplicates it; or the
  UID an earlier calendar gave it (`event.uid`, `feeds.ids.entry_uid`), for the same reason.
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

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import vRecur

from .. import ids
from ..memo import Memo
from ..model import Entry, Event, Feed
from ..recurrence import starts_on
from . import text
from .entry_key import EntryKey
from .ics_lines import (
    date_line,
    geo_line,
    local_time_line,
    raw_line,
    text_line,
    texts_line,
    utc_time_line,
)
from .ics_timezone import ZoneSpan, zone_of, zone_years

UNKNOWN_STAMP = datetime(2000, 1, 1, tzinfo=UTC)

_RRULES: Memo[str, str] = Memo("ics.rrule")


def sequence(entry: Entry) -> int:
    """SEQUENCE: whole minutes from 2000-01-01T00:00Z to the entry's DTSTAMP (never below 0)."""
    return max(0, int((dtstamp(entry) - UNKNOWN_STAMP).total_seconds()) // 60)


def dtstamp(entry: Entry) -> datetime:
    """When the entry last changed, in UTC; the fixed UNKNOWN_STAMP when it never says."""
    return _utc(entry.modified) if entry.modified is not None else UNKNOWN_STAMP


def event_url(feed: Feed, entry: Entry, event: Event) -> str:
    """Where to read more: the event's own URL, else the entry's link, else its page."""
    return event.url or entry.link or feed.url(ids.entry_page_path(entry.id))


@dataclass(frozen=True, eq=False)
class EventPieces:
    """What a calendar needs of one event entry.

    Compared (and hashed) by identity: one object per distinct (feed, entry) of a build
    (`event_pieces`), so that a calendar can be memoised by the tuple of its events'
    pieces at the cost of hashing pointers.
    """

    vevent: bytes  # folded content lines, CRLF, ready to concatenate
    zone_span: ZoneSpan | None  # the zone and years its VTIMEZONE must cover; None: no zone


_PIECES: Memo[EntryKey, EventPieces] = Memo("ics.event")


def event_pieces(feed: Feed, entry: Entry) -> EventPieces:
    """The entry's VEVENT and zone span, rendered once per distinct (feed, entry)."""
    return _PIECES.get(EntryKey(feed, entry), lambda: _event_pieces(feed, entry))


def keep_pieces(feed: Feed, replaced: Iterable[Entry]) -> None:
    """Keep the pieces of the last build but those of `replaced` entries, for a build that
    handed the calendars over instead of asking for each event (`Memo.keep_previous`)."""
    _PIECES.keep_previous(dropping=[EntryKey(feed, entry) for entry in replaced])
    _RRULES.keep_previous()


def _event_pieces(feed: Feed, entry: Entry) -> EventPieces:
    assert entry.event is not None, "events only"
    return EventPieces(vevent=vevent_bytes(feed, entry), zone_span=zone_years(entry.event))


def vevent_bytes(feed: Feed, entry: Entry) -> bytes:
    """The VEVENT of an event entry (not memoised: `event_pieces` is)."""
    return b"".join(vevent_lines(feed, entry))


def vevent_lines(feed: Feed, entry: Entry) -> list[bytes]:
    event = entry.event
    if event is None:
        raise ValueError(f"entry {entry.id!r} has no event")
    lines = [
        b"BEGIN:VEVENT\r\n",
        text_line("UID", ids.entry_uid(feed, entry)),
        utc_time_line("DTSTAMP", dtstamp(entry)),
        _time_line("DTSTART", event, event.start),
        _time_line("DTEND", event, _exclusive_end(event)),
    ]
    if event.rrule is not None:
        lines.append(raw_line("RRULE", _canonical_rrule(event.rrule)))
        lines += _exdate_lines(event, event.rrule)
    lines.append(text_line("SUMMARY", entry.title))
    description = text.summary_text(entry.summary)
    if description:
        lines.append(text_line("DESCRIPTION", description))
    if event.location:
        lines.append(text_line("LOCATION", event.location))
    if event.geo is not None:
        lines.append(geo_line(*event.geo))
    lines.append(raw_line("URL", event_url(feed, entry, event)))
    if entry.tags:
        lines.append(texts_line("CATEGORIES", entry.tags))
    lines.append(raw_line("STATUS", event.status.upper()))
    if entry.published is not None:
        lines.append(utc_time_line("CREATED", entry.published))
    if entry.modified is not None:
        lines.append(utc_time_line("LAST-MODIFIED", entry.modified))
    lines.append(raw_line("SEQUENCE", str(sequence(entry))))
    lines.append(b"END:VEVENT\r\n")
    return lines


def _exdate_lines(event: Event, rule: str) -> list[bytes]:
    """One EXDATE a start left out, with DTSTART's value type and zone (RFC 5545 3.8.5.1:
    Google Calendar, for one, keeps an occurrence whose EXDATE is a DATE of a timed event)."""
    if not event.exdate:
        return []
    if event.all_day:
        return [date_line("EXDATE", day) for day in event.exdate]
    left_out = starts_on(rule, event.start, event.exdate)
    return [_time_line("EXDATE", event, start) for day in event.exdate for start in left_out[day]]


def _canonical_rrule(rule: str) -> str:
    """The catalog's rule (checked by the loader) as icalendar writes it: FREQ first."""
    return _RRULES.get(rule, lambda: bytes(vRecur.from_ical(rule).to_ical()).decode("ascii"))


def _exclusive_end(event: Event) -> date | datetime:
    """DTEND: for all-day events the day after the inclusive last day (21-22 May -> 23 May)."""
    if isinstance(event.end, datetime):
        return event.end
    return event.end + timedelta(days=1)


def _time_line(name: str, event: Event, value: date | datetime) -> bytes:
    """A DATE as is; a local time with the TZID its VTIMEZONE has; else a UTC time ("Z")."""
    if not isinstance(value, datetime):
        return date_line(name, value)
    zone = zone_of(event)
    if zone is None:
        return utc_time_line(name, value)
    return local_time_line(name, value.astimezone(ZoneInfo(zone)), zone)


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)
