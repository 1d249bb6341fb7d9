"""Event occurrences (recurrences expanded, with a bound) and the month grid of `/events/`.

An RRULE may never end (no COUNT, no UNTIL), so expansion stops at whichever comes
first: `MAX_OCCURRENCES` occurrences or `MAX_SPAN` after the first start. Expansion
is `feeds.recurrence.starts` (dateutil, on wall-clock times in the event's zone, so a
weekly 09:00 meeting stays at 09:00 across DST), the one the catalog checks rules with.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import islice, takewhile

from ..model import Entry
from ..recurrence import as_datetime, day_of, starts_left
from .pages_dates import Dates

MAX_OCCURRENCES = 50
MAX_SPAN = timedelta(days=2 * 366)
# A multi-day event is drawn on each of its days, up to this many (a typo such as a
# ten-year "conference" must not make a ten-year grid).
_MAX_DAYS_DRAWN = 62


@dataclass(frozen=True)
class Occurrence:
    entry: Entry
    start: date | datetime
    end: date | datetime  # all-day: last day, inclusive (as in the model)

    @property
    def days(self) -> list[date]:
        first, last = day_of(self.start), day_of(self.end)
        if isinstance(self.end, datetime) and self.end.time() == time() and last > first:
            last -= timedelta(days=1)  # a timed event ending at midnight ends the day before
        count = min((last - first).days + 1, _MAX_DAYS_DRAWN)
        return [first + timedelta(days=i) for i in range(count)]


def occurrences(entry: Entry) -> list[Occurrence]:
    """Every occurrence of an entry's event, at most MAX_OCCURRENCES within MAX_SPAN,
    but those on its `exdate` days."""
    event = entry.event
    assert event is not None
    if not event.rrule:
        return [Occurrence(entry, event.start, event.end)]
    first = as_datetime(event.start)
    duration = as_datetime(event.end) - first
    # Stop at the first start past MAX_SPAN: a rare date (29 February on a Monday)
    # must not be searched for fifty times.
    try:
        left = starts_left(event.rrule, first, event.exdate)
        within = takewhile(lambda start: start - first <= MAX_SPAN, left)
        found = [
            _occurrence(entry, start, start + duration) for start in islice(within, MAX_OCCURRENCES)
        ]
    except (ValueError, TypeError):
        # The catalog validator rejects rules dateutil cannot read; if one slips
        # through, the event still shows once rather than failing the whole Site.
        return [Occurrence(entry, event.start, event.end)]
    return found or [Occurrence(entry, event.start, event.end)]


def _occurrence(entry: Entry, start: datetime, end: datetime) -> Occurrence:
    assert entry.event is not None
    if entry.event.all_day:
        return Occurrence(entry, start.date(), end.date())
    return Occurrence(entry, start, end)


@dataclass(frozen=True)
class Month:
    year: int
    month: int
    weeks: list[list[tuple[date, list[Occurrence]] | None]]  # None: a day of another month
    title: str  # "March 2019", in the catalog's language

    @property
    def anchor(self) -> str:
        return f"m-{self.year:04d}-{self.month:02d}"


def month_grid(entries: tuple[Entry, ...], dates: Dates) -> list[Month]:
    """One Month for every month in which some occurrence falls, its weeks starting on
    the first weekday of the language of `dates`."""
    by_day: dict[date, list[Occurrence]] = defaultdict(list)
    for entry in entries:
        for occurrence in occurrences(entry):
            for day in occurrence.days:
                by_day[day].append(occurrence)
    months = sorted({(day.year, day.month) for day in by_day})
    weeks_of = calendar.Calendar(firstweekday=dates.first_weekday).monthdatescalendar
    grid = []
    for year, month in months:
        weeks = [
            [(day, by_day.get(day, [])) if day.month == month else None for day in week]
            for week in weeks_of(year, month)
        ]
        grid.append(Month(year, month, weeks, dates.month_title(year, month)))
    return grid
