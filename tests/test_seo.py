"""Found by search engines, shown well when shared: schema.org JSON-LD (read back with
extruct, as crawlers' own extractors read it), Open Graph and Twitter meta on every page,
/sitemap.xml (an index past its URL limit) and /robots.txt, served by the app and by
nginx from the export, and catalog text that stays data inside the JSON-LD."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import extruct
import pytest
from lxml import etree
from test_hostile_content import catalog as hostile_catalog
from test_pages_support import ROOT, bundled_catalog, elements, parse_html, rich_catalog, text_of

from feeds.model import Catalog, Entry
from feeds.render import seo, sitemap
from feeds.render.pages import PageRenderer
from feeds.render.text import summary_text
from feeds.serve import web
from feeds.site import Site, build_site

BASE = "https://feeds.example.org/"
SCHEMA = "https://schema.org/"
LD_JSON = "application/ld+json"
SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
# HTML pages that are not in the sitemap: the frame page (noindex) and the error page.
NOT_LISTED = {"/embed/", "/404.html"}


@cache
def site_of(name: str) -> Site:
    catalogs = {"bundled": bundled_catalog, "rich": rich_catalog, "hostile": hostile_catalog}
    return build_site(catalogs[name]())


def html_paths(site: Site) -> list[str]:
    return [p for p in site if site[p].content_type.startswith("text/html")]


def extracted(site: Site, path: str) -> dict[str, Any]:
    data: dict[str, Any] = extruct.extract(
        site[path].body.decode("utf-8"),
        base_url=BASE + path.lstrip("/"),
        syntaxes=["json-ld", "opengraph"],
        uniform=True,
    )
    return data


def json_ld(site: Site, path: str) -> dict[str, Any]:
    """The page's one JSON-LD item, as extruct reads it."""
    items = extracted(site, path)["json-ld"]
    assert len(items) == 1, (path, items)
    item: dict[str, Any] = items[0]
    assert item["@context"] == "https://schema.org"
    return item


def page_url(entry: Entry) -> str:
    return f"{BASE}entries/{entry.id}/"


# --- events -------------------------------------------------------------------------------


def assert_event_as_google_wants_it(item: dict[str, Any], catalog: Catalog, entry: Entry) -> None:
    event = entry.event
    assert event is not None
    assert item["@type"] == "Event"
    assert item["name"] == entry.title
    assert item["startDate"] == event.start.isoformat()
    assert item["endDate"] == event.end.isoformat()
    if isinstance(event.start, datetime):  # timed: with its UTC offset
        assert datetime.fromisoformat(item["startDate"]).utcoffset() is not None
    else:  # all-day: dates, the end the last day (inclusive), as the catalog says
        assert date.fromisoformat(item["startDate"]) == event.start
        assert date.fromisoformat(item["endDate"]) == event.end
    assert item["eventStatus"] == SCHEMA + (
        "EventCancelled" if event.status == "cancelled" else "EventScheduled"
    )
    assert item["url"] == page_url(entry)
    assert item.get("description", "") == summary_text(entry.summary)
    author = catalog.feed.author
    assert item["organizer"]["@type"] == "Organization"
    assert item["organizer"]["name"] == (author.name if author else catalog.feed.title)
    if event.location or event.geo:
        assert item["eventAttendanceMode"] == SCHEMA + "OfflineEventAttendanceMode"
        place = item["location"]
        assert place["@type"] == "Place"
        if event.location:
            assert place["name"] == place["address"] == event.location
        if event.geo:
            geo = place["geo"]
            assert geo["@type"] == "GeoCoordinates"
            assert (geo["latitude"], geo["longitude"]) == event.geo


def test_every_seed_event_has_what_google_requires_and_recommends() -> None:
    catalog, site = bundled_catalog(), site_of("bundled")
    assert len(catalog.events) == 4
    for entry in catalog.events:
        item = json_ld(site, f"/entries/{entry.id}/")
        assert_event_as_google_wants_it(item, catalog, entry)
        assert {"location", "eventAttendanceMode", "organizer", "description"} <= item.keys()
    antwerp = json_ld(site, "/entries/urban-academy-integration-migrants-refugees-antwerp/")
    assert (antwerp["startDate"], antwerp["endDate"]) == ("2019-05-21", "2019-05-22")
    assert antwerp["location"]["name"] == "Antwerp, Belgium"
    assert antwerp["location"]["geo"]["latitude"] == 51.2194
    assert antwerp["organizer"] == {
        "@type": "Organization",
        "name": "EUROCITIES",
        "url": "https://www.eurocities.eu/",
    }


