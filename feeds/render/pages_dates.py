"""Dates on the pages in the catalog's language, from Babel's CLDR data.

`dates_for(language)` gives the formats of one catalog `language` (any BCP 47 tag CLDR
knows, not only the languages whose messages ship): days as the locale writes its
abbreviated full date ("jeu. 14 mars 2019", "Do., 14. März 2019"), spans of days as its
interval formats, times in its short time format, zones by its name for them and its
UTC offset format, and the month grid's month names and first weekday.

The bare tag `en`, the catalog's default, keeps the format the pages always had ("Thu
14 March 2019", "Europe/Brussels, UTC+02:00", pages_calendar.py): every site published
in English reads as before. `en-GB`, `en-US` ... take CLDR's.

Babel formats a date in ~20 µs; a 10k catalog writes ~40,000 dates for a few thousand
distinct days, so each text is kept per formatter once made (one formatter per language
and process).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from functools import cache
from typing import Protocol

from babel import Locale
from babel.dates import (
    format_interval,
    format_time,
    get_timezone_gmt,
    get_timezone_name,
    match_skeleton,
    parse_pattern,
)

from .. import i18n
from ..model import Event
from . import pages_calendar as cal

# CLDR skeletons: weekday abbreviated, day, month in full, year; month and year.
_DAY = "yMMMMEd"
_MONTH = "yMMMM"


class Dates(Protocol):
    """Dates as the pages of one language write them."""

    first_weekday: int  # 0 = Monday, as the `calendar` module counts
    locale: Locale  # CLDR's: weekday names and lists in running text (rule_words.py)

    def day(self, day: date) -> str: ...
    def span(self, event: Event, start: date | datetime, end: date | datetime) -> str: ...
    def when(self, event: Event) -> str: ...
    def month_title(self, year: int, month: int) -> str: ...
    def weekdays(self) -> tuple[tuple[str, str], ...]: ...


class CldrDates:
    """The formats of one CLDR locale."""

    def __init__(self, locale: Locale) -> None:
        self.locale = locale
        self.first_weekday = locale.first_week_day
        self._day = parse_pattern(_pattern(locale, _DAY))
        self._intervals = _interval_patterns(locale, _DAY)
        self._days: dict[date, str] = {}
        self._spans: dict[tuple[date, date], str] = {}
        self._zones: dict[tuple[str | None, object], str] = {}

    def day(self, day: date) -> str:
        text = self._days.get(day)
        if text is None:
            text = self._days[day] = self._day.apply(day, self.locale)
        return text

    def days(self, first: date, last: date) -> str:
        if first == last:
            return self.day(first)
        text = self._spans.get((first, last))
        if text is None:
            text = self._spans[first, last] = self._interval(first, last)
        return text

    def _interval(self, first: date, last: date) -> str:
        """CLDR's interval format: the pattern for the largest field that differs
        (year, month, day), one half for each end, as Babel's format_interval picks it."""
        differs = (
            ("y", first.year != last.year),
            ("M", first.month != last.month),
            ("d", first.day != last.day),
        )
        for field, different in differs:
            halves = self._intervals.get(field) if different else None
            if halves is not None:
                return "".join(
                    parse_pattern(pattern).apply(end, self.locale)
                    for pattern, end in zip(halves, (first, last), strict=True)
                )
        return str(format_interval(first, last, _DAY, locale=self.locale))

    def span(self, event: Event, start: date | datetime, end: date | datetime) -> str:
        if not isinstance(start, datetime) or not isinstance(end, datetime):
            return self.days(start, end)
        clock = format_time(start, "short", tzinfo=start.tzinfo, locale=self.locale)
        until = format_time(end, "short", tzinfo=end.tzinfo, locale=self.locale)
        if start.date() == end.date():
            text = f"{self.day(start.date())}, {clock} – {until}"
        else:
            text = f"{self.day(start.date())} {clock} – {self.day(end.date())} {until}"
        return f"{text} ({self.zone(event, start)})"

    def zone(self, event: Event, moment: datetime) -> str:
        """The zone as the locale names it, and the UTC offset: "heure d’été d’Europe
        centrale, UTC+02:00"."""
        key = (event.timezone, moment.utcoffset())
        text = self._zones.get(key)
        if text is None:
            offset = get_timezone_gmt(moment, locale=self.locale)
            name = get_timezone_name(moment, "long", locale=self.locale)
            text = self._zones[key] = f"{name}, {offset}" if event.timezone else offset
        return text

    def when(self, event: Event) -> str:
        return self.span(event, event.start, event.end)

    def month_title(self, year: int, month: int) -> str:
        return _month_title(self.locale, year, month)

    def weekdays(self) -> tuple[tuple[str, str], ...]:
        return _weekdays(self.locale, self.first_weekday)


