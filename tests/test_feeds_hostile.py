"""A catalog that tries to break the feeds: markup, script, CDATA ends, entities, quotes,
emoji and right-to-left text in titles and summaries. Every feed must stay well-formed,
readers must get the exact title text back, and no output may carry active content.
"""

from __future__ import annotations

import json

import feedparser
import pytest
from feedcheck import (
    A,
    assert_no_active_content,
    assert_valid_atom,
    assert_valid_json_feed,
    assert_valid_rss,
    looks_like_html,
    parse_xml,
)
from test_feeds_support import FEED, day, feed_site, publication

from feeds import ids
from feeds.model import Catalog

HOSTILE_TITLES = [
    "<script>alert('title')</script> news",
    'Quote " and apostrophe \' and <img src=x onerror="alert(1)">',
    "CDATA end ]]> and ]]&gt; and &amp; and & alone and &#x3C;",
    "Emoji 🎉🏳️‍🌈 and a surrogate-range 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "عنوان بالعربية — כותרת בעברית \u202eevil\u202c",
    "<a href=\"javascript:alert('x')\">click</a>",
]

HOSTILE_SUMMARIES = [
    "<script>alert('summary')</script> raw script",
    "[click](javascript:alert('md')) and [data](data:text/html;base64,PHNjcmlwdD4=)",
    '<img src="x" onerror="alert(1)"> and <a href="#" onclick="alert(2)">a</a>',
    "Ends a CDATA ]]> and has & and <![CDATA[ x ]]> and <!-- comment -->",
    "![img](javascript:alert(3)) and <iframe src='https://evil.example/'></iframe>",
    "[relative](../../etc/passwd) and <style>body{}</style> and `<script>`",
]


def hostile_catalog() -> Catalog:
    entries = tuple(
        publication(
            f"hostile-{index}",
            day(2019, 3, 1 + index),
            title=title,
            summary=summary,
            type="<b>type</b> & co",
            tags=("hostile",),
            link="https://example.org/a?b=1&c=<2>",
        )
        for index, (title, summary) in enumerate(
            zip(HOSTILE_TITLES, HOSTILE_SUMMARIES, strict=True)
        )
    )
    feed = FEED.__class__(
        **{**FEED.__dict__, "title": 'Feed <title> & "quotes" ]]>', "subtitle": "<b>sub</b>"}
    )
    return Catalog(feed=feed, entries=entries)


@pytest.fixture(scope="module")
def site():  # type: ignore[no-untyped-def]
    return feed_site(hostile_catalog())


def test_every_feed_is_well_formed_and_valid(site) -> None:  # type: ignore[no-untyped-def]
    url = hostile_catalog().feed.url
    for path in site:
        body = site[path].body
        if path.endswith(".atom"):
            assert_valid_atom(body, url(path))
        elif path.endswith(".rss"):
            assert_valid_rss(body, url(path))
        else:
            assert_valid_json_feed(body, url(path))


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_readers_get_the_exact_titles_back(site, fmt: str) -> None:  # type: ignore[no-untyped-def]
    catalog = hostile_catalog()
    parsed = feedparser.parse(site[f"/feed.{fmt}"].body)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.feed.title == catalog.feed.title
    by_id = {item.id: item for item in parsed.entries}
    for entry in catalog.publications:
        item = by_id[ids.entry_uri(catalog.feed, entry.id)]
        # An RSS title has no type: feedparser, like many readers, takes one that looks
        # like HTML for HTML (sanitising it, normalising character references), and the
        # W3C validator warns about such titles. Atom's type="text" is exact; the RSS bytes
        # carry the exact text too (test_lxml_gives_the_exact_text_back).
        if fmt == "atom" or not looks_like_html(entry.title):
            assert item.title == entry.title
        assert item.link == entry.link
        assert [tag.term for tag in item.tags] == ["hostile", "<b>type</b> & co"]


def test_lxml_gives_the_exact_text_back(site) -> None:  # type: ignore[no-untyped-def]
    catalog = hostile_catalog()
    titles = [e.findtext(A + "title") for e in parse_xml(site["/feed.atom"].body).iter(A + "entry")]
    assert titles == [entry.title for entry in catalog.publications]
    rss_titles = [item.findtext("title") for item in parse_xml(site["/feed.rss"].body).iter("item")]
    assert rss_titles == titles


def test_json_gives_the_exact_text_back_as_utf8(site) -> None:  # type: ignore[no-untyped-def]
    catalog = hostile_catalog()
    body = site["/feed.json"].body
    assert "🎉".encode() in body and "عنوان".encode() in body  # not \u-escaped
    document = json.loads(body)
    assert document["title"] == catalog.feed.title
    assert [item["title"] for item in document["items"]] == [e.title for e in catalog.publications]


def test_no_active_content_in_any_summary(site) -> None:  # type: ignore[no-untyped-def]
    summaries: list[str] = []
    for path in site:
        body = site[path].body
        if path.endswith(".atom"):
            summaries += [s.text or "" for s in parse_xml(body).iter(A + "summary")]
        elif path.endswith(".rss"):
            summaries += [d.text or "" for d in parse_xml(body).iter("description")]
        else:
            summaries += [item["content_html"] for item in json.loads(body)["items"]]
    assert len(summaries) >= len(HOSTILE_SUMMARIES) * 3
    for html in summaries:
        # Parsed as a browser parses it: words such as "onerror" may remain as escaped
        # text (the editor wrote them), but never as an element, attribute or URL.
        assert_no_active_content(html)


def test_markup_in_titles_stays_text(site) -> None:  # type: ignore[no-untyped-def]
    # No element other than the feed vocabulary appears: titles are escaped text.
    allowed = {"feed", "entry", "id", "title", "updated", "published", "link", "category"}
    allowed |= {"summary", "author", "name", "email", "uri", "generator", "subtitle"}
    for element in parse_xml(site["/feed.atom"].body).iter():
        if isinstance(element.tag, str):
            assert element.tag.removeprefix(A) in allowed, element.tag
