"""Recurrence expansion: the one place an RRULE becomes dates.

The catalog checks a rule with it (the start must be the rule's first occurrence), the
pages list occurrences and draw the month grid with it, and the iCalendar writer finds
how far a rule reaches with it, so all of them agree on the dates. It is dateutil's
RFC 5545 implementation, run on the start's wall clock: an aware start keeps its zone
while dateutil varies the date and clock fields, so a weekly 09:00 meeting in a zone
stays at 09:00 across summer time (RFC 5545 3.3.10: a DTSTART with TZID is local time);
an all-day start is expanded from its midnight.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time

# python-dateutil comes with icalendar (its dependency); its stubs (types-python-dateutil)
# may be missing, hence the ignore that tolerates both cases.
from dateutil.rrule import rrulestr  # type: ignore[import-untyped,unused-ignore]


def as_datetime(value: date | datetime) -> datetime:
    """A start as dateutil's DTSTART: an all-day date becomes its midnight."""
    return value if isinstance(value, datetime) else datetime.combine(value, time())


def starts(rule: str, first: date | datetime) -> Iterator[datetime]:
    """The starts of `rule` with DTSTART `first`, in order, from `first` on.

    dateutil yields only dates that match the rule (a `first` that does not is left out,
    which is why the catalog refuses such a start), and drops a fraction of a second
    from `first`. A rule without COUNT or UNTIL never ends: callers bound the loop.
    """
    expanded: Iterator[datetime] = iter(rrulestr(rule, dtstart=as_datetime(first)))
    return expanded
