"""VTIMEZONE components for the zones a calendar's timed events use, from zoneinfo.

Each calendar gets, per zone, the transitions of the whole years from its first event's
start to the last day any occurrence touches (`ics_rrule.last_day`), found in zoneinfo
and written one observance per transition: DTSTART is the onset as the wall clock
shows it just before the change (local time in TZOFFSETFROM, as RFC 5545 3.6.5 says).

Why not icalendar's `Timezone.from_tzid` (used by `add_missing_timezones`): it writes one
observance per kind with the later onsets as RDATEs, and ical.js (Thunderbird's parser)
ignores an observance's DTSTART as soon as it has an RDATE, so the first spring change
is lost and a whole summer is an hour off; it also dates spring onsets an hour late.
The components are still icalendar's; only the choice of observances is ours.

Whole years keep a zone's bytes the same for most calendars, so the cache below serves a
10 000-event catalog with a handful of computations.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Timezone, TimezoneDaylight, TimezoneStandard
from icalendar.timezone import is_utc

from ..model import Event
from .ics_rrule import last_day

# Zones change at most once within a day (true of every zone since 1900), so probing a
# day apart finds every transition; a binary search then finds its exact second.
_PROBE = timedelta(days=1)
_SECOND = timedelta(seconds=1)

# What identifies an observance: UTC offset, DST part, abbreviation.
_State = tuple[timedelta, timedelta, str]


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


def vtimezones(events: Iterable[Event]) -> bytes:
    """One VTIMEZONE per zone used by `events`, sorted by zone name."""
    years: dict[str, tuple[int, int]] = {}
    for event in events:
        zone = zone_of(event)
        if zone is None:
            continue
        assert isinstance(event.start, datetime)
        first, last = event.start.year, last_day(event).year
        known = years.get(zone)
        years[zone] = (min(first, known[0]), max(last, known[1])) if known else (first, last)
    return b"".join(vtimezone(zone, *years[zone]) for zone in sorted(years))


@lru_cache(maxsize=1024)
def vtimezone(zone_name: str, first_year: int, last_year: int) -> bytes:
    """The VTIMEZONE of a zone for 1 January of `first_year` to the end of `last_year`."""
    zone = ZoneInfo(zone_name)
    start = datetime(first_year, 1, 1, tzinfo=zone).astimezone(UTC)
    stop = datetime(last_year + 1, 1, 1, tzinfo=zone).astimezone(UTC)
    component = Timezone()
    component.add("TZID", zone_name)
    # The first observance says what holds from the start of the range on.
    component.add_component(_observance(_state(zone, start), _state(zone, start), start))
    for onset in transitions(zone, start, stop):
        before, after = _state(zone, onset - _SECOND), _state(zone, onset)
        component.add_component(_observance(before, after, onset))
    return bytes(component.to_ical(sorted=False))


def transitions(zone: ZoneInfo, start: datetime, stop: datetime) -> list[datetime]:
    """UTC instants in (start, stop) at which the zone's offset, DST or abbreviation changes."""
    found = []
    probe, state = start, _state(zone, start)
    while probe < stop:
        following = min(probe + _PROBE, stop)
        following_state = _state(zone, following)
        if following_state != state:
            found.append(_first_instant_of(zone, following_state, probe, following))
        probe, state = following, following_state
    return found


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


def _observance(
    before: _State, after: _State, onset: datetime
) -> TimezoneStandard | TimezoneDaylight:
    """The observance starting at `onset` (UTC): DTSTART is the wall time just before it."""
    observance = TimezoneDaylight() if after[1] > timedelta(0) else TimezoneStandard()
    observance.add("DTSTART", (onset + before[0]).replace(tzinfo=None))
    observance.add("TZOFFSETFROM", before[0])
    observance.add("TZOFFSETTO", after[0])
    observance.add("TZNAME", after[2])
    return observance
