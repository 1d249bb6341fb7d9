"""The calendars, read back by icalendar and by ical.js, against what the catalog says."""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from test_ics_support import (
    BRUSSELS,
    FEED,
    assert_calendar_matches,
    assert_structure,
    calendars,
    catalog_of,
    event_entry,
    icalendar_calendar,
    icalendar_events,
    icaljs,
    icaljs_many,
    seed_events,
)

from feeds import ids
from feeds.model import Entry, Feed
from feeds.render import ics, ics_event
from feeds.render.text import summary_text
from feeds.site import build_site


def mixed_events() -> tuple[Entry, ...]:
    """All kinds at once: all-day, timed in two zones, a fixed offset, every status, tags."""
    return (
        *seed_events(),
        event_entry(
            "glasgow-evening",
            datetime(2019, 3, 27, 18, 30),
            datetime(2019, 3, 27, 20, 0),
            zone="Europe/London",
            tags=("culture",),
            location="City Chambers, Glasgow",
            published=datetime(2019, 3, 1, tzinfo=BRUSSELS),
        ),
        event_entry(
            "barcelona-workshop",
            datetime(2019, 4, 25, 9, 0),
            datetime(2019, 4, 25, 13, 0),
            zone="Europe/Madrid",
            tags=("culture", "education"),
            status="tentative",
            published=datetime(2019, 3, 2, tzinfo=BRUSSELS),
        ),
        event_entry(
            "webinar-with-offset",
            datetime(2019, 6, 4, 15, 0),
            datetime(2019, 6, 4, 16, 0),
            zone=timezone(timedelta(hours=2)),
            tags=("education",),
            published=datetime(2019, 5, 1, tzinfo=BRUSSELS),
        ),
        event_entry(
            "cancelled-forum",
            date(2019, 11, 6),
            date(2019, 11, 8),
            status="cancelled",
            tags=("culture",),
            location="Prague, Czechia",
            published=datetime(2019, 6, 1, tzinfo=BRUSSELS),
            updated=datetime(2019, 9, 1, 12, tzinfo=BRUSSELS),
        ),
    )


def publication(entry_id: str, tags: tuple[str, ...]) -> Entry:
    return Entry(
        id=entry_id, title="News", tags=tags, published=datetime(2019, 3, 1, tzinfo=BRUSSELS)
    )


# ---------------------------------------------------------------- what is published where


def test_paths_are_the_subscription_every_tag_and_every_event() -> None:
    catalog = catalog_of(*mixed_events(), publication("news-only", ("governance",)))
    outputs = calendars(catalog)
    expected = {"/events.ics"}
    expected |= {f"/tags/{tag}/events.ics" for tag in ("culture", "education", "governance")}
    expected |= {f"/entries/{entry.id}.ics" for entry in mixed_events()}
    assert set(outputs) == expected
    assert "/entries/news-only.ics" not in outputs  # a publication is not an event


def test_the_site_serves_them_as_text_calendar() -> None:
    site = build_site(catalog_of(*seed_events()), [ics.render])
    assert site["/events.ics"].content_type == "text/calendar; charset=utf-8"
    assert site["/events.ics"].cors


def test_events_ics_holds_every_event_in_order_of_start_as_the_catalog_says() -> None:
    catalog = catalog_of(*mixed_events())
    events_ics = calendars(catalog)["/events.ics"]
    assert_calendar_matches(events_ics, catalog.events)
    assert len(catalog.events) == len(mixed_events()) == 8  # cancelled included
    # In order of start: all-day events count from their day's first moment in UTC.
    starts = [
        event["start"]["utc"] or event["start"]["value"] for event in icaljs(events_ics)["events"]
    ]
    assert starts == sorted(starts)


def test_each_tag_calendar_holds_exactly_its_events() -> None:
    catalog = catalog_of(*mixed_events(), publication("news-only", ("governance",)))
    outputs = calendars(catalog)
    paths = [f"/tags/{tag}/events.ics" for tag in catalog.tags]
    for tag, path, seen in zip(
        catalog.tags, paths, icaljs_many(outputs[path] for path in paths), strict=True
    ):
        tagged = [entry for entry in catalog.events if tag in entry.tags]
        assert_calendar_matches(outputs[path], tagged, seen_by_js=seen)
    # A tag with no event still gets a calendar that parses: its page links to it.
    empty = outputs["/tags/governance/events.ics"]
    assert icaljs(empty)["events"] == [] and icalendar_events(empty) == {}


