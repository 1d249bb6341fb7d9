"""Atom, RSS and JSON feeds read back by feedparser and by our own RFC/validator checks,
compared with the catalog they come from.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Self

import feedgen
import feedparser
import pytest
from feedcheck import (
    A,
    assert_rfc3339,
    assert_valid_atom,
    assert_valid_json_feed,
    assert_valid_rss,
    feed_validator_warnings,
    parse_xml,
)
from test_feeds_support import (
    FORMATS,
    ZONE,
    day,
    doc_path,
    expected_documents,
    feed_site,
    json_body,
    publication,
    rich_catalog,
    yearly_catalog,
)

from feeds import ids
from feeds.catalog import load_catalog
from feeds.model import Catalog, Entry
from feeds.render.text import summary_html

CATALOGS = {
    "bundled": lambda: load_catalog(Path(__file__).resolve().parent.parent / "entries.yaml"),
    "rich": rich_catalog,
    "rich-with-hub": lambda: rich_catalog(hub="https://hub.example.org/", author=None),
    "yearly": yearly_catalog,
}


@pytest.fixture(params=sorted(CATALOGS))
def catalog(request: pytest.FixtureRequest) -> Catalog:
    return CATALOGS[request.param]()  # type: ignore[no-untyped-call]


def entry_link(catalog: Catalog, entry: Entry) -> str:
    return entry.link or f"{catalog.feed.base_url}entries/{entry.id}/"


def expected_terms(entry: Entry) -> list[str]:
    return [*entry.tags, *([entry.type] if entry.type else [])]


def parsed_instant(struct: Any) -> datetime:
    return datetime.fromtimestamp(calendar.timegm(struct), UTC)


# --- what is published --------------------------------------------------------------


def test_every_document_is_published_in_all_three_formats(catalog: Catalog) -> None:
    site = feed_site(catalog)
    expected = {doc_path(base, fmt) for base in expected_documents(catalog) for fmt in FORMATS}
    assert set(site.outputs) == expected
    assert {"/feed.atom", "/feed.rss", "/feed.json"} <= expected


def test_content_types() -> None:
    site = feed_site(rich_catalog())
    assert site["/feed.atom"].content_type == "application/atom+xml; charset=utf-8"
    assert site["/feed.rss"].content_type == "application/rss+xml; charset=utf-8"
    assert site["/feed.json"].content_type == "application/feed+json; charset=utf-8"


# --- feedparser: what readers see ---------------------------------------------------


def test_feedparser_reads_every_atom_and_rss_feed_as_the_catalog_says(catalog: Catalog) -> None:
    site = feed_site(catalog)
    for base, entries in expected_documents(catalog).items():
        for fmt in ("atom", "rss"):
            parsed = feedparser.parse(site[doc_path(base, fmt)].body)
            where = doc_path(base, fmt)
            assert not parsed.bozo, f"{where}: {parsed.get('bozo_exception')}"
            assert [item.id for item in parsed.entries] == [
                ids.entry_uri(catalog.feed, entry.id) for entry in entries
            ], where
            for item, entry in zip(parsed.entries, entries, strict=True):
                assert item.title == entry.title, where
                assert item.link == entry_link(catalog, entry), where
                assert parsed_instant(item.published_parsed) == entry.published, where
                if fmt == "atom":
                    assert parsed_instant(item.updated_parsed) == entry.modified, where
                assert [tag.term for tag in item.get("tags", [])] == expected_terms(entry), where
                if fmt == "rss":  # isPermaLink="false": readers must not take it as a link
                    assert item.guidislink is False, where


def test_feedparser_sees_feed_metadata(catalog: Catalog) -> None:
    site = feed_site(catalog)
    feed = catalog.feed
    for fmt in ("atom", "rss"):
        parsed = feedparser.parse(site[f"/feed.{fmt}"].body)
        assert parsed.feed.title == feed.title
        assert parsed.feed.link == feed.base_url  # the site, not the publisher's or the feed
        assert parsed.feed.language == feed.language
        self_links = [link.href for link in parsed.feed.links if link.rel == "self"]
        assert self_links == [f"{feed.base_url}feed.{fmt}"]
    atom_feed = feedparser.parse(site["/feed.atom"].body).feed
    assert atom_feed.id == ids.feed_uri(feed)
    assert atom_feed.author_detail.name == (feed.author.name if feed.author else feed.title)


def test_tag_feeds_have_their_own_title_id_and_page(catalog: Catalog) -> None:
    site = feed_site(catalog)
    feed = catalog.feed
    for tag in {tag for entry in catalog.publications for tag in entry.tags}:
        parsed = feedparser.parse(site[f"/tags/{tag}/feed.atom"].body).feed
        assert parsed.title == f"{feed.title}: {tag}"
        assert parsed.id == ids.feed_uri(feed, tag)
        assert parsed.link == f"{feed.base_url}tags/{tag}/"
        document = json_body(site, f"/tags/{tag}/feed.json")
        assert document["title"] == f"{feed.title}: {tag}"
        assert document["home_page_url"] == f"{feed.base_url}tags/{tag}/"


def test_feed_updated_is_the_newest_entry_modified(catalog: Catalog) -> None:
    site = feed_site(catalog)
    for base, entries in expected_documents(catalog).items():
        newest = max(entry.modified for entry in entries if entry.modified)
        root = parse_xml(site[doc_path(base, "atom")].body)
        assert assert_rfc3339(root.findtext(A + "updated"), base) == newest
        channel = parse_xml(site[doc_path(base, "rss")].body).find("channel")
        assert channel is not None
        assert parsedate_to_datetime(channel.findtext("lastBuildDate") or "") == newest


def test_days_become_midnight_in_the_feed_zone() -> None:
    catalog = load_catalog(Path(__file__).resolve().parent.parent / "entries.yaml")
    site = feed_site(catalog)
    bologna = parse_xml(site["/feed.atom"].body).find(A + "entry")
    assert bologna is not None
    published = bologna.findtext(A + "published")
    assert assert_rfc3339(published, "published") == datetime(2019, 3, 14, tzinfo=ZONE)
    assert published == "2019-03-14T00:00:00+01:00"  # the editor's day, not the UTC day


def test_summary_is_sanitised_html_with_absolute_links() -> None:
    catalog = rich_catalog()
    site = feed_site(catalog)
    entry = catalog.publications[0]
    expected = summary_html(entry.summary, catalog.feed.base_url)
    assert 'href="https://feeds.example.org/about/"' in expected
    item = feedparser.parse(site["/feed.atom"].body).entries[0]
    assert item.summary_detail.type == "text/html"
    assert item.summary == expected
    assert feedparser.parse(site["/feed.rss"].body).entries[0].summary == expected
    assert json_body(site, "/feed.json")["items"][0]["content_html"] == expected


def test_hub_is_linked_in_atom_rss_and_json_when_configured() -> None:
    hub = "https://hub.example.org/"
    with_hub, without = feed_site(rich_catalog(hub=hub)), feed_site(rich_catalog())
    for fmt in ("atom", "rss"):
        hubs = [link.href for link in _links(with_hub, f"/feed.{fmt}") if link.rel == "hub"]
        assert hubs == [hub]
        assert not [link for link in _links(without, f"/feed.{fmt}") if link.rel == "hub"]
    assert json_body(with_hub, "/feed.json")["hubs"] == [{"type": "WebSub", "url": hub}]
    assert "hubs" not in json_body(without, "/feed.json")


def _links(site: Any, path: str) -> list[Any]:
    return list(feedparser.parse(site[path].body).feed.links)


# --- our RFC and validator checks ---------------------------------------------------


def test_atom_follows_rfc_4287_and_the_validator(catalog: Catalog) -> None:
    site = feed_site(catalog)
    for path in site:
        if path.endswith(".atom"):
            assert_valid_atom(site[path].body, catalog.feed.url(path))


def test_rss_follows_rss_2_and_the_validator(catalog: Catalog) -> None:
    site = feed_site(catalog)
    for base in expected_documents(catalog):
        path = doc_path(base, "rss")
        root = assert_valid_rss(site[path].body, catalog.feed.url(path))
        channel = root.find("channel")
        assert channel is not None
        live_base = base.split("archive/")[0]
        assert channel.findtext("link") == catalog.feed.url(live_base)  # the site page
        for guid in channel.iter("guid"):
            assert guid.get("isPermaLink") == "false"
            assert guid.text and guid.text.startswith(f"tag:{catalog.feed.id_authority}:")


def test_json_feed_is_valid_1_1_and_matches_the_catalog(catalog: Catalog) -> None:
    site = feed_site(catalog)
    for base, entries in expected_documents(catalog).items():
        path = doc_path(base, "json")
        document = assert_valid_json_feed(site[path].body, catalog.feed.url(path))
        assert document["language"] == catalog.feed.language
        assert len(document["items"]) == len(entries)
        for item, entry in zip(document["items"], entries, strict=True):
            assert item["id"] == ids.entry_uri(catalog.feed, entry.id)
            assert item["url"] == entry_link(catalog, entry)
            assert item["title"] == entry.title
            assert assert_rfc3339(item["date_published"], path) == entry.published
            assert assert_rfc3339(item["date_modified"], path) == entry.modified
            assert item["tags"] == expected_terms(entry)


def test_json_feed_event_extension() -> None:
    catalog = rich_catalog()
    items = {item["id"]: item for item in json_body(feed_site(catalog), "/feed.json")["items"]}
    for entry in catalog.publications:
        item = items[ids.entry_uri(catalog.feed, entry.id)]
        if entry.event is None:
            assert "_event" not in item
            continue
        event = item["_event"]
        assert event["all_day"] == entry.event.all_day
        assert event["location"] == entry.event.location
        assert event["status"] == entry.event.status
        assert event["url"] == entry.event.url
        assert event["geo"] == (list(entry.event.geo) if entry.event.geo else None)
        if entry.event.all_day:
            assert event["start"] == entry.event.start.isoformat()
            assert event["end"] == entry.event.end.isoformat()
            assert event["timezone"] is None
        else:
            assert assert_rfc3339(event["start"], "start") == entry.event.start
            assert assert_rfc3339(event["end"], "end") == entry.event.end
            assert event["timezone"] == entry.event.timezone


def test_bundled_catalog_draws_no_validator_warnings() -> None:
    catalog = load_catalog(Path(__file__).resolve().parent.parent / "entries.yaml")
    site = feed_site(catalog)
    for path in site:
        if not path.endswith(".json"):
            assert feed_validator_warnings(site[path].body) == [], path


def test_same_id_in_all_three_formats(catalog: Catalog) -> None:
    site = feed_site(catalog)
    atom_ids = [e.findtext(A + "id") for e in parse_xml(site["/feed.atom"].body).iter(A + "entry")]
    rss_ids = [guid.text for guid in parse_xml(site["/feed.rss"].body).iter("guid")]
    json_ids = [item["id"] for item in json_body(site, "/feed.json")["items"]]
    assert atom_ids == rss_ids == json_ids
    assert len(set(atom_ids)) == len(atom_ids)


def test_stylesheet_follows_the_xml_declaration(catalog: Catalog) -> None:
    site = feed_site(catalog)
    for path in site:
        if not path.endswith(".json"):
            lines = site[path].body.split(b"\n", 2)
            assert lines[0] == b"<?xml version='1.0' encoding='UTF-8'?>"
            assert lines[1] == b'<?xml-stylesheet type="text/xsl" href="/feed.xsl"?>'


def test_empty_catalog_gives_valid_feeds_with_a_fixed_date() -> None:
    catalog = Catalog(feed=rich_catalog().feed, entries=())
    site = feed_site(catalog)
    assert sorted(site) == ["/feed.atom", "/feed.json", "/feed.rss"]
    root = assert_valid_atom(site["/feed.atom"].body, catalog.feed.url("/feed.atom"))
    assert root.findtext(A + "updated") == "2000-01-01T00:00:00Z"
    assert_valid_rss(site["/feed.rss"].body, catalog.feed.url("/feed.rss"))
    assert assert_valid_json_feed(site["/feed.json"].body)["items"] == []


# --- feedgen's defaults never reach the output --------------------------------------


class _AnyDatetime(type):
    def __instancecheck__(cls, value: object) -> bool:
        return isinstance(value, datetime)  # feedgen's isinstance checks still accept ours


class _FrozenFuture(datetime, metaclass=_AnyDatetime):
    """Stands in for feedgen's `datetime`: its now() is a year no catalog date has."""

    @classmethod
    def now(cls, tz: Any = None) -> Self:
        return cls(2099, 9, 9, 9, 9, 9, tzinfo=tz)