def test_timed_events_carry_their_utc_offset() -> None:
    site = site_of("rich")
    brussels = json_ld(site, "/entries/hostile-event/")
    assert brussels["startDate"] == "2024-04-10T09:30:00+02:00"
    assert brussels["endDate"] == "2024-04-10T17:00:00+02:00"
    fixed = json_ld(site, "/entries/offset-call/")
    assert fixed["startDate"] == "2024-04-11T15:00:00+05:30"
    for entry in rich_catalog().events:
        assert_event_as_google_wants_it(
            json_ld(site, f"/entries/{entry.id}/"), rich_catalog(), entry
        )


def generated_catalog(entries: int) -> Catalog:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from gen_catalog import generate  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    from feeds.catalog import parse_catalog

    return parse_catalog(generate(entries).encode())


def test_generated_events_say_cancelled_and_tentative_ones_stay_scheduled() -> None:
    catalog = generated_catalog(300)
    renderer = PageRenderer(catalog)
    seen = set()
    for entry in catalog.events:
        assert entry.event is not None
        seen.add(entry.event.status)
        body = renderer.entry(entry).decode("utf-8")
        items = extruct.extract(body, base_url=BASE, syntaxes=["json-ld"])["json-ld"]
        (item,) = items
        assert_event_as_google_wants_it(item, catalog, entry)
    assert seen == {"confirmed", "tentative", "cancelled"}


def test_a_location_that_is_a_web_address_is_online() -> None:
    from feeds.model import Event

    event = Event(
        start=date(2024, 1, 2), end=date(2024, 1, 2), location="https://meet.example.org/x"
    )
    entry = Entry(id="call", title="Call", event=event)
    data = seo.event_data(rich_catalog().feed, entry, event, page_url(entry))
    assert data["eventAttendanceMode"] == SCHEMA + "OnlineEventAttendanceMode"
    assert data["location"] == {"@type": "VirtualLocation", "url": "https://meet.example.org/x"}
    bare = Entry(id="x", title="X", event=Event(start=date(2024, 1, 2), end=date(2024, 1, 3)))
    assert bare.event is not None
    unplaced = seo.event_data(rich_catalog().feed, bare, bare.event, page_url(bare))
    assert "location" not in unplaced and "eventAttendanceMode" not in unplaced


# --- publications and lists ------------------------------------------------------------------


def test_publications_are_articles_with_dates_author_and_publisher() -> None:
    catalog, site = bundled_catalog(), site_of("bundled")
    publications = [e for e in catalog.publications if e.event is None]
    assert publications
    for entry in publications:
        item = json_ld(site, f"/entries/{entry.id}/")
        assert item["@type"] == ("NewsArticle" if entry.type == "news" else "Article")
        assert item["headline"] == entry.title
        assert entry.published is not None and entry.modified is not None
        assert datetime.fromisoformat(item["datePublished"]) == entry.published
        assert datetime.fromisoformat(item["dateModified"]) == entry.modified
        assert item["author"]["name"] == item["publisher"]["name"] == "EUROCITIES"
        assert item["url"] == item["mainEntityOfPage"] == page_url(entry)


def test_news_is_a_news_article() -> None:
    catalog = generated_catalog(40)
    kinds = {seo.article_type(e): e.type for e in catalog.entries if e.event is None and e.type}
    assert kinds["NewsArticle"] == "news" and kinds["Article"] != "news"


def entry_links(site: Site, path: str) -> set[str]:
    """The entry pages a page links to in its main part, as absolute URLs."""
    (main,) = elements(parse_html(site[path].body), "main")
    hrefs = {a.get("href") for a in main.iter() if a.tag.endswith("}a")}  # type: ignore[attr-defined]
    return {BASE + h.lstrip("/") for h in hrefs if h and h.startswith("/entries/")}


@pytest.mark.parametrize("path", ["/", "/tags/culture/", "/tags/cooperation/"])
def test_home_and_tag_pages_are_collections_listing_the_entries_they_show(path: str) -> None:
    site = site_of("bundled")
    item = json_ld(site, path)
    assert item["@type"] == "CollectionPage"
    assert item["url"] == BASE + path.lstrip("/")
    listed = item["mainEntity"]["itemListElement"]
    urls = [element["url"] for element in listed]
    assert [element["position"] for element in listed] == list(range(1, len(listed) + 1))
    assert len(urls) == len(set(urls)) == item["mainEntity"]["numberOfItems"]
    assert set(urls) == entry_links(site, path)


