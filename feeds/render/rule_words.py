"""A recurring event's rule in the reader's words: "Every 2 weeks, 6 times", "Every
month, until Tue 25 June 2024".

The frequency, its interval and the end only: which days (BYDAY, BYMONTHDAY ...) the
dates listed under it on the entry page show. The rule is one the catalog checked
(recurrence_rules.py): FREQ is DAILY, WEEKLY, MONTHLY or YEARLY, never both COUNT and
UNTIL, UNTIL a date for an all-day event and a UTC time for a timed one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

from ..model import Event
from .pages_dates import Dates

Gettext = Callable[[str], str]
Ngettext = Callable[[str, str, int], str]


def rule_in_words(event: Event, gettext: Gettext, ngettext: Ngettext, dates: Dates) -> str:
    """`event.rrule` as a phrase in the catalog's language; "" for an event that does
    not repeat (or an unknown FREQ)."""
    parts = dict(part.partition("=")[::2] for part in (event.rrule or "").split(";"))
    every = _every(parts.get("FREQ", ""), int(parts.get("INTERVAL", "1")), gettext, ngettext)
    if not every:
        return ""
    if "COUNT" in parts:
        count = int(parts["COUNT"])
        end = ngettext("%(number)s time", "%(number)s times", count) % {"number": count}
    elif "UNTIL" in parts:
        end = gettext("until %(date)s") % {"date": dates.day(_last_day(parts["UNTIL"], event))}
    else:
        return every
    return f"{every}, {end}"


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