def test_each_event_file_holds_that_event_alone() -> None:
    catalog = catalog_of(*mixed_events())
    outputs = calendars(catalog)
    bodies = [outputs[ids.entry_ics_path(entry.id)] for entry in catalog.events]
    for entry, body, seen in zip(catalog.events, bodies, icaljs_many(bodies), strict=True):
        assert_calendar_matches(body, [entry], seen_by_js=seen)


def test_the_four_seed_events_fall_on_their_exact_days() -> None:
    events_ics = calendars(catalog_of(*seed_events()))["/events.ics"]
    read_by_js = {event["uid"].rsplit("/", 1)[1]: event for event in icaljs(events_ics)["events"]}
    read_by_icalendar = {
        uid.rsplit("/", 1)[1]: event for uid, event in icalendar_events(events_ics).items()
    }
    days = {  # entry id: (first day, DTEND as written: the day after the last day)
        "wg-smart-social-inclusion-glasgow": ("2019-03-27", "2019-03-28"),
        "study-visit-roma-housing-toulouse": ("2019-04-09", "2019-04-11"),
        "study-visit-education-barcelona": ("2019-04-24", "2019-04-27"),
        "urban-academy-integration-migrants-refugees-antwerp": ("2019-05-21", "2019-05-23"),
    }
    for entry_id, (first, end) in days.items():
        seen = read_by_js[entry_id]
        assert (seen["start"]["value"], seen["end"]["value"]) == (first, end)
        assert seen["start"]["isDate"] and seen["end"]["isDate"]
        event = read_by_icalendar[entry_id]
        assert event.decoded("DTSTART") == date.fromisoformat(first)
        assert event.decoded("DTEND") == date.fromisoformat(end)
    lines = events_ics.split(b"\r\n")
    assert b"DTSTART;VALUE=DATE:20190521" in lines and b"DTEND;VALUE=DATE:20190523" in lines
    assert b"DTEND;VALUE=DATE:20190411" in lines and b"DTEND;VALUE=DATE:20190427" in lines
    assert b"DTEND;VALUE=DATE:20190328" in lines


# ---------------------------------------------------------------- calendar properties


def test_subscription_calendars_carry_name_refresh_and_source() -> None:
    catalog = catalog_of(*mixed_events())
    outputs = calendars(catalog)
    for path, page, name in (
        ("/events.ics", "/events/", FEED.title),
        ("/tags/culture/events.ics", "/tags/culture/", f"{FEED.title}: culture"),
    ):
        calendar = icalendar_calendar(outputs[path])
        seen = icaljs(outputs[path])["calendar"]
        for prop in ("NAME", "X-WR-CALNAME"):
            assert str(calendar[prop]) == name and seen[prop] == [name]
        assert seen["X-WR-CALDESC"][0].startswith(str(FEED.subtitle))
        assert seen["X-WR-TIMEZONE"] == ["Europe/Brussels"]
        assert calendar["REFRESH-INTERVAL"].params["VALUE"] == "DURATION"
        assert calendar.decoded("REFRESH-INTERVAL") == timedelta(hours=1)
        assert seen["REFRESH-INTERVAL"] == ["PT1H"] and seen["X-PUBLISHED-TTL"] == ["PT1H"]
        assert seen["URL"] == [FEED.url(page)] and seen["SOURCE"] == [FEED.url(path)]
        assert_structure(outputs[path])


def test_event_files_do_not_name_a_calendar() -> None:
    """With X-WR-CALNAME (or NAME) Outlook would add a new calendar for one event."""
    for path, body in calendars(catalog_of(*mixed_events())).items():
        if not path.startswith("/entries/"):
            continue
        calendar = icalendar_calendar(body)
        for prop in ("X-WR-CALNAME", "NAME", "REFRESH-INTERVAL", "X-PUBLISHED-TTL", "METHOD"):
            assert prop not in calendar, f"{path} has {prop}"
        assert_structure(body)