@pytest.mark.usefixtures("cold_memo")  # frames made by this test, not reused from another's
def test_no_feedgen_clock_or_version_in_the_output(monkeypatch: pytest.MonkeyPatch) -> None:
    import feedgen.entry
    import feedgen.feed
    from feedgen.feed import FeedGenerator

    clock_reads: list[object] = []

    class Clock(_FrozenFuture):
        @classmethod
        def now(cls, tz: Any = None) -> Self:
            clock_reads.append(tz)
            return super().now(tz)

    # The frames feedgen serializes, by their rel=self link: a spy around the two methods
    # feeds.render.feedgen_wrap calls, so that the test sees feedgen really run (a frame
    # taken from the memo tables would have been made under another test's clock).
    framed: dict[str, set[str]] = {"atom": set(), "rss": set()}

    def spy(fmt: str, create: Any) -> Any:
        def wrapper(self: FeedGenerator, *args: Any, **kwargs: Any) -> Any:
            made = create(self, *args, **kwargs)
            links = made[0].iter("link", A + "link")  # feedgen's Atom tags are unqualified
            framed[fmt].update(link.get("href") for link in links if link.get("rel") == "self")
            return made

        return wrapper

    monkeypatch.setattr(feedgen.feed, "datetime", Clock)
    monkeypatch.setattr(feedgen.entry, "datetime", Clock)
    monkeypatch.setattr(FeedGenerator, "_create_atom", spy("atom", FeedGenerator._create_atom))
    monkeypatch.setattr(FeedGenerator, "_create_rss", spy("rss", FeedGenerator._create_rss))
    catalog = rich_catalog()
    site = feed_site(catalog)

    # feedgen made every Atom and RSS document of the site, reading the frozen clock
    for fmt in ("atom", "rss"):
        urls = {catalog.feed.url(path) for path in site if path.endswith(f".{fmt}")}
        assert len(urls) > 1 and framed[fmt] == urls, fmt
    assert clock_reads, "feedgen never read the patched clock"
    # ... and neither its now() nor its version reached the output
    version = feedgen.version.version_str  # type: ignore[attr-defined]
    for path in site:
        body = site[path].body
        assert b"2099" not in body, path
        assert version.encode() not in body, path
        if path.endswith(".atom"):
            generator = parse_xml(body).find(A + "generator")
            assert generator is not None and "version" not in generator.attrib, path


