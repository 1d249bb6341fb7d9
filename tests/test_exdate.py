"""Days left out of a recurring event (`event.exdate`, RFC 5545 EXDATE): refused with
their line when they are not dates of the rule, left out by every calendar parser, the
pages, the JSON Feed and the widget's data, carried over by `feeds import`."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime
from pathlib import Path

import icalendar
import lxml.html
import pytest
from click.testing import CliRunner
from dateutil.rrule import rruleset, rrulestr
from test_ics_support import icaljs_many
from test_import import imported_calendar
from test_one_reader import Readers, assert_one_answer

from feeds.catalog import parse_catalog
from feeds.cli import main
from feeds.importer import ImportFailed, Report, import_catalog
from feeds.model import Catalog
from feeds.recurrence import as_datetime
from feeds.site import Site, build_site

HEAD = """\
feed:
  title: Lunch talks
  link: https://example.org/
  base_url: https://feeds.example.org/
  id_authority: example.org,2026
  timezone: Europe/Brussels
entries:
"""
# Monthly on the first Tuesday, 12:30 in Brussels: March and May left out.
LUNCH = """\
  - id: lunch
    title: Lunch talks
    published: 2026-12-01
    event:
      start: 2027-01-05T12:30:00
      end: 2027-01-05T13:30:00
      rrule: FREQ=MONTHLY;BYDAY=1TU;COUNT=6
      exdate: [2027-05-04, 2027-03-02]
"""
# All day, weekly: the third Monday left out.
MARKET = """\
  - id: market
    title: Market
    event:
      start: 2027-01-04
      rrule: FREQ=WEEKLY;COUNT=4
      exdate: [2027-01-18]
"""
# At a fixed offset (no zone): calendars get UTC times.
CALL = """\
  - id: call
    title: Call
    event:
      start: 2027-01-05T09:00:00+05:30
      end: 2027-01-05T10:00:00+05:30
      rrule: FREQ=DAILY;COUNT=3
      exdate: [2027-01-06]
