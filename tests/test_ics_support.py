"""Shared by the test_ics* modules (no tests here): catalog factories and the two parsers.

Every calendar is read back the way clients read it: with icalendar (Python) and with
ical.js (Mozilla's parser, the one inside Thunderbird), run by node on
`tests/js/ics_events.mjs`. Expected values are computed from the catalog with zoneinfo,
never copied from our output.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
from conftest import skip_unless_ci

from feeds.model import Catalog, Entry, Event, EventStatus, Feed
from feeds.render import ics

ROOT = Path(__file__).resolve().parent.parent
ICAL_JS_SCRIPT = ROOT / "tests" / "js" / "ics_events.mjs"

FEED = Feed(
    title="EUROCITIES news and events",
    subtitle="News, publications and events of the EUROCITIES network",
    link="https://www.eurocities.eu/",
    base_url="https://feeds.example.org/",
    id_authority="eurocities.eu,2019",
    timezone="Europe/Brussels",
)
BRUSSELS = ZoneInfo("Europe/Brussels")


def calendars(catalog: Catalog) -> dict[str, bytes]:
    """Every calendar `ics.render` makes, as bytes (it gives Bodies, kept as gzip)."""
    return {path: bytes(body) for path, body in ics.render(catalog).items()}


def event_entry(
    entry_id: str,
    start: date | datetime,
    end: date | datetime | None = None,
    *,
    zone: str | tzinfo | None = None,
    title: str | None = None,
    summary: str = "",
    tags: tuple[str, ...] = (),
    published: datetime | None = None,
    updated: datetime | None = None,
    link: str | None = None,
    location: str | None = None,
    geo: tuple[float, float] | None = None,
    url: str | None = None,
    status: EventStatus = "confirmed",
    rrule: str | None = None,
) -> Entry:
    """An event entry as the loader would produce it.

    `start`/`end` are dates (all-day, `end` inclusive) or naive local times; `zone` is an
    IANA name (times in that zone) or a fixed-offset tzinfo (times written with an offset).
    """
    end = start if end is None else end
    timezone_name = zone if isinstance(zone, str) else None
    if isinstance(start, datetime):
        assert isinstance(end, datetime) and zone is not None
        zone_info = ZoneInfo(zone) if isinstance(zone, str) else zone
        start, end = start.replace(tzinfo=zone_info), end.replace(tzinfo=zone_info)
    event = Event(
        start=start,
        end=end,
        timezone=timezone_name,
        location=location,
        geo=geo,
        url=url,
        status=status,
        rrule=rrule,
    )
    return Entry(
        id=entry_id,
        title=title or entry_id.replace("-", " ").capitalize(),
        summary=summary,
        tags=tags,
        published=published,
        updated=updated,
        link=link,
        event=event,
    )


def catalog_of(*entries: Entry, feed: Feed = FEED) -> Catalog:
    return Catalog(feed=feed, entries=tuple(entries))


def seed_events() -> tuple[Entry, ...]:
    """The four seed events as entries.yaml has them (Antwerp has no publication date)."""
    return (
        event_entry(
            "urban-academy-integration-migrants-refugees-antwerp",
            date(2019, 5, 21),
            date(2019, 5, 22),
            title="Urban Academy on Integration of Migrants and Refugees - 21-22 May, Antwerp",
            location="Antwerp, Belgium",
            geo=(51.2194, 4.4025),
        ),
        event_entry(
            "study-visit-education-barcelona",
            date(2019, 4, 24),
            date(2019, 4, 26),
            published=datetime(2019, 3, 8, tzinfo=BRUSSELS),
            location="Barcelona, Spain",
            geo=(41.3874, 2.1686),
        ),
        event_entry(
            "study-visit-roma-housing-toulouse",
            date(2019, 4, 9),
            date(2019, 4, 10),
            published=datetime(2019, 3, 7, tzinfo=BRUSSELS),
            location="Toulouse, France",
            geo=(43.6047, 1.4442),
        ),
        event_entry(
            "wg-smart-social-inclusion-glasgow",
            date(2019, 3, 27),
            published=datetime(2019, 2, 28, tzinfo=BRUSSELS),
            location="Glasgow, United Kingdom",
            geo=(55.8642, -4.2518),
        ),
    )


# ---------------------------------------------------------------- the parsers


def icaljs(ics: bytes, expand: int = 60) -> dict[str, Any]:
    """What ical.js reads in `ics` (see tests/js/ics_events.mjs for the shape)."""
    result: dict[str, Any] = json.loads(_run_icaljs(["--expand", str(expand)], ics))
    return result


def icaljs_many(calendars: Iterable[bytes], expand: int = 60) -> list[dict[str, Any]]:
    """`icaljs` for several calendars in one node process (node starts slowly)."""
    texts = json.dumps([ics.decode("utf-8") for ics in calendars]).encode()
    result: list[dict[str, Any]] = json.loads(
        _run_icaljs(["--many", "--expand", str(expand)], texts)
    )
    return result


def _run_icaljs(arguments: list[str], stdin: bytes) -> bytes:
    node = shutil.which("node")
    if node is None:
        skip_unless_ci("node is not installed: the ical.js checks need Node.js (scripts/test.sh)")
    if not (ROOT / "node_modules" / "ical.js").is_dir():
        skip_unless_ci("ical.js is not installed: run `npm ci` in the repository root")
    done = subprocess.run(
        [node, str(ICAL_JS_SCRIPT), *arguments],
        input=stdin,
        capture_output=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"ical.js could not read the calendar:\n{done.stderr.decode()}"
    return done.stdout


def icalendar_calendar(ics: bytes) -> icalendar.Calendar:
    """The one VCALENDAR icalendar reads in `ics`."""
    calendars = icalendar.Calendar.from_ical(ics, multiple=True)
    assert len(calendars) == 1, f"expected one VCALENDAR, found {len(calendars)}"
    calendar: icalendar.Calendar = calendars[0]
    return calendar


def icalendar_events(ics: bytes) -> dict[str, icalendar.Event]:
    """icalendar's VEVENTs of `ics` by UID."""
    events = icalendar_calendar(ics).walk("VEVENT")
    by_uid = {str(event["UID"]): event for event in events}
    assert len(by_uid) == len(events), "two events share a UID"
    return by_uid