# --- Open Graph and Twitter ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["bundled", "rich"])
def test_every_page_has_open_graph_and_twitter_card_meta(name: str) -> None:
    site = site_of(name)
    title = {"bundled": bundled_catalog, "rich": rich_catalog}[name]().feed.title
    for path in html_paths(site):
        (og,) = extracted(site, path)["opengraph"]
        assert og["@type"] == ("article" if path.startswith("/entries/") else "website"), path
        assert og["og:url"] == BASE + path.lstrip("/"), path
        assert og["og:title"] and og["og:description"], path
        assert og["og:site_name"] == title, path
        assert og["og:locale"] == "en_US", path
        document = parse_html(site[path].body)
        twitter = [
            m.get("content") for m in elements(document, "meta") if m.get("name") == "twitter:card"
        ]  # type: ignore[attr-defined]
        assert twitter == ["summary"], path


def test_an_entry_page_shares_its_own_title_and_description() -> None:
    site = site_of("bundled")
    (og,) = extracted(site, "/entries/bologna-lets-do-it-together/")["opengraph"]
    assert og["og:title"] == "Bologna - Let's do it together!"
    assert og["og:site_name"] == "EUROCITIES news and events"
    assert og["og:description"].startswith("In the last 5 years, Bologna")
    assert og["article:published_time"] == "2019-03-14T00:00:00+01:00"


@pytest.mark.parametrize(
    ("language", "locale"),
    [
        ("en", "en_US"),
        ("fr", "fr_FR"),
        ("nl", "nl_NL"),
        ("pt", "pt_PT"),
        ("en-GB", "en_GB"),
        ("pt-BR", "pt_BR"),
        ("sr-Latn-RS", "sr_RS"),
        ("zh-Hant-TW", "zh_TW"),
        ("EN-gb", "en_GB"),
        ("xx", None),
        ("tlh", None),
    ],
)
def test_og_locale_keeps_the_region_or_takes_the_usual_one(
    language: str, locale: str | None
) -> None:
    assert seo.og_locale(language) == locale


# --- hostile text --------------------------------------------------------------------------------


def ld_scripts(body: bytes) -> list[str]:
    """The text of each JSON-LD script element, as a browser's parser (html5lib) reads it."""
    document = parse_html(body)
    return [text_of(s) for s in elements(document, "script") if s.get("type") == LD_JSON]  # type: ignore[attr-defined]


def our_json(body: bytes) -> str:
    """What the page's own serialisation put between the tags (found in the bytes)."""
    text = body.decode("utf-8")
    start = text.index(f'<script type="{LD_JSON}">') + len(f'<script type="{LD_JSON}">')
    return text[start : text.index("</script>", start)]


def test_hostile_text_stays_data_inside_the_json_ld() -> None:
    catalog, site = hostile_catalog(), site_of("hostile")
    for path in html_paths(site):
        body = site[path].body
        scripts = ld_scripts(body)
        if path in {"/subscribe/", "/404.html", "/embed/"}:
            assert scripts == [], path
            continue
        assert scripts == [our_json(body)], path  # nothing closed the element early
        assert "<" not in scripts[0] and ">" not in scripts[0], path
        runnable = [s for s in elements(parse_html(body), "script") if s.get("type") != LD_JSON]  # type: ignore[attr-defined]
        assert all(s.get("src") and not text_of(s) for s in runnable), path  # type: ignore[attr-defined]
    feed = catalog.feed
    for entry in catalog.entries:
        (text,) = ld_scripts(site[f"/entries/{entry.id}/"].body)
        data = json.loads(text)
        (og,) = extracted(site, f"/entries/{entry.id}/")["opengraph"]
        assert (og["og:title"], og["og:site_name"]) == (entry.title, feed.title)
        assert data["description"] == summary_text(entry.summary)
        if entry.event is not None:
            assert data["name"] == entry.title
            assert data["organizer"]["name"] == feed.author.name  # type: ignore[union-attr]
            assert data["location"]["name"] == entry.event.location
        else:
            assert data["headline"] == entry.title
            assert data["author"]["url"] == feed.author.uri  # type: ignore[union-attr]
    home = json.loads(ld_scripts(site["/"].body)[0])
    assert home["name"] == feed.title and home["description"] == feed.subtitle
    assert {e["name"] for e in home["mainEntity"]["itemListElement"]} == {
        e.title for e in catalog.entries
    }