"""
LUNCH_STARTS_UTC = ["2027-01-05T11:30:00", "2027-02-02T11:30:00", "2027-04-06T10:30:00"]
LUNCH_STARTS_UTC.append("2027-06-01T10:30:00")


def catalog_of(*entries: str) -> Catalog:
    return parse_catalog((HEAD + "".join(entries)).encode())


@pytest.fixture(scope="module")
def site() -> Site:
    return build_site(catalog_of(LUNCH, MARKET, CALL))


def vevents(site: Site) -> dict[str, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(site["/events.ics"].body)
    return {str(event["SUMMARY"]): event for event in calendar.walk("VEVENT")}


# --- calendars ------------------------------------------------------------------------


def test_each_start_left_out_is_an_exdate_in_the_form_and_zone_of_dtstart(site: Site) -> None:
    text = site["/events.ics"].body.decode()
    assert "EXDATE;TZID=Europe/Brussels:20270302T123000\r\n" in text
    assert "EXDATE;TZID=Europe/Brussels:20270504T123000\r\n" in text
    assert "EXDATE;VALUE=DATE:20270118\r\n" in text
    assert "EXDATE:20270106T033000Z\r\n" in text  # 09:00 at +05:30, as DTSTART is written
    assert site["/entries/lunch.ics"].body.count(b"EXDATE") == 2


def test_icalendar_and_dateutil_leave_the_days_out(site: Site) -> None:
    found = {}
    for name, event in vevents(site).items():
        dates = rruleset()
        start = as_datetime(event["DTSTART"].dt)
        dates.rrule(rrulestr(event["RRULE"].to_ical().decode(), dtstart=start))
        left_out = event["EXDATE"] if isinstance(event["EXDATE"], list) else [event["EXDATE"]]
        for value in (value for group in left_out for value in group.dts):
            dates.exdate(as_datetime(value.dt))
        found[name] = list(dates)
    lunch = [
        moment.astimezone(UTC).replace(tzinfo=None).isoformat() for moment in found["Lunch talks"]
    ]
    assert lunch == LUNCH_STARTS_UTC
    assert [moment.date() for moment in found["Market"]] == [
        date(2027, 1, 4),
        date(2027, 1, 11),
        date(2027, 1, 25),
    ]
    assert len(found["Call"]) == 2


def test_icaljs_leaves_the_days_out(site: Site) -> None:
    (read,) = icaljs_many([site["/events.ics"].body])
    events = {event["summary"]: event for event in read["events"]}
    lunch = [occurrence["start"]["utc"] for occurrence in events["Lunch talks"]["occurrences"]]
    assert lunch == [f"{moment}.000Z" for moment in LUNCH_STARTS_UTC]
    market = [occurrence["start"]["value"] for occurrence in events["Market"]["occurrences"]]
    assert market == ["2027-01-04", "2027-01-11", "2027-01-25"]
    call = [occurrence["start"]["utc"] for occurrence in events["Call"]["occurrences"]]
    assert call == ["2027-01-05T03:30:00.000Z", "2027-01-07T03:30:00.000Z"]


# --- pages and JSON Feed ----------------------------------------------------------------


def test_the_entry_page_lists_the_dates_left_and_says_which_are_left_out(site: Site) -> None:
    page = lxml.html.fromstring(site["/entries/lunch/"].body)
    facts = page.xpath("//dl[@class='facts']/dd[ul[@class='occurrences']]")[0]
    assert facts.xpath("p[1]/text()") == [
        "Every month on the first Tuesday, 6 times, except Tue 2 March 2027 and Tue 4 May 2027"
    ]
    listed = [text.split(",")[0] for text in facts.xpath("ul/li/time/text()")]
    assert listed == [
        "Tue 5 January 2027",
        "Tue 2 February 2027",
        "Tue 6 April 2027",
        "Tue 1 June 2027",
    ]


def test_google_calendars_link_gives_way_to_the_ics(site: Site) -> None:
    """Google's add-event link has no documented way to leave days out."""
    with_days_left_out = site["/entries/lunch/"].body.decode()
    assert "calendar.google.com" not in with_days_left_out
    assert "Google Calendar: download the .ics and import it" in with_days_left_out
    assert 'href="/entries/lunch.ics"' in with_days_left_out
    plain = build_site(catalog_of(LUNCH.replace("      exdate: [2027-05-04, 2027-03-02]\n", "")))
    assert "calendar.google.com" in plain["/entries/lunch/"].body.decode()


def test_the_month_grid_leaves_the_days_out(site: Site) -> None:
    events = lxml.html.fromstring(site["/events/"].body)
    months = events.xpath("//ul[@class='month-index']/li/a/@href")
    # January and February of the talks and the market, no March, no May
    assert months == ["#m-2027-01", "#m-2027-02", "#m-2027-04", "#m-2027-06"]
    january = events.xpath("//table[@id='m-2027-01']//td[contains(@class, 'has-events')]")
    days = [int(cell.xpath("string(span[@class='day-number'])")) for cell in january]
    assert days == [4, 5, 7, 11, 25]  # market 4, 11, 25 (not 18); talks 5; call 5, 7 (not 6)


def test_the_json_feed_carries_the_days(site: Site) -> None:
    (item,) = json.loads(site["/feed.json"].body)["items"]
    assert item["_event"]["exdate"] == ["2027-03-02", "2027-05-04"]
    without = build_site(catalog_of(LUNCH.replace("      exdate: [2027-05-04, 2027-03-02]\n", "")))
    (item,) = json.loads(without["/feed.json"].body)["items"]
    assert "exdate" not in item["_event"]


# --- the catalog ------------------------------------------------------------------------


def check(tmp_path: Path, entries: str) -> tuple[int, list[str]]:
    path = tmp_path / "entries.yaml"
    path.write_text(HEAD + entries)
    result = CliRunner().invoke(main, ["check", str(path)])
    return result.exit_code, [line.removeprefix(f"{path}:") for line in result.stderr.splitlines()]


