"""Atom and RSS (feedparser) and JSON Feed (plain JSON, checked here) as `Item`s.

feedparser is handed bytes only (given a string it would open a file or a URL), with
its HTML sanitiser off: the summary is converted to Markdown here, which keeps no
markup of its own and reports what it removes (`feeds.importer.markdown`).

XML entities: a document with a DOCTYPE can declare entities (the "billion laughs"
expands a few hundred bytes into gigabytes) or point at external ones. Such a document
is first read by lxml with entity substitution, DTD loading and the network off; any
entity reference left is removed (and reported), and only the document without its
DOCTYPE reaches feedparser, which then has nothing to expand.
"""

from __future__ import annotations

import email.utils
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import feedparser

from ..catalog.values import slugify
from .items import SUMMARY_MAX, FeedInfo, Item, Report, SourceError, one_line
from .markdown import html_to_markdown, plain_to_markdown

_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_JSON_FEED_VERSION = re.compile(r"https?://jsonfeed\.org/version/1(\.\d+)?/?")
_TAG = re.compile(r"[a-z0-9][a-z0-9-]*")


def without_dtd(data: bytes, source: str, report: Report) -> bytes:
    """The XML document without its DOCTYPE, and without references to the entities it
    declared (reported, not expanded): nothing is left for an XML parser to expand.

    The DOCTYPE is cut out by scanning it, not by parsing it: libxml2 and expat both
    work on the declarations themselves (libxml2 refuses a billion laughs outright,
    which would refuse the whole feed)."""
    start = data.find(b"<!DOCTYPE")
    if start == -1:
        start = data.find(b"<!doctype")
    if start == -1:
        return data
    end, names = _doctype_end(data, start)
    if end is None:
        raise SourceError("has a DOCTYPE that never ends; not a feed")
    rest = data[end:]
    if names:
        pattern = re.compile(rb"&(" + b"|".join(re.escape(name) for name in names) + rb");")
        used = sorted({name.decode("utf-8", "replace") for name in pattern.findall(rest)})
        if used:
            rest = pattern.sub(b"", rest)
            shown = ", ".join(used[:5]) + (", ..." if len(used) > 5 else "")
            report.say(f"{source}: XML entities removed, not expanded: {shown}")
    return data[:start] + rest


_DECLARED = re.compile(rb"<!ENTITY\s+(?:%\s+)?([^\s%;&<>\"']+)")


def _doctype_end(data: bytes, start: int) -> tuple[int | None, set[bytes]]:
    """Where the DOCTYPE starting at `start` ends, and the entity names it declares.
    Quoted literals and comments may hold `>` and `]`, so they are skipped whole."""
    names: set[bytes] = set()
    position, depth = start + 2, 0
    while position < len(data):
        char = data[position : position + 1]
        if data.startswith(b"<!--", position):
            close = data.find(b"-->", position + 4)
            if close == -1:
                return None, names
            position = close + 3
            continue
        if char in (b"'", b'"'):
            close = data.find(char, position + 1)
            if close == -1:
                return None, names
            position = close + 1
            continue
        if data.startswith(b"<!ENTITY", position):
            found = _DECLARED.match(data, position)
            if found:
                names.add(found[1])
        if char == b"[":
            depth += 1
        elif char == b"]":
            depth = max(0, depth - 1)
        elif char == b">" and depth == 0:
            return position + 1, names
        position += 1
    return None, names


def read_xml_feed(
    data: bytes, source: str, base: str | None, report: Report
) -> tuple[FeedInfo, list[Item]]:
    parsed = feedparser.parse(
        without_dtd(data, source, report),
        sanitize_html=False,
        resolve_relative_uris=True,
        response_headers={"content-location": base} if base else None,
    )
    if not parsed.get("version") and not parsed.entries:
        reason = parsed.get("bozo_exception") or "no feed elements"
        raise SourceError(f"is not an Atom or RSS feed, JSON Feed or iCalendar file ({reason})")
    channel = parsed.feed
    info = FeedInfo(
        title=_text_of(channel, "title"),
        link=channel.get("link"),
        language=channel.get("language"),
        author=(channel.get("author_detail") or {}).get("name"),
    )
    items = [
        _xml_item(entry, f"{source}: item {n}", report) for n, entry in enumerate(parsed.entries, 1)
    ]
    return info, items


def _text_of(element: Any, key: str) -> str | None:
    """A title as plain text, whether the feed wrote it as text or as HTML."""
    value = element.get(key)
    if not value:
        return None
    detail = element.get(f"{key}_detail") or {}
    if "html" in str(detail.get("type", "")):
        return _html_text(value)
    return str(value)


def _html_text(value: str) -> str:
    from html import unescape  # noqa: PLC0415

    import nh3  # noqa: PLC0415  (only titles written as HTML need it)

    return unescape(nh3.clean(value, tags=set()))


