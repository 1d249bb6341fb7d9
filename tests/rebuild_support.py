"""Helpers shared by the tests of what a rebuild reuses (no tests here)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from feeds import memo
from feeds.model import Catalog, Entry, Feed
from feeds.render import ics_event, pages
from feeds.render.pages_entry import EntryPageWriter, EntryView


def with_entry(catalog: Catalog, index: int, entry: Entry) -> Catalog:
    """`catalog` with its `index`-th entry replaced by `entry`."""
    entries = list(catalog.entries)
    entries[index] = entry
    return replace(catalog, entries=tuple(entries))


def render_in_a_build(
    render: Callable[[Catalog], dict[str, bytes]], catalog: Catalog
) -> dict[str, bytes]:
    """One render as `build_site` brackets it (tables swept at its end)."""
    memo.begin_build()
    try:
        return render(catalog)
    finally:
        memo.end_build()


def render_pages(catalog: Catalog) -> dict[str, bytes]:
    return render_in_a_build(pages.render, catalog)


def log_entry_page_renders(monkeypatch: pytest.MonkeyPatch, log: Path) -> None:
    """Append a line to `log` for each entry page rendered (not taken from a memo table),
    in whichever process of a build renders it."""
    page = EntryPageWriter.page

    def logged_page(self: EntryPageWriter, view: EntryView) -> bytes:
        with log.open("a") as handle:
            handle.write("page\n")
        return page(self, view)

    monkeypatch.setattr(EntryPageWriter, "page", logged_page)


def log_event_renders(monkeypatch: pytest.MonkeyPatch, log: Path) -> None:
    """Append a line to `log` for each event rendered as a VEVENT (not taken from a memo
    table), in whichever process of a build renders it."""
    rendered = ics_event._event_pieces

    def logged(feed: Feed, entry: Entry) -> ics_event.EventPieces:
        with log.open("a") as handle:
            handle.write("event\n")
        return rendered(feed, entry)

    monkeypatch.setattr(ics_event, "_event_pieces", logged)
