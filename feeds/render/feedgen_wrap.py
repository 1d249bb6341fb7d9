"""feedgen (pinned 1.0.x) as the serializer of the Atom and RSS feed frames, with none of
its defaults reaching the output.

What feedgen 1.0.0 does on its own, and what this module does about it
(read in feedgen/feed.py):

- `updated` and RSS `lastBuildDate` default to now(): both are set from the document,
  and their text is rewritten with our own formatters (feedgen writes Python's
  `isoformat()`, microseconds and all, and formats RFC 822 by switching the process
  locale);
- `link()` makes the *last* link added the RSS channel `<link>`: the channel link is set
  explicitly to the site page afterwards;
- RSS keeps only the first `rel=self` link: `hub`, `current`, `prev-archive` and
  `next-archive` are added as `atom:link` elements to the channel;
- the generator carries feedgen's version: set without one, so a feedgen upgrade alone
  never changes the bytes;
- entries are not built with feedgen (its `FeedEntry` also stamps now() and reorders
  on `add_entry`): `feeds.render.atom`/`rss` write each entry once.

feedgen never sees an entry, so its `order='prepend'` default cannot apply.

Documents are assembled from bytes (`feeds.render.documents.assemble`): the frame is
serialized without entries and cut where the entries go (`atom_frame_bytes`,
`rss_frame_bytes`); each entry is the text lxml would write at its depth in the tree
(`feeds.render.atom.entry_bytes`, `feeds.render.rss.item_bytes`), so joining them gives
exactly what serializing the whole tree would: libxml2's pretty printer indents an
element by its depth only, and entries use no namespace prefix.
"""

from __future__ import annotations

from dataclasses import dataclass

from feedgen.feed import FeedGenerator
from lxml import etree

from .datefmt import rfc822, rfc3339
from .documents import FeedDocument, Frame

ATOM_NS = "http://www.w3.org/2005/Atom"
HISTORY_NS = "http://purl.org/syndication/history/1.0"  # RFC 5005
ATOM_TYPE = "application/atom+xml"
RSS_TYPE = "application/rss+xml"
HTML_TYPE = "text/html"
# Browsers show a feed through this stylesheet (same origin, hence root-relative).
STYLESHEET_HREF = "/feed.xsl"

_GENERATOR = "python-feedgen"
_GENERATOR_URI = "https://lkiesow.github.io/python-feedgen"
_RSS_DOCS = "https://www.rssboard.org/rss-specification"


@dataclass(frozen=True)
class Link:
    rel: str
    href: str
    type: str | None


def document_links(document: FeedDocument, extension: str, media_type: str) -> list[Link]:
    """self, alternate, hub and the RFC 5005 links, pointing at the same format."""
    links = [
        Link("self", document.url(extension), media_type),
        Link("alternate", document.page_url, HTML_TYPE),
    ]
    if document.feed.hub:
        links.append(Link("hub", document.feed.hub, None))
    feed = document.feed
    for rel, base in (
        ("current", document.current),
        ("prev-archive", document.prev_archive),
        ("next-archive", document.next_archive),
    ):
        if base is not None:
            links.append(Link(rel, feed.url(f"{base}feed.{extension}"), media_type))
    return links


def atom_frame(document: FeedDocument) -> etree._Element:
    """The `<feed>` element with every feed-level element, no entries yet."""
    generator = _generator(document)
    for link in document_links(document, "atom", ATOM_TYPE):
        generator.link(_link_fields(link))
    root: etree._Element = generator._create_atom()[0]
    _set_text(root, "updated", rfc3339(document.updated))
    if document.is_archive:
        root.append(_history_archive_marker())
    return root


