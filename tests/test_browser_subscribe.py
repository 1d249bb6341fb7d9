"""The subscribe page, cancelled events and the widget's dates, in Debian's Chromium.

The real app serves a catalog with every kind of date the pages write (one day, days
across months and years, timed in a zone, overnight, at a fixed offset, recurring,
cancelled); a page of another origin embeds the widget (see test_browser_pages.py for
the servers). Screenshots of home, an event page, /subscribe/ and the widget, desktop
and phone, go to test-artifacts/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, sync_playwright
from screenshots import assert_rendered
from test_browser_pages import (
    ARTIFACTS,
    DESKTOP,
    PHONE,
    PHONE_SCALE,
    WATCH_VIOLATIONS,
    App,
    Host,
    embed_frame,
    launch,
    open_page,
    serve_app,
    serve_host,
    violations,
)

pytestmark = pytest.mark.slow

CATALOG = """
feed:
  title: City news
  subtitle: News and events of the city network
  link: https://example.org/
  base_url: https://feeds.example.org/
  id_authority: example.org,2019
  language: en
  timezone: Europe/Brussels
entries:
  - id: pledge
    title: A pledge for clean air
    type: news
    tags: [climate]
    published: 2019-03-14
    summary: Ten cities pledge to halve their emissions.
  - id: forum
    title: Forum on housing
    tags: [housing]
    published: 2019-03-20
    event:
      start: 2019-05-21
      end: 2019-05-22
      location: Antwerp, Belgium
  - id: summer-school
    title: Summer school
    tags: [climate]
    event:
      start: 2019-05-30
      end: 2019-06-02
      location: Ghent, Belgium
  - id: winter-meeting
    title: Winter meeting
    event:
      start: 2019-12-30
      end: 2020-01-02
  - id: workshop
    title: Mobility workshop
    tags: [climate]
    published: 2019-04-02T09:00:00+02:00
    event:
      start: 2019-04-10T09:30:00
      end: 2019-04-10T17:00:00
      timezone: Europe/Brussels
      location: Brussels, Belgium
  - id: night-shift
    title: Night shift visit
    event:
      start: 2019-04-12T22:00:00
      end: 2019-04-13T02:00:00
      timezone: Europe/Lisbon
  - id: call
    title: Call with Pune
    event:
      start: 2019-04-11T15:00:00+05:30
      end: 2019-04-11T16:00:00+05:30
  - id: weekly-office
    title: Weekly open office
    tags: [housing]
    event:
      start: 2019-04-02T10:00:00
      end: 2019-04-02T11:00:00
      rrule: FREQ=WEEKLY;COUNT=4
  - id: called-off
    title: Called-off study visit
    tags: [housing]
    published: 2019-03-25
    event:
      start: 2019-05-02
      end: 2019-05-02
      location: Toulouse, France
      status: cancelled
