"""Pages, as html5lib (the HTML5 parsing algorithm) reads them: valid, complete, linked.

Every test builds a whole Site (all renderers), so links into the feeds and calendars are
checked against what the other renderers really produce.
"""

from __future__ import annotations

import json
from functools import cache
from urllib.parse import parse_qs, urlsplit

import lxml.html
import pytest
from lxml import etree
from test_pages_support import (
    HOSTILE,
    SENTINEL_SCRIPT,
    bundled_catalog,
    elements,
    html_paths,
    internal_targets,
    parse_html,
    rich_catalog,
    site_of,
    text_of,
)

from feeds.render import pages
from feeds.render.pages_grid import MAX_OCCURRENCES, MAX_SPAN, occurrences
from feeds.site import Site

BASE = "https://feeds.example.org/"


@cache
def bundled_site() -> Site:
    return site_of(bundled_catalog())


@cache
def rich_site() -> Site:
    return site_of(rich_catalog())


@cache
def mounted_site() -> Site:
    """The rich catalog served under a path prefix, as on a shared host."""
    return site_of(rich_catalog("https://example.net/news/feeds/"))


SITES = {"bundled": bundled_site, "rich": rich_site, "mounted": mounted_site}


def page(site: Site, path: str) -> object:
    return parse_html(site[path].body)


def links_by_text(document: object) -> dict[str, str]:
    return {" ".join(text_of(a).split()): a.get("href") for a in elements(document, "a")}  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", SITES)
def test_every_page_parses_strictly(name: str) -> None:
    site = SITES[name]()
    for path in html_paths(site):
        try:
            parse_html(site[path].body)
        except Exception as exc:  # html5lib's ParseError names the position
            pytest.fail(f"{name} {path}: {exc}")


@pytest.mark.parametrize("name", SITES)
def test_every_internal_link_resolves_in_the_site(name: str) -> None:
    site = SITES[name]()
    base_url = site_catalog_base(name)
    broken = []
    for path in html_paths(site):
        for target in internal_targets(path, page(site, path), base_url):
            if site.get(target) is None:
                broken.append(f"{path} -> {target}")
    assert broken == []


def site_catalog_base(name: str) -> str:
    return {"bundled": BASE, "rich": BASE, "mounted": "https://example.net/news/feeds/"}[name]


@pytest.mark.parametrize("name", SITES)
def test_pages_follow_the_content_security_policy(name: str) -> None:
    """No inline script, no inline style, no event handler attributes: CSP would block them."""
    site = SITES[name]()
    for path in html_paths(site):
        document = page(site, path)
        for script in elements(document, "script"):
            if script.get("type") == "application/ld+json":  # type: ignore[attr-defined]
                json.loads(text_of(script))  # a data block: never run, CSP has no say
                continue
            assert script.get("src"), f"{path}: inline <script>"  # type: ignore[attr-defined]
            assert not text_of(script).strip(), f"{path}: <script> with a body"
        assert not list(elements(document, "style")), f"{path}: <style> element"
        for element in document.iter():  # type: ignore[attr-defined]
            for attribute in element.attrib:
                assert attribute != "style", f"{path}: style attribute on {element.tag}"
                assert not attribute.startswith("on"), f"{path}: {attribute} handler"


def test_home_lists_every_seed_entry_and_event() -> None:
    catalog = bundled_catalog()
    document = page(bundled_site(), "/")
    listed = links_by_text(document)
    for entry in catalog.entries:
        assert listed.get(entry.title) == f"/entries/{entry.id}/", entry.id
    events = next(s for s in elements(document, "section") if s.get("data-event-split") is not None)  # type: ignore[attr-defined]
    titles = {text_of(h).strip() for h in elements(events, "a")}
    assert {e.title for e in catalog.events} <= titles


def test_home_autodiscovery_names_every_feed_and_the_calendar() -> None:
    document = page(bundled_site(), "/")
    alternates = {
        link.get("type"): link.get("href")  # type: ignore[attr-defined]
        for link in elements(document, "link")
        if link.get("rel") == "alternate"  # type: ignore[attr-defined]
    }
    assert alternates == {
        "application/atom+xml": "/feed.atom",
        "application/rss+xml": "/feed.rss",
        "application/feed+json": "/feed.json",
        "text/calendar": "/events.ics",
    }
    assert all(bundled_site().get(path) is not None for path in alternates.values())


