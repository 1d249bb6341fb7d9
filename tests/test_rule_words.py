"""A recurring event's rule in the reader's words on its page (render/rule_words.py):
the frequency, its interval, which days and the end, in the catalog's language."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from feeds import i18n
from feeds.model import Event
from feeds.render.pages_dates import dates_for
from feeds.render.rule_words import rule_in_words


def in_words(rule: str, language: str = "en", start: date | datetime = date(2024, 3, 5)) -> str:
    ui = i18n.translations(language)
    event = Event(start=start, end=start, rrule=rule)
    return rule_in_words(event, ui.gettext, ui.ngettext, dates_for(language))


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("FREQ=WEEKLY", "Every week"),
        ("FREQ=WEEKLY;INTERVAL=2;COUNT=6", "Every 2 weeks, 6 times"),
        ("FREQ=MONTHLY;COUNT=1", "Every month, 1 time"),
        ("FREQ=DAILY;UNTIL=20240312", "Every day, until Tue 12 March 2024"),
        ("FREQ=YEARLY;INTERVAL=3", "Every 3 years"),
    ],
)
def test_a_rule_in_english(rule: str, expected: str) -> None:
    assert in_words(rule) == expected


@pytest.mark.parametrize(
    ("language", "rule", "expected"),
    [
        ("fr", "FREQ=WEEKLY;INTERVAL=2;COUNT=6", "Toutes les 2 semaines, 6 fois"),
        ("de", "FREQ=MONTHLY;COUNT=6", "Jeden Monat, 6 Mal"),
        ("es", "FREQ=DAILY;COUNT=1", "Cada día, 1 vez"),
        ("it", "FREQ=YEARLY;INTERVAL=2;COUNT=3", "Ogni 2 anni, 3 volte"),
        ("nl", "FREQ=WEEKLY;UNTIL=20240312", "Elke week, tot en met di 12 maart 2024"),
        # Polish: one form for 2-4 and another for 5 and more
        ("pl", "FREQ=WEEKLY;INTERVAL=2;COUNT=3", "Co 2 tygodnie, 3 razy"),
        ("pl", "FREQ=WEEKLY;INTERVAL=5;COUNT=12", "Co 5 tygodni, 12 razy"),
    ],
)
def test_a_rule_in_the_catalogs_language(language: str, rule: str, expected: str) -> None:
    assert in_words(rule, language) == expected


def test_a_timed_events_last_day_is_the_day_where_it_takes_place() -> None:
    # UNTIL is UTC for a timed event: 22:00 UTC on 25 June is already the 26th in Brussels
    start = datetime(2024, 3, 5, 10, tzinfo=ZoneInfo("Europe/Brussels"))
    rule = "FREQ=WEEKLY;UNTIL=20240625T220000Z"
    assert in_words(rule, start=start) == "Every week, until Wed 26 June 2024"


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("FREQ=WEEKLY;BYDAY=TU", "Every week on Tuesday"),
        # in the week's order from its first day (Monday for `en`), however listed
        (
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=SU,TH,TU;COUNT=6",
            "Every 2 weeks on Tuesday, Thursday, and Sunday, 6 times",
        ),
        # a daily rule on some weekdays is the weekly rule it equals
        (
            "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR",
            "Every week on Monday, Tuesday, Wednesday, Thursday, and Friday",
        ),
        ("FREQ=DAILY;INTERVAL=2;BYDAY=MO,FR", "Every 2 days on Monday and Friday"),
        # every Tuesday of each month (or year) is every Tuesday
        ("FREQ=MONTHLY;BYDAY=TU;COUNT=9", "Every week on Tuesday, 9 times"),
        ("FREQ=YEARLY;BYDAY=SA,SU", "Every week on Saturday and Sunday"),
        ("FREQ=MONTHLY;BYDAY=1TU;COUNT=6", "Every month on the first Tuesday, 6 times"),
        ("FREQ=MONTHLY;BYDAY=-1FR,+3WE", "Every month on the third Wednesday and the last Friday"),
        ("FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=15", "Every 3 months on day 15"),
        (
            "FREQ=MONTHLY;BYMONTHDAY=15,1;UNTIL=20240615",
            "Every month on days 1 and 15, until Sat 15 June 2024",
        ),
        ("FREQ=MONTHLY;BYMONTHDAY=-1", "Every month on the last day"),
    ],
)
def test_which_days_in_english(rule: str, expected: str) -> None:
    assert in_words(rule) == expected


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=MONTHLY;INTERVAL=2;BYDAY=TU",  # every Tuesday of every other month
        "FREQ=MONTHLY;BYDAY=-2FR",  # beyond the ordinals said
        "FREQ=MONTHLY;BYDAY=1TU,TH",  # a mix
        "FREQ=YEARLY;BYMONTH=11;BYDAY=4TH",  # another part
        "FREQ=YEARLY;BYDAY=1MO",  # the first Monday of the year, not of a month
        "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
        "FREQ=MONTHLY;BYMONTHDAY=1,-1",
        "FREQ=WEEKLY;BYMONTHDAY=1",
    ],
)
def test_days_not_said_plainly_are_left_to_the_listed_dates(rule: str) -> None:
    # said as the same rule without its BY... parts
    without_days = ";".join(part for part in rule.split(";") if not part.startswith("BY"))
    assert in_words(rule) == in_words(without_days)
    assert in_words(rule).startswith("Every")


def test_weekdays_start_from_the_locales_first_day() -> None:
    # en-US weeks start on Sunday, en-GB's on Monday (CLDR)
    assert in_words("FREQ=WEEKLY;BYDAY=MO,SU", "en-US") == "Every week on Sunday and Monday"
    assert in_words("FREQ=WEEKLY;BYDAY=MO,SU", "en-GB") == "Every week on Monday and Sunday"


@pytest.mark.parametrize(
    ("language", "rule", "expected"),
    [
        ("fr", "FREQ=MONTHLY;BYDAY=1TU;COUNT=6", "Chaque mois, le premier mardi, 6 fois"),
        ("fr", "FREQ=WEEKLY;BYDAY=TU,TH", "Chaque semaine, mardi et jeudi"),
        ("de", "FREQ=MONTHLY;BYDAY=1TU,-1FR", "Jeden Monat am ersten Dienstag und letzten Freitag"),
        ("de", "FREQ=MONTHLY;BYMONTHDAY=1,15", "Jeden Monat an den Tagen 1 und 15"),
        ("es", "FREQ=WEEKLY;BYDAY=MO,WE", "Cada semana, lunes y miércoles"),
        # Italian and Polish ordinals agree with the day: said by the week instead
        ("it", "FREQ=MONTHLY;BYDAY=1SU", "Ogni mese, domenica della prima settimana"),
        ("nl", "FREQ=MONTHLY;BYMONTHDAY=-1", "Elke maand op de laatste dag"),
        ("pl", "FREQ=MONTHLY;BYDAY=-1WE;COUNT=5", "Co miesiąc: środa w ostatnim tygodniu, 5 razy"),
        ("pl", "FREQ=MONTHLY;BYMONTHDAY=1,15", "Co miesiąc: dni 1 i 15"),
    ],
)
def test_which_days_in_the_catalogs_language(language: str, rule: str, expected: str) -> None:
    assert in_words(rule, language) == expected