class ClassicEnglishDates:
    """`en`: the pages' format before they spoke other languages (pages_calendar.py)."""

    first_weekday = 0
    locale = Locale("en")

    def day(self, day: date) -> str:
        return cal.day_text(day)

    def span(self, event: Event, start: date | datetime, end: date | datetime) -> str:
        return cal.span_text(event, start, end)

    def when(self, event: Event) -> str:
        return cal.when_text(event)

    def month_title(self, year: int, month: int) -> str:
        return _month_title(self.locale, year, month)

    def weekdays(self) -> tuple[tuple[str, str], ...]:
        return _weekdays(self.locale, self.first_weekday)


@cache
def dates_for(language: str) -> Dates:
    """The formats of a catalog `language`; English's for a tag CLDR does not know
    (the catalog refuses those, see feeds.catalog.values.language)."""
    if language == "en":
        return ClassicEnglishDates()
    locale = i18n.locale_of(language)
    return CldrDates(locale) if locale is not None else ClassicEnglishDates()


def _pattern(locale: Locale, skeleton: str) -> str:
    found = match_skeleton(skeleton, locale.datetime_skeletons) or skeleton
    return str(locale.datetime_skeletons[found]) if found in locale.datetime_skeletons else found


# A month of three or four letters (abbreviated or full) outside quoted literals.
_MONTH_FIELD = re.compile(r"(?<![ML])(MMM|LLL)(?![ML])")
_QUOTED = re.compile(r"('(?:[^']|'')*')")


def _interval_patterns(locale: Locale, skeleton: str) -> Mapping[str, Sequence[str]]:
    """The locale's interval patterns for `skeleton`, by the field that differs. Where
    CLDR has none for the skeleton itself (fr, de, it, nl, en-GB ... have `yMMMEd`, not
    `yMMMMEd`), the nearest one with its month widened to the requested width: TR35 says
    to adjust a near match's field widths, Babel does not, and "24 – 26 avr. 2019"
    beside single days written "24 avril 2019" reads as two styles on one page."""
    formats = locale.interval_formats
    found = skeleton if skeleton in formats else match_skeleton(skeleton, formats)
    if not found:
        return {}
    patterns = {str(field): list(halves) for field, halves in formats[found].items()}
    if found == skeleton or "MMMM" not in skeleton:
        return patterns
    return {field: [_widen_month(half) for half in halves] for field, halves in patterns.items()}


def _widen_month(pattern: str) -> str:
    """`E d MMM y` -> `E d MMMM y`; quoted text ('de ') left alone."""
    pieces = _QUOTED.split(pattern)  # odd indexes: the quoted literals
    return "".join(
        piece if index % 2 else _MONTH_FIELD.sub(lambda m: m.group(1) + m.group(1)[0], piece)
        for index, piece in enumerate(pieces)
    )


def _month_title(locale: Locale, year: int, month: int) -> str:
    """ "March 2019", "mars 2019", "marzec 2019": the month standing alone (its name in the
    nominative, where a language has cases)."""
    return parse_pattern(_pattern(locale, _MONTH)).apply(date(year, month, 1), locale)


def _weekdays(locale: Locale, first: int) -> tuple[tuple[str, str], ...]:
    """(full name, abbreviation) of each weekday, from `first` (0 = Monday)."""
    wide = locale.days["stand-alone"]["wide"]
    short = locale.days["stand-alone"]["abbreviated"]
    order = [(first + i) % 7 for i in range(7)]
    return tuple((wide[day], short[day]) for day in order)
