"""RSS 2.0 feeds: the publications, each tag, and their archives (RFC 5005 Appendix B).

Paths: `/feed.rss`, `/archive/<year>/feed.rss`, `/tags/<tag>/feed.rss`,
`/tags/<tag>/archive/<year>/feed.rss` (see `feeds.render.documents`).

The channel `link` is the site page listing the same publications (never the feed);
`atom:link rel=self` names the feed, plus `hub` and the archive links. Items carry
`guid isPermaLink="false"` with the same tag: URI as the Atom id, `pubDate` in RFC 822,
`category` per tag and type (`domain` as the Atom scheme) and the sanitised HTML summary
as `description`. RSS has no per-item update date: the channel `lastBuildDate` is the
newest `modified` of the channel's items. Items are built once per render and copied
into each document (see `feeds.render.atom` for why not through feedgen).
"""

from __future__ import annotations

import copy

from lxml import etree

from .. import ids
from ..model import Catalog, Entry, Feed
from ..text import summary_html
from .datefmt import rfc822
from .documents import FeedDocument, categories, entry_url, feed_documents
from .feedgen_wrap import rss_frame, serialize


def render(catalog: Catalog) -> dict[str, bytes]:
    built: dict[str, etree._Element] = {}  # entry id -> its item, built once per render
    outputs: dict[str, bytes] = {}
    for document in feed_documents(catalog):
        outputs[document.path("rss")] = render_document(document, built)
    return outputs


def render_document(document: FeedDocument, built: dict[str, etree._Element]) -> bytes:
    root, channel = rss_frame(document)
    for entry in document.entries:
        item = built.get(entry.id)
        if item is None:
            item = built[entry.id] = item_element(document.feed, entry)
        channel.append(copy.copy(item))  # lxml copies the subtree; appending would move it
    return serialize(root, archive=document.is_archive)


def item_element(feed: Feed, entry: Entry) -> etree._Element:
    assert entry.published is not None, "publications only"
    item = etree.Element("item")
    _child(item, "title", entry.title)
    _child(item, "link", entry_url(feed, entry))
    summary = summary_html(entry.summary, feed.base_url)
    if summary:
        _child(item, "description", summary)
    _child(item, "guid", ids.entry_uri(feed, entry.id)).set("isPermaLink", "false")
    for category in categories(feed, entry):
        _child(item, "category", category.term).set("domain", category.scheme)
    _child(item, "pubDate", rfc822(entry.published))
    return item


def _child(parent: etree._Element, tag: str, text: str) -> etree._Element:
    element = etree.SubElement(parent, tag)
    element.text = text
    return element
