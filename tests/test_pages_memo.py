"""Pages are memoised by content: a rebuild re-renders only what an edit changed.

Each test renders twice through the memo tables, then checks (1) which pages were
reused (the very same bytes object) and (2) that every page equals a cold render of the
same catalog, so a reused page can never be a stale one.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from rebuild_support import render_pages
from test_pages_support import elements, parse_html, rich_catalog, text_of

from feeds import ids, memo
from feeds.model import Catalog
from feeds.render.entry_key import EntryKey

pytestmark = pytest.mark.usefixtures("cold_memo")  # tables as a new process finds them


def cold(catalog: Catalog) -> dict[str, bytes]:
    memo.clear_all()
    return render_pages(catalog)


def retitled(catalog: Catalog, index: int, title: str) -> Catalog:
    entries = list(catalog.entries)
    entries[index] = replace(entries[index], title=title)
    return replace(catalog, entries=tuple(entries))


def reused(before: dict[str, bytes], after: dict[str, bytes]) -> set[str]:
    return {path for path, body in after.items() if before.get(path) is body}


def test_editing_one_entry_rerenders_its_page_and_no_other_entry_page() -> None:
    catalog = rich_catalog()
    before = render_pages(catalog)
    edited = retitled(catalog, 0, "A title nobody used before")
    after = render_pages(edited)

    page = ids.entry_page_path(edited.entries[0].id)
    headings = [text_of(h) for h in elements(parse_html(after[page]), "h1")]
    assert headings == ["A title nobody used before"]
    other_entries = {ids.entry_page_path(e.id) for e in edited.entries[1:]}
    assert other_entries <= reused(before, after)
    assert page not in reused(before, after)
    assert after == cold(edited)


def test_lists_showing_the_edited_entry_are_rerendered() -> None:
    catalog = rich_catalog()
    before = render_pages(catalog)
    edited = retitled(catalog, 0, "Renamed for the lists")
    after = render_pages(edited)

    changed = set(after) - reused(before, after)
    showing = {path for path, body in after.items() if b"Renamed for the lists" in body}
    assert "/" in showing or "/events/" in showing  # the bundled lists show every entry
    assert showing <= changed
    assert after == cold(edited)


def test_an_entry_moved_in_the_file_reuses_its_page() -> None:
    catalog = rich_catalog()
    before = render_pages(catalog)
    moved = replace(catalog, entries=tuple(replace(e, line=e.line + 40) for e in catalog.entries))
    after = render_pages(moved)
    entry_pages = {ids.entry_page_path(e.id) for e in catalog.entries}
    assert entry_pages <= reused(before, after)


def test_a_feed_change_rerenders_every_page() -> None:
    catalog = rich_catalog()
    before = render_pages(catalog)
    renamed = replace(catalog, feed=replace(catalog.feed, title="Another publisher"))
    after = render_pages(renamed)
    rendered = {p for p in after if p.endswith("/") or p.endswith(".json") or p == "/feed.xsl"}
    assert not rendered & reused(before, after)
    assert after == cold(renamed)


def test_pages_no_longer_shown_are_dropped_at_the_end_of_a_build() -> None:
    catalog = rich_catalog()
    render_pages(catalog)
    gone = catalog.entries[0]
    render_pages(replace(catalog, entries=catalog.entries[1:]))
    for name in ("pages.page", "pages.item"):
        table = memo._tables[name]  # the one place the test looks inside
        shown = [entries_of(key) for key in table.values]
        assert shown and not [entries for entries in shown if gone in entries]


def entries_of(key: object) -> list[object]:
    """The entries a memo key names, directly or through an EntryKey."""
    parts = key if isinstance(key, tuple) else (key,)
    found: list[object] = []
    for part in parts:
        if isinstance(part, EntryKey):
            found.append(part.entry)
        elif isinstance(part, tuple):
            found.extend(entries_of(part))
        else:
            found.append(part)
    return found


def test_lists_render_only_the_edited_entrys_item_again() -> None:
    catalog = rich_catalog()
    render_pages(catalog)
    table = memo._tables["pages.item"]
    before = set(table.values)
    assert before, "the lists draw their items through the item table"
    edited = retitled(catalog, 0, "Renamed in one item")
    after = render_pages(edited)

    rendered_again = set(table.values) - before
    entries = {key[1].entry.id for key in rendered_again if isinstance(key, tuple)}
    assert entries == {edited.entries[0].id} and len(entries) == len(rendered_again) > 0
    assert after == cold(edited)
