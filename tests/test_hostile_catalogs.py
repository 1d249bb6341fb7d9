"""The hostile corpus (`tests/hostile/`, indexed by `cases.toml`) through `feeds check` and
`feeds build`, plus regression tests for what the corpus found.

Every broken catalog must give exit 1, only `FILE:LINE: [field: ]message` lines on stderr
(line 0 only for whole-file problems), no traceback, and leave the export untouched.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from feeds.catalog import CatalogErrors, parse_catalog
from feeds.catalog.errors import MAX_PROBLEMS
from feeds.catalog.yamlnodes import MAX_ITEMS
from feeds.model import Catalog, Entry, Event, Feed
from feeds.render.ics_rrule import UNBOUNDED_YEARS, last_day
from feeds.site import build_site

FEED_TEXT = """\
feed:
  title: T
  link: https://example.org/
  base_url: https://feeds.example.org/
  id_authority: example.org,2019
  timezone: Europe/Brussels
"""


def problems_of(text: str | bytes) -> list[str]:
    data = text.encode("utf-8") if isinstance(text, str) else text
    with pytest.raises(CatalogErrors) as caught:
        parse_catalog(data, "c.yaml")
    return [str(error) for error in caught.value.errors]


def event_catalog(rrule: str, start: str = "2019-05-21T09:00:00", end: str = "") -> str:
    end = end or start.replace("09:00", "10:00")
    return FEED_TEXT + (
        "entries:\n  - id: e\n    title: E\n    event:\n"
        f"      start: {start}\n      end: {end}\n      rrule: {rrule}\n"
    )


# --- regressions: floods of problems ---------------------------------------------------------


def test_a_flood_of_problems_stops_after_the_limit_with_a_note() -> None:
    lines = problems_of(FEED_TEXT + "entries:\n" + "  - x\n" * (MAX_PROBLEMS * 50))
    assert len(lines) == MAX_PROBLEMS + 1
    assert lines[-1] == (
        f"c.yaml:{7 + MAX_PROBLEMS + 1}: stopped reading here after {MAX_PROBLEMS} problems; "
        "fix those and run again"
    )


def test_a_mapping_with_too_many_keys_stops_reading() -> None:
    keys = "".join(f"  k{i}: 1\n" for i in range(MAX_ITEMS + 1))
    assert problems_of(FEED_TEXT.replace("feed:\n", "feed:\n" + keys)) == [
        f"c.yaml:2: this mapping has more than {MAX_ITEMS:,} keys; no catalog needs that "
        "(is an indentation wrong?)"
    ]


def test_a_long_list_below_the_top_stops_reading() -> None:
    tags = ", ".join(f"t{i}" for i in range(MAX_ITEMS + 1))
    text = FEED_TEXT + f"entries:\n  - id: e\n    title: E\n    tags: [{tags}]\n"
    assert problems_of(text) == [
        f"c.yaml:10: this list has more than {MAX_ITEMS:,} items; no catalog needs that "
        "(is an indentation wrong?)"
    ]


def test_running_out_of_memory_is_a_problem_of_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    import feeds.catalog as catalog_module

    def exhausted(*args: object) -> None:
        raise MemoryError

    monkeypatch.setattr(catalog_module, "compose", exhausted)
    assert problems_of(FEED_TEXT) == [
        f"c.yaml:0: there is not enough memory to check this file ({len(FEED_TEXT):,} bytes); "
        "write feed: before entries: (entries are then checked one at a time) or split it"
    ]


# --- regressions: one problem, one line --------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "shown"),
    [
        ('"a\\nb"', "a\\nb"),
        ('"a\\u2028b"', "a\\u2028b"),
        ('"a\\x85b"', "a\\x85b"),
        ('"\\u202Eevil"', "\\u202eevil"),
        ("k" * 100, "'" + "k" * 60 + "...'"),
    ],
)
def test_a_key_with_line_breaks_or_of_any_length_stays_on_one_short_line(
    key: str, shown: str
) -> None:
    (line,) = problems_of(FEED_TEXT + f"{key}: 1\nentries: [{{id: a, title: b}}]\n")
    assert line.startswith(f"c.yaml:7: {shown}: unknown key ")
    assert line.isprintable()
    assert len(line) < 300


# --- regressions: recurrence rules that renderers could not expand in bounded time ----------


@pytest.mark.parametrize(
    ("rrule", "message"),
    [
        ("FREQ=SECONDLY", "FREQ=SECONDLY: an event repeats at most daily"),
        ("FREQ=HOURLY;COUNT=3", "FREQ=HOURLY: an event repeats at most daily"),
        ("FREQ=MONTHLY;BYDAY=99TU", "BYDAY=99TU: the number before a day must be in 1..53"),
        ("FREQ=WEEKLY;BYDAY=2TU", "BYDAY=2TU: a numbered day (2TU) needs FREQ=MONTHLY or"),
        ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "never happens: no date matches"),
        ("FREQ=YEARLY;BYMONTH=4;BYMONTHDAY=31;COUNT=2", "never happens: no date matches"),
        ("FREQ=MONTHLY;BYDAY=6TU", "never happens: no date matches"),
        ("FREQ=YEARLY;BYWEEKNO=1;BYMONTH=6", "never happens: no date matches"),
        ("FREQ=YEARLY;BYSETPOS=40;BYMONTH=1", "never happens: no date matches"),
        (
            "FREQ=DAILY;UNTIL=20000101T000000Z",
            "UNTIL=20000101T000000Z is before the first occurrence (20190521T070000Z)",
        ),
        (
            "FREQ=DAILY;UNTIL=20190521T065959Z",
            "UNTIL=20190521T065959Z is before the first occurrence (20190521T070000Z)",
        ),
    ],
)
def test_rules_that_never_end_expanding_are_refused(rrule: str, message: str) -> None:
    (line,) = problems_of(event_catalog(rrule))
    assert line.startswith(f"c.yaml:13: entries[0].event.rrule: {message}")


def test_an_until_at_the_first_occurrence_is_accepted() -> None:
    catalog = parse_catalog(event_catalog("FREQ=DAILY;UNTIL=20190521T070000Z").encode())
    assert catalog.entries[0].event is not None


def test_all_day_until_before_the_start_is_refused() -> None:
    text = event_catalog("FREQ=WEEKLY;UNTIL=20190520", "2019-05-21", "2019-05-21")
    assert problems_of(text) == [
        "c.yaml:13: entries[0].event.rrule: UNTIL=20190520 is before the first occurrence "
        "(20190521); the event would never happen"
    ]


@pytest.mark.parametrize(
    "value", ["0001-01-01", "1899-12-31", "3000-01-01", "9999-12-31T23:00:00-12:00"]
)
def test_years_renderers_cannot_step_past_are_refused(value: str) -> None:
    text = FEED_TEXT + f"entries:\n  - id: a\n    title: A\n    published: {value}\n"
    assert problems_of(text) == [
        f"c.yaml:10: entries[0].published: {value}: the year must be in 1900..2999"
    ]


def counted_event(rrule: str, start: date | datetime) -> Event:
    return Event(
        start=start,
        end=start,
        timezone=None,
        location=None,
        geo=None,
        url=None,
        status="confirmed",
        rrule=rrule,
    )


@pytest.mark.parametrize(
    "rrule",
    [
        "FREQ=DAILY;COUNT=1000000",  # 2,700 years of days
        "FREQ=DAILY;INTERVAL=1000000;COUNT=1000000",  # past the year 9999
        "FREQ=DAILY;UNTIL=29991231",
        "FREQ=DAILY;BYHOUR=" + ",".join(map(str, range(24))) + ";COUNT=1000000",
    ],
)
def test_calendar_time_zone_data_reaches_at_most_the_horizon(rrule: str) -> None:
    start = date(2019, 5, 21)
    assert last_day(counted_event(rrule, start)) == date(2019 + UNBOUNDED_YEARS, 5, 21)


def test_a_catalog_with_the_longest_rules_builds() -> None:
    feed = Feed(
        title="T",
        link="https://example.org/",
        base_url="https://feeds.example.org/",
        id_authority="example.org,2019",
    )
    entries = tuple(
        Entry(
            id=f"e{n}",
            title="E",
            summary="",
            type=None,
            tags=(),
            published=None,
            updated=None,
            link=None,
            line=1,
            event=counted_event(rule, date(2999, 12, 1)),
        )
        for n, rule in enumerate(
            ["FREQ=DAILY;COUNT=1000000", "FREQ=YEARLY", "FREQ=DAILY;UNTIL=29991231"]
        )
    )
    site = build_site(Catalog(feed=feed, entries=entries, source="c.yaml", version="v"))
    assert "/events.ics" in site.outputs