@pytest.mark.parametrize(
    "text",
    [
        "</script><script>alert(1)</script>",
        "</SCRIPT >",
        "<!--<script>",
        "]]>&amp;<\u2028\u2029",
        "\u202e\U0001f389",
    ],
)
def test_json_ld_script_cannot_be_closed_by_its_text(text: str) -> None:
    element = seo.json_ld_script({"name": text})
    page = f"<!DOCTYPE html><html><head><title>t</title>{element}</head><body></body></html>"
    (script,) = ld_scripts(page.encode())
    assert json.loads(script) == {"name": text}
    assert str(element) == f'<script type="{LD_JSON}">{script}</script>\n'


# --- sitemap and robots ------------------------------------------------------------------


def sitemap_locs(body: bytes, kind: str = "url") -> list[tuple[str, str | None]]:
    root = etree.fromstring(body)
    assert root.tag == SITEMAP_NS + ("urlset" if kind == "url" else "sitemapindex")
    found = []
    for element in root:
        assert element.tag == SITEMAP_NS + kind
        loc = element.findtext(SITEMAP_NS + "loc")
        assert loc is not None
        found.append((loc, element.findtext(SITEMAP_NS + "lastmod")))
    return found


def listed_pages(site: Site) -> set[str]:
    return {p for p in html_paths(site) if p not in NOT_LISTED}


@pytest.mark.parametrize("name", ["bundled", "rich", "hostile"])
def test_the_sitemap_lists_every_page_once_with_its_lastmod(name: str) -> None:
    site = site_of(name)
    catalog = {"bundled": bundled_catalog, "rich": rich_catalog, "hostile": hostile_catalog}[name]()
    locs = sitemap_locs(site["/sitemap.xml"].body)
    urls = [loc for loc, _ in locs]
    assert len(urls) == len(set(urls))
    assert set(urls) == {BASE + p.lstrip("/") for p in listed_pages(site)}
    lastmods = dict(locs)
    for entry in catalog.entries:
        stamp = lastmods[page_url(entry)]
        expected = entry.modified
        assert (datetime.fromisoformat(stamp) if stamp else None) == expected, entry.id
    newest = max(e.modified for e in catalog.entries if e.modified is not None)
    assert datetime.fromisoformat(lastmods[BASE] or "") == newest
    assert site["/sitemap.xml"].content_type == "application/xml; charset=utf-8"


def test_robots_txt_names_the_sitemap() -> None:
    output = site_of("bundled")["/robots.txt"]
    assert output.content_type == "text/plain; charset=utf-8"
    lines = output.body.decode("ascii").splitlines()
    assert "User-agent: *" in lines and "Disallow:" in lines
    assert "Sitemap: https://feeds.example.org/sitemap.xml" in lines


def test_sitemap_and_robots_match_their_golden_files(golden: Any) -> None:
    site = site_of("bundled")
    golden.check("seo/sitemap.xml", site["/sitemap.xml"].body)
    golden.check("seo/robots.txt", site["/robots.txt"].body)


