"""The core reads, renders and writes without a web framework: importing it (and the
export, the `feeds build` command and the server's builder process) loads no Flask,
Werkzeug or gunicorn, so the pure pipeline can be used, tested and reasoned about on
its own (docs/architecture.md).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

CATALOG = Path(__file__).resolve().parents[1] / "entries.yaml"
WEB_PACKAGES = ("flask", "werkzeug", "gunicorn")
CORE = (
    "feeds.model",
    "feeds.catalog",
    "feeds.catalog.incremental",
    "feeds.render.atom",
    "feeds.render.rss",
    "feeds.render.jsonfeed",
    "feeds.render.ics",
    "feeds.render.pages",
    "feeds.site",
    "feeds.export",
    "feeds.build",
    # the server's builder process: it builds and publishes, the workers serve
    "feeds.builder",
    "feeds.health",
)


def web_modules_after_importing(module: str, also_build: bool = False) -> list[str]:
    """The web framework modules loaded by a fresh interpreter after `import module`
    (and, when asked, after building the bundled catalog's Site with it)."""
    build = (
        "from feeds.catalog import load_catalog; from feeds.site import build_site; "
        f"build_site(load_catalog({str(CATALOG)!r}));"
        if also_build
        else ""
    )
    code = (
        f"import sys, {module}; {build}"
        f"print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in {WEB_PACKAGES!r})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return result.stdout.split()


@pytest.mark.parametrize("module", CORE)
def test_the_core_loads_no_web_framework(module: str) -> None:
    assert web_modules_after_importing(module) == []


def test_building_a_site_loads_no_web_framework() -> None:
    assert web_modules_after_importing("feeds.site", also_build=True) == []


def test_the_web_app_does_load_flask() -> None:
    """The check above can see Flask when it is there."""
    assert "flask" in web_modules_after_importing("feeds.web")