"""

EVENT_IDS = [
    "forum", "summer-school", "winter-meeting", "workshop", "night-shift", "call",
    "weekly-office", "called-off",
]  # fmt: skip
PUBLICATION_IDS = ["pledge", "forum", "workshop", "called-off"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        yield launch(playwright)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    yield from serve_app(tmp_path_factory.mktemp("subscribe"), CATALOG)


@pytest.fixture(scope="module")
def host(app: App) -> Iterator[Host]:
    yield from serve_host(app)


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context(
        viewport={"width": 1200, "height": 900}, permissions=["clipboard-read", "clipboard-write"]
    )
    ctx.add_init_script(WATCH_VIOLATIONS)
    yield ctx
    ctx.close()


# --- /subscribe/ -----------------------------------------------------------------------


def test_subscribe_page_shows_the_addresses_and_copies_them(
    app: App, context: BrowserContext
) -> None:
    home, _ = open_page(context, app.url("/"))
    home.get_by_role("navigation", name="Site").get_by_role("link", name="Subscribe").click()
    home.wait_for_url(app.url("/subscribe/"))
    page, console = open_page(context, app.url("/subscribe/"))
    fields = {
        "Feed address (Atom)": app.url("/feed.atom"),
        "Feed address (RSS)": app.url("/feed.rss"),
        "Feed address (JSON Feed)": app.url("/feed.json"),
        "Calendar address": app.url("/events.ics"),
        "Calendar address for housing": app.url("/tags/housing/events.ics"),
    }
    for label, url in fields.items():
        field = page.get_by_label(label, exact=True)
        assert field.input_value() == url, label
        assert field.is_editable() is False, label  # read-only
    assert page.get_by_label("Feed address (Atom)", exact=True).is_visible()
    for label in ("Feed address (Atom)", "Calendar address", "Calendar address for housing"):
        # the field's label as it is (a lower-cased first letter is wrong in German)
        page.get_by_role("button", name=f"Copy {label}", exact=True).click()
        page.get_by_role("status").filter(has_text="Copied").wait_for()
        assert page.evaluate("navigator.clipboard.readText()") == fields[label], label
        page.evaluate("document.getElementById('copy-status').textContent = ''")
    for app_name in ("Feedly", "NetNewsWire", "Thunderbird", "Google Calendar", "Outlook.com"):
        assert page.get_by_text(app_name).first.is_visible(), app_name
    webcal = page.get_by_role("link", name="Apple Calendar, Thunderbird (webcal)", exact=True)
    assert webcal.get_attribute("href") == app.url("/events.ics").replace("http://", "webcal://")
    assert violations(page) == [] and console.errors() == []


def test_subscribe_blocks_lead_to_the_subscribe_page(app: App, context: BrowserContext) -> None:
    page, _ = open_page(context, app.url("/tags/housing/"))
    page.get_by_role("link", name="How to follow it in a feed reader").click()
    page.wait_for_url(app.url("/subscribe/#tag-housing"))
    assert page.locator("#tag-housing").is_visible()
    assert page.get_by_label("Feed address for housing (Atom)").input_value() == app.url(
        "/tags/housing/feed.atom"
    )


# --- cancelled events and the widget's dates ------------------------------------------------


def page_dates(context: BrowserContext, app: App) -> tuple[dict[str, str], dict[str, str]]:
    """Each entry's date as its own page writes it: the event's, and the published day."""
    events, published = {}, {}
    page = context.new_page()
    for entry_id in sorted({*EVENT_IDS, *PUBLICATION_IDS}):
        page.goto(app.url(f"/entries/{entry_id}/"))
        title = page.get_by_role("heading", level=1).inner_text()
        if entry_id in EVENT_IDS:
            events[title] = page.locator("dl.facts dd time").first.inner_text()
        if entry_id in PUBLICATION_IDS:
            published[title] = page.locator("header .meta time").first.inner_text()
    page.close()
    return events, published


def widget_rows(page: Page, widget: str) -> dict[str, tuple[list[str], str]]:
    """Title -> (badges, date text) of each row of a widget."""
    rows = page.locator(f"#{widget} li")
    rows.first.wait_for()
    found = {}
    for row in rows.all():
        title = row.locator("a").first.inner_text()
        badges = row.locator(".badge").all_text_contents()
        text = row.locator(".meta").evaluate(
            "m => Array.from(m.childNodes).filter(n => n.nodeType === 3)"
            ".map(n => n.textContent).join('')"
        )
        found[title] = (badges, text.split(" · ")[0])
    return found


def test_widget_writes_dates_as_the_pages_and_badges_cancelled_events(
    app: App, host: Host, context: BrowserContext
) -> None:
    events, published = page_dates(context, app)
    assert published["A pledge for clean air"] == "Thu 14 March 2019"
    assert events["Summer school"] == "Thu 30 May – Sun 2 June 2019"
    page, console = open_page(context, host.url("/"))
    event_rows, publication_rows = widget_rows(page, "events"), widget_rows(page, "pubs")
    assert {title: text for title, (_, text) in event_rows.items()} == events
    assert {title: text for title, (_, text) in publication_rows.items()} == published
    assert page.evaluate("document.documentElement.lang") == "en"
    for rows in (event_rows, publication_rows):
        badges = {title: [b for b in found if b != "Past"] for title, (found, _) in rows.items()}
        assert badges.pop("Called-off study visit") == ["Cancelled"]
        assert set(map(tuple, badges.values())) == {()}
    frame = embed_frame(page)
    called_off = frame.locator("section[data-kind=events] li", has_text="Called-off study visit")
    assert called_off.locator(".status-cancelled").text_content() == "Cancelled"
    assert violations(page) == [] and console.errors() == []


@pytest.mark.parametrize(
    ("today", "past"),
    [("2019-04-15T12:00:00", False), ("2019-04-23T09:00:00", False), ("2019-04-24T12:00:00", True)],
)
def test_widget_calls_a_series_past_after_its_last_date_not_its_first(
    app: App, host: Host, context: BrowserContext, today: str, past: bool
) -> None:
    """Weekly open office: four Tuesdays from 2 April 2019 (COUNT=4), the last on the
    23rd. The widget cannot expand the rule: the feed's `last_day` tells it."""
    page = context.new_page()
    page.clock.set_fixed_time(today)
    page.goto(host.url("/"))
    badges, _ = widget_rows(page, "events")["Weekly open office"]
    assert ("Past" in badges) is past, (today, badges)
    page.close()


# --- screenshots ---------------------------------------------------------------------------


# name -> (viewport in CSS pixels, device pixels per CSS pixel): those of the page tests
SCREENS: dict[str, tuple[ViewportSize, int]] = {
    "desktop": (DESKTOP, 1),
    "phone": (PHONE, PHONE_SCALE),
}


def test_screenshots_of_the_first_hour(app: App, host: Host, browser: Browser) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    shots: list[tuple[Path, str]] = []
    for screen, (viewport, scale) in SCREENS.items():
        ctx = browser.new_context(
            viewport=viewport, device_scale_factor=scale, is_mobile=scale > 1, color_scheme="light"
        )
        try:
            for name, url in (
                ("home", app.url("/")),
                ("event", app.url("/entries/called-off/")),
                ("event-recurring", app.url("/entries/weekly-office/")),
                ("subscribe", app.url("/subscribe/")),
            ):
                page, _ = open_page(ctx, url)
                shots.append((ARTIFACTS / f"{name}-{screen}.png", screen))
                page.screenshot(path=shots[-1][0], full_page=True)
                page.close()
            page, _ = open_page(ctx, host.url("/"))
            page.locator("#events li a").first.wait_for()
            embed_frame(page).locator("section[data-kind=events] li").first.wait_for()
            shots.append((ARTIFACTS / f"widget-{screen}.png", screen))
            page.screenshot(path=shots[-1][0], full_page=True)
        finally:
            ctx.close()
    for shot, screen in shots:
        viewport, scale = SCREENS[screen]  # in device pixels: the width, and the least height
        width, height = viewport["width"] * scale, viewport["height"] * scale
        # the widget's shot is of the host page's layout (a test page, not ours)
        assert_rendered(shot, width, height, ours=not shot.stem.startswith("widget-"))
