"""Entry pages and list items are written by Python (feeds/render/pages_entry.py,
pages_fragments.py) that follows entry.html and _macros.html; these tests hold the two
to the same bytes.

Every entry of the test catalogs, of a generated catalog and of random catalogs is
rendered both ways: `PageRenderer.entry` and `.item` (the fast paths the Site uses) and
`PageRenderer.entry_from_template` and `.item_from_template` (the templates through
Jinja). A change to the templates that the fast paths do not follow fails here.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from itertools import islice
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import Markup
from markupsafe import escape as markupsafe_escape
from test_exdate import CALL, LUNCH, MARKET
from test_exdate import catalog_of as exdate_catalog
from test_hostile_content import catalog as hostile_catalog
from test_pages_support import ROOT, bundled_catalog, rich_catalog

from feeds.catalog import parse_catalog
from feeds.model import Author, Catalog, Entry, Event, Feed
from feeds.recurrence import starts
from feeds.render.pages import PageRenderer
from feeds.render.pages_entry import EntryChrome, marker
from feeds.render.pages_fragments import escape

pytestmark = pytest.mark.usefixtures("cold_memo")  # tables as a new process finds them


def assert_both_ways_alike(catalog: Catalog) -> None:
    renderer = PageRenderer(catalog)
    for entry in catalog.entries:
        fast, template = renderer.entry(entry), renderer.entry_from_template(entry)
        assert fast == template, f"{entry.id}: the fast path and entry.html differ"
        for heading in ("h2", "h3"):
            fast_item = renderer.item(entry, heading)
            assert fast_item == renderer.item_from_template(entry, heading), entry.id
            assert isinstance(fast_item, Markup)  # inserted as it is by the list templates


def generated_catalog(entries: int) -> Catalog:
    """The benchmarks' deterministic catalog (events in several zones, markup in text)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from gen_catalog import generate  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    text: str = generate(entries)
    return parse_catalog(text.encode())


CATALOGS: dict[str, Callable[[], Catalog]] = {
    "days left out": lambda: exdate_catalog(LUNCH, MARKET, CALL),
    "bundled": bundled_catalog,
    "rich": rich_catalog,
    "rich, mounted under a path": lambda: rich_catalog("https://example.net/news/feeds/"),
    "hostile": hostile_catalog,
    "generated-1000": lambda: generated_catalog(1000),
}


@pytest.mark.parametrize("name", CATALOGS)
def test_every_entry_page_is_what_the_template_writes(name: str) -> None:
    assert_both_ways_alike(CATALOGS[name]())


# --- random catalogs ------------------------------------------------------------------

# Text with everything escaping or the layout could get wrong: markup, quotes, entities,
# Jinja syntax, line breaks, non-ASCII. No control characters: the catalog refuses them.
MARKUP = ["<", ">", "&", '"', "'", "&amp;", "<b>", "{{ x }}", "{% if %}", "\n", " ", "é", "🎉"]
texts = st.lists(
    st.sampled_from(MARKUP) | st.text(st.characters(exclude_categories=("Cs", "Cc")), max_size=8),
    max_size=6,
).map("".join)
slugs = st.from_regex(r"[a-z0-9][a-z0-9-]{0,12}", fullmatch=True)
urls = st.sampled_from(
    [
        "https://example.org/",
        "https://EXAMPLE.org:8080/a?b=1&c=<2>&d='3'&e=\"4\"",
        "http://[2001:db8::1]/path",
        "https://user@example.com/~x/%20y",
    ]
)
ZONES = ["Europe/Brussels", "America/New_York", "Asia/Tokyo", "UTC"]
instants = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
)
RULES = [
    "FREQ=WEEKLY;BYDAY=TU",  # never ends
    "FREQ=DAILY;COUNT=3",
    "FREQ=MONTHLY;BYDAY=1TU;COUNT=12",
    "FREQ=WEEKLY;COUNT=60",  # more than MAX_OCCURRENCES
    "FREQ=YEARLY;UNTIL=20300101",
]


