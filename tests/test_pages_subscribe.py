"""/subscribe/ as html5lib reads it: every address absolute under base_url, every link
of the pages' subscribe blocks and navigation landing on a part of it that exists.

(The copy buttons and the clipboard: tests/test_browser_subscribe.py, in Chromium.)
"""

from __future__ import annotations

from urllib.parse import urlsplit

from test_pages_support import elements, html_paths, parse_html, rich_catalog, site_of

BASE = "https://example.net/news/feeds/"  # mounted under a path, as on a shared host


def test_subscribe_page_gives_every_address_absolute_and_read_only() -> None:
    catalog = rich_catalog(BASE)
    site = site_of(catalog)
    output = site["/subscribe/"]
    assert output.content_type == "text/html; charset=utf-8"
    document = parse_html(output.body)
    fields = {
        field.get("id"): field  # type: ignore[attr-defined]
        for field in elements(document, "input")
    }
    expected = {
        "feed-atom-url": BASE + "feed.atom",
        "feed-rss-url": BASE + "feed.rss",
        "feed-json-url": BASE + "feed.json",
        "calendar-url": BASE + "events.ics",
    }
    for tag in catalog.tags:
        expected[f"feed-url-{tag}"] = f"{BASE}tags/{tag}/feed.atom"
        expected[f"ics-url-{tag}"] = f"{BASE}tags/{tag}/events.ics"
    assert {name: field.get("value") for name, field in fields.items()} == expected  # type: ignore[attr-defined]
    assert all(field.get("readonly") is not None for field in fields.values())  # type: ignore[attr-defined]
    copies = {b.get("data-copy") for b in elements(document, "button")}  # type: ignore[attr-defined]
    assert copies == set(expected)
    labels = {label.get("for") for label in elements(document, "label")}  # type: ignore[attr-defined]
    assert labels == set(expected)
    for path in expected.values():  # each address is a document of the Site
        assert site.get("/" + path[len(BASE) :]) is not None, path


def test_every_page_leads_to_the_subscribe_page_and_not_to_raw_feeds() -> None:
    site = site_of(rich_catalog(BASE))
    ids = {
        element.get("id")  # type: ignore[attr-defined]
        for element in parse_html(site["/subscribe/"].body).iter()  # type: ignore[attr-defined]
    }
    mount = urlsplit(BASE).path
    for path in html_paths(site):
        if path.startswith("/embed/"):
            continue  # the widget's frame links home and to the feeds, for the embedding site
        hrefs = [a.get("href") or "" for a in elements(parse_html(site[path].body), "a")]  # type: ignore[attr-defined]
        assert mount + "subscribe/" in hrefs, f"{path}: no Subscribe link"
        assert not [h for h in hrefs if h.endswith((".atom", ".rss", "feed.json"))], path
        for href in hrefs:
            if href.startswith(mount + "subscribe/#"):
                assert href.split("#", 1)[1] in ids, f"{path}: {href}"
