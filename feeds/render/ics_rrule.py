"""Recurrence rules (RFC 5545 RRULE): checked, made valid for their event, and bounded.

- `rrule_problem` says what is wrong with a catalog's `rrule` (None when it is fine);
  the catalog loader can report it with file, line and field.
- `event_rrule` is the rule as written in the VEVENT: UNTIL becomes a DATE for an all-day
  event and a UTC time for a timed one, as RFC 5545 requires (3.3.10).
- `last_day` is the last day an occurrence touches, so that the VTIMEZONE written for
  the event covers every occurrence.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, tzinfo

# python-dateutil is installed with icalendar (its dependency) and has no type stubs here.
from dateutil.rrule import rrulestr  # type: ignore[import-untyped]
from icalendar import vRecur

from ..model import Event

_PARTS = {
    "FREQ", "UNTIL", "COUNT", "INTERVAL", "BYSECOND", "BYMINUTE", "BYHOUR", "BYDAY",
    "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO", "BYMONTH", "BYSETPOS", "WKST",
}  # fmt: skip

# A rule without COUNT or UNTIL never ends; time zone data is written this far ahead.
UNBOUNDED_YEARS = 10


def rrule_problem(text: str) -> str | None:
    """What is wrong with an RRULE value, in words an editor can act on; None if valid."""
    parts = text.strip().split(";")
    names = []
    for part in parts:
        name, sep, value = part.partition("=")
        if not sep or not value:
            return f"{part!r} is not NAME=VALUE (rules look like FREQ=WEEKLY;COUNT=4)"
        if name.upper() not in _PARTS:
            return f"unknown rule part {name!r}; known: {', '.join(sorted(_PARTS))}"
        names.append(name.upper())
    if "FREQ" not in names:
        return "FREQ is required (DAILY, WEEKLY, MONTHLY or YEARLY)"
    if len(names) != len(set(names)):
        return "a rule part is given twice"
    if "COUNT" in names and "UNTIL" in names:
        return "COUNT and UNTIL cannot both be given (RFC 5545): keep one"
    try:
        rule = vRecur.from_ical(text.strip())
        rrulestr(text.strip(), dtstart=datetime(2000, 1, 1))
    except ValueError as error:
        return str(error)
    if rule["FREQ"][0] not in ("DAILY", "WEEKLY", "MONTHLY", "YEARLY"):
        return "FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY"
    return None


def event_rrule(event: Event) -> vRecur | None:
    """The event's RRULE with UNTIL in the form RFC 5545 requires for this event."""
    if event.rrule is None:
        return None
    problem = rrule_problem(event.rrule)
    if problem is not None:  # the loader reports this first; a renderer never guesses
        raise ValueError(f"event.rrule {event.rrule!r}: {problem}")
    rule: vRecur = vRecur.from_ical(event.rrule.strip())
    if "UNTIL" in rule:
        rule["UNTIL"] = [_until_for(event, rule["UNTIL"][0])]
    return rule


def _until_for(event: Event, until: date) -> date | datetime:
    """UNTIL as a DATE for all-day events; else an instant in UTC (a day means its end)."""
    if event.all_day:
        return until.date() if isinstance(until, datetime) else until
    zone = _zone(event)
    if not isinstance(until, datetime):
        until = datetime.combine(until, time(23, 59, 59))
    if until.tzinfo is None:
        until = until.replace(tzinfo=zone)
    return until.astimezone(UTC)


def last_day(event: Event) -> date:
    """The last local day that any occurrence of the event touches."""
    span = _local_date(event, event.end) - _local_date(event, event.start)
    rule = event_rrule(event)
    if rule is None:
        return _local_date(event, event.end)
    if "UNTIL" in rule:
        return _local_date(event, rule["UNTIL"][0]) + span
    if "COUNT" in rule:
        return _last_start(event, rule).date() + span
    start = _local_date(event, event.start)
    return start.replace(year=start.year + UNBOUNDED_YEARS, day=min(start.day, 28)) + span


def _last_start(event: Event, rule: vRecur) -> datetime:
    """Start of the last occurrence of a COUNT rule, in the event's local time."""
    start = event.start
    local_start = (
        start.replace(tzinfo=None)
        if isinstance(start, datetime)
        else datetime.combine(start, time())
    )
    rule_text: bytes = rule.to_ical()  # type: ignore[no-untyped-call]
    occurrences = rrulestr(rule_text.decode("ascii"), dtstart=local_start)
    last: datetime = local_start
    for last in occurrences:  # noqa: B007 - COUNT bounds the loop; we need the last one
        pass
    return last


def _local_date(event: Event, value: date) -> date:
    if isinstance(value, datetime):
        return value.astimezone(_zone(event)).date()
    return value


def _zone(event: Event) -> tzinfo:
    zone = event.start.tzinfo if isinstance(event.start, datetime) else None
    return zone if zone is not None else UTC
