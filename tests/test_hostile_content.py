"""A catalog that is valid but hostile: markup, script, `javascript:` URLs, CR LF, iCalendar,
XML, JSON and Jinja syntax, bidi overrides, zero-width characters and emoji in every text
field the schema has. Every output of the Site must stay well-formed and inert, and give
each text back exactly, as the clients' own parsers read it.

The widget's rendering of the same kind of text in a real browser is tested in
`test_browser_pages.py::test_markup_in_the_catalog_never_runs` (Chromium, host page under
a strict CSP); here its data (`/events.json`) and frame page (`/embed/`) are checked.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import feedparser
import pytest
from feedcheck import ATOM_NS, assert_no_active_content, parse_xml
from test_ics_support import icalendar_events, icaljs
from test_pages_support import elements, html_paths, parse_html, text_of

from feeds.catalog import parse_catalog
from feeds.model import Catalog
from feeds.site import Site, build_site

# One line of everything that means something to some format (one-line fields).
LINE = (
    "<script>alert(1)</script><img src=x onerror=alert(2)> <b>bold</b> "
    "]]> <![CDATA[x]]> <!ENTITY e SYSTEM 'file:///etc/passwd'> &amp; &e; &#x3c; "
    '"}, {"id": "evil"} \' ` \\ ; , : ^ '
    "{{ 7*7 }} {% for x in range(3) %}loop{% endfor %} ${7*7} #{7*7} "
    "END:VEVENT BEGIN:VEVENT UID:evil "
    "\u202eevil\u202c \u200bzero\u200dwidth\ufeff \u2028sep\u2029 "
    "\U0001f389\U0001f469\u200d\U0001f469\u200d\U0001f467 \U0001f1ea\U0001f1fa"
)
# The summary adds line breaks of every kind and Markdown links to hostile URLs.
SUMMARY = (
    LINE
    + "\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:injected\r\nSUMMARY:injected\r\n"
    + "\n\n[click](javascript:alert(3)) [data](data:text/html,<script>alert(4)</script>) "
    + "[vb](vbscript:msgbox) ![img](javascript:alert(5)) "
    + '[quoted](https://example.org/?a="b"&c=\'d\'<e>) <https://example.org/?q="x">\n\n'
    + '<a href="javascript:alert(6)" onclick="alert(7)">x</a> <iframe src=x></iframe> '
    + "<svg onload=alert(8)></svg> <style>body{display:none}</style> <form action=x>"
    + "<input formaction=javascript:alert(9)></form>\n\n"
    + "```\n{{ 7*7 }} </code></pre><script>alert(10)</script>\n```\n"
)
QUERY_URL = "https://example.org/a?q=%22x%22&b='y'&c=\"z\"&d=<e>&f={{7*7}}"


def quoted(text: str) -> str:
    """`text` as a YAML double-quoted scalar (every character survives)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    for char, escape in (("\r", "\\r"), ("\n", "\\n"), ("\u2028", "\\L")):
        escaped = escaped.replace(char, escape)
    return '"' + escaped.replace("\u2029", "\\P").replace("\ufeff", "\\uFEFF") + '"'


CATALOG_TEXT = f"""\
feed:
  title: {quoted("Feed " + LINE)}
  subtitle: {quoted("Subtitle " + LINE)}
  link: {quoted(QUERY_URL)}
  base_url: https://feeds.example.org/
  id_authority: example.org,2019
  author:
    name: {quoted("Author " + LINE)}
    email: "o'brien&co@example.org"
    uri: {quoted(QUERY_URL + "&author")}
  language: en
  timezone: Europe/Brussels
entries:
  - id: hostile-publication
    title: {quoted("Publication " + LINE)}
    type: {quoted("Type " + LINE[:90])}
    tags: [culture, "2019"]
    published: 2019-03-14T10:00:00
    summary: {quoted(SUMMARY)}
    link: {quoted(QUERY_URL + "&entry")}
  - id: hostile-event
    title: {quoted("Event " + LINE)}
    type: event
    tags: [culture]
    published: 2019-03-15
    summary: {quoted(SUMMARY)}
    event:
      start: 2019-05-21T09:00:00
      end: 2019-05-21T17:00:00
      location: {quoted("Location " + LINE)}
      geo: [51.2194, 4.4025]
      url: {quoted(QUERY_URL + "&event")}
      rrule: FREQ=WEEKLY;COUNT=3
  - id: hostile-all-day
    title: {quoted("All day " + LINE)}
    summary: {quoted(LINE)}
    event:
      start: 2019-06-01
      end: 2019-06-02
      location: {quoted(LINE)}
      status: cancelled
"""


@cache
def catalog() -> Catalog:
    return parse_catalog(CATALOG_TEXT.encode("utf-8"), "hostile.yaml")


@cache
def site() -> Site:
    return build_site(catalog())


def test_the_catalog_keeps_every_character_as_written() -> None:
    entry = catalog().entry("hostile-publication")
    assert entry is not None and entry.summary == SUMMARY
    assert catalog().feed.title == "Feed " + LINE
    assert catalog().feed.link == QUERY_URL


def outputs(suffix: str) -> list[str]:
    return [path for path in site() if path.endswith(suffix)]


def titles() -> dict[str, str]:
    return {entry.id: entry.title for entry in catalog().entries}