def rss_frame(document: FeedDocument) -> tuple[etree._Element, etree._Element]:
    """The `<rss>` root and its `<channel>` with every channel element, no items yet."""
    generator = _generator(document)
    links = document_links(document, "rss", RSS_TYPE)
    generator.link(_link_fields(links[0]))  # feedgen writes only this one (rel=self)
    author = document.feed.author
    if author is not None and author.email:
        # "email (name)": the form RSS 2.0 and the W3C validator expect.
        generator.managingEditor(f"{author.email} ({author.name})")
    root: etree._Element = generator._create_rss()[0]
    channel = root.find("channel")
    assert channel is not None
    _set_text(channel, "link", document.page_url)
    _set_text(channel, "lastBuildDate", rfc822(document.updated))
    self_link = channel.find(f"{{{ATOM_NS}}}link")
    assert self_link is not None
    anchor = self_link
    for link in links[2:]:  # hub and archive links, which feedgen drops in RSS
        element = etree.Element(f"{{{ATOM_NS}}}link", _link_fields(link))
        anchor.addnext(element)
        anchor = element
    if document.is_archive:
        anchor.addnext(_history_archive_marker())
    return root, channel


def atom_frame_bytes(document: FeedDocument) -> Frame:
    """The Atom document without entries, cut where they go: before `</feed>`."""
    return _cut(serialize(atom_frame(document), archive=document.is_archive), _ATOM_TAIL)


def rss_frame_bytes(document: FeedDocument) -> Frame:
    """The RSS document without items, cut where they go: before `</channel>`."""
    root, _ = rss_frame(document)
    return _cut(serialize(root, archive=document.is_archive), _RSS_TAIL)


_ATOM_TAIL = b"</feed>\n"
_RSS_TAIL = b"  </channel>\n</rss>\n"


def _cut(document: bytes, tail: bytes) -> Frame:
    assert document.endswith(tail), "a frame ends with its closing tags"
    return Frame(head=document[: -len(tail)], tail=tail)


def serialize(root: etree._Element, archive: bool) -> bytes:
    """Pretty UTF-8 with an XML declaration and the browser stylesheet right after it."""
    # Drop the namespaces feedgen declares but we never use (RSS `content:`), and declare
    # RFC 5005's `fh:` once on the root instead of on its element.
    etree.cleanup_namespaces(root, top_nsmap={"fh": HISTORY_NS} if archive else None)
    tree = etree.ElementTree(root)
    stylesheet = etree.ProcessingInstruction(
        "xml-stylesheet", f'type="text/xsl" href="{STYLESHEET_HREF}"'
    )
    root.addprevious(stylesheet)
    return etree.tostring(tree, encoding="UTF-8", xml_declaration=True, pretty_print=True)


def _generator(document: FeedDocument) -> FeedGenerator:
    """A FeedGenerator with every field we publish set explicitly."""
    feed = document.feed
    generator = FeedGenerator()
    generator.id(document.id)
    generator.title(document.title)
    generator.subtitle(document.subtitle)  # also the RSS channel description
    generator.updated(document.updated)  # replaces feedgen's now(); text rewritten later
    generator.language(feed.language)  # Atom xml:lang and RSS <language>
    generator.generator(_GENERATOR, uri=_GENERATOR_URI)
    generator.docs(_RSS_DOCS)
    author = feed.author
    generator.author(
        {"name": feed.title}
        if author is None  # Atom needs an author; the publisher is the honest fallback
        else {
            key: value
            for key, value in (("name", author.name), ("email", author.email), ("uri", author.uri))
            if value
        }
    )
    return generator


def _link_fields(link: Link) -> dict[str, str]:
    fields = {"href": link.href, "rel": link.rel}
    if link.type:
        fields["type"] = link.type
    return fields


def _set_text(parent: etree._Element, tag: str, text: str) -> None:
    element = parent.find(tag)
    assert element is not None, f"feedgen wrote no <{tag}>"
    element.text = text


def _history_archive_marker() -> etree._Element:
    """`<fh:archive/>`: RFC 5005 marks archive documents with it."""
    return etree.Element(f"{{{HISTORY_NS}}}archive", nsmap={"fh": HISTORY_NS})
