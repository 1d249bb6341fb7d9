"""Atom 1.0 (RFC 4287) feeds: the publications, each tag, and their RFC 5005 archives.

Paths: `/feed.atom`, `/archive/<year>/feed.atom`, `/tags/<tag>/feed.atom`,
`/tags/<tag>/archive/<year>/feed.atom` (see `feeds.render.documents`).

feedgen builds and serializes the feed frame (`feeds.render.feedgen_wrap`); each entry
is written here as the text lxml would serialize inside the frame (`entry_bytes`, with
`feeds.render.xmltext`; a feedgen `FeedEntry` would bring back feedgen's now()
defaults), once per distinct entry; every document that holds the entry (the live
feed, its tags' feeds, archives) joins those bytes into its frame
(`feeds.render.documents.assemble`).

Entry: `id` (tag: URI, or `legacy_id`), `title` (text), `updated` (the entry's `modified`),
`published`, `link rel=alternate` (the entry's `link`, else its page here), a
`category` per tag (scheme: the tag pages) and one for the type label (scheme:
`tag:<authority>:type`), `summary type="html"` (sanitised, absolute links). The author
is given once, on the feed, and applies to every entry.
"""

from __future__ import annotations

from .. import ids
from ..body import Body
from ..memo import ByIdentity, Memo
from ..model import Catalog, Entry, Feed
from .datefmt import rfc3339
from .documents import Format, categories, entry_url
from .documents import assemble as assemble_documents
from .feedgen_wrap import atom_frame_bytes
from .text import summary_html
from .xmltext import attribute, text


def entry_bytes(feed: Feed, entry: Entry) -> bytes:
    """One `<entry>` as it sits in `<feed>` (indented one level), in the Atom namespace
    the frame declares as the default one."""
    assert entry.published is not None and entry.modified is not None, "publications only"
    # An entry in its own language says so; the feed's xml:lang covers the others.
    opening = f'  <entry xml:lang="{attribute(entry.language)}">' if entry.language else "  <entry>"
    lines = [
        opening,
        f"    <id>{text(ids.entry_feed_id(feed, entry))}</id>",
        f"    <title>{text(entry.title)}</title>",
        f"    <updated>{rfc3339(entry.modified)}</updated>",
        f"    <published>{rfc3339(entry.published)}</published>",
        # No type: `link` may be a PDF or any page elsewhere; we only know ours are HTML.
        f'    <link rel="alternate" href="{attribute(entry_url(feed, entry))}"/>',
    ]
    lines.extend(
        f'    <category term="{attribute(category.term)}" scheme="{attribute(category.scheme)}"/>'
        for category in categories(feed, entry)
    )
    summary = summary_html(entry.summary, feed.base_url)
    if summary:
        lines.append(f'    <summary type="html">{text(summary)}</summary>')
    lines.append("  </entry>\n")
    return "\n".join(lines).encode("utf-8")


ATOM = Format(
    extension="atom",
    frame=atom_frame_bytes,
    entry=entry_bytes,
    frames=Memo("atom.frame"),
    entries=Memo("atom.entry"),
    documents=ByIdentity("atom.document"),
)


def render(catalog: Catalog) -> dict[str, Body]:
    return assemble_documents(catalog, ATOM)
