"""Checks of our own for published feeds, reusable by any test (no tests here).

- `assert_valid_atom(body, url)`: RFC 4287's rules (required elements of feed and entry,
  RFC 3339 dates, absolute IRIs, no two alternate links with the same type and hreflang,
  unique ids) plus what the W3C Feed Validation Service reports as errors or warnings for
  the features we use (missing or mismatched rel=self, metadata after entries, relative
  URLs or active content in HTML, non-standard namespace prefixes, xml:base).
- `assert_valid_rss(body, url)`: RSS 2.0 + the RSS Advisory Board / W3C validator rules
  (RFC 822 dates, guid, atom:link rel=self, channel link, "email (name)" contacts).
- `assert_valid_json_feed(body, url)`: JSON Feed 1.1 (required keys, types, extensions).
- `feed_validator_warnings(body)`: content-dependent W3C warnings (two Atom entries with
  the same `updated`; HTML in an RSS title), which a hostile catalog may legitimately
  trigger but the bundled catalog must not.
- `assert_no_active_content(html)`: parses HTML as browsers do (html5lib) and rejects
  script, event handlers, `javascript:` and relative URLs.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import html5lib
from lxml import etree

ATOM_NS = "http://www.w3.org/2005/Atom"
HISTORY_NS = "http://purl.org/syndication/history/1.0"
XML_NS = "http://www.w3.org/XML/1998/namespace"
A = f"{{{ATOM_NS}}}"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_ACTIVE_TAGS = {"script", "iframe", "object", "embed", "style", "form", "base", "meta", "link"}
_PREFERRED_PREFIXES = {ATOM_NS: "atom", HISTORY_NS: "fh"}
_FEED_METADATA_REQUIRED = ("id", "title", "updated")


# --- shared -------------------------------------------------------------------------


def parse_xml(body: bytes) -> etree._Element:
    """Strict, safe parse: any well-formedness error raises."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=False)
    return etree.fromstring(body, parser)


def is_absolute_iri(value: str | None) -> bool:
    if not value or value != value.strip() or any(ch.isspace() for ch in value):
        return False
    parts = urlsplit(value)
    if parts.scheme in ("http", "https"):
        return bool(parts.netloc)
    return parts.scheme in ("tag", "urn", "mailto") and bool(parts.path)


def assert_rfc3339(value: str | None, where: str) -> datetime:
    assert value is not None and _RFC3339.match(value), f"{where}: not RFC 3339: {value!r}"
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert moment.tzinfo is not None, where
    return moment


def assert_rfc822(value: str | None, where: str) -> datetime:
    """RFC 822 as RSS readers parse it, and written exactly as the standard library would."""
    assert value, f"{where}: empty date"
    moment = parsedate_to_datetime(value)
    assert moment.tzinfo is not None, f"{where}: no zone in {value!r}"
    assert format_datetime(moment) == value, f"{where}: not canonical RFC 822: {value!r}"
    return moment


def assert_no_active_content(html: str, where: str = "html") -> None:
    """No element, attribute or URL in `html` can run script or resolve against our page."""
    fragment = html5lib.parseFragment(html, treebuilder="etree", namespaceHTMLElements=False)
    for element in fragment.iter():
        if not isinstance(element.tag, str):
            continue
        assert element.tag.lower() not in _ACTIVE_TAGS, f"{where}: <{element.tag}> in {html!r}"
        for name, value in element.attrib.items():
            lowered = name.lower()
            assert not lowered.startswith("on"), f"{where}: {name}= in {html!r}"
            assert lowered != "style", f"{where}: style= in {html!r}"
            if lowered in ("href", "src", "action", "formaction", "srcset", "xlink:href"):
                assert urlsplit(value.strip()).scheme in ("http", "https", "mailto"), (
                    f"{where}: {name}={value!r} is not an absolute http(s)/mailto URL"
                )
                assert is_absolute_iri(value), f"{where}: relative {name}={value!r}"


def _check_prefixes(root: etree._Element, where: str) -> None:
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        for prefix, uri in (element.nsmap or {}).items():
            preferred = _PREFERRED_PREFIXES.get(uri)
            if prefix is not None and preferred is not None:
                assert prefix == preferred, f"{where}: prefix {prefix!r} for {uri}"


