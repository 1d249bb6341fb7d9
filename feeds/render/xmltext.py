"""XML character data and attribute values escaped exactly as lxml (libxml2) writes them.

Atom entries and RSS items are written as text (`feeds.render.atom`, `feeds.render.rss`)
because building an lxml element per entry and serializing it costs several times more;
they must be the bytes lxml would write, which `tests/test_feeds_assembly.py` checks
against whole documents built and serialized by lxml, on random text. The catalog
guarantees there is no character XML cannot carry, so nothing else needs escaping (and
non-ASCII characters are written as they are, in UTF-8).
"""

from __future__ import annotations


def text(value: str) -> str:
    """Character data: & < > and CR (which XML parsers would turn into a line feed)."""
    return (
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def attribute(value: str) -> str:
    """An attribute value in double quotes: also the quote, and white space kept as such."""
    return text(value).replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")
