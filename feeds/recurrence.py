"""Recurrence expansion: the one place an RRULE (less its EXDATE days) becomes dates.

The catalog checks a rule with it (the start must be the rule's first occurrence), the
pages list occurrences and draw the month grid with it, and the iCalendar writer finds
how far a rule reaches with it, so all of them agree on the dates. It is dateutil's
RFC 5545 implementation, run on the start's wall clock: an aware start keeps its zone
while dateutil varies the date and clock fields, so a weekly 09:00 meeting in a zone
stays at 09:00 across summer time (RFC 5545 3.3.10: a DTSTART with TZID is local time);
an all-day start is expanded from its midnight.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import date, datetime, time

# python-dateutil comes with icalendar (its dependency); its stubs (types-python-dateutil)
# may be missing, hence the ignore that tolerates both cases.
from dateutil.rrule import rrulestr  # type: ignore[import-untyped,unused-ignore]


def as_datetime(value: date | datetime) -> datetime:
    """A start as dateutil's DTSTART: an all-day date becomes its midnight."""
    return value if isinstance(value, datetime) else datetime.combine(value, time())


def day_of(value: date | datetime) -> date:
    """The day of a date, or of a datetime on its own wall clock."""
    return value.date() if isinstance(value, datetime) else value


def starts(rule: str, first: date | datetime) -> Iterator[datetime]:
    """The starts of `rule` with DTSTART `first`, in order, from `first` on.

    dateutil yields only dates that match the rule (a `first` that does not is left out,
    which is why the catalog refuses such a start), and drops a fraction of a second
    from `first`. A rule without COUNT or UNTIL never ends: callers bound the loop.
    """
    expanded: Iterator[datetime] = iter(rrulestr(rule, dtstart=as_datetime(first)))
    return expanded


#: How far an event's left-out days (`exdate`) are looked for: its first this many
#: starts (a daily rule's 27 years, a weekly one's 190). The catalog refuses a day
#: beyond, so that checking and rendering one stays cheap whatever the rule.
EXDATE_REACH = 10_000


def starts_left(
    rule: str, first: date | datetime, left_out: Collection[date]
) -> Iterator[datetime]:
    """`starts`, but those on a day of `left_out` (an event's `exdate`: the days of its
    wall clock, as the catalog checked them)."""
    found = starts(rule, first)
    return found if not left_out else (start for start in found if start.date() not in left_out)


def starts_on(
    rule: str, first: date | datetime, days: Collection[date]
) -> dict[date, list[datetime]]:
    """The starts of `rule` on each of `days` (none for a day it does not give), among
    its first EXDATE_REACH starts."""
    found: dict[date, list[datetime]] = {day: [] for day in days}
    last = max(days, default=None)
    for count, start in enumerate(starts(rule, first)):
        if last is None or start.date() > last or count >= EXDATE_REACH:
            break
        if start.date() in found:
            found[start.date()].append(start)
    return found
