"""The pages, the embed frame and the widget in Debian's Chromium, served by the real app.

The app (`feeds.serve.web.create_app`) runs on one loopback port; a second loopback port serves
a host page of "another site" under a strict CSP (no inline script or style), which
embeds the frame and the custom element. Chromium is driven by Playwright and never
downloaded (`/usr/bin/chromium`). Screenshots go to `test-artifacts/`.
"""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Frame,
    Page,
    Playwright,
    ViewportSize,
    sync_playwright,
)
from screenshots import assert_rendered
from test_pages_support import RICH_CATALOG, ROOT, bundled_catalog
from werkzeug.serving import BaseWSGIServer, make_server

from feeds.serve.web import create_app

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
ARTIFACTS = ROOT / "test-artifacts"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"

# Recorded in every frame before any page script runs (Playwright injects it over the
# DevTools protocol, so the pages' CSP does not apply to it).
WATCH_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


@dataclass
class App:
    server: BaseWSGIServer
    base: str  # http://127.0.0.1:<port>/

    def url(self, path: str) -> str:
        return self.base + path.lstrip("/")


def serve_app(tmp_path: Path, catalog_text: str) -> Iterator[App]:
    """The real app on a free loopback port, its catalog's base_url pointing at that port."""
    holder: dict[str, Callable[..., object]] = {}
    server = make_server(
        "127.0.0.1", 0, lambda env, start: holder["app"](env, start), threaded=True
    )
    base = f"http://127.0.0.1:{server.server_port}/"
    catalog = tmp_path / "entries.yaml"
    catalog.write_text(catalog_text.replace("https://feeds.example.org/", base), encoding="utf-8")
    holder["app"] = create_app(catalog, {"RELOAD": False, "WEBSUB": False, "RELOAD_SETTLE": False})
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield App(server, base)
    finally:
        server.shutdown()
        thread.join()


def host_page(app: App, theme: str = "auto") -> bytes:
    """A page of another site: one frame and two widgets, nothing inline."""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Another site</title>
<link rel="stylesheet" href="/host.css">
<script src="{app.url("/embed.js")}" defer></script></head>
<body><main><h1>Another site</h1>
<iframe id="frame" src="{app.url("/embed/")}?kind=events&amp;limit=10&amp;theme={theme}"
  title="Events" width="600" height="420"></iframe>
<h2>Publications</h2>
<feeds-widget id="pubs" src="{app.url("/feed.json")}" limit="10" theme="{theme}">
  <a href="{app.base}">News</a></feeds-widget>
<h2>Events</h2>
<feeds-widget id="events" src="{app.url("/feed.json")}" kind="events" limit="10"
  theme="{theme}"><a href="{app.base}">Events</a></feeds-widget>
</main></body></html>""".encode()


def broken_page(app: App) -> bytes:
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Broken feed</title>
<script src="{app.url("/embed.js")}" defer></script></head>
<body><main><feeds-widget id="broken" src="{app.url("/missing.json")}"></feeds-widget>
</main></body></html>""".encode()


HOST_CSS = b"body { font-family: serif; max-width: 44rem; margin: 1rem auto; }\n"


@dataclass
class Host:
    server: http.server.ThreadingHTTPServer
    pages: dict[str, bytes] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_port}{path}"


