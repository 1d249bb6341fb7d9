"""Helpers shared by the tests of what a rebuild reuses (no tests here)."""

from __future__ import annotations

from dataclasses import replace

from feeds import memo
from feeds.model import Catalog, Entry
from feeds.render import pages


def with_entry(catalog: Catalog, index: int, entry: Entry) -> Catalog:
    """`catalog` with its `index`-th entry replaced by `entry`."""
    entries = list(catalog.entries)
    entries[index] = entry
    return replace(catalog, entries=tuple(entries))


def render_pages(catalog: Catalog) -> dict[str, bytes]:
    """One pages render as `build_site` brackets it (tables swept at its end)."""
    memo.begin_build()
    try:
        return pages.render(catalog)
    finally:
        memo.end_build()
