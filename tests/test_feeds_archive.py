"""RFC 5005 archives: the live feed links the newest archive, archives chain both ways,
every publication is published exactly once, and old archives stay byte-identical.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from feedcheck import HISTORY_NS, A, assert_valid_atom, assert_valid_rss, parse_xml
from lxml import etree
from test_feeds_support import (
    FORMATS,
    ZONE,
    day,
    doc_path,
    expected_documents,
    feed_site,
    json_body,
    publication,
    yearly_catalog,
)

from feeds import ids
from feeds.model import Catalog
from feeds.site import Site

LIVE_BASES = ("/", "/tags/even/", "/tags/odd/", "/tags/third/")


def atom_links(site: Site, path: str) -> dict[str, str]:
    root = parse_xml(site[path].body)
    return {link.get("rel", ""): link.get("href", "") for link in root.findall(A + "link")}


def rss_links(site: Site, path: str) -> dict[str, str]:
    channel = parse_xml(site[path].body).find("channel")
    assert channel is not None
    return {link.get("rel", ""): link.get("href", "") for link in channel.findall(A + "link")}


def chain(site: Site, catalog: Catalog, live_base: str) -> list[str]:
    """Archive paths reached from the live Atom feed by following prev-archive."""
    reached = []
    path = doc_path(live_base, "atom")
    while (href := atom_links(site, path).get("prev-archive")) is not None:
        path = href.removeprefix(catalog.feed.base_url.rstrip("/"))
        assert path not in reached, f"prev-archive loop at {path}"
        reached.append(path)
    return reached


@pytest.mark.parametrize("live_base", LIVE_BASES)
def test_prev_archive_chain_reaches_every_archive_newest_first(live_base: str) -> None:
    catalog = yearly_catalog()
    site = feed_site(catalog)
    archives = [b for b in expected_documents(catalog) if b.startswith(f"{live_base}archive/")]
    archives.sort(key=lambda base: -int(base.rstrip("/").rsplit("/", 1)[1]))
    assert archives, "the catalog must archive something under every feed"
    assert chain(site, catalog, live_base) == [doc_path(base, "atom") for base in archives]


@pytest.mark.parametrize("live_base", LIVE_BASES)
def test_archives_link_next_current_and_are_marked(live_base: str) -> None:
    catalog = yearly_catalog()
    site = feed_site(catalog)
    url = catalog.feed.url
    archives = chain(site, catalog, live_base)
    for index, path in enumerate(archives):
        links = atom_links(site, path)
        assert links["current"] == url(doc_path(live_base, "atom"))
        newer = archives[index - 1] if index > 0 else None
        assert links.get("next-archive") == (url(newer) if newer else None)
        root = parse_xml(site[path].body)
        assert root.find(f"{{{HISTORY_NS}}}archive") is not None, f"{path}: no fh:archive"
        assert_valid_atom(site[path].body, url(path))
        rss_path = path.replace(".atom", ".rss")
        assert_valid_rss(site[rss_path].body, url(rss_path))
        assert rss_links(site, rss_path) == {
            rel: href.replace(".atom", ".rss") for rel, href in links.items() if rel != "alternate"
        }
    live = parse_xml(site[doc_path(live_base, "atom")].body)
    assert live.find(f"{{{HISTORY_NS}}}archive") is None
    assert "current" not in atom_links(site, doc_path(live_base, "atom"))


@pytest.mark.parametrize("live_base", LIVE_BASES)
def test_json_next_url_follows_the_same_chain(live_base: str) -> None:
    catalog = yearly_catalog()
    site = feed_site(catalog)
    expected = [path.replace(".atom", ".json") for path in chain(site, catalog, live_base)]
    followed = []
    document = json_body(site, doc_path(live_base, "json"))
    while "next_url" in document:
        path = document["next_url"].removeprefix(catalog.feed.base_url.rstrip("/"))
        followed.append(path)
        document = json_body(site, path)
    assert followed == expected


@pytest.mark.parametrize("live_base", LIVE_BASES)
def test_every_publication_appears_exactly_once_across_live_and_archives(live_base: str) -> None:
    catalog = yearly_catalog()
    site = feed_site(catalog)
    tag = live_base.removeprefix("/tags/").strip("/") or None
    wanted = sorted(
        ids.entry_uri(catalog.feed, e.id) for e in catalog.publications if not tag or tag in e.tags
    )
    paths = [doc_path(live_base, "atom"), *chain(site, catalog, live_base)]
    for fmt in FORMATS:
        seen: list[str] = []
        for path in paths:
            body = site[path.replace(".atom", f".{fmt}")].body
            if fmt == "json":
                seen += [
                    item["id"] for item in json_body(site, path.replace(".atom", ".json"))["items"]
                ]
            elif fmt == "rss":
                seen += [guid.text or "" for guid in parse_xml(body).iter("guid")]
            else:
                seen += [e.findtext(A + "id") or "" for e in parse_xml(body).iter(A + "entry")]
        assert sorted(seen) == wanted, fmt
    live_size = len(parse_xml(site[paths[0]].body).findall(A + "entry"))
    assert live_size == min(catalog.feed.feed_size, len(wanted))


def test_archive_year_is_the_year_in_the_feed_zone() -> None:
    # 00:30 on 1 January in Brussels is still 31 December in UTC.
    new_year = day(2019, 1, 1, 0, 30)
    catalog = Catalog(
        feed=replace(yearly_catalog().feed, feed_size=1),
        entries=(
            publication("newest", day(2020, 6, 1)),
            publication("new-year", new_year),
            publication("old-year", day(2018, 12, 31, 23, 0)),
        ),
    )
    site = feed_site(catalog)
    assert new_year.astimezone(ZONE).year == 2019 and new_year.utctimetuple().tm_year == 2018
    assert b"entry/new-year" in site["/archive/2019/feed.atom"].body
    assert b"entry/old-year" in site["/archive/2018/feed.atom"].body


def test_a_new_publication_leaves_complete_archives_byte_identical() -> None:
    before = yearly_catalog()
    newest = publication("brand-new", day(2021, 2, 1), tags=("even", "odd", "third"))
    after = replace(before, entries=(*before.entries, newest))
    old, new = feed_site(before), feed_site(after)
    oldest_live_year = before.publications[before.feed.feed_size - 1].published.year  # type: ignore[union-attr]
    stable = 0
    for path in old:
        if "/archive/" not in path:
            continue
        year = int(path.split("/archive/")[1].split("/")[0])
        base = path.split("/archive/")[0] + "/"
        archive_years = sorted(
            int(p.split("/archive/")[1].split("/")[0])
            for p in old
            if p.startswith(f"{base}archive/") and p.endswith(".atom")
        )
        # Complete: older than the live window's oldest year, and not the newest archive
        # (which gains a next-archive link once a newer year's archive appears).
        if year < oldest_live_year and year != archive_years[-1]:
            assert new[path].body == old[path].body, f"{path} changed"
            stable += 1
    assert stable >= 9, "the scenario must exercise several complete archives"
    assert new["/feed.atom"].body != old["/feed.atom"].body


def test_editing_an_archived_entry_changes_only_its_archives() -> None:
    before = yearly_catalog()
    target = before.publications[-1]  # the oldest, deep in the 2015 archive
    edited = replace(target, title="Corrected title", updated=day(2019, 1, 1))
    after = replace(before, entries=tuple(edited if e is target else e for e in before.entries))
    old, new = feed_site(before), feed_site(after)
    changed = sorted(path for path in old if old[path].body != new[path].body)
    tags_of_target = [f"/tags/{tag}" for tag in target.tags]
    expected = sorted(
        f"{prefix}/archive/2015/feed.{fmt}" for prefix in ["", *tags_of_target] for fmt in FORMATS
    )
    assert changed == expected
    entry = next(
        e
        for e in parse_xml(new["/archive/2015/feed.atom"].body).iter(A + "entry")
        if e.findtext(A + "id") == ids.entry_uri(before.feed, target.id)
    )
    assert entry.findtext(A + "title") == "Corrected title"
    assert entry.findtext(A + "updated") == "2019-01-01T00:00:00+01:00"
    updated = parse_xml(new["/archive/2015/feed.atom"].body).findtext(A + "updated")
    assert updated == "2019-01-01T00:00:00+01:00"  # the archive's newest change


def test_no_archive_when_everything_fits() -> None:
    catalog = yearly_catalog(feed_size=50)
    site = feed_site(catalog)
    assert not [path for path in site if "/archive/" in path]
    assert "prev-archive" not in atom_links(site, "/feed.atom")
    assert "next_url" not in json_body(site, "/feed.json")
    assert etree.tostring(parse_xml(site["/feed.atom"].body)).count(b"<entry") == 14
