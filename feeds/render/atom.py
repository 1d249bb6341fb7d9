"""Atom 1.0 (RFC 4287) feeds: the publications, each tag, and their RFC 5005 archives.

Paths: `/feed.atom`, `/archive/<year>/feed.atom`, `/tags/<tag>/feed.atom`,
`/tags/<tag>/archive/<year>/feed.atom` (see `feeds.render.documents`).

feedgen builds and serializes the feed frame (`feeds.render.feedgen_wrap`); entry
elements are built here directly with lxml, once per entry and render, and copied into
every document that holds the entry (the live feed, its tags' feeds, archives): building
a feedgen `FeedEntry` per document would redo that work several times per entry and
bring back feedgen's now() defaults.

Entry: `id` (tag: URI), `title` (text), `updated` (the entry's `modified`),
`published`, `link rel=alternate` (the entry's `link`, else its page here), a
`category` per tag (scheme: the tag pages) and one for the type label (scheme:
`tag:<authority>:type`), `summary type="html"` (sanitised, absolute links). The author
is given once, on the feed, and applies to every entry.
"""

from __future__ import annotations

import copy

from lxml import etree

from .. import ids
from ..model import Catalog, Entry, Feed
from ..text import summary_html
from .datefmt import rfc3339
from .documents import FeedDocument, categories, entry_url, feed_documents
from .feedgen_wrap import atom_frame, serialize


def render(catalog: Catalog) -> dict[str, bytes]:
    built: dict[str, etree._Element] = {}  # entry id -> its element, built once per render
    outputs: dict[str, bytes] = {}
    for document in feed_documents(catalog):
        outputs[document.path("atom")] = render_document(document, built)
    return outputs


def render_document(document: FeedDocument, built: dict[str, etree._Element]) -> bytes:
    root = atom_frame(document)
    for entry in document.entries:
        element = built.get(entry.id)
        if element is None:
            element = built[entry.id] = entry_element(document.feed, entry)
        root.append(copy.copy(element))  # lxml copies the subtree; appending would move it
    return serialize(root, archive=document.is_archive)


def entry_element(feed: Feed, entry: Entry) -> etree._Element:
    """One `<entry>` (no namespace: it takes the Atom default namespace of the frame)."""
    assert entry.published is not None and entry.modified is not None, "publications only"
    element = etree.Element("entry")
    _child(element, "id", ids.entry_uri(feed, entry.id))
    _child(element, "title", entry.title)
    _child(element, "updated", rfc3339(entry.modified))
    _child(element, "published", rfc3339(entry.published))
    # No type: `link` may be a PDF or any page elsewhere; we only know ours are HTML.
    etree.SubElement(element, "link", rel="alternate", href=entry_url(feed, entry))
    for category in categories(feed, entry):
        etree.SubElement(element, "category", term=category.term, scheme=category.scheme)
    summary = summary_html(entry.summary, feed.base_url)
    if summary:
        _child(element, "summary", summary).set("type", "html")
    return element


def _child(parent: etree._Element, tag: str, text: str) -> etree._Element:
    element = etree.SubElement(parent, tag)
    element.text = text
    return element