def test_home_subscribe_links_carry_the_calendar_url() -> None:
    listed = links_by_text(page(bundled_site(), "/"))
    ics = BASE + "events.ics"
    assert listed["Apple Calendar, Thunderbird (webcal)"] == "webcal://feeds.example.org/events.ics"
    google = urlsplit(listed["Google Calendar"])
    assert (google.netloc, google.path) == ("calendar.google.com", "/calendar/r")
    assert parse_qs(google.query) == {"cid": ["webcal://feeds.example.org/events.ics"]}
    outlook = urlsplit(listed["Outlook.com"])
    assert outlook.path == "/calendar/0/addfromweb"
    assert parse_qs(outlook.query) == {"url": [ics], "name": ["EUROCITIES news and events"]}
    codes = {code.get("id"): text_of(code) for code in elements(page(bundled_site(), "/"), "code")}  # type: ignore[attr-defined]
    assert codes["site-ics-url"] == ics
    assert codes["site-feed-url"] == BASE + "feed.atom"


def test_tag_page_subscribes_to_the_tag_feeds() -> None:
    document = page(bundled_site(), "/tags/culture/")
    listed = links_by_text(document)
    # The feed's address is there to copy; the button leads to what to do with it (a
    # browser shows a feed as raw XML), the tag's part of /subscribe/.
    codes = {code.get("id"): text_of(code) for code in elements(document, "code")}  # type: ignore[attr-defined]
    assert codes["tag-feed-url"] == BASE + "tags/culture/feed.atom"
    assert listed["How to follow it in a feed reader"] == "/subscribe/#tag-culture"
    assert "Atom feed" not in listed
    cid = parse_qs(urlsplit(listed["Google Calendar"]).query)["cid"]
    assert cid == ["webcal://feeds.example.org/tags/culture/events.ics"]
    assert listed["Bologna - Let's do it together!"] == "/entries/bologna-lets-do-it-together/"
    assert "WG creative citizenship met in Ostend" not in listed  # tagged cooperation only


def add_to_calendar(site: Site, entry_id: str) -> dict[str, dict[str, list[str]]]:
    listed = links_by_text(page(site, f"/entries/{entry_id}/"))
    return {
        "google": parse_qs(urlsplit(listed["Google Calendar"]).query),
        "outlook": parse_qs(urlsplit(listed.get("Outlook.com", "")).query),
        "ics": {"path": [listed["Download .ics (Apple Calendar, Outlook, Thunderbird)"]]},
    }


def test_all_day_event_links_end_the_day_after() -> None:
    links = add_to_calendar(bundled_site(), "urban-academy-integration-migrants-refugees-antwerp")
    google = links["google"]
    assert google["action"] == ["TEMPLATE"]
    assert google["dates"] == ["20190521/20190523"]
    assert google["location"] == ["Antwerp, Belgium"]
    assert google["details"][0].endswith(
        BASE + "entries/urban-academy-integration-migrants-refugees-antwerp/"
    )
    outlook = links["outlook"]
    assert (outlook["startdt"], outlook["enddt"], outlook["allday"]) == (
        ["2019-05-21"],
        ["2019-05-23"],
        ["true"],
    )
    path = links["ics"]["path"][0]
    assert path == "/entries/urban-academy-integration-migrants-refugees-antwerp.ics"
    assert bundled_site().get(path) is not None


def test_timed_event_links_use_utc_and_name_the_zone() -> None:
    links = add_to_calendar(rich_site(), "hostile-event")
    # 09:30-17:00 in Brussels on 10 April 2024 (CEST, UTC+2)
    assert links["google"]["dates"] == ["20240410T073000Z/20240410T150000Z"]
    assert links["google"]["ctz"] == ["Europe/Brussels"]
    assert links["outlook"]["startdt"] == ["2024-04-10T07:30:00Z"]
    assert links["outlook"]["allday"] == ["false"]


def test_recurring_event_links_carry_the_rule() -> None:
    links = add_to_calendar(rich_site(), "weekly")
    assert links["google"]["recur"] == ["RRULE:FREQ=WEEKLY;BYDAY=TU"]
    # Outlook.com's link has no recurrence: Outlook users get the .ics, which has it
    assert links["outlook"] == {}
    assert links["ics"]["path"] == ["/entries/weekly.ics"]