def _xml_item(entry: Any, where: str, report: Report) -> Item:
    item = Item(where, title=_text_of(entry, "title"), link=entry.get("link"))
    item.legacy_id = entry.get("id") or None
    # dict.get: feedparser's own get() answers `updated` with `published` (a deprecated
    # fallback) when the item has none, as an RSS item never has.
    item.updated = _when(dict.get(entry, "updated"), dict.get(entry, "updated_parsed"))
    # An Atom entry need not say when it was first published; its `updated` is then the
    # date readers show (RSS's pubDate is `published`).
    item.published = _when(entry.get("published"), entry.get("published_parsed")) or item.updated
    summary, kind = _summary_of(entry)
    if summary:
        item.summary = _markdown(summary, kind, item, report)
    for tag in entry.get("tags") or []:
        term, scheme = tag.get("term") or "", tag.get("scheme") or ""
        if scheme.startswith("tag:") and scheme.endswith(":type"):
            item.type = term  # our own feeds' type label (feeds.render.documents)
        else:
            _add_tag(item, term, report)
    return item


def _summary_of(entry: Any) -> tuple[str, str]:
    """The summary (else the full content) and its type: "html" or "text"."""
    for value, detail in [(entry.get("summary"), entry.get("summary_detail"))] + [
        (content.get("value"), content) for content in entry.get("content") or []
    ]:
        if value:
            kind = "html" if "html" in str((detail or {}).get("type", "html")) else "text"
            return str(value), kind
    return "", "text"


def _markdown(text: str, kind: str, item: Item, report: Report) -> str:
    if kind == "html":
        converted = html_to_markdown(text, item.link)
        for loss in converted.losses:
            report.say(f"{item.where}: summary: {loss}")
        markdown = converted.markdown
    else:
        markdown = plain_to_markdown(text)
    if len(markdown) > SUMMARY_MAX:
        report.say(
            f"{item.where}: summary: {len(markdown):,} characters, cut to {SUMMARY_MAX:,} "
            "(the catalog's limit)"
        )
        markdown = markdown[:SUMMARY_MAX].rstrip("\\")
    return markdown


def _add_tag(item: Item, term: str, report: Report) -> None:
    tag = slugify(term)[:100].strip("-") if term.strip() else ""
    if not _TAG.fullmatch(tag) or tag == "my-entry":
        report.say(f"{item.where}: category {term[:60]!r} has no letters or digits: left out")
    elif tag not in item.tags:
        item.tags.append(tag)


def _when(raw: str | None, parsed: Any) -> datetime | None:
    """A feed date with the offset it was written with (RFC 3339 or RFC 822); else
    feedparser's reading of it, in UTC."""
    if raw:
        for reader in (_rfc3339, email.utils.parsedate_to_datetime):
            try:
                value = reader(raw.strip())
            except (ValueError, TypeError, IndexError):
                continue
            if value is not None:
                return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if parsed:
        year, month, day, hour, minute, second = parsed[:6]
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    return None


def _rfc3339(raw: str) -> datetime:
    if not re.match(r"\d{4}-\d\d-\d\d", raw):
        raise ValueError(raw)
    return datetime.fromisoformat(raw)


def read_json_feed(data: bytes, source: str, report: Report) -> tuple[FeedInfo, list[Item]]:
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, ValueError) as exc:
        raise SourceError(f"is not valid JSON: {exc}") from None
    if not isinstance(document, dict) or not _JSON_FEED_VERSION.fullmatch(
        str(document.get("version", ""))
    ):
        raise SourceError(
            "is JSON but not a JSON Feed (no version https://jsonfeed.org/version/1.1)"
        )
    items = document.get("items")
    if not isinstance(items, list):
        raise SourceError("is a JSON Feed without an items list")
    authors = document.get("authors") or ([document["author"]] if "author" in document else [])
    info = FeedInfo(
        title=_string(document.get("title")),
        link=_string(document.get("home_page_url")),
        language=_string(document.get("language")),
        author=_string(authors[0].get("name"))
        if authors and isinstance(authors[0], dict)
        else None,
    )
    out = []
    for n, raw in enumerate(items, 1):
        where = f"{source}: item {n}"
        if not isinstance(raw, dict):
            report.say(f"{where}: not a JSON object: skipped")
            continue
        out.append(_json_item(raw, where, report))
    return info, out


def _string(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _json_item(raw: dict[str, Any], where: str, report: Report) -> Item:
    identifier = raw.get("id")
    item = Item(where, title=_string(raw.get("title")), link=_string(raw.get("url")))
    item.legacy_id = (
        str(identifier) if isinstance(identifier, str | int) and str(identifier) else None
    )
    read: Callable[[str | None, Any], datetime | None] = _when
    item.published = read(_string(raw.get("date_published")), None)
    item.updated = read(_string(raw.get("date_modified")), None)
    html, text = _string(raw.get("content_html")), _string(raw.get("content_text"))
    summary = _string(raw.get("summary"))
    if html:
        item.summary = _markdown(html, "html", item, report)
    elif text or summary:
        item.summary = _markdown(text or summary or "", "text", item, report)
    for tag in raw.get("tags") or []:
        if isinstance(tag, str):
            _add_tag(item, tag, report)
    return item


def title_line(item: Item, report: Report) -> str | None:
    if item.title is None:
        return None
    title, cut = one_line(item.title)
    if cut:
        report.say(f"{item.where}: title cut to 1,000 characters (the catalog's limit)")
    return title or None
