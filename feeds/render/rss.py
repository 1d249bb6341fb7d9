"""RSS 2.0 feeds: the publications, each tag, and their archives (RFC 5005 Appendix B).

Paths: `/feed.rss`, `/archive/<year>/feed.rss`, `/tags/<tag>/feed.rss`,
`/tags/<tag>/archive/<year>/feed.rss` (see `feeds.render.documents`).

The channel `link` is the site page listing the same publications (never the feed);
`atom:link rel=self` names the feed, plus `hub` and the archive links. Items carry
`guid isPermaLink="false"` with the same id as the Atom id, `pubDate` in RFC 822,
`category` per tag and type (`domain` as the Atom scheme) and the sanitised HTML summary
as `description`. RSS has no per-item update date: the channel `lastBuildDate` is the
newest `modified` of the channel's items. Items are written as the text lxml would
serialize inside the channel (see `feeds.render.atom` for why not through feedgen),
once per distinct entry, and joined into each document's frame
(`feeds.render.documents.assemble`).
"""

from __future__ import annotations

from .. import ids
from ..body import Body
from ..memo import ByIdentity, Memo
from ..model import Catalog, Entry, Feed
from .datefmt import rfc822
from .documents import Format, categories, entry_url
from .documents import assemble as assemble_documents
from .feedgen_wrap import rss_frame_bytes
from .text import summary_html
from .xmltext import attribute, text


def item_bytes(feed: Feed, entry: Entry) -> bytes:
    """One `<item>` as it sits in `<rss><channel>` (indented two levels)."""
    assert entry.published is not None, "publications only"
    lines = [
        "    <item>",
        f"      <title>{text(entry.title)}</title>",
        f"      <link>{text(entry_url(feed, entry))}</link>",
    ]
    summary = summary_html(entry.summary, feed.base_url)
    if summary:
        lines.append(f"      <description>{text(summary)}</description>")
    lines.append(f'      <guid isPermaLink="false">{text(ids.entry_feed_id(feed, entry))}</guid>')
    lines.extend(
        f'      <category domain="{attribute(category.scheme)}">{text(category.term)}</category>'
        for category in categories(feed, entry)
    )
    lines.append(f"      <pubDate>{rfc822(entry.published)}</pubDate>")
    lines.append("    </item>\n")
    return "\n".join(lines).encode("utf-8")


RSS = Format(
    extension="rss",
    frame=rss_frame_bytes,
    entry=item_bytes,
    frames=Memo("rss.frame"),
    entries=Memo("rss.item"),
    documents=ByIdentity("rss.document"),
)


def render(catalog: Catalog) -> dict[str, Body]:
    return assemble_documents(catalog, RSS)
