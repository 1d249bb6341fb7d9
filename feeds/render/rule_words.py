"""A recurring event's rule in the reader's words: "Every 2 weeks on Tuesday and
Thursday, 6 times", "Every month on the first Tuesday, until Tue 25 June 2024, except
Tue 2 April 2024".

The frequency, its interval, which days when they can be said plainly, the end, and the
days left out (`exdate`; COUNT counts them, as RFC 5545 does). Which days, said:
weekdays of a weekly rule (BYDAY=TU,TH; a daily, monthly or yearly rule with them alone
and no interval is the same rule); numbered weekdays of a monthly rule (BYDAY=1TU,
-1FR: the first to the fifth, and the last); days of the month of a monthly rule
(BYMONTHDAY=1,15, or -1 alone: the last day). A rule with any other BY... part
(BYMONTH, BYSETPOS, BYHOUR ...) or another mix is said without its days ("Every year,
3 times"): the dates listed under it on the entry page show them.
The rule is one the catalog checked (recurrence_rules.py): FREQ is DAILY, WEEKLY,
MONTHLY or YEARLY, never both COUNT and UNTIL, UNTIL a date for an all-day event and a
UTC time for a timed one, BYDAY's numbers only in MONTHLY and YEARLY rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime

from babel.lists import format_list

from ..model import Event
from .pages_dates import Dates

Gettext = Callable[[str], str]
Ngettext = Callable[[str, str, int], str]

# Parts that never change which days a rule gives beyond what is said of it.
_SAID_PARTS = frozenset(("FREQ", "INTERVAL", "COUNT", "UNTIL", "WKST"))
_WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")  # 0 = Monday, as Babel counts
_NUMBERED_WEEKDAY = re.compile(r"([+-]?[0-9]{1,2})?(MO|TU|WE|TH|FR|SA|SU)")


def rule_in_words(event: Event, gettext: Gettext, ngettext: Ngettext, dates: Dates) -> str:
    """`event.rrule` as a phrase in the catalog's language; "" for an event that does
    not repeat (or an unknown FREQ)."""
    parts = _as_said(dict(part.partition("=")[::2] for part in (event.rrule or "").split(";")))
    every = _every(parts.get("FREQ", ""), int(parts.get("INTERVAL", "1")), gettext, ngettext)
    if not every:
        return ""
    phrase = [_on_days(every, parts, gettext, ngettext, dates)]
    if "COUNT" in parts:
        count = int(parts["COUNT"])
        phrase.append(ngettext("%(number)s time", "%(number)s times", count) % {"number": count})
    elif "UNTIL" in parts:
        until = dates.day(_last_day(parts["UNTIL"], event))
        phrase.append(gettext("until %(date)s") % {"date": until})
    if event.exdate:
        days = format_list([dates.day(day) for day in event.exdate], locale=dates.locale)
        phrase.append(gettext("except %(dates)s") % {"dates": days})
    return ", ".join(phrase)


def _as_said(parts: dict[str, str]) -> dict[str, str]:
    """A rule on plain weekdays and nothing else, without an interval, as the weekly rule
    it equals: daily, monthly or yearly on Monday and Friday is every Monday and Friday
    ("Every week on Monday and Friday", not "Every day on ..." or "Every month")."""
    on_weekdays_only = parts.keys() - _SAID_PARTS == {"BYDAY"} and not any(
        character.isdigit() for character in parts["BYDAY"]
    )
    if on_weekdays_only and parts.get("INTERVAL", "1") == "1":
        return parts | {"FREQ": "WEEKLY"}
    return parts


def _on_days(
    every: str, parts: dict[str, str], _: Gettext, ngettext: Ngettext, dates: Dates
) -> str:
    """`every` with the days the rule picks, when they can be said plainly (see the
    module's docstring); `every` alone otherwise."""
    frequency, by = parts["FREQ"], parts.keys() - _SAID_PARTS
    if by == {"BYDAY"}:
        days = _weekdays(parts["BYDAY"], frequency, _, dates)
        return _("%(every)s on %(days)s") % {"every": every, "days": days} if days else every
    if by == {"BYMONTHDAY"} and frequency == "MONTHLY":
        numbers = sorted(int(number) for number in parts["BYMONTHDAY"].split(","))
        if numbers == [-1]:
            return _("%(every)s on the last day") % {"every": every}
        if numbers[0] > 0:
            listed = format_list([str(number) for number in numbers], locale=dates.locale)
            phrase = ngettext(
                "%(every)s on day %(days)s", "%(every)s on days %(days)s", len(numbers)
            )
            return phrase % {"every": every, "days": listed}
    return every


def _weekdays(byday: str, frequency: str, _: Gettext, dates: Dates) -> str:
    """BYDAY's days as a list ("Tuesday and Thursday", "the first Tuesday"); "" when they
    are not said plainly: plain days of a monthly or yearly rule (every such weekday of
    the month or year), numbered days of a yearly rule or beyond the table, or a mix."""
    names = dates.locale.days["format"]["wide"]
    days = [_NUMBERED_WEEKDAY.fullmatch(item) for item in byday.split(",")]
    if not all(days):
        return ""  # not a rule the catalog accepts
    numbered = [(int(day[1] or 0), _WEEKDAY_CODES.index(day[2])) for day in days if day]
    numbers = {number for number, _weekday in numbered}

    def in_week(weekday: int) -> int:  # from the locale's first day of the week
        return (weekday - dates.first_weekday) % 7

    if numbers == {0} and frequency in ("DAILY", "WEEKLY"):
        weekdays = sorted((weekday for _number, weekday in numbered), key=in_week)
        return format_list([names[weekday] for weekday in weekdays], locale=dates.locale)
    ordinals = _ordinals(_)
    if frequency == "MONTHLY" and numbers <= ordinals.keys():
        numbered.sort(key=lambda day: (day[0] < 0, day[0], in_week(day[1])))
        listed = [ordinals[number] % {"weekday": names[weekday]} for number, weekday in numbered]
        return format_list(listed, locale=dates.locale)
    return ""


def _ordinals(_: Gettext) -> dict[int, str]:
    # Each message a literal call, for the extraction (`make messages`). A weekday's
    # name goes in as CLDR writes it in running text; a language whose ordinals agree
    # with the day's gender says it without agreement (docs/translations.md).
    return {
        1: _("the first %(weekday)s"),
        2: _("the second %(weekday)s"),
        3: _("the third %(weekday)s"),
        4: _("the fourth %(weekday)s"),
        5: _("the fifth %(weekday)s"),
        -1: _("the last %(weekday)s"),
    }


def _every(frequency: str, interval: int, _: Gettext, ngettext: Ngettext) -> str:
    # Each message a literal call, for the extraction (`make messages`). A plural
    # message's singular is never shown in English (an interval of 1 has a message of its
    # own), but some languages use that form for other numbers.
    phrases = {
        "DAILY": (
            _("Every day"),
            ngettext("Every %(number)s day", "Every %(number)s days", interval),
        ),
        "WEEKLY": (
            _("Every week"),
            ngettext("Every %(number)s week", "Every %(number)s weeks", interval),
        ),
        "MONTHLY": (
            _("Every month"),
            ngettext("Every %(number)s month", "Every %(number)s months", interval),
        ),
        "YEARLY": (
            _("Every year"),
            ngettext("Every %(number)s year", "Every %(number)s years", interval),
        ),
    }
    once, every_n = phrases.get(frequency, ("", ""))
    return once if interval == 1 else every_n % {"number": interval}


def _last_day(until: str, event: Event) -> date:
    """UNTIL's day where the event is: a DATE as it is, a UTC time in the event's zone
    (UTC for a start without one)."""
    if "T" not in until:
        return date(int(until[:4]), int(until[4:6]), int(until[6:8]))
    moment = datetime.strptime(until, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    start = event.start
    zone = start.tzinfo if isinstance(start, datetime) and start.tzinfo else UTC
    return moment.astimezone(zone).date()
