"""Recurring events: ical.js expands every occurrence to the instant zoneinfo says."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from test_ics_support import assert_structure, calendars, catalog_of, event_entry, icaljs

from feeds.render.ics_rrule import UNBOUNDED_YEARS, last_day


def utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def local_series(first: datetime, zone: str, step: relativedelta, count: int) -> list[str]:
    """UTC instants of a wall-clock time repeated every `step` in `zone`, from zoneinfo."""
    return [utc_text((first + step * n).replace(tzinfo=ZoneInfo(zone))) for n in range(count)]


def occurrences(rrule: str, first: datetime, zone: str, expand: int) -> list[str]:
    entry = event_entry("series", first, first + timedelta(hours=1), zone=zone, rrule=rrule)
    body = calendars(catalog_of(entry))["/events.ics"]
    assert_structure(body)
    (seen,) = icaljs(body, expand=expand)["events"]
    assert seen["rrule"] == rrule
    return [occurrence["start"]["utc"] for occurrence in seen["occurrences"]]


def test_a_monthly_count_rule_over_three_years_keeps_local_time_through_every_change() -> None:
    first = datetime(2019, 1, 15, 9, 30)
    got = occurrences("FREQ=MONTHLY;COUNT=30", first, "Europe/London", expand=100)
    assert got == local_series(first, "Europe/London", relativedelta(months=1), 30)


def test_an_until_rule_in_utc_stops_on_its_last_day() -> None:
    first = datetime(2019, 3, 6, 18, 0)  # Wednesdays in Barcelona, across 31 March
    until = datetime(2019, 4, 24, 16, 0, tzinfo=UTC)  # 18:00 CEST on 24 April
    rule = f"FREQ=WEEKLY;UNTIL={until.strftime('%Y%m%dT%H%M%SZ')}"
    got = occurrences(rule, first, "Europe/Madrid", expand=100)
    assert got == local_series(first, "Europe/Madrid", relativedelta(weeks=1), 8)


def test_a_rule_without_end_is_right_for_years_ahead() -> None:
    first = datetime(2019, 1, 2, 12, 0)
    weeks = 52 * (UNBOUNDED_YEARS - 1)
    got = occurrences("FREQ=WEEKLY;BYDAY=WE", first, "Europe/Madrid", expand=weeks)
    assert got == local_series(first, "Europe/Madrid", relativedelta(weeks=1), weeks)


def test_all_day_rules_repeat_whole_days() -> None:
    entry = event_entry(
        "monthly-day", date(2019, 1, 31), date(2019, 1, 31), rrule="FREQ=MONTHLY;COUNT=4"
    )
    (seen,) = icaljs(calendars(catalog_of(entry))["/events.ics"])["events"]
    # RFC 5545: months without a 31st are skipped, not moved.
    assert [o["start"]["value"] for o in seen["occurrences"]] == [
        "2019-01-31",
        "2019-03-31",
        "2019-05-31",
        "2019-07-31",
    ]
    assert [o["end"]["value"] for o in seen["occurrences"]][0] == "2019-02-01"
    assert all(o["start"]["isDate"] for o in seen["occurrences"])


def test_last_day_covers_every_occurrence() -> None:
    single = event_entry("one", datetime(2019, 5, 1, 10), datetime(2019, 5, 2, 9), zone="UTC")
    counted = event_entry("n", date(2019, 12, 30), date(2019, 12, 31), rrule="FREQ=WEEKLY;COUNT=3")
    until = event_entry(
        "u",
        datetime(2019, 12, 31, 23, 30),
        datetime(2020, 1, 1, 0, 30),
        zone="Europe/Madrid",
        rrule="FREQ=DAILY;UNTIL=20201231T223000Z",  # 23:30 on 31 December in Madrid
    )
    endless = event_entry("e", date(2019, 2, 1), date(2019, 2, 1), rrule="FREQ=YEARLY")
    assert single.event and counted.event and until.event and endless.event
    assert last_day(single.event) == date(2019, 5, 2)
    assert last_day(counted.event) == date(2020, 1, 14)
    assert last_day(until.event) == date(2021, 1, 1)
    assert last_day(endless.event) == date(2019 + UNBOUNDED_YEARS, 2, 1)


def test_last_day_is_the_local_day_of_each_zone_for_one_instant() -> None:
    """The same instant starts on different days in different zones: each event's last
    day is its own zone's, asked in either order (no answer is carried from the other)."""
    rule = "FREQ=DAILY;COUNT=2"
    late_utc = event_entry(
        "utc", datetime(2019, 5, 21, 23, 30), datetime(2019, 5, 21, 23, 45), zone="UTC", rrule=rule
    )
    early_brussels = event_entry(
        "bru",
        datetime(2019, 5, 22, 1, 30),
        datetime(2019, 5, 22, 1, 45),
        zone="Europe/Brussels",
        rrule=rule,
    )
    assert late_utc.event and early_brussels.event
    assert late_utc.event.start == early_brussels.event.start  # one instant
    for _ in range(2):
        assert last_day(late_utc.event) == date(2019, 5, 22)
        assert last_day(early_brussels.event) == date(2019, 5, 23)