def _no_xml_base(root: etree._Element, where: str) -> None:
    for element in root.iter():
        if isinstance(element.tag, str):
            base = element.get(f"{{{XML_NS}}}base")
            assert base is None or is_absolute_iri(base), f"{where}: relative xml:base {base!r}"


# --- Atom -----------------------------------------------------------------------------


def assert_valid_atom(body: bytes, url: str | None = None) -> etree._Element:
    """RFC 4287 + W3C validator rules; `url` is where the document is published."""
    assert body.startswith(b"<?xml version='1.0' encoding='UTF-8'?>") or body.startswith(
        b'<?xml version="1.0" encoding="UTF-8"?>'
    ), "no UTF-8 XML declaration"
    root = parse_xml(body)
    assert root.tag == A + "feed", f"root is {root.tag}"
    where = url or "feed"
    assert root.get(f"{{{XML_NS}}}lang"), f"{where}: no xml:lang"
    _check_prefixes(root, where)
    _no_xml_base(root, where)
    _check_atom_container(root, where)
    entries = root.findall(A + "entry")
    _check_metadata_before_entries(root, where)
    self_links = [link for link in root.findall(A + "link") if link.get("rel") == "self"]
    assert len(self_links) == 1, f"{where}: {len(self_links)} rel=self links"
    assert self_links[0].get("type") == "application/atom+xml", f"{where}: self link type"
    if url is not None:
        assert self_links[0].get("href") == url, f"{where}: self link does not match location"
    has_feed_author = root.find(A + "author") is not None
    for index, entry in enumerate(entries):
        entry_where = f"{where} entry {index}"
        _check_atom_container(entry, entry_where)
        if not has_feed_author:
            assert entry.find(A + "author") is not None, f"{entry_where}: no author"
        published = entry.findall(A + "published")
        assert len(published) <= 1, entry_where
        if published:
            assert_rfc3339(published[0].text, f"{entry_where} published")
        has_content = entry.find(A + "content") is not None
        alternates = [link for link in entry.findall(A + "link") if _rel(link) == "alternate"]
        assert has_content or alternates, f"{entry_where}: no content and no alternate link"
        assert len(entry.findall(A + "summary")) <= 1, entry_where
    ids = [entry.findtext(A + "id") for entry in entries]
    duplicates = [value for value, count in Counter(ids).items() if count > 1]
    assert not duplicates, f"{where}: duplicate entry ids {duplicates}"
    return root


def _rel(link: etree._Element) -> str:
    return link.get("rel") or "alternate"  # RFC 4287 4.2.7.2: no rel means alternate


def _check_atom_container(element: etree._Element, where: str) -> None:
    """The rules feed and entry share: id, title, updated, links, people, text, categories."""
    for name in _FEED_METADATA_REQUIRED:
        found = element.findall(A + name)
        assert len(found) == 1, f"{where}: {len(found)} <{name}> elements (exactly one needed)"
    assert is_absolute_iri(element.findtext(A + "id")), f"{where}: id not an absolute IRI"
    assert (element.findtext(A + "title") or "").strip(), f"{where}: empty title"
    assert_rfc3339(element.findtext(A + "updated"), f"{where} updated")
    seen_alternates: set[tuple[str | None, str | None]] = set()
    for link in element.findall(A + "link"):
        href = link.get("href")
        assert is_absolute_iri(href), f"{where}: link href {href!r} not absolute"
        assert not (link.text or "").strip() and len(link) == 0, f"{where}: link not empty"
        if _rel(link) == "alternate":
            key = (link.get("type"), link.get("hreflang"))
            assert key not in seen_alternates, f"{where}: two alternate links with {key}"
            seen_alternates.add(key)
    for person in element.findall(A + "author") + element.findall(A + "contributor"):
        assert len(person.findall(A + "name")) == 1, f"{where}: person needs one name"
        uri = person.findtext(A + "uri")
        assert uri is None or is_absolute_iri(uri), f"{where}: person uri {uri!r}"
    for category in element.findall(A + "category"):
        assert category.get("term"), f"{where}: category without term"
        scheme = category.get("scheme")
        assert scheme is None or is_absolute_iri(scheme), f"{where}: scheme {scheme!r}"
    for name in ("title", "subtitle", "summary", "content", "rights"):
        for text in element.findall(A + name):
            kind = text.get("type", "text")
            assert kind in ("text", "html", "xhtml"), f"{where}: <{name} type={kind!r}>"
            assert len(text) == 0 or kind == "xhtml", f"{where}: markup inside <{name}>"
            if kind == "html":
                assert_no_active_content(text.text or "", f"{where} {name}")
    generator = element.find(A + "generator")
    if generator is not None and generator.get("uri"):
        assert is_absolute_iri(generator.get("uri")), f"{where}: generator uri"


