"""Entry text: Markdown summaries to sanitised HTML (feeds, pages) and to plain text (iCalendar).

Pure and cached: the same summary is rendered once per process, whichever format asks.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

import nh3
from markdown_it import MarkdownIt

# CommonMark without raw HTML: markup an editor types is shown, not executed.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})

_ALLOWED_TAGS = {
    "a",
    "p",
    "br",
    "em",
    "strong",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "img",
}
_ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "ol": {"start"}}
_URL_SCHEMES = {"http", "https", "mailto"}


def _absolute_url_filter(base_url: str):  # type: ignore[no-untyped-def]
    """nh3 attribute filter: make link targets absolute, drop any that are not http(s)/mailto."""

    def keep(tag: str, attribute: str, value: str) -> str | None:
        if attribute not in ("href", "src"):
            return value
        absolute = urljoin(base_url, value.strip())
        if urlsplit(absolute).scheme not in _URL_SCHEMES:
            return None
        return absolute

    return keep


@lru_cache(maxsize=65536)
def summary_html(markdown: str, base_url: str) -> str:
    """Markdown -> HTML safe to embed anywhere: no script, no handlers, absolute links only."""
    if not markdown.strip():
        return ""
    rendered = _markdown.render(markdown)
    cleaned: str = nh3.clean(
        rendered,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes=_URL_SCHEMES,
        link_rel="noopener noreferrer",
        attribute_filter=_absolute_url_filter(base_url),
    )
    return cleaned.strip()


_BLOCK_END = re.compile(r"</(p|li|h[1-6]|blockquote|pre)>|<br\s*/?>|<hr\s*/?>", re.IGNORECASE)


@lru_cache(maxsize=65536)
def summary_text(markdown: str) -> str:
    """Markdown -> plain text (paragraphs separated by a blank line), for iCalendar DESCRIPTION."""
    if not markdown.strip():
        return ""
    rendered = _BLOCK_END.sub(lambda m: m.group(0) + "\n\n", _markdown.render(markdown))
    stripped = html.unescape(nh3.clean(rendered, tags=set()))
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", stripped)]
    return "\n\n".join(p for p in paragraphs if p)
