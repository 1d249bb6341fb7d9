"""How far a recurring event reaches, so that its VTIMEZONE covers every occurrence.

The catalog loader has checked every rule (`feeds.catalog.recurrence_rules.check_rrule`: known
parts, FREQ, not both COUNT and UNTIL, UNTIL a DATE for all-day events and a UTC time
for timed ones; the start is its first occurrence), so here a rule is only parsed, and
expanded with `feeds.recurrence.starts` like everywhere else.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, tzinfo
from functools import lru_cache

from icalendar import vRecur

from ..model import Event
from ..recurrence import starts, starts_left

# A rule without COUNT or UNTIL never ends; time zone data is written this far ahead.
# It is also as far as any event is covered: a rule of a million days, or a "meeting"
# that ends in the year 9999, would otherwise mean thousands of years of transitions
# (clients carry the last observance on beyond the data).
UNBOUNDED_YEARS = 10
# Occurrences of a COUNT rule looked at to find its last one; past this many it is
# treated like a rule that never ends (a daily rule with BYHOUR and BYMINUTE lists
# can have 1,440 a day).
_MAX_COUNTED = 10_000


_BOUNDED_RULE = re.compile(r"(^|;)\s*(COUNT|UNTIL)\s*=", re.IGNORECASE)


def is_unbounded(event: Event) -> bool:
    """True for a recurrence that never ends: it is never "past"."""
    return event.rrule is not None and not _BOUNDED_RULE.search(event.rrule)


def last_day(event: Event) -> date:
    """The last local day any occurrence touches, at most UNBOUNDED_YEARS after the start."""
    start = event.start
    zone = start.tzinfo if isinstance(start, datetime) else None
    reach = _last_day(event.rrule, start, event.end, zone)
    if event.exdate and event.rrule is not None and not is_unbounded(event):
        return _last_day_left(event.rrule, start, event.end, reach, event.exdate)
    return reach


def _last_day_left(
    rrule: str, start: date, end: date, reach: date, exdate: tuple[date, ...]
) -> date:
    """`reach` (the rule's last day) for a rule with days left out: the day its last
    start that is not one of them ends (a series whose last date is called off is over
    at the one before). Not cached as `_last_day` is: few events leave days out."""
    span = _local_date(start, end) - _local_date(start, start)
    last = _local_date(start, start)  # the start is never left out (the catalog checks)
    for counted, moment in enumerate(starts_left(rrule, start, exdate)):
        if counted >= _MAX_COUNTED:
            return reach
        if moment.date() + span > reach:
            break
        last = moment.date()
    return last + span


# Expanding a COUNT rule costs ~0.5 ms, and every build asks again for each recurring
# event (pages and calendars; 10k catalog: 2,100 of them, ~0.1 s of a 0.3 s rebuild).
# The answer depends on nothing but these values. `zone` is in the key because aware
# datetimes compare (and hash) by instant: 10:00+02:00 equals 08:00Z, not its day.
@lru_cache(maxsize=65536)
def _last_day(rrule: str | None, start: date, end: date, zone: tzinfo | None) -> date:
    local_start = _local_date(start, start)
    horizon = local_start.replace(
        year=min(local_start.year + UNBOUNDED_YEARS, 9999), day=min(local_start.day, 28)
    )
    local_end = _local_date(start, end)
    if rrule is None:
        return min(local_end, horizon)
    span = local_end - local_start
    rule = vRecur.from_ical(rrule)
    if "UNTIL" in rule:
        return min(_local_date(start, rule["UNTIL"][0]), horizon) + span
    if "COUNT" in rule:
        return min(_last_start(start, rrule, horizon), horizon) + span
    return horizon + span


def _last_start(start: date, rule_text: str, horizon: date) -> date:
    """Local day of the last start of a COUNT rule, or `horizon` if it lies beyond it."""
    # The wall clock (no zone): COUNT rules have no UTC UNTIL to compare with.
    local_start = start.replace(tzinfo=None) if isinstance(start, datetime) else start
    last: date = _local_date(start, start)
    for counted, moment in enumerate(starts(rule_text, local_start)):
        if counted >= _MAX_COUNTED or moment.date() > horizon:
            return horizon
        last = moment.date()
    return last


def _local_date(start: date, value: date) -> date:
    """The day `value` falls on where the event starting at `start` happens (UNTIL may
    be in UTC)."""
    if isinstance(value, datetime):
        return value.astimezone(_zone(start)).date()
    return value


def _zone(start: date) -> tzinfo:
    zone = start.tzinfo if isinstance(start, datetime) else None
    return zone if zone is not None else UTC