def serve_host(app: App) -> Iterator[Host]:
    origin = app.base.rstrip("/")
    csp = (
        f"default-src 'none'; script-src 'self' {origin}; style-src 'self'; "
        f"connect-src {origin}; frame-src {origin}; img-src 'self'; base-uri 'none'"
    )
    pages = {
        "/": host_page(app),
        "/light.html": host_page(app, "light"),
        "/dark.html": host_page(app, "dark"),
        "/broken.html": broken_page(app),
        "/host.css": HOST_CSS,
        "/favicon.ico": b"",  # so that the browser's automatic request is no console error
    }

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
            body = pages.get(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            kind = "text/css" if self.path.endswith(".css") else "text/html; charset=utf-8"
            self.send_header("Content-Type", kind)
            self.send_header("Content-Security-Policy", csp)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Host(server, pages)
    finally:
        server.shutdown()
        thread.join()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        yield launch(playwright)


def launch(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    text = (ROOT / "entries.yaml").read_text(encoding="utf-8")
    yield from serve_app(tmp_path_factory.mktemp("app"), text)


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    text = RICH_CATALOG.replace("{base_url}", "https://feeds.example.org/")
    yield from serve_app(tmp_path_factory.mktemp("hostile"), text)


@pytest.fixture(scope="module")
def host(app: App) -> Iterator[Host]:
    yield from serve_host(app)


@pytest.fixture(scope="module")
def hostile_host(hostile_app: App) -> Iterator[Host]:
    yield from serve_host(hostile_app)


@dataclass
class Console:
    messages: list[str] = field(default_factory=list)

    def errors(self) -> list[str]:
        return [m for m in self.messages if m.startswith(("error", "pageerror"))]


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context(viewport={"width": 1200, "height": 900})
    ctx.add_init_script(WATCH_VIOLATIONS)
    yield ctx
    ctx.close()


def open_page(context: BrowserContext, url: str) -> tuple[Page, Console]:
    page = context.new_page()
    console = Console()
    page.on("console", lambda m: console.messages.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: console.messages.append(f"pageerror: {e}"))
    response = page.goto(url)
    assert response is not None and response.ok, f"{url}: {response and response.status}"
    page.wait_for_load_state("networkidle")
    return page, console


def violations(frame: Page | Frame) -> list[str]:
    return list(frame.evaluate("window.__violations"))


def embed_frame(page: Page) -> Frame:
    handle = page.wait_for_selector("#frame")
    assert handle is not None
    frame = handle.content_frame()
    assert frame is not None
    frame.wait_for_load_state("load")
    return frame


PAGES = [
    "/",
    "/entries/urban-academy-integration-migrants-refugees-antwerp/",
    "/entries/bologna-lets-do-it-together/",
    "/events/",
    "/tags/culture/",
    "/subscribe/",
    "/embed/",
    "/embed/?kind=events&theme=dark",
]


# --- the pages ---------------------------------------------------------------------------


def test_home_shows_every_entry_and_event(app: App, context: BrowserContext) -> None:
    page, console = open_page(context, app.url("/"))
    catalog = bundled_catalog()
    for entry in catalog.entries:
        link = page.get_by_role("link", name=entry.title, exact=True).first
        assert link.is_visible(), entry.title
        assert link.get_attribute("href") == f"/entries/{entry.id}/"
    google = page.get_by_role("link", name="Google Calendar", exact=True)
    cid = parse_qs(urlsplit(google.get_attribute("href") or "").query)["cid"]
    assert cid == [app.url("/events.ics").replace("http://", "webcal://")]
    assert violations(page) == [] and console.errors() == []


def test_event_page_links_add_the_event_to_calendars(app: App, context: BrowserContext) -> None:
    page, console = open_page(
        context, app.url("/entries/urban-academy-integration-migrants-refugees-antwerp/")
    )
    google = page.get_by_role("link", name="Google Calendar").get_attribute("href") or ""
    assert google.startswith("https://calendar.google.com/calendar/render?")
    assert parse_qs(urlsplit(google).query)["dates"][0].endswith("20190523")
    outlook = page.get_by_role("link", name="Outlook.com").get_attribute("href") or ""
    assert parse_qs(urlsplit(outlook).query)["enddt"] == ["2019-05-23"]
    download = page.get_by_role("link", name="Download .ics")
    with page.expect_download() as info:
        download.click()
    saved = info.value.path().read_text(encoding="utf-8")
    assert "DTEND;VALUE=DATE:20190523" in saved
    assert violations(page) == [] and console.errors() == []


def test_events_split_into_upcoming_and_past_by_the_readers_date(
    app: App, context: BrowserContext
) -> None:
    page = context.new_page()
    page.clock.set_fixed_time("2019-04-15T12:00:00")
    page.goto(app.url("/events/"))
    page.wait_for_load_state("networkidle")
    upcoming = page.locator("[data-upcoming] > li .item-title").all_inner_texts()
    past = page.locator("[data-past-list] > li .item-title").all_inner_texts()
    assert page.get_by_role("heading", name="Upcoming events").is_visible()
    assert [t.split(" ")[-1] for t in upcoming] == ["April", "Antwerp"]  # Barcelona, Antwerp
    assert [t.split(" ")[-1] for t in past] == ["housing", "Glasgow"]  # Toulouse, Glasgow
    assert page.get_by_role("heading", name="Past events").is_visible()


def test_a_recurring_event_s_rule_stands_level_with_its_label(
    hostile_app: App, context: BrowserContext
) -> None:
    """The rule in words (Every week) level with its label (Repeats), as every other fact
    beside its label: a paragraph's default top margin once pushed it half a line down."""
    page, _ = open_page(context, hostile_app.url("/entries/weekly/"))
    label = page.locator(".facts dt", has_text="Repeats").bounding_box()
    rule = page.locator(".facts dd:has(ul.occurrences) > p").first.bounding_box()
    assert label is not None and rule is not None
    assert abs(label["y"] - rule["y"]) < 2, (label, rule)


def test_pages_follow_their_csp_in_the_browser(app: App, context: BrowserContext) -> None:
    for path in PAGES:
        page, console = open_page(context, app.url(path))
        assert violations(page) == [], path
        assert console.errors() == [], path
        page.close()


def test_copy_button_copies_the_calendar_address(app: App, browser: Browser) -> None:
    ctx = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    try:
        page = ctx.new_page()
        page.goto(app.url("/"))
        page.get_by_role("button", name="Copy calendar address").first.click()
        page.get_by_role("status").filter(has_text="Copied").wait_for()
        assert page.evaluate("navigator.clipboard.readText()") == app.url("/events.ics")
    finally:
        ctx.close()


# --- embedding from another origin ----------------------------------------------------------


def test_frame_and_widget_show_entries_under_a_strict_host_csp(
    app: App, host: Host, context: BrowserContext
) -> None:
    page, console = open_page(context, host.url("/"))
    catalog = bundled_catalog()
    frame = embed_frame(page)
    frame_titles = frame.locator("section[data-kind=events] li:not([hidden]) > a").all_inner_texts()
    assert set(frame_titles) == {e.title for e in catalog.events}
    assert frame.locator("a[target=_top]").count() == frame.locator("a").count()

    pubs = page.locator("#pubs li a")
    pubs.first.wait_for()
    assert pubs.all_inner_texts() == [e.title for e in catalog.publications]
    events = page.locator("#events li a")
    events.first.wait_for()
    assert set(events.all_inner_texts()) == {e.title for e in catalog.events}
    assert violations(page) == [] and violations(frame) == []
    assert console.errors() == []


def test_widget_links_to_the_feed_when_loading_fails(
    app: App, host: Host, context: BrowserContext
) -> None:
    page, _ = open_page(context, host.url("/broken.html"))
    # No data, so no words in the site's language: the feed's own address is the link
    broken = page.locator("#broken a", has_text=app.url("/missing.json"))
    broken.wait_for()
    assert broken.get_attribute("href") == app.url("/missing.json")


def test_widget_puts_upcoming_events_first_and_marks_past_ones(
    app: App, host: Host, context: BrowserContext
) -> None:
    page = context.new_page()
    page.clock.set_fixed_time("2019-04-15T12:00:00")
    page.goto(host.url("/"))
    rows = page.locator("#events li")
    rows.first.wait_for()
    places = [text.rsplit(" · ", 1)[-1] for text in rows.locator(".meta").all_text_contents()]
    assert places == [
        "Barcelona, Spain",
        "Antwerp, Belgium",
        "Toulouse, France",
        "Glasgow, United Kingdom",
    ]
    badges = [row.locator(".badge").all_text_contents() for row in rows.all()]
    assert badges == [[], [], ["Past"], ["Past"]]
    frame = embed_frame(page)
    frame_rows = frame.locator("section[data-kind=events] li:not([hidden])")
    assert [
        t.rsplit(" · ", 1)[-1] for t in frame_rows.locator(".embed-meta").all_text_contents()
    ] == places


def test_widget_uses_the_host_theme_variables(
    app: App, host: Host, context: BrowserContext
) -> None:
    page, _ = open_page(context, host.url("/"))
    page.locator("#pubs li a").first.wait_for()
    color = page.locator("#pubs li a").first.evaluate("a => getComputedStyle(a).color")
    page.evaluate(
        "document.getElementById('pubs').style.setProperty('--feeds-accent', 'rgb(200, 0, 100)')"
    )
    themed = page.locator("#pubs li a").first.evaluate("a => getComputedStyle(a).color")
    assert color != themed == "rgb(200, 0, 100)"


# --- hostile catalog ---------------------------------------------------------------------------


HOSTILE_PAGES = [
    "/",
    "/entries/hostile/",
    "/entries/hostile-event/",
    "/events/",
    "/tags/culture/",
    "/embed/",
    "/embed/?kind=events",
]


def test_markup_in_the_catalog_never_runs(
    hostile_app: App, hostile_host: Host, context: BrowserContext
) -> None:
    for path in HOSTILE_PAGES:
        page, _ = open_page(context, hostile_app.url(path))
        assert page.evaluate("typeof window.__pwned") == "undefined", path
        shown = page.locator("text=<script>window.__pwned=1</script> >> visible=true")
        assert shown.count() > 0, path
        page.close()
    page, _ = open_page(context, hostile_host.url("/"))
    page.locator("#pubs li a").first.wait_for()
    page.locator("#events li a").first.wait_for()
    frame = embed_frame(page)
    assert "<script>" in " ".join(page.locator("#pubs li").all_inner_texts())
    assert "<script>" in frame.locator("main").inner_text()
    for scope in (page, frame):
        assert scope.evaluate("typeof window.__pwned") == "undefined"
    assert page.evaluate("document.querySelectorAll('img').length") == 0


# --- the feeds' stylesheet -----------------------------------------------------------------


def test_feed_opens_as_a_readable_page(app: App, context: BrowserContext) -> None:
    """Chromium renders XML documents through their xml-stylesheet; the feed's title and
    the explanation must show. Chromium treats `application/atom+xml` as text, so the
    feed body is handed to it as `application/xml` (with the app's own headers)."""
    page = context.new_page()

    def as_xml(route: object) -> None:
        response = route.fetch()  # type: ignore[attr-defined]
        headers = {**response.headers, "content-type": "application/xml; charset=utf-8"}
        route.fulfill(response=response, headers=headers)  # type: ignore[attr-defined]

    page.route("**/feed.atom", as_xml)
    page.goto(app.url("/feed.atom"))
    heading = page.get_by_role("heading", name="This is a web feed")
    heading.wait_for()
    assert page.get_by_role("heading", level=1).inner_text() == "EUROCITIES news and events"
    assert page.get_by_role("link", name="Bologna - Let's do it together!").is_visible()
    # The page is styled by /style.css (feed CSP: style-src 'self'): its body has the
    # pages' font, not the browser's default one (Chromium names that '"Times New Roman"',
    # quoted, so it is read from an unstyled document instead of written here).
    body_font = "b => getComputedStyle(b).fontFamily"
    feed_font = page.locator("body").evaluate(body_font)
    other = context.new_page()
    other.set_content("<!DOCTYPE html><html><body><p>Unstyled</p></body></html>")
    default_font = other.locator("body").evaluate(body_font)
    other.goto(app.url("/"))
    pages_font = other.locator("body").evaluate(body_font)
    assert feed_font == pages_font != default_font


# --- screenshots and accessibility ------------------------------------------------------


DESKTOP: ViewportSize = {"width": 1200, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}
PHONE_SCALE = 2  # device pixels per CSS pixel


def test_screenshots(app: App, host: Host, browser: Browser) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    shots: dict[str, tuple[ViewportSize, int]] = {}  # name -> its viewport and scale
    for scheme in ("light", "dark"):
        ctx = browser.new_context(viewport=DESKTOP, color_scheme=scheme)
        page = ctx.new_page()
        page.goto(app.url("/"))
        page.screenshot(path=ARTIFACTS / f"home-{scheme}.png", full_page=True)
        page.goto(app.url("/entries/urban-academy-integration-migrants-refugees-antwerp/"))
        page.screenshot(path=ARTIFACTS / f"event-{scheme}.png", full_page=True)
        page.goto(app.url("/events/"))
        page.screenshot(path=ARTIFACTS / f"events-{scheme}.png", full_page=True)
        page.goto(host.url(f"/{scheme}.html"))
        page.locator("#events li a").first.wait_for()
        embed_frame(page).locator("section[data-kind=events] li").first.wait_for()
        page.screenshot(path=ARTIFACTS / f"widget-{scheme}.png", full_page=True)
        ctx.close()
        shots.update({f"{n}-{scheme}": (DESKTOP, 1) for n in ("home", "event", "events", "widget")})
    mobile = browser.new_context(
        viewport=PHONE, device_scale_factor=PHONE_SCALE, color_scheme="light"
    )
    page = mobile.new_page()
    page.goto(app.url("/"))
    page.screenshot(path=ARTIFACTS / "home-mobile.png", full_page=True)
    mobile.close()
    shots["home-mobile"] = (PHONE, PHONE_SCALE)

    read = {
        name: assert_rendered(
            ARTIFACTS / f"{name}.png",
            width=viewport["width"] * scale,
            height=viewport["height"] * scale,
            dark=name.endswith("-dark"),
        )
        for name, (viewport, scale) in shots.items()
    }
    # The phone's home is laid out for it, not the desktop's shrunk: as wide as the phone
    # (above), and so longer than the desktop's in CSS pixels, its content in one column.
    phone, desktop = read["home-mobile"], read["home-light"]
    assert phone.height / PHONE_SCALE > desktop.height, (phone.height, desktop.height)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_serious_accessibility_violations(app: App, browser: Browser, scheme: str) -> None:
    # axe is injected as a script: the pages' CSP would block it, so this context bypasses CSP.
    ctx = browser.new_context(bypass_csp=True, color_scheme=scheme)
    found = {}
    try:
        page = ctx.new_page()
        for path in PAGES:
            result = run_axe(page, app.url(path), "{resultTypes: ['violations']}")
            serious = [
                f"{v['id']}: {v['help']} ({', '.join(n['target'][0] for n in v['nodes'][:3])})"
                for v in result["violations"]
                if v["impact"] in ("serious", "critical")
            ]
            if serious:
                found[path] = serious
    finally:
        ctx.close()
    assert found == {}, json.dumps(found, indent=2)


def run_axe(page: Page, url: str, options: str) -> dict[str, Any]:
    """axe's results for the page at `url` (its context must bypass the pages' CSP: axe
    is injected as a script), run with `options` (a JavaScript object)."""
    page.goto(url)
    page.wait_for_load_state("networkidle")
    page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = page.evaluate(f"axe.run(document, {options})")
    return result
