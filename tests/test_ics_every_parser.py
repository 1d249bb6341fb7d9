"""Every calendar the Site publishes is valid for every parser of the suite.

The parsers: icalendar (`Calendar.from_ical`, read back), ical.js (Thunderbird's, in
node) and RFC 5545's grammar as `assert_structure` checks it (one VCALENDAR holding at
least one component: `icalbody = calprops component`). The calendars: every `.ics` of
the bundled catalog (two of its tags have no event), of a `feeds new` catalog, of a
generated catalog with recurring and cancelled events, and of catalogs without any
event, with and without a feed time zone.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date

import icalendar
import pytest
from test_exdate import CALL, LUNCH, MARKET
from test_exdate import catalog_of as exdate_catalog
from test_ics_support import assert_structure, calendars, icaljs_many
from test_pages_support import ROOT, bundled_catalog

from feeds.catalog import parse_catalog
from feeds.catalog.starter import starter_text
from feeds.model import Catalog


def generated_catalog(entries: int) -> Catalog:
    """The benchmarks' deterministic catalog (zones, RRULEs, cancelled events)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from gen_catalog import generate  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    text: str = generate(entries)
    return parse_catalog(text.encode())


def catalog_without_events(timezone: str | None) -> Catalog:
    zone = f"  timezone: {timezone}\n" if timezone else ""
    text = (
        "feed:\n  title: Only news\n  link: https://example.org/\n"
        "  base_url: https://feeds.example.org/\n  id_authority: example.org,2024\n"
        f"{zone}entries:\n  - id: news\n    title: News\n    tags: [city]\n"
        "    published: 2024-03-01\n"
    )
    return parse_catalog(text.encode())


CATALOGS: dict[str, Callable[[], Catalog]] = {
    "days left out": lambda: exdate_catalog(LUNCH, MARKET, CALL),
    "bundled": bundled_catalog,
    "generated-200": lambda: generated_catalog(200),
    "feeds new": lambda: parse_catalog(starter_text(date.today()).encode()),
    "no events, a feed zone": lambda: catalog_without_events("America/New_York"),
    "no events, no feed zone": lambda: catalog_without_events(None),
}


@pytest.mark.parametrize("name", CATALOGS)
def test_every_calendar_passes_every_parser(name: str) -> None:
    catalog = CATALOGS[name]()
    made = {path: body for path, body in calendars(catalog).items() if path.endswith(".ics")}
    if name == "generated-200":  # what the catalog must hold to be worth reading
        assert any(e.event and e.event.rrule for e in catalog.events)
        assert any(e.event and e.event.status == "cancelled" for e in catalog.events)
    failures = []
    for path, body in made.items():
        try:
            assert_structure(body)  # includes icalendar's reading
            (calendar,) = icalendar.Calendar.from_ical(body, multiple=True)
            assert calendar.subcomponents, "no component"
            assert icalendar.Calendar.from_ical(calendar.to_ical()) == calendar  # round trip
        except AssertionError as exc:
            failures.append(f"{path}: {exc}")
    for path, seen in zip(made, icaljs_many(made.values(), expand=3), strict=True):
        if seen["roots"] != 1 or seen["rootName"] != "vcalendar":
            failures.append(f"{path}: ical.js read {seen['roots']} roots")
    assert failures == []


def test_a_calendar_without_events_carries_the_feeds_zone_for_good() -> None:
    """The zone of the feed, for the year of id_authority: an edit elsewhere in the
    catalog leaves the empty calendar's bytes (and ETag) as they were."""
    catalog = bundled_catalog()
    body = calendars(catalog)["/tags/cooperation/events.ics"]
    (calendar,) = icalendar.Calendar.from_ical(body, multiple=True)
    assert [c.name for c in calendar.subcomponents] == ["VTIMEZONE"]
    assert str(calendar.subcomponents[0]["TZID"]) == "Europe/Brussels"
    assert calendar.walk("VEVENT") == []
    (seen,) = icaljs_many([body])
    assert seen["events"] == [] and seen["timezones"] == ["Europe/Brussels"]
    without_zone = calendars(catalog_without_events(None))
    for path in ("/events.ics", "/tags/city/events.ics"):
        (calendar,) = icalendar.Calendar.from_ical(without_zone[path], multiple=True)
        assert [str(c["TZID"]) for c in calendar.walk("VTIMEZONE")] == ["UTC"], path