def test_feedgen_version_is_the_one_verified() -> None:
    # feedgen_wrap post-processes what feedgen 1.0.x writes; re-verify before upgrading.
    assert feedgen.version.version_str.startswith("1.0.")  # type: ignore[attr-defined]


def test_entries_keep_newest_first_order_not_feedgen_prepend_order() -> None:
    catalog = yearly_catalog(count=6, feed_size=50)
    site = feed_site(catalog)
    for fmt in ("atom", "rss"):
        parsed = feedparser.parse(site[f"/feed.{fmt}"].body)
        stamps = [parsed_instant(item.published_parsed) for item in parsed.entries]
        assert stamps == sorted(stamps, reverse=True)
        assert len(stamps) == 6


# --- determinism ------------------------------------------------------------------------


def test_two_builds_are_identical(catalog: Catalog) -> None:
    first, second = feed_site(catalog), feed_site(replace(catalog))
    assert {p: first[p].body for p in first} == {p: second[p].body for p in second}


def test_editing_one_entry_changes_only_its_element_and_the_feed_updated() -> None:
    before = rich_catalog()
    target = "report-housing"
    edited = tuple(
        replace(e, title="Housing report, corrected", updated=day(2019, 5, 1, 12))
        if e.id == target
        else e
        for e in before.entries
    )
    after = replace(before, entries=edited)
    old, new = feed_site(before), feed_site(after)
    target_id = ids.entry_uri(before.feed, target)
    for path in old:
        holds_target = target_id.encode() in old[path].body
        if not holds_target:
            assert old[path].body == new[path].body, f"{path} changed without holding the entry"
            continue
        if path.endswith(".atom"):
            _assert_only_entry_and_updated_differ(old[path].body, new[path].body, target_id)
        changed_lines = _changed_lines(old[path].body, new[path].body)
        assert changed_lines, path
        for line in changed_lines:
            assert re.search(
                r"corrected|housing|updated|lastBuildDate|date_modified", line, re.I
            ), f"{path}: unexpected change {line!r}"


