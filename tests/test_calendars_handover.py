"""The calendars are handed over from the last build when an edit moved no event: only
the calendars holding an edited event are joined again, they equal a cold render, and
the memo tables keep every event's VEVENT (a later build that renders all calendars
again re-renders none) and no more than the catalog's."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from rebuild_support import with_entry
from test_ics_support import catalog_of, event_entry

from feeds import memo
from feeds.model import Catalog, Entry
from feeds.render import ics
from feeds.site import build_site

BRUSSELS = ZoneInfo("Europe/Brussels")


pytestmark = pytest.mark.usefixtures("cold_memo")  # tables as a new process finds them


def events() -> tuple[Entry, ...]:
    found = []
    for n in range(12):
        start = datetime(2020 + n % 3, 1 + n, 10, 9, 0, tzinfo=BRUSSELS)
        tags = ("odd",) if n % 2 else ("even",)
        found.append(event_entry(f"event-{n}", start, zone="Europe/Brussels", tags=tags))
    found.append(event_entry("all-day", date(2021, 6, 1), date(2021, 6, 2), tags=("odd",)))
    return tuple(found)


def cold(catalog: Catalog) -> dict[str, bytes]:
    memo.clear_all()
    return ics.render(replace(catalog))  # a copy: nothing to hand over from


def test_an_edited_event_rejoins_only_its_calendars() -> None:
    catalog = catalog_of(*events())
    before = ics.render(catalog)
    edited = with_entry(catalog, 3, replace(catalog.entries[3], title="Edited"))
    after = ics.render(edited)
    changed = {path for path in after if after[path] is not before[path]}
    assert changed == {"/events.ics", "/tags/odd/events.ics", "/entries/event-3.ics"}
    assert b"SUMMARY:Edited" in after["/tags/odd/events.ics"]
    assert after == cold(edited)


@pytest.mark.parametrize(
    "change", [{"tags": ("even",)}, {"id": "renamed"}, {"event": None}], ids=str
)
def test_an_event_moved_renders_the_calendars_again(change: dict[str, object]) -> None:
    catalog = catalog_of(*events())
    ics.render(catalog)
    edited = with_entry(catalog, 3, replace(catalog.entries[3], **change))  # type: ignore[arg-type]
    assert ics.render(edited) == cold(edited)


def test_builds_that_hand_over_keep_the_tables_whole_and_no_bigger() -> None:
    catalog = catalog_of(*events())
    build_site(catalog)
    pieces = memo._tables["ics.event"]  # the one place the test looks inside
    for edit in range(4):
        catalog = with_entry(catalog, 5, replace(catalog.entries[5], title=f"Edit {edit}"))
        build_site(catalog)
        assert len(pieces.values) == len(catalog.events)
    kept = dict(pieces.values)
    # An event added: every calendar is made again, from the VEVENTs kept.
    added = event_entry("added", date(2022, 2, 2), tags=("odd",))
    build_site(replace(catalog, entries=(*catalog.entries, added)))
    assert len(pieces.values) == len(kept) + 1
    assert all(pieces.values[key] is piece for key, piece in kept.items())
