"""Atom 1.0 (RFC 4287) feeds: the publications, each tag, and their RFC 5005 archives.

Paths: `/feed.atom`, `/archive/<year>/feed.atom`, `/tags/<tag>/feed.atom`,
`/tags/<tag>/archive/<year>/feed.atom` (see `feeds.render.documents`).

feedgen builds and serializes the feed frame (`feeds.render.feedgen_wrap`); entry
elements are built here directly with lxml (a feedgen `FeedEntry` would bring back
feedgen's now() defaults) and serialized once per distinct entry; every document that
holds the entry (the live feed, its tags' feeds, archives) joins those bytes into its
frame (`feeds.render.documents.assemble`).

Entry: `id` (tag: URI), `title` (text), `updated` (the entry's `modified`),
`published`, `link rel=alternate` (the entry's `link`, else its page here), a
`category` per tag (scheme: the tag pages) and one for the type label (scheme:
`tag:<authority>:type`), `summary type="html"` (sanitised, absolute links). The author
is given once, on the feed, and applies to every entry.
"""

from __future__ import annotations

from lxml import etree

from .. import ids
from ..memo import Memo
from ..model import Catalog, Entry, Feed
from ..text import summary_html
from .datefmt import rfc3339
from .documents import Format, categories, entry_url
from .documents import assemble as assemble_documents
from .feedgen_wrap import atom_entry_bytes, atom_frame_bytes

ATOM = Format(
    extension="atom",
    frame=atom_frame_bytes,
    entry=lambda feed, entry: atom_entry_bytes(entry_element(feed, entry)),
    frames=Memo("atom.frame"),
    entries=Memo("atom.entry"),
)


def render(catalog: Catalog) -> dict[str, bytes]:
    return assemble_documents(catalog, ATOM)


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
