"""`feed_documents` hands the last catalog's documents over to an edited one when the
edit moved nothing: documents without an edited entry are the same objects (their bytes
are found by identity), the others hold the new entries, and all of them equal the
documents made from scratch."""

from __future__ import annotations

from dataclasses import replace

import pytest
from rebuild_support import with_entry
from test_feeds_support import yearly_catalog

from feeds import memo
from feeds.model import Catalog
from feeds.render import atom, jsonfeed, rss
from feeds.render.documents import FeedDocument, feed_documents
from feeds.site import build_site

pytestmark = pytest.mark.usefixtures("cold_memo")  # tables as a new process finds them


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


def test_builds_that_hand_over_keep_the_tables_whole_and_no_bigger() -> None:
    """The memo tables keep the pieces of every document a build handed over (a later
    build that must make the documents again finds them all), and drop those of the
    entries and documents an edit replaced, edit after edit."""
    catalog = yearly_catalog(count=30, feed_size=4)
    build_site(catalog)
    documents = len(feed_documents(catalog))
    for edit in range(5):
        catalog = with_entry(catalog, 7, replace(catalog.entries[7], title=f"Edit {edit}"))
        build_site(catalog)
        for fmt in (atom.ATOM, rss.RSS, jsonfeed.JSON):
            assert len(fmt.entries.values) == len(catalog.publications), fmt.extension
            assert len(fmt.frames.values) == documents, fmt.extension
    # An entry added: the documents are made again, from the pieces kept (the very bytes).
    kept = dict(atom.ATOM.entries.values)
    build_site(replace(catalog, entries=(*catalog.entries, replace(catalog.entries[0], id="new"))))
    after = atom.ATOM.entries.values
    assert len(after) == len(kept) + 1
    assert all(after[key] is entry_bytes for key, entry_bytes in kept.items())
