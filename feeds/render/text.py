"""Entry text: Markdown summaries to sanitised HTML (feeds, pages) and to plain text (iCalendar).

Pure and memoised by text in `feeds.memo` tables (swept per build): a summary is
rendered once per build whichever formats ask, and again only when it changes. The
Markdown is read once for both results (`_rendered`):

- by `feeds.render.markdown_subset` when the text is in the subset it reads exactly as
  markdown-it does (nearly every summary). Its `Document` is then written straight to
  what nh3 would make of markdown-it's HTML (`_sanitised`, `_plain_paragraphs`): the
  subset's HTML is only `<p>`, `<em>`, `<strong>`, `<code>` and `<a href>`, all allowed,
  so nh3 would only re-escape the text its own way and filter the links;
- else by markdown-it, whose HTML nh3 sanitises.

`tests/test_feeds_text_subset.py` checks both ways give the same bytes.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin, urlsplit

import nh3
from markdown_it import MarkdownIt

from ..memo import Memo
from . import markdown_subset
from .markdown_subset import Document

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

_RENDERED: Memo[str, Document | str] = Memo("text.markdown")
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


# Link destinations whose absolute form is plain to see, so that `_plain_absolute_url`
# gives the filter's answer without urllib (urljoin and urlsplit cost ~5 us a link):
# - a path from the root, without `.` or `..` segments, `;` (urllib's parameters), `?`
#   or `#` (an empty query or fragment would be dropped): urljoin gives the base URL's
#   scheme and host followed by the path;
# - http(s)://host[/path] with such a path, or mailto:local@host: urljoin returns it
#   as it is (another scheme than the base's, or the same one split and joined back
#   unchanged) and its scheme is allowed.
_PLAIN_PATH = r"(?:[A-Za-z0-9:@=+$,\-_.!~*/]|%[0-9A-Fa-f]{2})*"
_PLAIN_HOST = r"[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*"
_ROOTED_PATH = re.compile(rf"/(?!/){_PLAIN_PATH}")
_DOT_SEGMENT = re.compile(r"/\.\.?(?:/|$)")
_PLAIN_ABSOLUTE_URL = re.compile(
    rf"https?://{_PLAIN_HOST}(?:/{_PLAIN_PATH})?|mailto:[A-Za-z0-9._+-]+@{_PLAIN_HOST}"
)


def _plain_absolute_url(base_url: str, href: str) -> str | None:
    """`href` made absolute as the filter makes it, or None when that is not plain."""
    if _PLAIN_ABSOLUTE_URL.fullmatch(href):
        return href
    origin = _origin(base_url)
    if origin and _ROOTED_PATH.fullmatch(href) and not _DOT_SEGMENT.search(href):
        return origin + href
    return None


@lru_cache(maxsize=16)
def _origin(base_url: str) -> str | None:
    """`scheme://host` of an http(s) base URL with a host, as urljoin writes it."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


@lru_cache(maxsize=16)  # one per base URL: one per catalog in practice
def _html_cleaner(base_url: str) -> nh3.Cleaner:
    return nh3.Cleaner(**_HTML_OPTIONS, attribute_filter=_absolute_url_filter(base_url))


def _rendered(markdown: str) -> Document | str:
    """The Markdown read by the subset, or else as HTML by markdown-it (not sanitised)."""
    return _RENDERED.get(markdown, lambda: _render(markdown))


def _render(markdown: str) -> Document | str:
    fast = markdown_subset.parse(markdown, _markdown)
    return fast if fast is not None else _markdown.render(markdown)


def summary_html(markdown: str, base_url: str) -> str:
    """Markdown -> HTML safe to embed anywhere: no script, no handlers, absolute links only."""
    return _HTML.get((markdown, base_url), lambda: _summary_html(markdown, base_url))


def _summary_html(markdown: str, base_url: str) -> str:
    if not markdown.strip():
        return ""
    rendered = _rendered(markdown)
    if isinstance(rendered, Document):
        return _sanitised(rendered, base_url).strip()
    # The filter is a Python call per attribute; HTML without a URL attribute (no link,
    # no image) has nothing for it to do, so nh3 runs without it (same result).
    if _URL_ATTRIBUTE.search(rendered):
        cleaned: str = _html_cleaner(base_url).clean(rendered)
    else:
        cleaned = _HTML_CLEANER_WITHOUT_URLS.clean(rendered)
    return cleaned.strip()