def facts(site: Site, entry_id: str) -> dict[str, str]:
    document = page(site, f"/entries/{entry_id}/")
    terms = [" ".join(text_of(dt).split()) for dt in elements(document, "dt")]
    values = [" ".join(text_of(dd).split()) for dd in elements(document, "dd")]
    return dict(zip(terms, values, strict=True))


def test_event_page_shows_when_where_and_status() -> None:
    antwerp = facts(bundled_site(), "urban-academy-integration-migrants-refugees-antwerp")
    assert antwerp["When"] == "Tue 21 – Wed 22 May 2019 (all day)"
    assert antwerp["Status"] == "Confirmed"
    assert antwerp["Where"].startswith("Antwerp, Belgium Map")
    map_link = links_by_text(
        page(bundled_site(), "/entries/urban-academy-integration-migrants-refugees-antwerp/")
    )
    osm = [href for text, href in map_link.items() if text.startswith("Map")][0]
    assert urlsplit(osm).netloc == "www.openstreetmap.org"
    assert parse_qs(urlsplit(osm).query) == {"mlat": ["51.2194"], "mlon": ["4.4025"]}

    timed = facts(rich_site(), "hostile-event")
    assert timed["When"] == "Wed 10 April 2024, 09:30 – 17:00 (Europe/Brussels, UTC+02:00)"
    assert (
        facts(rich_site(), "offset-call")["When"] == "Thu 11 April 2024, 15:00 – 16:00 (UTC+05:30)"
    )


def test_cancelled_and_tentative_are_said_plainly() -> None:
    cancelled = page(rich_site(), "/entries/cancelled-day/")
    notices = [
        " ".join(text_of(p).split())
        for p in elements(cancelled, "p")
        if "notice" in (p.get("class") or "")
    ]  # type: ignore[attr-defined]
    assert notices == ["Cancelled. This event will not take place."]
    assert facts(rich_site(), "cancelled-day")["Status"] == "Cancelled"
    assert facts(rich_site(), "maybe-trip")["Status"] == "Tentative"
    grid = " ".join(text_of(page(rich_site(), "/events/")).split())
    assert "Cancelled Cancelled study day" in grid


def test_hostile_text_is_shown_as_text_never_as_markup() -> None:
    site = rich_site()
    for path in html_paths(site):
        document = page(site, path)
        scripts = [
            s.get("src")  # type: ignore[attr-defined]
            for s in elements(document, "script")
            if s.get("type") != "application/ld+json"  # type: ignore[attr-defined]
        ]
        assert all(src in ("/site.js", "/embed-page.js") for src in scripts), path
        assert [img.get("src") for img in elements(document, "img")] == [], path  # type: ignore[attr-defined]
        for a in elements(document, "a"):
            assert not (a.get("href") or "").startswith("javascript:"), path  # type: ignore[attr-defined]
    shown = text_of(page(site, "/entries/hostile/"))
    assert HOSTILE in shown and SENTINEL_SCRIPT in shown


def test_month_grid_has_a_table_per_month_with_events() -> None:
    document = page(rich_site(), "/events/")
    captions = [" ".join(text_of(c).split()) for c in elements(document, "caption")]
    assert captions[:5] == ["March 2024", "April 2024", "May 2024", "June 2024", "July 2024"]
    april = next(t for t in elements(document, "table") if t.get("id") == "m-2024-04")  # type: ignore[attr-defined]
    cells = {
        text_of(cell).split()[0]: " ".join(text_of(cell).split())
        for cell in elements(april, "td")
        if text_of(cell).strip()
    }
    assert "Weekly open office" in cells["9"]  # a Tuesday
    assert "Call at a fixed offset" in cells["11"]
    assert "Weekly open office" not in cells["10"]


def test_recurrence_without_end_is_bounded() -> None:
    weekly = rich_catalog().entry("weekly")
    assert weekly is not None and weekly.event is not None
    found = occurrences(weekly)
    assert len(found) == MAX_OCCURRENCES
    assert found[-1].start - found[0].start <= MAX_SPAN  # type: ignore[operator]
    # wall-clock time holds across the DST change of 31 March 2024
    assert {o.start.strftime("%H:%M %a") for o in found} == {"10:00 Tue"}  # type: ignore[union-attr]
    daily = (
        rich_catalog()
        .entries[0]
        .__class__(
            id="d",
            title="d",
            event=weekly.event.__class__(
                start=weekly.event.start, end=weekly.event.end, rrule="FREQ=DAILY"
            ),
        )
    )
    assert len(occurrences(daily)) == MAX_OCCURRENCES


