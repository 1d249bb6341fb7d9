"""A recurring event's rule in the reader's words on its page (render/rule_words.py):
the frequency, its interval and the end, in the catalog's language."""

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
        ("FREQ=WEEKLY;BYDAY=TU", "Every week"),
        ("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;COUNT=6", "Every 2 weeks, 6 times"),
        ("FREQ=MONTHLY;BYDAY=1TU;COUNT=1", "Every month, 1 time"),
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