def test_events_carry_every_property_a_client_uses() -> None:
    glasgow = seed_events()[3]
    tagged = dataclasses.replace(
        glasgow, tags=("culture", "social-affairs"), summary="Join **us**.\n\nSecond _para_."
    )
    body = calendars(catalog_of(tagged))["/events.ics"]
    (event,) = icalendar_events(body).values()
    (seen,) = icaljs(body)["events"]
    assert seen["uid"] == f"tag:{FEED.id_authority}:entry/{glasgow.id}"
    assert seen["description"] == summary_text(tagged.summary) == "Join us.\n\nSecond para."
    assert str(event["DESCRIPTION"]) == seen["description"]
    assert seen["geo"] == [55.8642, -4.2518] and event.decoded("GEO") == (55.8642, -4.2518)
    assert seen["categories"] == ["culture", "social-affairs"]
    assert [str(c) for c in event["CATEGORIES"].cats] == ["culture", "social-affairs"]
    assert seen["url"] == FEED.url(f"/entries/{glasgow.id}/")
    published = glasgow.published
    assert published is not None
    stamp = published.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert seen["created"] == seen["lastModified"] == seen["dtstamp"] == stamp
    minutes = (published - datetime(2000, 1, 1, tzinfo=UTC)).total_seconds() // 60
    assert seen["sequence"] == minutes  # the documented rule: minutes from 2000 to DTSTAMP


def test_geo_is_written_in_fixed_notation() -> None:
    near_null_island = event_entry("tiny", date(2019, 5, 1), geo=(0.00001, -120.5))
    body = calendars(catalog_of(near_null_island))["/events.ics"]
    assert b"GEO:0.00001;-120.5\r\n" in body  # str(0.00001) would be 1e-05
    (event,) = icalendar_events(body).values()
    assert event.decoded("GEO") == (0.00001, -120.5)
    assert icaljs(body)["events"][0]["geo"] == [0.00001, -120.5]


def test_event_url_prefers_the_event_then_the_entry_link_then_the_page() -> None:
    base = seed_events()[3]
    assert base.event is not None
    with_link = dataclasses.replace(base, link="https://example.org/article")
    with_both = dataclasses.replace(
        with_link, event=dataclasses.replace(base.event, url="https://example.org/register")
    )
    cases = (
        (base, FEED.url(f"/entries/{base.id}/")),
        (with_link, "https://example.org/article"),
        (with_both, "https://example.org/register"),
    )
    bodies = [calendars(catalog_of(entry))["/events.ics"] for entry, _ in cases]
    for (_, url), read in zip(cases, icaljs_many(bodies), strict=True):
        (seen,) = read["events"]
        assert seen["url"] == url


def test_cancelled_events_stay_in_the_calendar_as_cancelled() -> None:
    catalog = catalog_of(*mixed_events())
    seen = {event["uid"]: event for event in icaljs(calendars(catalog)["/events.ics"])["events"]}
    assert seen[ids.entry_uri(FEED, "cancelled-forum")]["status"] == "CANCELLED"
    assert seen[ids.entry_uri(FEED, "barcelona-workshop")]["status"] == "TENTATIVE"


def test_entries_without_dates_get_a_fixed_dtstamp_never_the_clock() -> None:
    antwerp = seed_events()[0]
    assert antwerp.published is None and antwerp.updated is None
    body = calendars(catalog_of(antwerp))["/events.ics"]
    (event,) = icalendar_events(body).values()
    assert event.decoded("DTSTAMP") == datetime(2000, 1, 1, tzinfo=UTC)
    assert "CREATED" not in event and "LAST-MODIFIED" not in event
    assert int(event["SEQUENCE"]) == 0


def test_times_written_with_an_offset_are_sent_in_utc() -> None:
    webinar = next(entry for entry in mixed_events() if entry.id == "webinar-with-offset")
    body = calendars(catalog_of(webinar))["/events.ics"]
    (seen,) = icaljs(body)["events"]
    assert seen["start"] == {
        "value": "2019-06-04T13:00:00Z",
        "zone": "UTC",
        "isDate": False,
        "utc": "2019-06-04T13:00:00.000Z",
    }
    assert b"DTSTART:20190604T130000Z\r\n" in body and b"VTIMEZONE" not in body


def test_times_in_a_zone_named_utc_are_sent_in_utc_without_a_vtimezone() -> None:
    call = event_entry("call", datetime(2019, 6, 4, 15), datetime(2019, 6, 4, 16), zone="Etc/UTC")
    body = calendars(catalog_of(call))["/events.ics"]
    assert_calendar_matches(body, [call])
    assert b"DTSTART:20190604T150000Z\r\n" in body and b"VTIMEZONE" not in body


# ---------------------------------------------------------------- time zones and DST