def _check_metadata_before_entries(root: etree._Element, where: str) -> None:
    seen_entry = False
    for child in root:
        if not isinstance(child.tag, str):
            continue
        if child.tag == A + "entry":
            seen_entry = True
        else:
            assert not seen_entry, f"{where}: <{child.tag}> after the entries"


# --- RSS ------------------------------------------------------------------------------


def assert_valid_rss(body: bytes, url: str | None = None) -> etree._Element:
    root = parse_xml(body)
    where = url or "rss"
    assert root.tag == "rss" and root.get("version") == "2.0", f"{where}: not RSS 2.0"
    channels = root.findall("channel")
    assert len(channels) == 1, f"{where}: {len(channels)} channels"
    channel = channels[0]
    _check_prefixes(root, where)
    _no_xml_base(root, where)
    for name in ("title", "link", "description"):
        assert (channel.findtext(name) or "").strip(), f"{where}: channel needs <{name}>"
    assert is_absolute_iri(channel.findtext("link")), f"{where}: channel link not absolute"
    for name in ("lastBuildDate", "pubDate"):
        if channel.find(name) is not None:
            assert_rfc822(channel.findtext(name), f"{where} {name}")
    editor = channel.findtext("managingEditor")
    if editor is not None:
        assert re.fullmatch(r"\S+@\S+ \(.+\)", editor), f"{where}: managingEditor {editor!r}"
    atom_links = channel.findall(A + "link")
    for link in atom_links:
        assert link.get("rel"), f"{where}: atom:link without rel"
        assert is_absolute_iri(link.get("href")), f"{where}: atom:link href"
        assert not (link.text or "").strip(), f"{where}: atom:link not empty"
    self_links = [link for link in atom_links if link.get("rel") == "self"]
    assert len(self_links) == 1, f"{where}: missing atom:link rel=self"
    assert self_links[0].get("type") == "application/rss+xml", f"{where}: self link type"
    if url is not None:
        assert self_links[0].get("href") == url, f"{where}: self link does not match location"
    items = channel.findall("item")
    for index, item in enumerate(items):
        _check_rss_item(item, f"{where} item {index}")
    guids = [item.findtext("guid") for item in items]
    duplicates = [value for value, count in Counter(guids).items() if count > 1]
    assert not duplicates, f"{where}: duplicate guids {duplicates}"
    assert all(
        isinstance(child.tag, str) and child.tag == "item" for child in _after_first_item(channel)
    ), f"{where}: channel elements after the items"
    return root


def _after_first_item(channel: etree._Element) -> list[etree._Element]:
    children = [child for child in channel if isinstance(child.tag, str)]
    for index, child in enumerate(children):
        if child.tag == "item":
            return children[index:]
    return []


def _check_rss_item(item: etree._Element, where: str) -> None:
    assert item.find("title") is not None or item.find("description") is not None, where
    guid = item.find("guid")
    assert guid is not None and (guid.text or "").strip(), f"{where}: item should have a guid"
    if guid.get("isPermaLink", "true") == "true":
        assert is_absolute_iri(guid.text), f"{where}: permalink guid must be a full URL"
    link = item.findtext("link")
    assert link is None or is_absolute_iri(link), f"{where}: link {link!r}"
    if item.find("pubDate") is not None:
        assert_rfc822(item.findtext("pubDate"), f"{where} pubDate")
    description = item.findtext("description")
    if description is not None:
        assert_no_active_content(description, f"{where} description")
    for category in item.findall("category"):
        assert (category.text or "").strip(), f"{where}: empty category"


# --- content-dependent W3C warnings ---------------------------------------------------