def test_a_recurring_event_s_page_gives_its_rule_and_dates_in_words() -> None:
    """Readers are told how often ("Every week on Tuesday") and the dates ("Tue 12 March 2024,
    ..."), never the iCalendar rule (`FREQ=WEEKLY;BYDAY=TU`), which is for calendar
    programs."""
    document = lxml.html.fromstring(rich_site()["/entries/weekly/"].body)
    facts = "".join(document.xpath("//dl[@class='facts']//text()"))
    assert "FREQ" not in facts and "BYDAY" not in facts
    assert document.xpath("//dl[@class='facts']/dd[ul[@class='occurrences']]/p[1]/text()") == [
        "Every week on Tuesday"
    ]
    dates = document.xpath("//ul[@class='occurrences']/li/time/text()")
    assert dates[:2] == [
        "Tue 5 March 2024, 10:00 – 11:00 (Europe/Brussels, UTC+01:00)",
        "Tue 12 March 2024, 10:00 – 11:00 (Europe/Brussels, UTC+01:00)",
    ]


def test_events_json_holds_events_that_feed_json_lacks() -> None:
    site = bundled_site()
    events = json.loads(site["/events.json"].body)
    feed = json.loads(site["/feed.json"].body)
    assert site["/events.json"].content_type.startswith("application/feed+json")
    assert events["version"] == "https://jsonfeed.org/version/1.1"
    antwerp = "tag:eurocities.eu,2019:entry/urban-academy-integration-migrants-refugees-antwerp"
    assert antwerp in {item["id"] for item in events["items"]}
    assert antwerp not in {item["id"] for item in feed["items"]}
    by_id = {item["id"]: item for item in events["items"]}
    assert by_id[antwerp]["_event"]["start"] == "2019-05-21"
    assert by_id[antwerp]["_event"]["all_day"] is True
    assert "date_published" not in by_id[antwerp]
    # an event that is also a publication is the same item in both documents
    glasgow = "tag:eurocities.eu,2019:entry/wg-smart-social-inclusion-glasgow"
    feed_item = next(item for item in feed["items"] if item["id"] == glasgow)
    assert by_id[glasgow] == feed_item
    assert len(events["items"]) == len(bundled_catalog().events)
    for tag in bundled_catalog().tags:
        assert json.loads(site[f"/tags/{tag}/events.json"].body)["items"] is not None


@pytest.mark.parametrize("feed_path", ["/feed.atom", "/feed.rss"])
def test_feed_stylesheet_turns_both_feeds_into_a_page(feed_path: str) -> None:
    site = bundled_site()
    feed = etree.fromstring(site[feed_path].body)
    assert b'href="/feed.xsl"' in site[feed_path].body
    transform = etree.XSLT(etree.fromstring(site["/feed.xsl"].body))
    result = parse_html(bytes(transform(feed)))
    text = " ".join(text_of(result).split())
    assert "This is a web feed" in text
    assert "https://feeds.example.org" + feed_path in text
    for entry in bundled_catalog().publications:
        assert entry.title in text
    hrefs = [a.get("href") for a in elements(result, "a")]  # type: ignore[attr-defined]
    assert BASE + "entries/bologna-lets-do-it-together/" in hrefs
    assert [link.get("href") for link in elements(result, "link")] == ["/style.css"]  # type: ignore[attr-defined]


def test_rendering_is_deterministic() -> None:
    assert pages.render(rich_catalog()) == pages.render(rich_catalog())


def test_pages_match_golden_files(golden: object) -> None:
    site = bundled_site()
    for path, name in [
        ("/", "pages/home.html"),
        (
            "/entries/urban-academy-integration-migrants-refugees-antwerp/",
            "pages/entry-antwerp.html",
        ),
        ("/events/", "pages/events.html"),
        ("/embed/", "pages/embed.html"),
        ("/subscribe/", "pages/subscribe.html"),
    ]:
        golden.check(name, site[path].body)  # type: ignore[attr-defined]