# --- feeds ------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".atom", ".rss"])
def test_xml_feeds_are_well_formed_and_readers_get_the_text_back(suffix: str) -> None:
    published = {e.title for e in catalog().entries if e.published is not None}
    for path in outputs(suffix):
        body = site()[path].body
        root = parse_xml(body)  # lxml: raises on anything not well-formed
        assert not root.xpath("//*[local-name()='script']"), path
        parsed = feedparser.parse(body)
        assert not parsed.bozo, (path, parsed.get("bozo_exception"))
        assert parsed.feed.title.startswith("Feed " + LINE)  # tag feeds add ": tag"
        assert {item.title for item in parsed.entries} <= published
        assert parsed.entries or "/tags/" in path
        for item in parsed.entries:
            for content in [*item.get("content", []), item.get("summary_detail")]:
                if content is not None and "html" in content.get("type", ""):
                    assert_no_active_content(content["value"], f"{path} {item.title[:20]}")


def test_atom_text_constructs_are_text_not_markup() -> None:
    root = parse_xml(site()["/feed.atom"].body)
    names = [t.text for t in root.iter(f"{{{ATOM_NS}}}name")]
    assert "Author " + LINE in names
    for summary in root.iter(f"{{{ATOM_NS}}}summary", f"{{{ATOM_NS}}}content"):
        if summary.get("type") == "html":
            assert_no_active_content(summary.text or "", "atom html")


def test_json_feeds_parse_and_strings_round_trip() -> None:
    for path in outputs(".json"):
        data = json.loads(site()[path].body)
        items = data.get("items", data.get("events", data if isinstance(data, list) else []))
        for item in items:
            if "title" in item:
                assert item["title"] in titles().values(), (path, item["title"][:40])
            if "content_html" in item:
                assert_no_active_content(item["content_html"], path)
    feed = json.loads(site()["/feed.json"].body)
    assert feed["title"] == "Feed " + LINE
    assert {item["id"][-30:] for item in feed["items"]} != set()
    assert sorted(item["title"] for item in feed["items"]) == sorted(
        e.title for e in catalog().entries if e.published is not None
    )


def json_strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in json_strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in json_strings(item)]
    return []


def test_the_widget_data_holds_the_text_as_data() -> None:
    data = json.loads(site()["/events.json"].body)
    strings = json_strings(data)
    assert "Event " + LINE in strings
    assert "Location " + LINE in strings


# --- calendars ----------------------------------------------------------------------------------

EVENTS = {"hostile-event", "hostile-all-day"}


def as_calendar_text(text: str) -> str:
    """What calendars carry: U+2028/U+2029 become spaces (`feeds.render.ics_text`: parsers
    that split lines on them would otherwise cut the value)."""
    return text.replace("\u2028", " ").replace("\u2029", " ")


def vevent_count(body: bytes) -> int:
    return len(re.findall(rb"^BEGIN:VEVENT\r$", body, re.MULTILINE))


def test_calendars_have_one_vevent_per_event_and_nothing_injected() -> None:
    for path in outputs(".ics"):
        body = site()[path].body
        parsed = icalendar_events(body)
        assert vevent_count(body) == len(parsed)
        assert all(not uid.startswith(("evil", "injected")) for uid in parsed), path
        assert body.count(b"\r\nUID:") == len(parsed)
    assert len(icalendar_events(site()["/events.ics"].body)) == len(EVENTS)


def test_both_calendar_parsers_read_the_same_text() -> None:
    body = site()["/events.ics"].body
    by_icalendar = icalendar_events(body)
    seen = icaljs(body, expand=5)
    assert seen["roots"] == 1
    assert seen["calendar"]["X-WR-CALNAME"] == [as_calendar_text("Feed " + LINE)]
    assert len(seen["events"]) == len(by_icalendar) == len(EVENTS)
    for event in seen["events"]:
        ours = by_icalendar[event["uid"]]
        title = event["summary"]
        assert title in {as_calendar_text(title) for title in titles().values()}
        assert str(ours["SUMMARY"]) == title
        assert event["location"] == str(ours["LOCATION"])
        assert event["location"].endswith(as_calendar_text(LINE))
        assert "injected" not in json.dumps(event["uid"])


# --- pages --------------------------------------------------------------------------------------

SITE_SCRIPTS = {"/site.js", "/embed-page.js", "/embed.js"}


def test_every_page_parses_and_runs_only_the_sites_own_scripts() -> None:
    for path in html_paths(site()):
        document = parse_html(site()[path].body)  # strict: raises on any parse error
        for script in elements(document, "script"):
            if script.get("type") == "application/ld+json":  # type: ignore[attr-defined]
                json.loads(text_of(script))  # data, never run (tests/test_seo.py)
                continue
            src = script.get("src")  # type: ignore[attr-defined]
            assert src in SITE_SCRIPTS, (path, src)
            assert not text_of(script).strip(), path
        for element in document.iter():  # type: ignore[attr-defined]
            for name, value in element.attrib.items():
                assert not name.lower().startswith("on"), (path, name)
                if name in ("href", "src", "action", "formaction"):
                    scheme = urlsplit(value.strip()).scheme.lower()
                    assert scheme in ("", "http", "https", "webcal", "mailto"), (path, value)
        for tag in ("iframe", "object", "embed", "form", "svg", "style", "base"):
            assert not list(elements(document, tag)), (path, tag)


def test_jinja_syntax_is_shown_not_evaluated() -> None:
    page = parse_html(site()["/entries/hostile-publication/"].body)
    (heading,) = list(elements(page, "h1"))
    assert text_of(heading).strip() == "Publication " + LINE
    assert "49" not in text_of(heading)  # 7*7 was not computed
    text = text_of(page)
    assert "{{ 7*7 }}" in text and "{% for x in range(3) %}" in text
    assert "looplooploop" not in text


def test_the_markup_shows_as_text_on_every_page_that_names_the_entry() -> None:
    for path in ("/", "/events/", "/embed/", "/entries/hostile-event/"):
        text = text_of(parse_html(site()[path].body))
        assert "<script>alert(1)</script>" in text, path
