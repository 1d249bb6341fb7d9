"""RSS 2.0 feeds: the publications, each tag, and their archives (RFC 5005 Appendix B).

Paths: `/feed.rss`, `/archive/<year>/feed.rss`, `/tags/<tag>/feed.rss`,
`/tags/<tag>/archive/<year>/feed.rss` (see `feeds.render.documents`).

The channel `link` is the site page listing the same publications (never the feed);
`atom:link rel=self` names the feed, plus `hub` and the archive links. Items carry
`guid isPermaLink="false"` with the same tag: URI as the Atom id, `pubDate` in RFC 822,
`category` per tag and type (`domain` as the Atom scheme) and the sanitised HTML summary
as `description`. RSS has no per-item update date: the channel `lastBuildDate` is the
newest `modified` of the channel's items. Items are built with lxml (see
`feeds.render.atom` for why not through feedgen), serialized once per distinct entry and
joined into each document's frame (`feeds.render.documents.assemble`).
"""

from __future__ import annotations

from lxml import etree

from .. import ids
from ..memo import Memo
from ..model import Catalog, Entry, Feed
from ..text import summary_html
from .datefmt import rfc822
from .documents import Format, categories, entry_url
from .documents import assemble as assemble_documents
from .feedgen_wrap import rss_frame_bytes, rss_item_bytes

RSS = Format(
    extension="rss",
    frame=rss_frame_bytes,
    entry=lambda feed, entry: rss_item_bytes(item_element(feed, entry)),
    frames=Memo("rss.frame"),
    entries=Memo("rss.item"),
)


def render(catalog: Catalog) -> dict[str, bytes]:
    return assemble_documents(catalog, RSS)


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