# ---------------------------------------------------------------- what a calendar must be


def assert_wire_format(ics: bytes) -> None:
    """CRLF only, every physical line at most 75 octets and valid UTF-8 on its own."""
    assert ics.endswith(b"\r\n")
    lines = ics[:-2].split(b"\r\n")
    for number, line in enumerate(lines, 1):
        assert b"\r" not in line and b"\n" not in line, f"bare CR or LF in line {number}"
        assert len(line) <= 75, f"line {number} has {len(line)} octets: {line!r}"
        line.decode("utf-8")  # a fold inside a character would fail here


def tzids_used(ics: bytes) -> set[str]:
    """The TZID parameters of every property (in the name part of a line, not in its value)."""
    unfolded = ics.replace(b"\r\n ", b"")
    found = re.findall(rb"^[A-Za-z0-9-]+(?:;[^:;\r\n]+)*;TZID=([^:;\r\n]+)", unfolded, re.M)
    return {tzid.decode() for tzid in found}


def assert_structure(ics: bytes) -> None:
    """One VCALENDAR holding at least one component (RFC 5545: `icalbody = calprops
    component`); every component closed; a VTIMEZONE for each TZID used, and no other,
    but in a calendar without events: the feed's zone alone (feeds/render/ics.py)."""
    assert_wire_format(ics)
    unfolded = ics.replace(b"\r\n ", b"").split(b"\r\n")
    assert unfolded[0] == b"BEGIN:VCALENDAR" and unfolded[-2:] == [b"END:VCALENDAR", b""]
    assert unfolded.count(b"BEGIN:VCALENDAR") == 1 and unfolded.count(b"END:VCALENDAR") == 1
    assert unfolded.count(b"BEGIN:VEVENT") == unfolded.count(b"END:VEVENT")
    calendar = icalendar_calendar(ics)
    assert calendar.subcomponents, "a VCALENDAR without any component (RFC 5545 forbids it)"
    defined = {str(zone["TZID"]) for zone in calendar.walk("VTIMEZONE")}
    if calendar.walk("VEVENT"):
        assert defined == tzids_used(ics)
    else:
        assert defined == {str(calendar.get("X-WR-TIMEZONE", "UTC"))}
    for name in ("PRODID", "VERSION", "CALSCALE"):
        assert name in calendar, f"{name} missing"
    assert str(calendar["VERSION"]) == "2.0" and str(calendar["CALSCALE"]) == "GREGORIAN"
    assert "METHOD" not in calendar  # no METHOD without an ORGANIZER on every event