def test_each_day_that_is_not_a_date_of_the_rule_is_refused_with_its_line(tmp_path: Path) -> None:
    code, problems = check(
        tmp_path,
        LUNCH.replace("[2027-05-04, 2027-03-02]", "[2027-03-03, 2027-01-05, 2027-09-07]")
        + MARKET.replace("      rrule: FREQ=WEEKLY;COUNT=4\n", "")
        + CALL.replace("COUNT=3", "COUNT=30000").replace("[2027-01-06]", "[2999-01-01]"),
    )
    assert code == 1
    assert problems == [
        "15: entries[0].event.exdate[0]: 2027-03-03 is not one of the event's dates "
        "(the nearest: 2027-03-02 and 2027-04-06)",
        "15: entries[0].event.exdate[1]: 2027-01-05 is the event's first day: start the event "
        "on its next date (2027-02-02) instead of leaving it out",
        "15: entries[0].event.exdate[2]: 2027-09-07 is not one of the event's dates "
        "(its last date is 2027-06-01)",
        "20: entries[1].event.exdate: leaves days out of a repeating event, and this one has "
        "no rrule: add one, or remove exdate",
        "27: entries[2].event.exdate[0]: 2999-01-01 is beyond the event's first 10,000 dates; "
        "end its rule before it (UNTIL) and make a new event from there",
    ]


@pytest.mark.parametrize(
    ("written", "problem"),
    [
        ("2027-03-02", "must be a list of days, e.g. [2027-08-03, 2027-12-28]"),
        ("[2027-03-02T12:30:00]", "must be a day like 2027-08-03, without a time"),
        ("[2027-03-02, 2027-03-02]", "2027-03-02 is listed twice"),
        ("[March 2]", "must be a date like 2019-03-14"),
    ],
)
def test_a_list_that_is_not_of_days_is_refused(tmp_path: Path, written: str, problem: str) -> None:
    code, problems = check(tmp_path, LUNCH.replace("[2027-05-04, 2027-03-02]", written))
    assert code == 1
    assert len(problems) == 1 and problem in problems[0], problems
    assert problems[0].startswith("15: entries[0].event.exdate")


@pytest.mark.parametrize(
    "entries",
    [
        LUNCH + MARKET + CALL,
        LUNCH.replace("2027-03-02]", "2027-03-03]") + MARKET,
        MARKET.replace("      rrule: FREQ=WEEKLY;COUNT=4\n", ""),
    ],
    ids=["good", "not a date of the rule", "no rule"],
)
def test_check_build_and_server_read_exdate_alike(tmp_path: Path, entries: str) -> None:
    assert_one_answer(Readers(tmp_path).read_all((HEAD + entries).encode()))


# --- feeds import -----------------------------------------------------------------------

OUTLOOK_HEAD = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//y//EN\r\n"
    b"BEGIN:VEVENT\r\nUID:standup@old\r\nSUMMARY:Standup\r\nDTSTAMP:20261201T120000Z\r\n"
    b"DTSTART;TZID=Europe/Berlin:20270105T093000\r\nDTEND;TZID=Europe/Berlin:20270105T094500\r\n"
)


def imported(tmp_path: Path, lines: bytes) -> tuple[Catalog | None, list[str]]:
    """The catalog `feeds import` makes of one event (None: it skipped it), and its report."""
    source = tmp_path / "old.ics"
    source.write_bytes(OUTLOOK_HEAD + lines + b"END:VEVENT\r\nEND:VCALENDAR\r\n")
    report = Report(stream=io.StringIO())
    try:
        text = import_catalog([str(source)], report).text
    except ImportFailed:  # nothing imported: the report says why
        catalog = None
    else:
        catalog = parse_catalog(text.encode())
    return catalog, [line.removeprefix(f"{source}: ") for line in report.lines]


