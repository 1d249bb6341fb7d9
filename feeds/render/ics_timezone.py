"""VTIMEZONE components for the zones a calendar's timed events use, from zoneinfo.

Each calendar gets, per zone, the transitions of the whole years from its first event's
start to the last day any occurrence touches (`ics_rrule.last_day`), found in zoneinfo
and written one observance per transition: DTSTART is the onset as the wall clock
shows it just before the change (local time in TZOFFSETFROM, as RFC 5545 3.6.5 says).

Why not icalendar's `Timezone.from_tzid` (used by `add_missing_timezones`): it writes one
observance per kind with the later onsets as RDATEs, and ical.js (Thunderbird's parser)
ignores an observance's DTSTART as soon as it has an RDATE, so the first spring change
is lost and a whole summer is an hour off; it also dates spring onsets an hour late.
The observances are written with `ics_lines`, like every other line of our calendars
(one way to escape and fold).

Whole years keep a zone's bytes the same for most calendars, so the caches below serve a
10 000-event catalog with a handful of computations. A VTIMEZONE for a range of years
is in a `feeds.memo` table, swept per build (an event's own span is memoised with its
VEVENT, `ics_event.event_pieces`); what depends only on a zone and a year
(transitions, observances: time zone data does not change while the process runs) is
in small bounded `lru_cache`s.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar.prop import vUTCOffset
from icalendar.timezone import is_utc

from ..memo import Memo
from ..model import Event
from .ics_lines import raw_line, text_line
from .ics_rrule import last_day

# Zones change at most once within a day (true of every zone since 1900), so probing a
# day apart finds every transition; a binary search then finds its exact second.
_PROBE = timedelta(days=1)
_SECOND = timedelta(seconds=1)

# What identifies an observance: UTC offset, DST part, abbreviation.
_State = tuple[timedelta, timedelta, str]

# A zone and the first and last year of its transitions a calendar needs.
ZoneSpan = tuple[str, int, int]

_VTIMEZONES: Memo[ZoneSpan, bytes] = Memo("ics.vtimezone")


def zone_of(event: Event) -> str | None:
    """The TZID an event's times are written with.

    None for all-day events, and for times written in UTC (with "Z"): those the catalog
    gave with a fixed offset, and those in a zone that is UTC under another name.
    """
    if event.all_day or event.timezone is None or _is_utc(event.timezone):
        return None
    return event.timezone


@lru_cache(maxsize=1024)
def _is_utc(zone_name: str) -> bool:
    return is_utc(ZoneInfo(zone_name))


def vtimezones(spans: Iterable[ZoneSpan | None]) -> bytes:
    """One VTIMEZONE per zone of `spans` (the events' `zone_years`), sorted by zone name."""
    years: dict[str, tuple[int, int]] = {}
    for span in spans:
        if span is None:
            continue
        zone, first, last = span
        known = years.get(zone)
        years[zone] = (min(first, known[0]), max(last, known[1])) if known else (first, last)
    return b"".join(vtimezone(zone, *years[zone]) for zone in sorted(years))


def zone_years(event: Event) -> ZoneSpan | None:
    """The event's zone and the first and last year its occurrences need; None if no zone."""
    zone = zone_of(event)
    if zone is None:
        return None
    assert isinstance(event.start, datetime)
    return zone, event.start.year, last_day(event).year


def keep_vtimezones() -> None:
    """Keep the VTIMEZONEs of the last build, for a build that handed calendars over
    without asking for theirs (`Memo.keep_previous`)."""
    _VTIMEZONES.keep_previous()


def vtimezone(zone_name: str, first_year: int, last_year: int) -> bytes:
    """The VTIMEZONE of a zone for 1 January of `first_year` to the end of `last_year`.

    Assembled from per-year pieces, each computed once: per-event files each cover their
    own years, and a large catalog has hundreds of distinct ranges over a few zones.
    """
    key = (zone_name, first_year, last_year)
    return _VTIMEZONES.get(key, lambda: _vtimezone(*key))


def _vtimezone(zone_name: str, first_year: int, last_year: int) -> bytes:
    years = range(first_year, last_year + 1)
    return b"".join(
        (
            b"BEGIN:VTIMEZONE\r\n",
            text_line("TZID", zone_name),
            _initial_observance(zone_name, first_year),
            *(_year_observances(zone_name, year) for year in years),
            b"END:VTIMEZONE\r\n",
        )
    )


@lru_cache(maxsize=4096)
def _initial_observance(zone_name: str, year: int) -> bytes:
    """What holds from the start of the range on (an observance needs an onset)."""
    start = _new_year(zone_name, year)
    state = _state(ZoneInfo(zone_name), start)
    return _observance(state, state, start)


@lru_cache(maxsize=4096)
def _year_observances(zone_name: str, year: int) -> bytes:
    """One observance per transition within the local `year`."""
    zone = ZoneInfo(zone_name)
    pieces = []
    for onset in year_transitions(zone_name, year):
        before, after = _state(zone, onset - _SECOND), _state(zone, onset)
        pieces.append(_observance(before, after, onset))
    return b"".join(pieces)


@lru_cache(maxsize=4096)
def year_transitions(zone_name: str, year: int) -> tuple[datetime, ...]:
    """UTC instants within the local `year` at which the zone's offset, DST or name changes."""
    zone = ZoneInfo(zone_name)
    start, stop = _new_year(zone_name, year), _new_year(zone_name, year + 1)
    found = []
    probe, state = start, _state(zone, start)
    while probe < stop:
        following = min(probe + _PROBE, stop)
        following_state = _state(zone, following)
        if following_state != state:
            found.append(_first_instant_of(zone, following_state, probe, following))
        probe, state = following, following_state
    return tuple(found)


def _new_year(zone_name: str, year: int) -> datetime:
    """Midnight of 1 January of `year` where the zone is, in UTC."""
    return datetime(year, 1, 1, tzinfo=ZoneInfo(zone_name)).astimezone(UTC)


def _first_instant_of(zone: ZoneInfo, state: _State, low: datetime, high: datetime) -> datetime:
    """The first second in (low, high] that is in `state` (high is, low is not)."""
    while high - low > _SECOND:
        middle = low + (high - low) / 2
        middle = middle.replace(microsecond=0)
        if _state(zone, middle) == state:
            high = middle
        else:
            low = middle
    return high


def _state(zone: ZoneInfo, instant: datetime) -> _State:
    local = instant.astimezone(zone)
    offset, dst, name = local.utcoffset(), local.dst(), local.tzname()
    assert offset is not None and dst is not None and name is not None
    return offset, dst, name


def _observance(before: _State, after: _State, onset: datetime) -> bytes:
    """The observance starting at `onset` (UTC): DTSTART is the wall time just before it."""
    kind = "DAYLIGHT" if after[1] > timedelta(0) else "STANDARD"
    return b"".join(
        (
            raw_line("BEGIN", kind),
            raw_line("DTSTART", f"{(onset + before[0]):%Y%m%dT%H%M%S}"),
            raw_line("TZOFFSETFROM", vUTCOffset(before[0]).to_ical()),
            raw_line("TZOFFSETTO", vUTCOffset(after[0]).to_ical()),
            text_line("TZNAME", after[2]),
            raw_line("END", kind),
        )
    )
