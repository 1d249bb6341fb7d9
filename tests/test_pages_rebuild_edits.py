"""A rebuild after an edit writes the very pages a from-scratch render writes.

The pages renderer reuses what the last build made (pages by their entries' keys, the
/events/ chrome and each list item): these tests edit a catalog the ways a publisher
does, one edit after another as the builder's reload path sees them (unchanged entries
stay the same objects), and after each edit compare every page with a render whose memo
tables start empty.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest
from markupsafe import Markup
from rebuild_support import render_pages
from test_pages_speed_entry import generated_catalog
from test_pages_support import rich_catalog

from feeds import memo
from feeds.model import Catalog, Entry
from feeds.render import pages
from feeds.render.pages_fragments import Fragments
from feeds.render.pages_select import EVENT_WINDOW, anchor_day, current_events, event_window

Edit = Callable[[Catalog], Catalog]


pytestmark = pytest.mark.usefixtures("cold_memo")  # tables as a new process finds them


def from_scratch(catalog: Catalog) -> dict[str, bytes]:
    """A render with no memory of earlier builds."""
    memo.clear_all()
    return render_pages(catalog)


def with_entry(catalog: Catalog, old: Entry, new: Entry | None) -> Catalog:
    """`catalog` with `old` replaced by `new` (or removed); every other entry the same object."""
    entries = tuple(e if e is not old else new for e in catalog.entries)
    return replace(catalog, entries=tuple(e for e in entries if e is not None))


def an_event(catalog: Catalog) -> Entry:
    """An event the lists, the grid and the embed page show (the middle of the list)."""
    return catalog.events[len(catalog.events) // 2]


def retitle(catalog: Catalog) -> Catalog:
    entry = an_event(catalog)
    return with_entry(catalog, entry, replace(entry, title=entry.title + " <renamed> & co"))


def change_summary(catalog: Catalog) -> Catalog:
    entry = catalog.publications[0]
    return with_entry(catalog, entry, replace(entry, summary="A **new** summary, *edited*."))


def move_event(catalog: Catalog) -> Catalog:
    entry = an_event(catalog)
    assert entry.event is not None
    moved = replace(
        entry.event,
        start=entry.event.start + timedelta(days=40),
        end=entry.event.end + timedelta(days=40),
    )
    return with_entry(catalog, entry, replace(entry, event=moved))


def add_entry(catalog: Catalog) -> Catalog:
    model = an_event(catalog)
    added = replace(model, id=model.id + "-again", title="An event added by the edit")
    return replace(catalog, entries=(*catalog.entries, added))


def remove_entry(catalog: Catalog) -> Catalog:
    return with_entry(catalog, an_event(catalog), None)


def drop_tag_from_entry(catalog: Catalog) -> Catalog:
    entry = next(e for e in catalog.events if e.tags)
    return with_entry(catalog, entry, replace(entry, tags=entry.tags[1:]))


def drop_tag_everywhere(catalog: Catalog) -> Catalog:
    tag = catalog.tags[0]
    entries = tuple(
        replace(e, tags=tuple(t for t in e.tags if t != tag)) if tag in e.tags else e
        for e in catalog.entries
    )
    return replace(catalog, entries=entries)


EDITS: dict[str, Edit] = {
    "retitle": retitle,
    "summary changed": change_summary,
    "event date moved": move_event,
    "entry added": add_entry,
    "entry removed": remove_entry,
    "tag dropped from an entry": drop_tag_from_entry,
    "tag dropped everywhere": drop_tag_everywhere,
}

CATALOGS: dict[str, Callable[[], Catalog]] = {
    "rich": rich_catalog,
    "generated-400": lambda: generated_catalog(400),
}


@pytest.mark.parametrize("name", CATALOGS)
def test_each_edit_in_turn_rebuilds_the_pages_a_fresh_render_writes(name: str) -> None:
    catalogs = [CATALOGS[name]()]
    for edit_name, edit in EDITS.items():
        catalogs.append(edit(catalogs[-1]))
        assert catalogs[-1] != catalogs[-2], f"{edit_name}: the edit changed nothing"
    fresh = [from_scratch(catalog) for catalog in catalogs]  # before the chain of rebuilds
    memo.clear_all()
    render_pages(catalogs[0])
    for edit_name, edited, expected in zip(EDITS, catalogs[1:], fresh[1:], strict=True):
        rebuilt = render_pages(edited)  # with the tables the last edit's build left
        assert rebuilt.keys() == expected.keys(), edit_name
        differing = sorted(path for path in expected if rebuilt[path] != expected[path])
        assert not differing, f"{edit_name}: {differing[:5]}"


@pytest.mark.parametrize("edit_name", EDITS)
def test_an_edit_reverted_rebuilds_the_original_pages(edit_name: str) -> None:
    catalog = generated_catalog(400)
    original = render_pages(catalog)
    render_pages(EDITS[edit_name](catalog))
    assert render_pages(catalog) == original


def test_events_items_outlive_a_build_that_reuses_the_events_page(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    catalog = generated_catalog(400)
    render_pages(catalog)
    publication = next(e for e in catalog.publications if e.event is None)
    untouched = with_entry(catalog, publication, replace(publication, title="Not an event"))
    before = render_pages(untouched)
    assert render_pages(untouched)["/events/"] is before["/events/"]  # the page reused whole

    drawn: list[str] = []
    real = Fragments.entry_item

    def counting(self: Fragments, entry: Entry, heading: str) -> Markup:
        drawn.append(entry.id)
        return real(self, entry, heading)

    monkeypatch.setattr(Fragments, "entry_item", counting)
    edited = retitle(untouched)
    memo.begin_build()
    try:
        page = pages.PageRenderer(edited).events()  # /events/ alone: no other list draws
    finally:
        memo.end_build()
    assert drawn == [an_event(untouched).id]  # one item drawn, not each of the events
    assert page == from_scratch(edited)["/events/"] != before["/events/"]
    assert len(edited.events) > 100


@pytest.mark.parametrize("name", CATALOGS)
def test_event_windows_from_the_precomputed_current_events_are_the_same(name: str) -> None:
    catalog = CATALOGS[name]()
    anchor = anchor_day(catalog)
    assert anchor is not None
    for day in (anchor, anchor - timedelta(days=400), anchor + timedelta(days=400)):
        current = current_events(catalog.events, day)
        for tag in (None, *catalog.tags):
            events = tuple(e for e in catalog.events if tag is None or tag in e.tags)
            for limit in (0, 5, EVENT_WINDOW):
                expected = event_window(events, day, limit)
                assert event_window(events, day, limit, current) == expected, (tag, limit)