def test_past_its_limit_the_sitemap_is_an_index_of_parts() -> None:
    catalog, site = bundled_catalog(), site_of("bundled")
    outputs = sitemap.render_sitemaps(catalog, max_urls=4)
    index = sitemap_locs(bytes(outputs["/sitemap.xml"]), "sitemap")
    pages = len(listed_pages(site))
    assert [loc for loc, _ in index] == [
        f"{BASE}sitemaps/{n}.xml" for n in range(1, -(-pages // 4) + 1)
    ]
    every: list[str] = []
    for loc, lastmod in index:
        part = sitemap_locs(bytes(outputs[urlsplit(loc).path]))
        assert 1 <= len(part) <= 4
        every += [url for url, _ in part]
        stamps = [datetime.fromisoformat(s) for _, s in part if s]
        assert (datetime.fromisoformat(lastmod) if lastmod else None) == max(stamps, default=None)
    assert sorted(every) == sorted(BASE + p.lstrip("/") for p in listed_pages(site))
    assert sitemap.MAX_URLS == 50_000  # the protocol's limit


@pytest.fixture
def small_sitemaps(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sitemap files of 4 URLs: the index and its parts, from any Site built meanwhile."""
    monkeypatch.setattr(sitemap, "MAX_URLS", 4)


def sitemap_urls(get: Any) -> list[str]:
    """Every URL the sitemap (and its parts, if an index) lists, fetched through `get`."""
    body = get("/sitemap.xml")
    root = etree.fromstring(body)
    if root.tag == SITEMAP_NS + "urlset":
        return [loc for loc, _ in sitemap_locs(body)]
    urls = []
    for loc, _ in sitemap_locs(body, "sitemap"):
        urls += [u for u, _ in sitemap_locs(get(urlsplit(loc).path))]
    return urls


@pytest.mark.parametrize("limit", ["one file", "index"])
def test_every_sitemap_url_answers_200_from_the_app(
    limit: str, request: pytest.FixtureRequest
) -> None:
    if limit == "index":
        request.getfixturevalue("small_sitemaps")
    client = web.create_app(
        catalog_path=str(ROOT / "entries.yaml"),
        test_config={"RELOAD": False, "WEBSUB": False, "RELOAD_SETTLE": False},
    ).test_client()

    def get(path: str) -> bytes:
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert answer.content_type == "application/xml; charset=utf-8"
        return bytes(answer.get_data())

    urls = sitemap_urls(get)
    assert len(urls) == len(listed_pages(site_of("bundled")))
    for url in urls:
        assert url.startswith(BASE)
        answer = client.get("/" + url[len(BASE) :])
        assert answer.status_code == 200, url
        assert answer.content_type == "text/html; charset=utf-8"
    robots = client.get("/robots.txt")
    assert robots.status_code == 200 and b"Sitemap: " + BASE.encode() in robots.get_data()


@pytest.mark.slow
@pytest.mark.parametrize("limit", ["one file", "index"])
def test_every_sitemap_url_answers_200_from_nginx_serving_the_export(
    limit: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    from servers import start_nginx
    from test_nginx import fetch

    from feeds.publish.export import export_site
    from feeds.site import build_site as build

    if limit == "index":
        request.getfixturevalue("small_sitemaps")
    site = build(bundled_catalog())
    assert ("/sitemaps/1.xml" in site) == (limit == "index")
    export_site(site, tmp_path / "site")
    with start_nginx(tmp_path / "site") as server:

        def get(path: str) -> bytes:
            answer = fetch(server, path)
            assert answer.status == 200, path
            assert answer.header("Content-Type") == "application/xml; charset=utf-8"
            return answer.body

        urls = sitemap_urls(get)
        assert len(urls) == len(listed_pages(site))
        for url in urls:
            answer = fetch(server, "/" + url[len(BASE) :])
            assert answer.status == 200, url
            assert answer.header("Content-Type") == "text/html; charset=utf-8"
        robots = fetch(server, "/robots.txt")
        assert robots.status == 200
        assert robots.header("Content-Type") == "text/plain; charset=utf-8"


# --- in the browser ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from test_browser_pages import serve_app
    from test_hostile_content import CATALOG_TEXT

    yield from serve_app(tmp_path_factory.mktemp("seo-hostile"), CATALOG_TEXT)


@pytest.mark.slow
def test_chromium_reports_no_csp_violation_and_reads_the_json_ld(hostile_server: Any) -> None:
    """JSON-LD is a data block: Chromium runs none, so `script-src 'self'` refuses
    nothing, and the hostile text in it neither runs nor closes the element."""
    from playwright.sync_api import sync_playwright
    from test_browser_pages import WATCH_VIOLATIONS, launch, open_page, violations

    catalog = hostile_catalog()
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            context = browser.new_context()
            context.add_init_script(WATCH_VIOLATIONS)
            for entry in catalog.entries:
                page, console = open_page(context, hostile_server.url(f"/entries/{entry.id}/"))
                assert violations(page) == [], entry.id
                assert console.errors() == [], entry.id
                data = page.evaluate(
                    "[...document.querySelectorAll('script[type=\"application/ld+json\"]')]"
                    ".map((s) => JSON.parse(s.textContent))"
                )
                assert len(data) == 1
                assert entry.title in (data[0].get("name"), data[0].get("headline"))
                assert page.evaluate("document.querySelectorAll('img, iframe, svg').length") == 0
                page.close()
        finally:
            browser.close()
