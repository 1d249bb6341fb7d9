"""Entry text: Markdown summaries to sanitised HTML (feeds, pages) and to plain text (iCalendar).

Pure and memoised by text in `feeds.memo` tables (swept per build): a summary is
rendered once per build whichever formats ask, and again only when it changes. The
Markdown is rendered once for both results (`_rendered`), by `feeds.markdown_subset`
when the text is in the subset it renders exactly as markdown-it does, else by
markdown-it; nh3 then sanitises it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin, urlsplit

import nh3
from markdown_it import MarkdownIt

from . import markdown_subset
from .memo import Memo

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
# Only these attributes hold URLs, so only HTML with one of them needs the URL filter.
_URL_ATTRIBUTE = re.compile(r"\s(?:href|src)=")

_RENDERED: Memo[str, str] = Memo("text.markdown")
_HTML: Memo[tuple[str, str], str] = Memo("text.summary_html")
_TEXT: Memo[str, str] = Memo("text.summary_text")

AttributeFilter = Callable[[str, str, str], "str | None"]


def _absolute_url_filter(base_url: str) -> AttributeFilter:
    """nh3 attribute filter: make link targets absolute, drop any that are not http(s)/mailto."""

    def keep(tag: str, attribute: str, value: str) -> str | None:
        if attribute not in ("href", "src"):
            return value
        absolute = urljoin(base_url, value.strip())
        if urlsplit(absolute).scheme not in _URL_SCHEMES:
            return None
        return absolute

    return keep


# nh3 Cleaners are built once: converting the allow-lists on every call costs as much
# as the cleaning itself.
_HTML_OPTIONS: dict[str, Any] = {
    "tags": _ALLOWED_TAGS,
    "attributes": _ALLOWED_ATTRIBUTES,
    "url_schemes": _URL_SCHEMES,
    "link_rel": "noopener noreferrer",
}
_HTML_CLEANER_WITHOUT_URLS = nh3.Cleaner(**_HTML_OPTIONS)
_TEXT_CLEANER = nh3.Cleaner(tags=set())


@lru_cache(maxsize=16)  # one per base URL: one per catalog in practice
def _html_cleaner(base_url: str) -> nh3.Cleaner:
    return nh3.Cleaner(**_HTML_OPTIONS, attribute_filter=_absolute_url_filter(base_url))


def _rendered(markdown: str) -> str:
    """The Markdown as HTML, not yet sanitised."""
    return _RENDERED.get(markdown, lambda: _render(markdown))


def _render(markdown: str) -> str:
    fast = markdown_subset.render(markdown, _markdown)
    return fast if fast is not None else _markdown.render(markdown)


def summary_html(markdown: str, base_url: str) -> str:
    """Markdown -> HTML safe to embed anywhere: no script, no handlers, absolute links only."""
    return _HTML.get((markdown, base_url), lambda: _summary_html(markdown, base_url))


def _summary_html(markdown: str, base_url: str) -> str:
    if not markdown.strip():
        return ""
    rendered = _rendered(markdown)
    # The filter is a Python call per attribute; HTML without a URL attribute (no link,
    # no image) has nothing for it to do, so nh3 runs without it (same result).
    if _URL_ATTRIBUTE.search(rendered):
        cleaned: str = _html_cleaner(base_url).clean(rendered)
    else:
        cleaned = _HTML_CLEANER_WITHOUT_URLS.clean(rendered)
    return cleaned.strip()


_BLOCK_END = re.compile(r"</(p|li|h[1-6]|blockquote|pre)>|<br\s*/?>|<hr\s*/?>", re.IGNORECASE)


def summary_text(markdown: str) -> str:
    """Markdown -> plain text (paragraphs separated by a blank line), for iCalendar DESCRIPTION."""
    return _TEXT.get(markdown, lambda: _summary_text(markdown))


def _summary_text(markdown: str) -> str:
    if not markdown.strip():
        return ""
    rendered = _BLOCK_END.sub(lambda m: m.group(0) + "\n\n", _rendered(markdown))
    stripped = html.unescape(_TEXT_CLEANER.clean(rendered))
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", stripped)]
    return "\n\n".join(p for p in paragraphs if p)