def weekly_utc_instants(first: datetime, zone: str, count: int) -> list[str]:
    """UTC instants of a weekly wall-clock time in `zone`, computed with zoneinfo."""
    local = first.replace(tzinfo=ZoneInfo(zone))
    return [
        (local + timedelta(weeks=week)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        for week in range(count)
    ]


@pytest.mark.parametrize(
    ("zone", "first"),
    [
        ("Europe/London", datetime(2019, 3, 13, 10, 0)),  # BST from Sunday 31 March 2019
        ("Europe/Madrid", datetime(2019, 3, 20, 18, 30)),  # CEST from Sunday 31 March 2019
        ("Europe/Madrid", datetime(2019, 10, 9, 9, 0)),  # CET from Sunday 27 October 2019
        ("Europe/London", datetime(2019, 12, 4, 10, 0)),  # into 2020 and its March change
    ],
)
def test_weekly_events_across_a_dst_change_resolve_to_the_right_utc_instants(
    zone: str, first: datetime
) -> None:
    count = 20
    meeting = event_entry(
        "weekly-meeting",
        first,
        first + timedelta(hours=2),
        zone=zone,
        rrule=f"FREQ=WEEKLY;COUNT={count}",
    )
    body = calendars(catalog_of(meeting))["/events.ics"]
    assert_structure(body)
    (seen,) = icaljs(body)["events"]
    expected = weekly_utc_instants(first, zone, count)
    assert len({instant[11:13] for instant in expected}) == 2, "the series must cross a change"
    assert [occurrence["start"]["utc"] for occurrence in seen["occurrences"]] == expected
    expected_ends = weekly_utc_instants(first + timedelta(hours=2), zone, count)
    assert [occurrence["end"]["utc"] for occurrence in seen["occurrences"]] == expected_ends
    assert {occurrence["start"]["zone"] for occurrence in seen["occurrences"]} == {zone}


def test_one_off_events_on_each_side_of_the_change_in_glasgow_and_barcelona() -> None:
    entries = [
        event_entry(f"{city}-{side}", when, when + timedelta(hours=1), zone=zone)
        for city, zone in (("glasgow", "Europe/London"), ("barcelona", "Europe/Madrid"))
        for side, when in (
            ("before", datetime(2019, 3, 30, 12, 0)),
            ("after", datetime(2019, 3, 31, 12, 0)),
        )
    ]
    catalog = catalog_of(*entries)
    body = calendars(catalog)["/events.ics"]
    assert_calendar_matches(body, catalog.events)  # UTC instants from zoneinfo
    utc = {
        event["uid"].rsplit("/", 1)[1]: event["start"]["utc"] for event in icaljs(body)["events"]
    }
    assert utc == {
        "glasgow-before": "2019-03-30T12:00:00.000Z",
        "glasgow-after": "2019-03-31T11:00:00.000Z",
        "barcelona-before": "2019-03-30T11:00:00.000Z",
        "barcelona-after": "2019-03-31T10:00:00.000Z",
    }


def test_offsets_with_seconds_and_negative_offsets_are_read_right() -> None:
    """Monrovia kept -00:44:30 until 1972, Amsterdam +01:19:32 in the summer of 1936:
    UTC-OFFSET values with seconds, on both sides of zero, read back by icalendar as
    zoneinfo has them. (ical.js drops the seconds of an offset, a client's limit: its
    instants are checked for whole-minute offsets, Kathmandu's +05:45.)"""
    starts = {
        "monrovia": (datetime(1971, 6, 1, 9), "Africa/Monrovia"),
        "amsterdam": (datetime(1936, 6, 1, 9), "Europe/Amsterdam"),
    }
    entries = [
        event_entry(name, start, start + timedelta(hours=1), zone=zone)
        for name, (start, zone) in starts.items()
    ]
    body = calendars(catalog_of(*entries))["/events.ics"]
    assert_structure(body)
    calendar = icalendar_calendar(body)
    offsets = {
        str(zone["TZID"]): {o["TZOFFSETTO"].td for o in zone.walk() if "TZOFFSETTO" in o}
        for zone in calendar.walk("VTIMEZONE")
    }
    for start, zone in starts.values():
        assert start.replace(tzinfo=ZoneInfo(zone)).utcoffset() in offsets[zone]
    assert b"TZOFFSETTO:-004430\r\n" in body and b"TZOFFSETTO:+011932\r\n" in body
    kathmandu = event_entry(
        "kathmandu", datetime(2019, 6, 1, 9), datetime(2019, 6, 1, 10), zone="Asia/Kathmandu"
    )
    body = calendars(catalog_of(kathmandu))["/events.ics"]
    assert b"TZOFFSETTO:+0545\r\n" in body
    assert_calendar_matches(body, [kathmandu])  # UTC instants from zoneinfo


def test_each_calendar_defines_exactly_the_zones_it_uses() -> None:
    outputs = calendars(catalog_of(*mixed_events()))
    expected = {
        "/events.ics": ["Europe/London", "Europe/Madrid"],
        "/tags/education/events.ics": ["Europe/Madrid"],
        "/entries/glasgow-evening.ics": ["Europe/London"],
        "/entries/study-visit-education-barcelona.ics": [],
    }
    read = icaljs_many(outputs[path] for path in expected)
    assert [calendar["timezones"] for calendar in read] == list(expected.values())


# ---------------------------------------------------------------- edits and determinism


def test_an_edited_event_keeps_its_uid_and_raises_sequence_and_last_modified() -> None:
    before = event_entry(
        "glasgow-evening",
        datetime(2019, 3, 27, 18, 30),
        datetime(2019, 3, 27, 20, 0),
        zone="Europe/London",
        published=datetime(2019, 3, 1, 9, tzinfo=BRUSSELS),
    )
    edits = [
        dataclasses.replace(before, updated=datetime(2019, 3, 1, 9, 1, tzinfo=BRUSSELS)),
        dataclasses.replace(
            before,
            title="Moved: Glasgow evening",
            updated=datetime(2019, 3, 5, 16, 45, tzinfo=BRUSSELS),
        ),
        dataclasses.replace(
            before,
            title="Moved again: Glasgow evening",
            updated=datetime(2019, 3, 5, 16, 46, tzinfo=BRUSSELS),
        ),
    ]
    bodies = [calendars(catalog_of(entry))["/events.ics"] for entry in [before, *edits]]
    versions = [read["events"][0] for read in icaljs_many(bodies)]
    assert len({version["uid"] for version in versions}) == 1
    sequences = [version["sequence"] for version in versions]
    modified = [version["lastModified"] for version in versions]
    stamps = [version["dtstamp"] for version in versions]
    assert sequences == sorted(set(sequences)), f"SEQUENCE must rise: {sequences}"
    assert modified == sorted(set(modified)) and stamps == sorted(set(stamps))
    assert versions[-1]["summary"] == "Moved again: Glasgow evening"
    # Moving the event within the same edit changes nothing about its identity.
    assert edits[-1].event is not None
    relocated = dataclasses.replace(edits[-1].event, location="Elsewhere")
    moved = dataclasses.replace(edits[-1], event=relocated)
    (seen,) = icaljs(calendars(catalog_of(moved))["/events.ics"])["events"]
    assert seen["uid"] == versions[0]["uid"]


def test_sequence_rises_even_when_the_editor_also_changes_published() -> None:
    original = seed_events()[1]
    later = dataclasses.replace(
        original,
        published=datetime(2019, 3, 20, tzinfo=BRUSSELS),
        updated=datetime(2019, 3, 21, tzinfo=BRUSSELS),
    )
    first, second = (
        icalendar_events(calendars(catalog_of(entry))["/events.ics"]) for entry in (original, later)
    )
    uid = ids.entry_uri(FEED, original.id)
    assert int(second[uid]["SEQUENCE"]) > int(first[uid]["SEQUENCE"])


def test_same_catalog_same_bytes_whatever_the_entry_order() -> None:
    entries = list(mixed_events())
    first = calendars(catalog_of(*entries))
    for seed in range(3):
        random.Random(seed).shuffle(entries)
        assert calendars(catalog_of(*entries)) == first


def test_an_entry_moved_in_the_file_is_not_rendered_again() -> None:
    entry = dataclasses.replace(seed_events()[0], line=40)
    moved = dataclasses.replace(entry, line=52)  # an edit above it shifted its lines
    first = ics_event.event_pieces(FEED, entry)
    assert ics_event.event_pieces(FEED, moved) is first  # the stored pieces, not new ones


def test_moving_the_site_changes_urls_but_never_uids() -> None:
    moved = Feed(**{**dataclasses.asdict(FEED), "base_url": "https://events.example.net/"})
    before = icalendar_events(calendars(catalog_of(*seed_events()))["/events.ics"])
    after = icalendar_events(calendars(catalog_of(*seed_events(), feed=moved))["/events.ics"])
    assert list(before) == list(after)
    assert {str(e["URL"]) for e in before.values()} != {str(e["URL"]) for e in after.values()}
