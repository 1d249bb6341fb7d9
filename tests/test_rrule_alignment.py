"""An event's start must be the first occurrence of its RRULE, and every place that
shows occurrences expands the rule the same way.

RFC 5545 leaves the recurrence set of a DTSTART that the rule does not give undefined
(ical.js and libical count such a start, sabre and recurring-ical-events may not, and
COUNT is spent differently), so `feeds check` refuses it and names the first date the
rule gives. The exact lines for the two examples of issue 19 are in
tests/test_catalog_errors.py and tests/hostile/214-215; here: zones, all-day events,
BYSETPOS, UNTIL, bounded search, and the pages agreeing with ical.js.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from test_ics_support import calendars, icaljs

from feeds.catalog import CatalogErrors, parse_catalog
from feeds.model import Catalog
from feeds.render.pages_calendar import last_day
from feeds.render.pages_grid import occurrences

FEED = """\
feed:
  title: T
  link: https://example.org/
  base_url: https://feeds.example.org/
  id_authority: example.org,2019
  timezone: Europe/Brussels
entries:
  - id: series
    title: Series
    event:
"""
RULE_LINE = 13  # the `rrule:` line of `catalog_text`


def catalog_text(start: str, end: str, rrule: str, zone: str | None = None) -> str:
    lines = [f"      start: {start}", f"      end: {end}"]
    if zone:
        lines.append(f"      timezone: {zone}")
    lines.append(f"      rrule: {rrule}")
    return FEED + "\n".join(lines) + "\n"


def problems(text: str) -> list[str]:
    with pytest.raises(CatalogErrors) as caught:
        parse_catalog(text.encode(), "c.yaml")
    return [str(error) for error in caught.value.errors]


def refusal(start_shown: str, first_shown: str, line: int = RULE_LINE) -> str:
    return (
        f"c.yaml:{line}: entries[0].event.rrule: the start {start_shown} is not an occurrence "
        f"of this rule; its first occurrence after it is {first_shown}: start the event "
        "there, or change the rule"
    )


@pytest.mark.parametrize(
    ("start", "end", "rrule", "zone", "start_shown", "first_shown"),
    [
        pytest.param(
            "2019-05-30", "2019-05-30", "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", None,
            "2019-05-30 (Thu)", "2019-05-31 (Fri)", id="bysetpos: last weekday of the month",
        ),
        pytest.param(
            "2019-05-21T09:00:00", "2019-05-21T10:00:00", "FREQ=DAILY;BYHOUR=10", None,
            "2019-05-21 09:00 (Tue)", "2019-05-21 10:00 (Tue)", id="same day, another hour",
        ),
        pytest.param(
            # 23:30 in New York is 05:30 on Wednesday in Brussels: the rule is read there.
            "2019-05-21T23:30:00-04:00", "2019-05-22T01:00:00-04:00", "FREQ=WEEKLY;BYDAY=TU",
            "Europe/Brussels", "2019-05-22 05:30 (Wed)", "2019-05-28 05:30 (Tue)",
            id="a start with an offset, compared in the event's zone",
        ),
        pytest.param(
            "2019-03-01T18:00:00", "2019-03-01T19:00:00",
            "FREQ=WEEKLY;BYDAY=SU;UNTIL=20190630T160000Z", "America/New_York",
            "2019-03-01 18:00 (Fri)", "2019-03-03 18:00 (Sun)", id="until, in a zone",
        ),
        pytest.param(
            # A rare date with no end: found by the bounded 400-year search.
            "2019-05-20", "2019-05-20", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO", None,
            "2019-05-20 (Mon)", "2044-02-29 (Mon)", id="29 February on a Monday, endless",
        ),
        pytest.param(
            "2019-05-21T09:00:30", "2019-05-21T10:00:00", "FREQ=DAILY;BYSECOND=0", None,
            "2019-05-21 09:00:30 (Tue)", "2019-05-22 09:00 (Wed)", id="seconds shown",
        ),
    ],
)  # fmt: skip
def test_a_start_that_is_not_the_first_occurrence_is_refused(
    start: str, end: str, rrule: str, zone: str | None, start_shown: str, first_shown: str
) -> None:
    line = RULE_LINE + (1 if zone else 0)
    assert problems(catalog_text(start, end, rrule, zone)) == [
        refusal(start_shown, first_shown, line)
    ]


def test_times_of_day_on_an_all_day_event_are_refused() -> None:
    assert problems(catalog_text("2019-05-21", "2019-05-21", "FREQ=DAILY;BYMINUTE=30")) == [
        f"c.yaml:{RULE_LINE}: entries[0].event.rrule: BYMINUTE picks times of day, and an "
        "all-day event has none; remove it, or give start and end a time"
    ]


@pytest.mark.slow
def test_feeds_check_refuses_the_issues_examples_with_the_line(tmp_path: Path) -> None:
    """Through the installed command, as an editor runs it."""
    catalog = tmp_path / "entries.yaml"
    catalog.write_text(catalog_text("2019-05-18", "2019-05-18", "FREQ=MONTHLY;BYDAY=1TU"))
    feeds = Path(sys.executable).with_name("feeds")
    done = subprocess.run(
        [str(feeds), "check", str(catalog)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == (
        refusal("2019-05-18 (Sat)", "2019-06-04 (Tue)").replace("c.yaml", str(catalog)) + "\n"
    )


# Rules whose start is their first occurrence: accepted, and shown alike everywhere.
ALIGNED = [
    pytest.param(
        "2019-05-31", "2019-05-31", "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;COUNT=8",
        None, id="bysetpos: last weekday of the month",
    ),
    pytest.param(
        "2019-06-04", "2019-06-05", "FREQ=MONTHLY;BYDAY=1TU;COUNT=6", None,
        id="all-day, two days, first Tuesdays",
    ),
    pytest.param(
        "2019-03-05T18:30:00", "2019-03-05T20:00:00", "FREQ=WEEKLY;BYDAY=TU,TH;COUNT=10",
        "America/New_York", id="a zone, across its summer time change",
    ),
    pytest.param(
        "2019-03-31T10:00:00", "2019-03-31T11:00:00", "FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU;COUNT=3",
        "Europe/London", id="the last Sunday of March, the day clocks change",
    ),
    pytest.param(
        "2019-05-21T09:00:00", "2019-05-21T10:00:00",
        "FREQ=DAILY;BYHOUR=9,17;UNTIL=20190524T000000Z", None, id="two hours a day, until",
    ),
    pytest.param(
        "2019-05-21T09:00:00.500", "2019-05-21T10:00:00", "FREQ=WEEKLY;BYDAY=TU;COUNT=3", None,
        id="a start with a fraction of a second",
    ),
]  # fmt: skip


def aligned_catalog(start: str, end: str, rrule: str, zone: str | None) -> Catalog:
    return parse_catalog(catalog_text(start, end, rrule, zone).encode(), "c.yaml")


@pytest.mark.parametrize(("start", "end", "rrule", "zone"), ALIGNED)
def test_pages_and_ical_js_give_the_same_occurrences(
    start: str, end: str, rrule: str, zone: str | None
) -> None:
    catalog = aligned_catalog(start, end, rrule, zone)
    (entry,) = catalog.entries
    assert entry.event is not None
    shown = occurrences(entry)
    first = entry.event.start
    # dateutil drops a fraction of a second from DTSTART; the .ics writes whole seconds
    assert shown[0].start == (
        first.replace(microsecond=0) if isinstance(first, datetime) else first
    )
    (seen,) = icaljs(calendars(catalog)["/events.ics"], expand=100)["events"]
    if entry.event.all_day:
        expected = [o.start.isoformat() for o in shown]
        assert [o["start"]["value"] for o in seen["occurrences"]] == expected
    else:
        expected = [
            o.start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")  # type: ignore[union-attr]
            for o in shown
        ]
        assert [o["start"]["utc"] for o in seen["occurrences"]] == expected


def test_a_recurring_event_is_current_until_its_last_occurrence() -> None:
    """The pages' "upcoming" split (data-last-day) uses the rule's last date, not the
    first occurrence's."""
    catalog = aligned_catalog(
        "2019-06-04T12:30:00", "2019-06-04T13:30:00", "FREQ=MONTHLY;BYDAY=1TU;COUNT=6", None
    )
    (entry,) = catalog.entries
    assert entry.event is not None
    assert last_day(entry.event) == date(2019, 11, 5)
    assert occurrences(entry)[-1].start == datetime(2019, 11, 5, 12, 30).replace(
        tzinfo=entry.event.start.tzinfo  # type: ignore[union-attr]
    )