def test_import_carries_exdate_that_names_starts_of_the_rule(tmp_path: Path) -> None:
    catalog, report = imported(
        tmp_path,
        b"RRULE:FREQ=WEEKLY;BYDAY=TU,TH;COUNT=8\r\n"
        b"EXDATE;TZID=Europe/Berlin:20270112T093000,20270114T093000\r\n"
        b"EXDATE:20270119T083000Z\r\n",  # the same instant in UTC
    )
    assert report == []
    assert catalog is not None
    (event,) = [entry.event for entry in catalog.entries if entry.event]
    assert event.exdate == (date(2027, 1, 12), date(2027, 1, 14), date(2027, 1, 19))


@pytest.mark.parametrize(
    ("lines", "why"),
    [
        (
            b"RRULE:FREQ=WEEKLY;COUNT=8\r\nEXDATE;TZID=Europe/Berlin:20270112T100000\r\n",
            "EXDATE 2027-01-12T10:00:00+01:00 is not a start of its RRULE",
        ),
        (
            b"RRULE:FREQ=WEEKLY;COUNT=8\r\nEXDATE;VALUE=DATE:20270112\r\n",
            "EXDATE 2027-01-12 is not a start of its RRULE",
        ),
        (
            b"RRULE:FREQ=DAILY;BYHOUR=9,14;BYMINUTE=30;COUNT=8\r\n"
            b"EXDATE;TZID=Europe/Berlin:20270106T093000\r\n",
            "EXDATE leaves out some of the starts of a day (the catalog leaves out whole days)",
        ),
        (
            b"EXDATE;TZID=Europe/Berlin:20270105T093000\r\n",
            "EXDATE without an RRULE (a date left out of no repetition)",
        ),
    ],
    ids=["another time", "a date for a timed event", "one start of two", "no rule"],
)
def test_import_skips_an_exdate_the_catalog_cannot_say(
    tmp_path: Path, lines: bytes, why: str
) -> None:
    catalog, report = imported(tmp_path, lines)
    assert report == [f"item 1: {why}: skipped"]
    assert catalog is None


def test_rebuilt_after_an_edit_of_exdate_equals_a_cold_build() -> None:
    before = catalog_of(LUNCH)
    build_site(before)
    after = catalog_of(LUNCH.replace("2027-03-02]", "2027-04-06]"))
    rebuilt = build_site(after)
    from feeds import memo

    memo.clear_all()
    cold = build_site(after)
    assert {path: rebuilt[path].body for path in rebuilt} == {
        path: cold[path].body for path in cold
    }
    assert b"EXDATE;TZID=Europe/Brussels:20270406T123000" in rebuilt["/events.ics"].body
    assert b"20270302T123000" not in rebuilt["/events.ics"].body.split(b"RRULE")[1]


# A Google Calendar export: a weekly series, one date moved, one cancelled.
SERIES = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Google Inc//Google Calendar 70.9054//EN\r\n"
    b"BEGIN:VEVENT\r\nUID:club@google.com\r\nSUMMARY:Club night\r\nDTSTAMP:20261201T000000Z\r\n"
    b"DTSTART;TZID=Europe/Paris:20270104T190000\r\nDTEND;TZID=Europe/Paris:20270104T210000\r\n"
    b"RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=6\r\nEND:VEVENT\r\n"
)


def change(original: bytes, start: bytes, extra: bytes = b"") -> bytes:
    return (
        b"BEGIN:VEVENT\r\nUID:club@google.com\r\nSUMMARY:Club night (moved)\r\n"
        b"DTSTAMP:20261201T000000Z\r\nRECURRENCE-ID;TZID=Europe/Paris:" + original + b"\r\n"
        b"DTSTART;TZID=Europe/Paris:" + start + b"\r\n" + extra + b"END:VEVENT\r\n"
    )


def import_calendar(tmp_path: Path, *events: bytes) -> tuple[Catalog | None, list[str]]:
    return imported_calendar(
        tmp_path / "club.ics", SERIES + b"".join(events) + b"END:VCALENDAR\r\n"
    )


