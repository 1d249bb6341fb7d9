"""Feed documents assembled from memoised bytes are the documents a whole tree gives.

`feeds.render.documents.assemble` joins each entry's bytes (written once, as text)
between the bytes of a frame. These tests build every document the direct way instead
(the frame and all its entries as one lxml tree, serialized by lxml; one `json.dumps`
of the whole JSON object) and require the same bytes, for hand-made, hostile and
random catalogs, and after an edit served from the memo tables.
"""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from test_feeds_hostile import hostile_catalog
from test_feeds_support import FEED, day, publication, rich_catalog, yearly_catalog

from feeds import ids, memo
from feeds.model import Catalog, Entry, Feed
from feeds.render import atom, jsonfeed, rss
from feeds.render.datefmt import rfc822, rfc3339
from feeds.render.documents import FeedDocument, categories, entry_url, feed_documents
from feeds.render.entry_key import EntryKey
from feeds.render.feedgen_wrap import atom_frame, rss_frame, serialize
from feeds.render.text import summary_html

RENDERERS = {"atom": atom.render, "rss": rss.render, "json": jsonfeed.render}


def atom_entry_element(feed: Feed, entry: Entry) -> etree._Element:
    """The `<entry>` as an lxml element (no namespace: it takes the frame's default one)."""
    assert entry.published is not None and entry.modified is not None
    element = etree.Element("entry")
    child(element, "id", ids.entry_uri(feed, entry.id))
    child(element, "title", entry.title)
    child(element, "updated", rfc3339(entry.modified))
    child(element, "published", rfc3339(entry.published))
    etree.SubElement(element, "link", rel="alternate", href=entry_url(feed, entry))
    for category in categories(feed, entry):
        etree.SubElement(element, "category", term=category.term, scheme=category.scheme)
    summary = summary_html(entry.summary, feed.base_url)
    if summary:
        child(element, "summary", summary).set("type", "html")
    return element


def rss_item_element(feed: Feed, entry: Entry) -> etree._Element:
    assert entry.published is not None
    item = etree.Element("item")
    child(item, "title", entry.title)
    child(item, "link", entry_url(feed, entry))
    summary = summary_html(entry.summary, feed.base_url)
    if summary:
        child(item, "description", summary)
    child(item, "guid", ids.entry_uri(feed, entry.id)).set("isPermaLink", "false")
    for category in categories(feed, entry):
        child(item, "category", category.term).set("domain", category.scheme)
    child(item, "pubDate", rfc822(entry.published))
    return item


def child(parent: etree._Element, tag: str, text: str) -> etree._Element:
    element = etree.SubElement(parent, tag)
    element.text = text
    return element


def whole_tree(document: FeedDocument, fmt: str) -> bytes:
    """The document built in one piece, as the renderers did before assembling bytes."""
    feed = document.feed
    if fmt == "json":
        items = [jsonfeed.json_item(feed, entry) for entry in document.entries]
        whole = jsonfeed._feed_object(document, items)
        return (json.dumps(whole, ensure_ascii=False, indent=2) + "\n").encode()
    if fmt == "atom":
        root = parent = atom_frame(document)
        children = [atom_entry_element(feed, entry) for entry in document.entries]
    else:
        root, parent = rss_frame(document)
        children = [rss_item_element(feed, entry) for entry in document.entries]
    for element in children:
        parent.append(copy.copy(element))
    return serialize(root, archive=document.is_archive)


def assert_assembled_as_whole_trees(catalog: Catalog) -> int:
    documents = feed_documents(catalog)
    for fmt, render in RENDERERS.items():
        outputs = render(catalog)
        assert len(outputs) == len(documents)
        for document in documents:
            path = document.path(fmt)
            assert bytes(outputs[path]) == whole_tree(document, fmt), path
    return len(documents)


def test_rich_yearly_and_hostile_catalogs() -> None:
    for catalog in (rich_catalog(), yearly_catalog(), hostile_catalog()):
        assert assert_assembled_as_whole_trees(catalog) > 1


def test_documents_without_entries() -> None:
    no_publications = Catalog(feed=FEED, entries=(), version="empty")
    assert assert_assembled_as_whole_trees(no_publications) == 1
    # feed_size 0: every live document is empty, every publication is in an archive.
    assert assert_assembled_as_whole_trees(yearly_catalog(feed_size=0)) > 4


def test_an_edit_served_from_the_memo_tables_is_a_fresh_render() -> None:
    catalog = yearly_catalog(count=30, feed_size=4)
    for render in RENDERERS.values():
        render(catalog)  # fills the tables
    edited_entry = replace(catalog.entries[7], summary="Edited *again*.", line=99)
    moved = replace(catalog.entries[8], line=123)  # moved down in the file, not changed
    entries = list(catalog.entries)
    entries[7:9] = [edited_entry, moved]
    edited = replace(catalog, entries=tuple(entries))
    warm = {fmt: render(edited) for fmt, render in RENDERERS.items()}
    memo.clear_all()
    cold = {fmt: render(edited) for fmt, render in RENDERERS.items()}
    assert warm == cold
    assert any(
        b"Edited &lt;em&gt;again&lt;/em&gt;." in bytes(body) for body in warm["rss"].values()
    )


# Text that exercises escaping and pretty printing: markup characters, quotes, line
# breaks, tabs, non-ASCII and characters outside the BMP.
TEXT = st.text(
    alphabet=st.sampled_from(list("ab <>&\"'\n\r\t*_[]()#-é€🎉\\")), min_size=1, max_size=40
)


@st.composite
def catalogs(draw: st.DrawFn) -> Catalog:
    count = draw(st.integers(min_value=0, max_value=8))
    entries: list[Entry] = []
    for index in range(count):
        published = day(2016, 1, 1) + timedelta(days=draw(st.integers(0, 1500)))
        entries.append(
            publication(
                f"entry-{index}",
                published,
                title=draw(TEXT),
                summary=draw(TEXT),
                type=draw(st.none() | TEXT.map(lambda text: text.replace("\n", " "))),
                tags=tuple(draw(st.lists(st.sampled_from(["a", "b", "c"]), unique=True))),
                updated=draw(st.none() | st.just(published + timedelta(hours=5))),
            )
        )
    feed = replace(FEED, feed_size=draw(st.integers(min_value=0, max_value=4)))
    return Catalog(feed=feed, entries=tuple(entries), version="random")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(catalogs())
def test_random_catalogs(catalog: Catalog) -> None:
    assert_assembled_as_whole_trees(catalog)


def test_entry_bytes_are_found_again_after_the_memo_is_saved_and_loaded(tmp_path: Path) -> None:
    catalog = rich_catalog()
    first = atom.render(catalog)
    memo.save(tmp_path / "memo.pickle")
    memo.clear_all()
    assert memo.load(tmp_path / "memo.pickle")
    entry = catalog.publications[0]
    # A key built in this process finds the value stored under a key from the file
    # (whose hash was computed again when it was read back).
    key = EntryKey(catalog.feed, replace(entry, line=entry.line + 7))
    stored = atom.ATOM.entries.get(key, lambda: pytest.fail("not found after load"))
    assert stored in bytes(first["/feed.atom"])
    assert atom.render(catalog) == first
