"""How far a recurring event reaches, so that its VTIMEZONE covers every occurrence.

The catalog loader has checked every rule (`feeds.catalog.build.check_rrule`: known
parts, FREQ, not both COUNT and UNTIL, UNTIL a DATE for all-day events and a UTC time
for timed ones), so here a rule is only parsed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, tzinfo

# python-dateutil comes with icalendar (its dependency); its stubs (types-python-dateutil)
# may be missing, hence the ignore that tolerates both cases.
from dateutil.rrule import rrulestr  # type: ignore[import-untyped,unused-ignore]
from icalendar import vRecur

from ..model import Event

# A rule without COUNT or UNTIL never ends; time zone data is written this far ahead.
UNBOUNDED_YEARS = 10


def last_day(event: Event) -> date:
    """The last local day that any occurrence of the event touches."""
    end = _local_date(event, event.end)
    if event.rrule is None:
        return end
    span = end - _local_date(event, event.start)
    rule = vRecur.from_ical(event.rrule)
    if "UNTIL" in rule:
        return _local_date(event, rule["UNTIL"][0]) + span
    if "COUNT" in rule:
        return _last_start(event, event.rrule).date() + span
    start = _local_date(event, event.start)
    return start.replace(year=start.year + UNBOUNDED_YEARS, day=min(start.day, 28)) + span


def _last_start(event: Event, rule_text: str) -> datetime:
    """Start of the last occurrence of a COUNT rule, in the event's local time."""
    start = event.start
    local_start = (
        start.replace(tzinfo=None)
        if isinstance(start, datetime)
        else datetime.combine(start, time())
    )
    last: datetime = local_start
    for last in rrulestr(rule_text, dtstart=local_start):  # noqa: B007 - COUNT bounds it
        pass
    return last


def _local_date(event: Event, value: date) -> date:
    """The day `value` falls on where the event happens (UNTIL may be in UTC)."""
    if isinstance(value, datetime):
        return value.astimezone(_zone(event)).date()
    return value


def _zone(event: Event) -> tzinfo:
    zone = event.start.tzinfo if isinstance(event.start, datetime) else None
    return zone if zone is not None else UTC
