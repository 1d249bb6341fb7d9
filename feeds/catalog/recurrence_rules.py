"""The rules an event's RRULE must follow (RFC 5545 3.3.10, and what every client reads
the same way): known parts, in range; FREQ, not both COUNT and UNTIL, UNTIL a DATE for
all-day events and a UTC time for timed ones; and the start its first occurrence.
Used by the catalog's rules (`rules.build_event`) and by `feeds import`."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from functools import lru_cache

from icalendar.prop import vRecur

from ..recurrence import EXDATE_REACH, as_datetime, day_of, starts, starts_on
from .errors import Invalid

#: The rule parts RFC 5545 defines (icalendar's parser accepts any name, so check them here).
_RECUR_PARTS = frozenset(
    ("FREQ", "UNTIL", "COUNT", "INTERVAL", "WKST", "BYSETPOS")
    + ("BYSECOND", "BYMINUTE", "BYHOUR", "BYDAY", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO", "BYMONTH")
)
# RFC 5545 3.3.10 ranges that icalendar's parser does not check: (lowest, highest, negatives ok).
_RECUR_RANGES = {
    "COUNT": (1, 1_000_000, False),
    "INTERVAL": (1, 1_000_000, False),
    "BYSECOND": (0, 60, False),
    "BYMINUTE": (0, 59, False),
    "BYHOUR": (0, 23, False),
    "BYMONTHDAY": (1, 31, True),
    "BYYEARDAY": (1, 366, True),
    "BYWEEKNO": (1, 53, True),
    "BYMONTH": (1, 12, False),
    "BYSETPOS": (1, 366, True),
}
_UTC_UNTIL = re.compile(r"[0-9]{8}T[0-9]{6}Z")
_DATE_UNTIL = re.compile(r"[0-9]{8}")
# An event repeats by days at most; finer rules (an occurrence a second) could make
# renderers expand millions of occurrences, and no event calendar needs them.
_FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
# RFC 5545 weekdaynum: an optional ordinal 1..53 (negative from the end), then the day.
_WEEKDAY_NUM = re.compile(r"([+-]?)([0-9]{1,2})?(MO|TU|WE|TH|FR|SA|SU)")
#: The Gregorian calendar repeats itself, weekdays included, every 400 years: a rule
#: without an occurrence in 400 years after its start has none at all.
_CALENDAR_CYCLE_YEARS = 400


def check_rrule(rule: str, all_day: bool) -> dict[str, str]:
    """An RFC 5545 RRULE value as a calendar client will read it; its parts by name.

    A rule without COUNT or UNTIL repeats for ever; that is allowed (renderers
    bound how far they expand it).
    """
    return dict(_checked_rule_parts(rule, all_day))


# The same few rules recur across a catalog, and icalendar's parser is the slow step.
# Only a rule that passes is remembered (lru_cache does not keep exceptions).
@lru_cache(maxsize=1024)
def _checked_rule_parts(rule: str, all_day: bool) -> tuple[tuple[str, str], ...]:
    example = "e.g. FREQ=WEEKLY;BYDAY=TU;COUNT=6"
    parts: dict[str, str] = {}
    for part in rule.split(";"):
        name, equals, value = part.partition("=")
        if not equals or name not in _RECUR_PARTS or not value:
            raise Invalid(
                f"{part!r} is not a recurrence part (NAME=value, NAME one of "
                f"{', '.join(sorted(_RECUR_PARTS))}); {example}"
            )
        if name in parts:
            raise Invalid(f"{name} is given twice; {example}")
        parts[name] = value
    try:
        vRecur.from_ical(rule)
    except (ValueError, TypeError) as exc:
        raise Invalid(f"is not a valid recurrence rule ({exc}); {example}") from None
    for name, value in parts.items():
        if name in _RECUR_RANGES:
            _check_recur_numbers(name, value)
    if "FREQ" not in parts:
        raise Invalid(f"needs FREQ (DAILY, WEEKLY, MONTHLY or YEARLY); {example}")
    if parts["FREQ"] not in _FREQUENCIES:
        raise Invalid(
            f"FREQ={parts['FREQ']}: an event repeats at most daily; "
            f"use DAILY, WEEKLY, MONTHLY or YEARLY (BYHOUR picks hours); {example}"
        )
    if "BYDAY" in parts:
        _check_weekdays(parts["BYDAY"], parts["FREQ"])
    if "COUNT" in parts and "UNTIL" in parts:
        raise Invalid("has both COUNT and UNTIL; keep one")
    clock = [name for name in ("BYHOUR", "BYMINUTE", "BYSECOND") if name in parts]
    if all_day and clock:
        # Its occurrences would be times of day that an all-day start never matches.
        raise Invalid(
            f"{clock[0]} picks times of day, and an all-day event has none; remove it, "
            "or give start and end a time"
        )
    until = parts.get("UNTIL")
    if until is not None and all_day and not _DATE_UNTIL.fullmatch(until):
        raise Invalid(f"UNTIL must be a date like 20190630 for an all-day event, not {until}")
    if until is not None and not all_day and not _UTC_UNTIL.fullmatch(until):
        raise Invalid(
            f"UNTIL must be a UTC time like 20190630T220000Z for a timed event, not {until}"
        )
    return tuple(parts.items())


def _check_weekdays(value: str, freq: str) -> None:
    """BYDAY ordinals: 1..53 (dateutil fails on more), and only in MONTHLY or YEARLY rules."""
    for item in value.split(","):
        match = _WEEKDAY_NUM.fullmatch(item)
        if match is None or match[2] is None:
            continue  # a plain day; vRecur has checked the names
        if freq not in ("MONTHLY", "YEARLY"):
            raise Invalid(f"BYDAY={value}: a numbered day ({item}) needs FREQ=MONTHLY or YEARLY")
        if not 1 <= int(match[2]) <= 53:
            raise Invalid(f"BYDAY={value}: the number before a day must be in 1..53 or -53..-1")


def check_occurs(parts: dict[str, str], start: date | datetime) -> None:
    """The rule must give an occurrence, not after UNTIL, within 400 years of the start,
    and the start must be that first occurrence.

    dateutil looks for a next occurrence up to the year 9999, which takes minutes for a
    rule that never matches (FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30); renderers must never
    meet one. The search runs from the start moved to the year 9200-9599 that has the
    same place in the 400-year cycle (same weekdays, same leap years), so it is bounded
    by 800 years of days (< 1 s). The start is compared as a wall-clock time in its zone
    and to the second, which is how the rule is expanded (`feeds.recurrence`).
    """
    wall = start.replace(tzinfo=None) if isinstance(start, datetime) else start
    first = as_datetime(wall).replace(microsecond=0)
    shift = 9200 + first.year % _CALENDAR_CYCLE_YEARS - first.year
    probe_start = first.replace(year=first.year + shift)
    found = _first_occurrence(parts, probe_start)
    if found is None or found.year - probe_start.year > _CALENDAR_CYCLE_YEARS:
        raise Invalid(
            "never happens: no date matches all of its BY... parts together "
            "(like BYMONTH=2;BYMONTHDAY=30); check them"
        )
    found = found.replace(year=found.year - shift)
    if "UNTIL" in parts:
        _check_until_after_first(parts["UNTIL"], found, start)
    if found != first:
        # RFC 5545 leaves the recurrence set of an unsynchronised DTSTART undefined, and
        # clients do differ (the start counted or not, COUNT spent on it or not).
        all_day = not isinstance(start, datetime)
        raise Invalid(
            f"the start {_shown(first, all_day)} is not an occurrence of this rule; its "
            f"first occurrence after it is {_shown(found, all_day)}: start the event "
            "there, or change the rule"
        )


_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _shown(moment: datetime, all_day: bool) -> str:
    """A wall-clock occurrence for a message: 2019-06-04 (Tue), or 2019-06-04 09:30 (Tue)."""
    clock = "" if all_day else moment.strftime(" %H:%M:%S" if moment.second else " %H:%M")
    return f"{moment.date().isoformat()}{clock} ({_WEEKDAYS[moment.weekday()]})"


#: Rule parts that never exclude the start: without a BY... part, dateutil takes the
#: month, day, weekday and time from the start, so the start is the first occurrence
#: (unless it has a fraction of a second, which dateutil drops from the rule's start).
_START_KEEPING_PARTS = frozenset(("FREQ", "INTERVAL", "COUNT", "UNTIL", "WKST"))


def _first_occurrence(parts: dict[str, str], probe_start: datetime) -> datetime | None:
    """The rule's first occurrence from `probe_start` on, ignoring COUNT and UNTIL."""
    if parts.keys() <= _START_KEEPING_PARTS and not probe_start.microsecond:
        # What dateutil gives, ~50x faster (tests/test_catalog_fast_paths.py compares).
        return probe_start
    unbounded = ";".join(
        f"{name}={value}" for name, value in parts.items() if name not in ("COUNT", "UNTIL")
    )
    return next((found for found in starts(unbounded, probe_start) if found >= probe_start), None)


