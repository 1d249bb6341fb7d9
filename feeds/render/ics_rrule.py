"""How far a recurring event reaches, so that its VTIMEZONE covers every occurrence.

The catalog loader has checked every rule (`feeds.catalog.build.check_rrule`: known
parts, FREQ, not both COUNT and UNTIL, UNTIL a DATE for all-day events and a UTC time
for timed ones; the start is its first occurrence), so here a rule is only parsed, and
expanded with `feeds.recurrence.starts` like everywhere else.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo

from icalendar import vRecur

from ..model import Event
from ..recurrence import starts

# A rule without COUNT or UNTIL never ends; time zone data is written this far ahead.
# It is also as far as any event is covered: a rule of a million days, or a "meeting"
# that ends in the year 9999, would otherwise mean thousands of years of transitions
# (clients carry the last observance on beyond the data).
UNBOUNDED_YEARS = 10
# Occurrences of a COUNT rule looked at to find its last one; past this many it is
# treated like a rule that never ends (a daily rule with BYHOUR and BYMINUTE lists
# can have 1,440 a day).
_MAX_COUNTED = 10_000


def last_day(event: Event) -> date:
    """The last local day any occurrence touches, at most UNBOUNDED_YEARS after the start."""
    start = _local_date(event, event.start)
    horizon = start.replace(year=min(start.year + UNBOUNDED_YEARS, 9999), day=min(start.day, 28))
    end = _local_date(event, event.end)
    if event.rrule is None:
        return min(end, horizon)
    span = end - start
    rule = vRecur.from_ical(event.rrule)
    if "UNTIL" in rule:
        return min(_local_date(event, rule["UNTIL"][0]), horizon) + span
    if "COUNT" in rule:
        return min(_last_start(event, event.rrule, horizon), horizon) + span
    return horizon + span


def _last_start(event: Event, rule_text: str, horizon: date) -> date:
    """Local day of the last start of a COUNT rule, or `horizon` if it lies beyond it."""
    # The wall clock (no zone): COUNT rules have no UTC UNTIL to compare with.
    start = event.start
    local_start = start.replace(tzinfo=None) if isinstance(start, datetime) else start
    last: date = _local_date(event, start)
    for counted, moment in enumerate(starts(rule_text, local_start)):
        if counted >= _MAX_COUNTED or moment.date() > horizon:
            return horizon
        last = moment.date()
    return last


def _local_date(event: Event, value: date) -> date:
    """The day `value` falls on where the event happens (UNTIL may be in UTC)."""
    if isinstance(value, datetime):
        return value.astimezone(_zone(event)).date()
    return value


def _zone(event: Event) -> tzinfo:
    zone = event.start.tzinfo if isinstance(event.start, datetime) else None
    return zone if zone is not None else UTC
