"""The pages and the widget in other languages, in Chromium: the widget's words and
dates in the catalog's language (its labels come with the data, its dates from Intl),
axe finds every `lang` valid, and screenshots of the French and German pages.

The app serves the bundled catalog with `feed.language` set to each shipped language;
a second one serves the English catalog with one entry in French.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Route, sync_playwright
from screenshots import assert_rendered
from test_browser_pages import (
    ARTIFACTS,
    DESKTOP,
    PHONE,
    PHONE_SCALE,
    App,
    Host,
    launch,
    open_page,
    run_axe,
    serve_app,
    serve_host,
)
from test_i18n import FRENCH_ENTRY, TRANSLATED, english_left
from test_pages_support import ROOT

from feeds.render.jsonfeed import widget_labels

pytestmark = pytest.mark.slow

EVENT_PAGE = "/entries/urban-academy-integration-migrants-refugees-antwerp/"
LANG_RULES = {"html-has-lang", "html-lang-valid", "valid-lang", "html-xml-lang-mismatch"}


def catalog_text(language: str) -> str:
    text = (ROOT / "entries.yaml").read_text("utf-8")
    return text.replace("\n  language: en\n", f"\n  language: {language}\n")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        yield launch(playwright)


@pytest.fixture(scope="module", params=TRANSLATED)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, App, Host]]:
    language: str = request.param
    for app in serve_app(tmp_path_factory.mktemp(language), catalog_text(language)):
        for host in serve_host(app):
            yield language, app, host


def test_the_widget_speaks_the_catalogs_language(
    served: tuple[str, App, Host], browser: Browser
) -> None:
    language, _, host = served
    context = browser.new_context(viewport=DESKTOP)
    try:
        page = context.new_page()
        page.clock.set_fixed_time("2019-04-15T12:00:00")  # two events past, two to come
        page.goto(host.url("/"))
        rows = page.locator("#events li")
        rows.first.wait_for()
        page.locator("#pubs li").first.wait_for()
        # the badges as written (text_content: their CSS upper-cases them on screen)
        badges = page.locator("#events .badge").all_text_contents()
        texts = rows.all_inner_texts() + page.locator("#pubs li").all_inner_texts() + badges
        assert badges and english_left(language, texts) == [], badges
        publications = " ".join(page.locator("#pubs .meta").all_inner_texts())
        day = {"fr": "jeu. 14 mars 2019", "de": "Do., 14. März 2019"}.get(language)
        assert day is None or day in publications, publications
    finally:
        context.close()


def answering(document: dict[str, object]) -> Callable[[Route], None]:
    """A route handler serving `document` as another site would (CORS allowed). One
    argument only: Playwright passes the request too to a handler that takes two."""
    return lambda route: route.fulfill(json=document, headers={"Access-Control-Allow-Origin": "*"})


def test_the_widget_says_its_language_on_a_page_in_another(
    served: tuple[str, App, Host], browser: Browser
) -> None:
    """On an English host page the widget's words and dates are the feed's language:
    its box says so (WCAG 3.1.2). A feed that brings no words (another publisher's) gets
    them from the widget in its language when their translation ships; in any other
    language they are English, and say so."""
    language, app, host = served
    # the events widget reads events.json beside the feed it is given
    with urllib.request.urlopen(app.url("/events.json"), timeout=10) as answer:
        ours = json.loads(answer.read())
    foreign = {key: value for key, value in ours.items() if key != "_feeds_widget"}
    foreign["items"] = [{**item, "title": ""} for item in ours["items"]]  # "(untitled)"
    words = widget_labels(language)["labels"]
    context = browser.new_context(viewport=DESKTOP)
    try:
        page = context.new_page()
        page.clock.set_fixed_time("2019-04-15T12:00:00")
        page.goto(host.url("/"))
        page.locator("#events li").first.wait_for()
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.locator("#events .box").get_attribute("lang") == language
        assert page.locator("#events .badge").first.get_attribute("lang") is None
        for name, feed_language, past, untitled, marked in (
            ("shipped", language, words["past"], words["untitled"], None),
            ("other", "ja", "Past", "(untitled)", "en"),
        ):
            document = {**foreign, "language": feed_language}
            page.route(app.url(f"/{name}/events.json"), answering(document))
            page.locator("#events").evaluate(
                "(widget, src) => widget.setAttribute('src', src)", app.url(f"/{name}/feed.json")
            )
            badge = page.locator("#events .badge", has_text=past).first
            badge.wait_for()
            assert badge.get_attribute("lang") == marked, name
            assert page.locator("#events .box").get_attribute("lang") == feed_language
            title = page.locator("#events li a", has_text=untitled).first
            assert title.get_attribute("lang") == marked, name
    finally:
        context.close()


def test_axe_finds_every_lang_valid(served: tuple[str, App, Host], browser: Browser) -> None:
    language, app, _ = served
    assert lang_problems(browser, app, ["/", EVENT_PAGE, "/subscribe/", "/embed/"]) == {}


def test_axe_finds_a_french_entry_in_an_english_catalog_valid(
    tmp_path_factory: pytest.TempPathFactory, browser: Browser
) -> None:
    text = catalog_text("en")
    marker = f"  - id: {FRENCH_ENTRY}\n"
    text = text.replace(marker, f"{marker}    language: fr\n")
    for app in serve_app(tmp_path_factory.mktemp("french-entry"), text):
        page_path = f"/entries/{FRENCH_ENTRY}/"
        assert lang_problems(browser, app, [page_path, "/events/"]) == {}
        context = browser.new_context()
        try:
            page, _ = open_page(context, app.url(page_path))
            assert page.locator("h1").get_attribute("lang") == "fr"
            assert page.locator("html").get_attribute("lang") == "en"
        finally:
            context.close()


def lang_problems(browser: Browser, app: App, paths: list[str]) -> dict[str, list[str]]:
    """axe's findings about `lang` attributes on each page, whatever their impact."""
    # axe is injected as a script: the pages' CSP would block it, so this context bypasses CSP.
    context = browser.new_context(bypass_csp=True)
    found: dict[str, list[str]] = {}
    try:
        page = context.new_page()
        for path in paths:
            rules = json.dumps(sorted(LANG_RULES))
            result = run_axe(page, app.url(path), f"{{runOnly: {{type: 'rule', values: {rules}}}}}")
            problems = [v["id"] for v in result["violations"]]
            ran = {
                rule["id"]
                for key in ("passes", "violations", "inapplicable")
                for rule in result[key]
            }
            assert "html-lang-valid" in ran, path  # the check above can fail
            if problems:
                found[path] = problems
    finally:
        context.close()
    return found


@pytest.mark.parametrize("language", ["fr", "de"])
def test_screenshots_of_the_home_and_event_pages(
    language: str, tmp_path_factory: pytest.TempPathFactory, browser: Browser
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    for app in serve_app(tmp_path_factory.mktemp(f"shots-{language}"), catalog_text(language)):
        for device, viewport, scale in (("desktop", DESKTOP, 1), ("phone", PHONE, PHONE_SCALE)):
            context = browser.new_context(viewport=viewport, device_scale_factor=scale)
            try:
                page = context.new_page()
                for name, path in (("home", "/"), ("event", EVENT_PAGE)):
                    shot: Path = ARTIFACTS / f"{name}-{language}-{device}.png"
                    page.goto(app.url(path))
                    page.wait_for_load_state("networkidle")
                    assert page.locator("html").get_attribute("lang") == language
                    page.screenshot(path=shot, full_page=True)
                    assert_rendered(
                        shot, width=viewport["width"] * scale, height=viewport["height"] * scale
                    )
            finally:
                context.close()