# How html5ever (nh3's serialiser) escapes text and attribute values: `&` and no-break
# spaces always, `<` `>` in text, `"` in values. markdown-it's escaping differs (it
# escapes `"` in text), which is why the subset's text is escaped here, not taken from
# its HTML.
def _nh3_text(text: str) -> str:
    text = text.replace("&", "&amp;").replace("\xa0", "&nbsp;")
    return text.replace("<", "&lt;").replace(">", "&gt;")


def _nh3_value(value: str) -> str:
    return value.replace("&", "&amp;").replace("\xa0", "&nbsp;").replace('"', "&quot;")


_LINK_REL = ' rel="noopener noreferrer"'


def _sanitised(document: Document, base_url: str) -> str:
    """What nh3 (`_html_cleaner(base_url)`) makes of `document.html()`: the same tags
    (all allowed, and already a tree: emphasis strictly nested, code holding only text,
    no link in a link, so html5ever moves nothing), the text escaped as nh3 escapes it,
    each link's destination through the filter (dropped if refused) and `rel` added
    (nh3 adds it to every `<a>`, with or without a destination)."""

    def link(href: str) -> str:
        absolute = _absolute_url(base_url, href)
        if absolute is None:
            return f"<a{_LINK_REL}>"
        return f'<a href="{_nh3_value(absolute)}"{_LINK_REL}>'

    return document.write(_nh3_text, link, markdown_subset.MARKUP)


def _absolute_url(base_url: str, href: str) -> str | None:
    """`href` made absolute against `base_url`, or None if not http(s)/mailto: what
    the filter of `_absolute_url_filter` keeps, without urllib for plain URLs."""
    kept = _plain_absolute_url(base_url, href)
    return kept if kept is not None else _absolute_url_filter(base_url)("a", "href", href)


_BLOCK_END = re.compile(r"</(p|li|h[1-6]|blockquote|pre)>|<br\s*/?>|<hr\s*/?>", re.IGNORECASE)


def summary_text(markdown: str) -> str:
    """Markdown -> plain text (paragraphs separated by a blank line), for iCalendar DESCRIPTION."""
    return _TEXT.get(markdown, lambda: _summary_text(markdown))


def _summary_text(markdown: str) -> str:
    if not markdown.strip():
        return ""
    rendered = _rendered(markdown)
    if isinstance(rendered, Document):
        stripped = _plain_paragraphs(rendered)
    else:
        marked = _BLOCK_END.sub(lambda m: m.group(0) + "\n\n", rendered)
        stripped = html.unescape(_TEXT_CLEANER.clean(marked))
    paragraphs = [" ".join(p.split()) for p in _PARAGRAPH_BREAK.split(stripped)]
    return "\n\n".join(p for p in paragraphs if p)


_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def _plain_paragraphs(document: Document) -> str:
    """What the slow way above makes of `document.html()` before splitting it: each
    `</p>\n` became `</p>\n\n\n`, nh3 dropped the tags and escaped the text, and
    unescaping gave the text back."""
    return "".join(f"{text}\n\n\n" for text in document.texts())


# --- summaries rendered by one process, used by another ----------------------------------

SummaryRenders = dict[str, tuple[str, str]]  # markdown -> (summary_html, summary_text)


def render_summaries(markdowns: Iterable[str], base_url: str) -> SummaryRenders:
    """Both renderings of each text, to hand to another process of the same build
    (`adopt_summaries`): each process of `feeds build` renders its half of the catalog's
    summaries and takes the other half's, instead of both rendering them all."""
    return {text: (summary_html(text, base_url), summary_text(text)) for text in markdowns}


def adopt_summaries(renders: SummaryRenders, base_url: str) -> None:
    """Store renders made by `render_summaries` (in this code: the same results)."""
    for text, (html_text, plain) in renders.items():
        _HTML.put((text, base_url), html_text)
        _TEXT.put(text, plain)
