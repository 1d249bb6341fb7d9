"""VTIMEZONE components for the zones a calendar's timed events use, from zoneinfo.

icalendar's `Timezone.from_tzid` writes the zone's real transitions between two dates;
each calendar gets, per zone, the whole years from its first event's start to the last
day any occurrence touches (`ics_rrule.last_day`). Whole years keep the bytes of a
zone the same for most calendars, so the cache below serves a 10 000-event catalog with
a handful of renders.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from functools import lru_cache

from icalendar import Timezone

from ..model import Event
from .ics_rrule import last_day


def zone_of(event: Event) -> str | None:
    """The TZID an event is written with; None for all-day events and UTC times."""
    if event.all_day or event.timezone is None:
        return None
    return event.timezone


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
def vtimezone(zone: str, first_year: int, last_year: int) -> bytes:
    """The VTIMEZONE of `zone` with its transitions from 1 January of `first_year` to the
    end of `last_year`."""
    component = Timezone.from_tzid(
        zone, first_date=date(first_year, 1, 1), last_date=date(last_year + 1, 1, 1)
    )
    return bytes(component.to_ical())
