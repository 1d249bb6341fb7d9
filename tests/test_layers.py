"""The core reads, renders and writes without a web framework: importing it (and the
export, the `feeds build` command and the server's builder process) loads no Flask,
Werkzeug or gunicorn, so the pure pipeline can be used, tested and reasoned about on
its own (docs/architecture.md).
"""

from __future__ import annotations

import ast
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
    "feeds.publish.export",
    "feeds.publish.build",
    # the server's builder process: it builds and publishes, the workers serve
    "feeds.serve.builder",
    "feeds.serve.health",
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
    assert "flask" in web_modules_after_importing("feeds.serve.web")


# The layers of docs/architecture.md, bottom first: a module may import from its own
# layer and those below, never from one above.
LAYERS = (
    ("feeds.model", "feeds.ids", "feeds.recurrence", "feeds.i18n"),
    ("feeds.memo", "feeds.sealed", "feeds.gzip_resume", "feeds.body"),
    ("feeds.catalog",),
    ("feeds.render",),
    ("feeds.site",),
    ("feeds.publish",),
    ("feeds.serve",),
    ("feeds.importer",),
    ("feeds.cli", "feeds"),
)
PACKAGE = Path(__file__).resolve().parents[1] / "feeds"


def layer_of(module: str) -> int:
    """The layer of a module: that of the longest prefix in LAYERS naming it."""
    found = [
        (len(prefix), index)
        for index, prefixes in enumerate(LAYERS)
        for prefix in prefixes
        if module == prefix or module.startswith(prefix + ".")
    ]
    return max(found)[1]


def feeds_imports(path: Path, module: str) -> set[str]:
    """The feeds modules (or packages) `path` imports, resolved to absolute names."""
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("feeds")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            if base.startswith("feeds"):
                found |= {f"{base}.{alias.name}" for alias in node.names}
    return found


def test_imports_only_go_down_the_layers() -> None:
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        for imported in sorted(feeds_imports(path, module)):
            if layer_of(imported) > layer_of(module):
                upward.append(f"{module} imports {imported}")
    assert upward == []