@st.composite
def events(draw: st.DrawFn) -> Event:
    first = draw(st.dates(min_value=date(1990, 1, 1), max_value=date(2040, 1, 1)))
    if draw(st.booleans()):  # all day
        last = first + timedelta(days=draw(st.integers(0, 70)))
        event = Event(start=first, end=last)
    else:
        zone = draw(st.sampled_from([*ZONES, None]))
        tzinfo = ZoneInfo(zone) if zone else timezone(timedelta(hours=5, minutes=30))
        start = datetime.combine(first, draw(st.times()), tzinfo=tzinfo)
        end = start + timedelta(minutes=draw(st.integers(1, 60 * 24 * 3)))
        event = Event(start=start, end=end, timezone=zone)
    rrule = draw(st.none() | st.sampled_from(RULES))
    # Some of its second to fifth days left out, as the catalog allows
    try:  # (a date UNTIL with a timed start is not a catalog's rule: dateutil refuses it)
        later = (
            [start.date() for start in islice(starts(rrule, event.start), 1, 5)] if rrule else []
        )
    except ValueError:
        later = []
    exdate = draw(st.lists(st.sampled_from(later), unique=True) if later else st.just([]))
    return replace(
        event,
        location=draw(st.none() | texts),
        geo=draw(st.none() | st.tuples(st.floats(-90, 90), st.floats(-180, 180))),
        url=draw(st.none() | urls),
        status=draw(st.sampled_from(["confirmed", "tentative", "cancelled"])),
        rrule=rrule,
        exdate=tuple(sorted(exdate)),
    )


@st.composite
def entries(draw: st.DrawFn) -> Entry:
    published = draw(st.none() | instants)
    updated = draw(st.none() | st.just(published) | instants)
    return Entry(
        id=draw(slugs),
        title=draw(texts),
        summary=draw(st.sampled_from(["", "Plain.", "*Em* & <b>x</b>\n\n[a](/x)"]) | texts),
        type=draw(st.none() | texts),
        tags=tuple(draw(st.lists(slugs, max_size=3, unique=True))),
        published=published,
        updated=updated,
        link=draw(st.none() | urls),
        event=draw(st.none() | events()),
    )


@st.composite
def feeds(draw: st.DrawFn) -> Feed:
    title = draw(texts.filter(str.strip))
    return Feed(
        title=title,
        link=draw(urls),
        base_url=draw(st.sampled_from(["https://feeds.example.org/", "https://x.net/a/b/"])),
        id_authority="example.org,2024",
        subtitle=draw(st.none() | texts),
        author=draw(st.none() | st.builds(Author, name=texts)),
        language=draw(st.sampled_from(["en", "fr-BE"])),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(feed=feeds(), entry_list=st.lists(entries(), min_size=1, max_size=3))
def test_random_entries_render_alike_both_ways(feed: Feed, entry_list: list[Entry]) -> None:
    assert_both_ways_alike(Catalog(feed=feed, entries=tuple(entry_list)))


# --- the chrome -----------------------------------------------------------------------


def test_the_chrome_has_each_slot_where_base_html_puts_it() -> None:
    chrome = PageRenderer(rich_catalog()).entry_writer.chrome
    slots = {"id": "ID", "title": "TITLE", "description": "DESC", "head": "HEAD\n", "main": "MAIN"}
    filled = chrome.fill(slots).decode("utf-8")
    assert "<title>TITLE · Test &amp; &lt;b&gt;feeds&lt;/b&gt;</title>" in filled
    assert '<meta name="description" content="DESC">' in filled
    assert '<meta property="og:title" content="TITLE">' in filled
    assert '<meta property="og:description" content="DESC">' in filled
    assert '<meta property="og:url" content="https://feeds.example.org/entries/ID/">' in filled
    assert "defer></script>\nHEAD\n</head>" in filled
    assert '<link rel="canonical" href="https://feeds.example.org/entries/ID/">' in filled
    assert '<main id="main" class="wrap">\nMAIN</main>' in filled


def test_a_chrome_with_a_slot_written_otherwise_is_refused() -> None:
    # e.g. `{{ entry.title|upper }}` in a template: the marker no longer names a slot
    with pytest.raises(ValueError, match="markers not as expected"):
        EntryChrome(f"<title>{marker('title').upper()}</title>{marker('main')}")


# --- escaping -------------------------------------------------------------------------


@given(st.text() | texts)
def test_escape_writes_what_autoescaping_writes(text: str) -> None:
    assert escape(text) == markupsafe_escape(text)
