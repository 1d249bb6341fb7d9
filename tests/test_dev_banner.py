"""The development server's catalog-error banner in Chromium: styled apart from the
page, accessible (axe, contrast included), one `FILE:LINE: field: message` per problem,
on desktop and phone, light and dark. Screenshots go to test-artifacts/."""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from test_browser_pages import AXE, CHROMIUM, CHROMIUM_ARGS
from test_pages_support import ROOT
from werkzeug.serving import make_server

from feeds.serve.web import create_app, runtime

pytestmark = pytest.mark.slow

ARTIFACTS = ROOT / "test-artifacts"
PROBLEMS = 2  # what the broken catalog below holds


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The app as `feeds serve` makes it (banner on), serving a catalog with 2 problems."""
    catalog = tmp_path_factory.mktemp("banner") / "entries.yaml"
    shutil.copyfile(ROOT / "entries.yaml", catalog)
    config = {"DEV_BANNER": True, "RELOAD": False, "WEBSUB": False, "RELOAD_SETTLE": False}
    app = create_app(catalog, config)
    good = catalog.read_text(encoding="utf-8")
    broken = good.replace("  language: en\n", "  language: en\n  colour: <red>\n  shade: 1\n", 1)
    catalog.write_text(broken, encoding="utf-8")
    runtime(app).watcher.check_now()
    assert len(runtime(app).source.problems) == PROBLEMS
    holder: dict[str, Callable[..., Any]] = {"app": app}
    server = make_server("127.0.0.1", 0, lambda e, s: holder["app"](e, s), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/", catalog
    finally:
        server.shutdown()
        thread.join()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        yield playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def styles(page: Page, selector: str) -> dict[str, str]:
    return dict(
        page.eval_on_selector(
            selector,
            """(element) => {
                const style = getComputedStyle(element);
                return {background: style.backgroundColor, rule: style.borderLeftWidth,
                        ruleColor: style.borderLeftColor};
            }""",
        )
    )


VIEWS = [
    ("desktop", "light", {"width": 1200, "height": 900}),
    ("desktop", "dark", {"width": 1200, "height": 900}),
    ("phone", "light", {"width": 390, "height": 844}),
]


@pytest.mark.parametrize(
    ("device", "scheme", "viewport"), VIEWS, ids=[f"{d}-{s}" for d, s, _ in VIEWS]
)
def test_the_banner_is_styled_listed_and_accessible(
    served: tuple[str, Path],
    browser: Browser,
    device: str,
    scheme: str,
    viewport: dict[str, int],
) -> None:
    base, catalog = served
    # axe is injected as a script: the pages' CSP would block it.
    context = browser.new_context(viewport=viewport, color_scheme=scheme, bypass_csp=True)  # type: ignore[arg-type]
    try:
        page = context.new_page()
        page.goto(base)
        banner = page.locator("body > .catalog-errors[role=alert]")
        assert banner.is_visible()
        # Above the header, and every problem as FILE:LINE: field: message.
        assert page.evaluate(
            "document.querySelector('.catalog-errors').nextElementSibling !== null"
        )
        lines = banner.locator("li").all_inner_texts()
        assert len(lines) == PROBLEMS
        for line in lines:
            assert re.fullmatch(rf"{re.escape(str(catalog))}:\d+: feed\.\w+: .+", line), line
        # Told from the page: its own background, and a rule down its left side.
        banner_style, body_style = styles(page, ".catalog-errors"), styles(page, "body")
        assert banner_style["background"] not in (body_style["background"], "rgba(0, 0, 0, 0)")
        assert float(banner_style["rule"].removesuffix("px")) >= 4
        page.screenshot(path=ARTIFACTS / f"banner-{device}-{scheme}.png")

        page.add_script_tag(path=str(AXE))
        result = page.evaluate(
            "axe.run(document.querySelector('.catalog-errors'), {resultTypes: ['violations']})"
        )
        assert result["violations"] == [], [v["id"] for v in result["violations"]]
        assert "color-contrast" in {rule["id"] for rule in result["passes"]}
        whole = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        serious = [v["id"] for v in whole["violations"] if v["impact"] in ("serious", "critical")]
        assert serious == []
    finally:
        context.close()


@pytest.fixture(autouse=True, scope="module")
def _artifacts() -> None:
    ARTIFACTS.mkdir(exist_ok=True)