# ---------------------------------------------------------------- expected, from the catalog


UTC_NAMES = {"UTC", "Etc/UTC", "Etc/GMT", "GMT"}


def written_zone(event: Event) -> str | None:
    """The TZID a timed event must carry: its zone, unless that is UTC by another name."""
    return None if event.timezone in UTC_NAMES else event.timezone


def expected_when(event: Event, value: date | datetime, *, end: bool = False) -> dict[str, Any]:
    """What ical.js must report for DTSTART/DTEND of `event`, from the catalog alone."""
    if not isinstance(value, datetime):
        day = value + timedelta(days=1) if end else value
        return {"value": day.isoformat(), "zone": None, "isDate": True, "utc": None}
    instant = value.astimezone(UTC)
    # A named zone: the local time with TZID; a fixed offset or UTC: the UTC time, with "Z".
    zone = written_zone(event)
    local = value if zone else instant
    written = local.replace(tzinfo=None).isoformat() + ("" if zone else "Z")
    return {
        "value": written,
        "zone": zone or "UTC",
        "isDate": False,
        "utc": instant.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    }


def assert_icaljs_event_matches(seen: dict[str, Any], entry: Entry) -> None:
    event = entry.event
    assert event is not None
    assert seen["summary"] == entry.title
    assert seen["location"] == event.location
    assert seen["status"] == event.status.upper()
    assert seen["start"] == expected_when(event, event.start)
    assert seen["end"] == expected_when(event, event.end, end=True)


def assert_icalendar_event_matches(seen: icalendar.Event, entry: Entry) -> None:
    event = entry.event
    assert event is not None
    assert str(seen["SUMMARY"]) == entry.title
    assert (str(seen["LOCATION"]) if "LOCATION" in seen else None) == event.location
    assert str(seen["STATUS"]) == event.status.upper()
    start, end = seen.decoded("DTSTART"), seen.decoded("DTEND")
    if event.all_day:
        assert seen["DTSTART"].params.get("VALUE") == "DATE"
        assert seen["DTEND"].params.get("VALUE") == "DATE"
        assert (start, end) == (event.start, event.end + timedelta(days=1))
        assert not isinstance(start, datetime) and not isinstance(end, datetime)
        return
    assert (start, end) == (event.start, event.end)  # the same instants
    for name in ("DTSTART", "DTEND"):
        tzid = seen[name].params.get("TZID")
        assert tzid == written_zone(event), f"{name} zone {tzid}, catalog: {event.timezone}"
        if tzid is None:  # written with an offset, or in UTC: sent in UTC
            assert seen.decoded(name).utcoffset() == timedelta(0)


def assert_calendar_matches(
    ics: bytes,
    entries: Iterable[Entry],
    feed: Feed = FEED,
    seen_by_js: dict[str, Any] | None = None,
) -> None:
    """Both parsers read exactly `entries`, in order, each as the catalog says.

    `seen_by_js` is ical.js's reading of `ics` when the caller has it (from `icaljs_many`).
    """
    from feeds import ids

    entries = tuple(entries)
    uids = [ids.entry_uri(feed, entry.id) for entry in entries]
    assert_structure(ics)
    by_icalendar = icalendar_events(ics)
    assert list(by_icalendar) == uids
    if seen_by_js is None:
        seen_by_js = icaljs(ics)
    assert seen_by_js["roots"] == 1 and seen_by_js["rootName"] == "vcalendar"
    assert [seen["uid"] for seen in seen_by_js["events"]] == uids
    for entry, uid, seen in zip(entries, uids, seen_by_js["events"], strict=True):
        assert_icalendar_event_matches(by_icalendar[uid], entry)
        assert_icaljs_event_matches(seen, entry)