def feed_validator_warnings(body: bytes) -> list[str]:
    """Warnings the W3C validator gives for what the catalog says, not how we write it."""
    root = parse_xml(body)
    warnings: list[str] = []
    if root.tag == A + "feed":
        stamps = Counter(entry.findtext(A + "updated") for entry in root.findall(A + "entry"))
        warnings += [f"two entries with updated {stamp}" for stamp, n in stamps.items() if n > 1]
    else:
        for item in root.iter("item"):
            title = item.findtext("title") or ""
            if looks_like_html(title):
                warnings.append(f"item title should not contain HTML: {title!r}")
    return warnings


def looks_like_html(text: str) -> bool:
    """What readers (and the validator) take for markup in a field without a type."""
    return re.search(r"<[a-zA-Z/!]|&[a-zA-Z#]\w*;", text) is not None


# --- JSON Feed 1.1 --------------------------------------------------------------------

_TOP_KEYS = {
    "version": str,
    "title": str,
    "home_page_url": str,
    "feed_url": str,
    "description": str,
    "user_comment": str,
    "next_url": str,
    "icon": str,
    "favicon": str,
    "authors": list,
    "language": str,
    "expired": bool,
    "hubs": list,
    "items": list,
}
_ITEM_KEYS = {
    "id": str,
    "url": str,
    "external_url": str,
    "title": str,
    "content_html": str,
    "content_text": str,
    "summary": str,
    "image": str,
    "banner_image": str,
    "date_published": str,
    "date_modified": str,
    "authors": list,
    "tags": list,
    "language": str,
    "attachments": list,
}
_URL_KEYS = ("home_page_url", "feed_url", "next_url", "icon", "favicon", "url", "external_url")


def assert_valid_json_feed(body: bytes, url: str | None = None) -> dict[str, Any]:
    """JSON Feed 1.1: required keys, types, absolute URLs, RFC 3339 dates, extensions."""
    document = json.loads(body.decode("utf-8"))
    where = url or "json feed"
    assert isinstance(document, dict), where
    _check_json_object(document, _TOP_KEYS, where)
    assert document.get("version") == JSON_FEED_VERSION, f"{where}: version"
    assert document.get("title"), f"{where}: title is required"
    assert isinstance(document.get("items"), list), f"{where}: items is required"
    if url is not None:
        assert document.get("feed_url") == url, f"{where}: feed_url does not match location"
    for author in document.get("authors", []):
        _check_json_author(author, where)
    for hub in document.get("hubs", []):
        assert isinstance(hub, dict) and set(hub) == {"type", "url"}, f"{where}: hub {hub}"
        assert is_absolute_iri(hub["url"]), f"{where}: hub url"
    ids: list[str] = []
    for index, item in enumerate(document["items"]):
        item_where = f"{where} item {index}"
        assert isinstance(item, dict), item_where
        _check_json_object(item, _ITEM_KEYS, item_where)
        assert isinstance(item.get("id"), str) and item["id"], f"{item_where}: id required"
        ids.append(item["id"])
        assert "content_html" in item or "content_text" in item, f"{item_where}: no content"
        if "content_html" in item:
            assert_no_active_content(item["content_html"], f"{item_where} content_html")
        for key in ("date_published", "date_modified"):
            if key in item:
                assert_rfc3339(item[key], f"{item_where} {key}")
        assert all(isinstance(tag, str) for tag in item.get("tags", [])), item_where
        for author in item.get("authors", []):
            _check_json_author(author, item_where)
    duplicates = [value for value, count in Counter(ids).items() if count > 1]
    assert not duplicates, f"{where}: duplicate item ids {duplicates}"
    return document


def _check_json_object(value: dict[str, Any], known: dict[str, type], where: str) -> None:
    for key, item in value.items():
        if key.startswith("_"):  # extensions: objects, by the spec's convention
            assert isinstance(item, dict), f"{where}: extension {key} must be an object"
            continue
        assert key in known, f"{where}: unknown key {key!r} (extensions start with _)"
        assert isinstance(item, known[key]), f"{where}: {key} must be {known[key].__name__}"
        if key in _URL_KEYS:
            assert is_absolute_iri(item), f"{where}: {key} {item!r} not absolute"


def _check_json_author(author: Any, where: str) -> None:
    assert isinstance(author, dict) and author, f"{where}: author must be a non-empty object"
    assert set(author) <= {"name", "url", "avatar"}, f"{where}: author keys {set(author)}"
    assert all(isinstance(value, str) for value in author.values()), where
    if "url" in author:
        assert is_absolute_iri(author["url"]), f"{where}: author url"