def test_a_changed_occurrence_leaves_its_day_out_of_the_series_and_is_an_event_of_its_own(
    tmp_path: Path,
) -> None:
    catalog, report = import_calendar(
        tmp_path,
        change(b"20270111T190000", b"20270113T190000"),
        change(b"20270125T190000", b"20270125T190000", b"STATUS:CANCELLED\r\n"),
    )
    assert report == [
        "item 2: the occurrence of 2027-01-11 was changed: left out of its series (exdate) "
        "and imported as an event of its own (with a new UID)",
        "item 3: the occurrence of 2027-01-25 is cancelled: left out of its series (exdate)",
    ]
    assert catalog is not None
    series, moved = (entry.event for entry in catalog.entries if entry.event)
    assert series.uid == "club@google.com"
    assert series.exdate == (date(2027, 1, 11), date(2027, 1, 25))
    assert (moved.uid, moved.rrule, moved.timezone) == (None, None, "Europe/Paris")
    assert isinstance(moved.start, datetime)
    assert moved.start.replace(tzinfo=None) == datetime(2027, 1, 13, 19, 0)
    # Calendars see the series without those two Mondays, and the Wednesday
    (read,) = icaljs_many([build_site(catalog)["/events.ics"].body])
    starts = sorted(o["start"]["value"][:10] for e in read["events"] for o in e["occurrences"])
    assert starts == ["2027-01-04", "2027-01-13", "2027-01-18", "2027-02-01", "2027-02-08"]


@pytest.mark.parametrize(
    ("original", "why"),
    [
        (
            b"20270111T200000",
            "RECURRENCE-ID 2027-01-11T20:00:00+01:00 is not a start of its RRULE",
        ),
        (
            b"20270104T190000",
            "RECURRENCE-ID: 2027-01-04 is the event's first day: start the event "
            "on its next date (2027-01-11) instead of leaving it out",
        ),
    ],
    ids=["not a start", "the first"],
)
def test_a_change_the_catalog_cannot_say_skips_its_series_too(
    tmp_path: Path, original: bytes, why: str
) -> None:
    """Else the series would show the occurrence as it was before the change."""
    catalog, report = import_calendar(tmp_path, change(original, b"20270113T190000"))
    assert catalog is None
    assert report == [
        f"item 2: {why}: skipped",
        "item 1: its occurrence changed by item 2 cannot be carried over: skipped",
    ]


def test_a_series_whose_last_date_is_called_off_is_over_at_the_one_before() -> None:
    """`last_day` (JSON Feed, the pages' data-last-day) is what splits upcoming from past."""
    last_called_off = LUNCH.replace("[2027-05-04, 2027-03-02]", "[2027-06-01, 2027-05-04]")
    site = build_site(catalog_of(last_called_off))
    (item,) = json.loads(site["/feed.json"].body)["items"]
    assert item["_event"]["last_day"] == "2027-04-06"
    home = lxml.html.fromstring(site["/"].body)
    assert set(home.xpath("//li[@data-last-day]/@data-last-day")) == {"2027-04-06"}
    (item,) = json.loads(build_site(catalog_of(LUNCH))["/feed.json"].body)["items"]
    assert item["_event"]["last_day"] == "2027-06-01"


def left_out(calendar: bytes) -> dict[str, list[date | datetime]]:
    """Each event's EXDATE values, by UID, as icalendar reads them."""
    found = {}
    for event in icalendar.Calendar.from_ical(calendar).walk("VEVENT"):
        groups = event["EXDATE"] if isinstance(event["EXDATE"], list) else [event["EXDATE"]]
        found[str(event["UID"])] = [value.dt for group in groups for value in group.dts]
    return found


def test_our_own_calendar_imported_back_leaves_the_same_days_out(
    tmp_path: Path, site: Site
) -> None:
    source = tmp_path / "events.ics"
    source.write_bytes(site["/events.ics"].body)
    imported = import_catalog([str(source)], Report(stream=io.StringIO()))
    again = build_site(parse_catalog(imported.text.encode()))
    assert left_out(again["/events.ics"].body) == left_out(site["/events.ics"].body)
    assert sum(len(days) for days in left_out(site["/events.ics"].body).values()) == 4