def _check_until_after_first(until: str, first: datetime, start: date | datetime) -> None:
    """UNTIL (a date, or a UTC time for a timed event) not before the first occurrence."""
    last = date(int(until[:4]), int(until[4:6]), int(until[6:8]))
    if isinstance(start, datetime):
        moment = datetime.combine(
            last, time(int(until[9:11]), int(until[11:13]), int(until[13:15])), UTC
        )
        early = moment < first.replace(tzinfo=start.tzinfo)
        shown_first = first.replace(tzinfo=start.tzinfo).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    else:
        early, shown_first = last < first.date(), first.strftime("%Y%m%d")
    if early:
        raise Invalid(
            f"UNTIL={until} is before the first occurrence ({shown_first}); "
            "the event would never happen"
        )


def _check_recur_numbers(name: str, value: str) -> None:
    low, high, signed = _RECUR_RANGES[name]
    for number in value.split(","):
        digits = number.lstrip("+-") if signed else number
        if not digits.isdigit() or not low <= int(digits) <= high:
            allowed = f"{low}..{high}" + (f" or -{high}..-{low}" if signed else "")
            raise Invalid(f"{name}={value}: each value must be in {allowed}")


def check_left_out(rule: str, start: date | datetime, day: date) -> None:
    """`day` (of an event's `exdate`) must be a day the rule gives, not its start's."""
    first = day_of(start)
    if day == first:
        later = next(
            (moment.date() for moment in starts(rule, start) if moment.date() > first), None
        )
        instead = f" ({later.isoformat()})" if later else ""
        raise Invalid(
            f"{day.isoformat()} is the event's first day: start the event on its next "
            f"date{instead} instead of leaving it out"
        )
    if not starts_on(rule, start, [day])[day]:
        raise Invalid(_not_given(rule, start, day))


def _not_given(rule: str, start: date | datetime, day: date) -> str:
    """Why `day` is not one the rule gives, with the rule's dates around it."""
    before: date | None = None
    for count, moment in enumerate(starts(rule, start)):
        if moment.date() > day:
            if before is None:
                near = f"its first date is {moment.date().isoformat()}"
            else:
                near = f"the nearest: {before.isoformat()} and {moment.date().isoformat()}"
            return f"{day.isoformat()} is not one of the event's dates ({near})"
        if count >= EXDATE_REACH:
            return (
                f"{day.isoformat()} is beyond the event's first {EXDATE_REACH:,} dates; "
                "end its rule before it (UNTIL) and make a new event from there"
            )
        before = moment.date()
    last = before.isoformat() if before is not None else "its start"
    return f"{day.isoformat()} is not one of the event's dates (its last date is {last})"
