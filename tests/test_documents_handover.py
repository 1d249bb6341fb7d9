"""`feed_documents` hands the last catalog's documents over to an edited one when the
edit moved nothing: documents without an edited entry are the same objects (their bytes
are found by identity), the others hold the new entries, and all of them equal the
documents made from scratch."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from test_feeds_support import yearly_catalog

from feeds import memo
from feeds.model import Catalog, Entry
from feeds.render.documents import FeedDocument, feed_documents


@pytest.fixture(autouse=True)
def cold_memo() -> Iterator[None]:
    memo.clear_all()
    yield
    memo.clear_all()


def with_entry(catalog: Catalog, index: int, entry: Entry) -> Catalog:
    entries = list(catalog.entries)
    entries[index] = entry
    return replace(catalog, entries=tuple(entries))


def from_scratch(catalog: Catalog) -> tuple[FeedDocument, ...]:
    memo.clear_all()
    return feed_documents(replace(catalog))  # a copy: nothing to hand over from


def test_documents_without_the_edited_entry_are_handed_over() -> None:
    catalog = yearly_catalog(count=30, feed_size=4)
    before = feed_documents(catalog)
    edited_entry = replace(catalog.entries[7], title="Edited")
    edited = with_entry(catalog, 7, edited_entry)
    after = feed_documents(edited)
    assert len(after) == len(before)
    for old, new in zip(before, after, strict=True):
        holds_it = catalog.entries[7] in old.entries
        assert (new is old) == (not holds_it), new.path("atom")
        if holds_it:
            assert edited_entry in new.entries and not any(
                e is catalog.entries[7] for e in new.entries
            )
    assert sum(1 for new in after if edited_entry in new.entries) >= 2  # its feed and a tag's
    assert after == from_scratch(edited)


@pytest.mark.parametrize(
    "change",
    [
        {"tags": ("odd",)},  # another tag: other tag documents
        {"published": None},  # no longer a publication
    ],
)
def test_an_edit_that_moves_an_entry_makes_the_documents_again(change: dict[str, object]) -> None:
    catalog = yearly_catalog(count=30, feed_size=4)
    before = feed_documents(catalog)
    edited = with_entry(catalog, 8, replace(catalog.entries[8], **change))  # type: ignore[arg-type]
    after = feed_documents(edited)
    assert not set(map(id, after)) & set(map(id, before))
    assert after == from_scratch(edited)