def _assert_only_entry_and_updated_differ(old: bytes, new: bytes, target_id: str) -> None:
    from lxml import etree

    old_root, new_root = parse_xml(old), parse_xml(new)
    assert len(old_root) == len(new_root)
    for old_child, new_child in zip(old_root, new_root, strict=True):
        same = etree.tostring(old_child) == etree.tostring(new_child)
        is_target = old_child.findtext(A + "id") == target_id
        is_updated = old_child.tag == A + "updated"
        assert same != (is_target or is_updated), etree.tostring(old_child)


def _changed_lines(old: bytes, new: bytes) -> list[str]:
    import difflib

    diff = difflib.unified_diff(old.decode().splitlines(), new.decode().splitlines(), n=0)
    return [line for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")]


# --- golden files ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/feed.atom", "/feed.rss", "/feed.json", "/tags/culture/feed.atom", "/tags/culture/feed.rss"],
)
def test_golden_bundled_feeds(path: str, golden: Any) -> None:
    catalog = load_catalog(Path(__file__).resolve().parent.parent / "entries.yaml")
    golden.check(f"feeds{path}", feed_site(catalog)[path].body)


def test_golden_archive(golden: Any) -> None:
    site = feed_site(yearly_catalog(count=9, feed_size=3, hub="https://hub.example.org/"))
    golden.check("feeds/yearly/feed.atom", site["/feed.atom"].body)
    golden.check("feeds/yearly/archive/2016/feed.atom", site["/archive/2016/feed.atom"].body)
    golden.check("feeds/yearly/archive/2016/feed.rss", site["/archive/2016/feed.rss"].body)


def test_entry_without_summary_has_no_empty_summary_element() -> None:
    catalog = Catalog(
        feed=rich_catalog().feed, entries=(publication("bare", day(2019, 1, 2), summary=""),)
    )
    site = feed_site(catalog)
    assert parse_xml(site["/feed.atom"].body).find(f"{A}entry/{A}summary") is None
    assert parse_xml(site["/feed.rss"].body).find("channel/item/description") is None
    assert json_body(site, "/feed.json")["items"][0]["content_html"] == ""
