"""The bundled catalog's calendars: golden bytes (`make golden` rewrites them) and a read-back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from test_ics_support import assert_calendar_matches, calendars, icaljs_many

from feeds import ids
from feeds.catalog import load_catalog

GOLDEN = {  # golden file: Site path
    "ics/events.ics": "/events.ics",
    "ics/tags/culture/events.ics": "/tags/culture/events.ics",
    "ics/tags/cooperation/events.ics": "/tags/cooperation/events.ics",  # a tag without events
    "ics/entries/urban-academy-integration-migrants-refugees-antwerp.ics": (
        "/entries/urban-academy-integration-migrants-refugees-antwerp.ics"
    ),
}


def test_golden_calendars_of_the_bundled_catalog(golden: Any, bundled_catalog_path: Path) -> None:
    outputs = calendars(load_catalog(bundled_catalog_path))
    for name, path in GOLDEN.items():
        golden.check(name, outputs[path])


def test_bundled_catalog_calendars_read_back_as_the_catalog_says(
    bundled_catalog_path: Path,
) -> None:
    catalog = load_catalog(bundled_catalog_path)
    assert len(catalog.events) == 4
    outputs = calendars(catalog)
    wanted = {"/events.ics": catalog.events}
    wanted |= {
        f"/tags/{tag}/events.ics": tuple(e for e in catalog.events if tag in e.tags)
        for tag in catalog.tags
    }
    wanted |= {ids.entry_ics_path(entry.id): (entry,) for entry in catalog.events}
    assert set(outputs) == set(wanted)
    read = icaljs_many(outputs[path] for path in wanted)
    for (path, entries), seen in zip(wanted.items(), read, strict=True):
        assert_calendar_matches(outputs[path], entries, feed=catalog.feed, seen_by_js=seen)
    days = {
        event["uid"].rsplit("/", 1)[1]: (event["start"]["value"], event["end"]["value"])
        for event in read[0]["events"]
    }
    assert days == {
        "wg-smart-social-inclusion-glasgow": ("2019-03-27", "2019-03-28"),
        "study-visit-roma-housing-toulouse": ("2019-04-09", "2019-04-11"),
        "study-visit-education-barcelona": ("2019-04-24", "2019-04-27"),
        "urban-academy-integration-migrants-refugees-antwerp": ("2019-05-21", "2019-05-23"),
    }
