"""Every setting an operator can give is documented in docs/serving.md (a Datasette habit),
and no Markdown file of the repository names a setting that does not exist."""

from __future__ import annotations

import re
from pathlib import Path

from feeds.serve.web import DEFAULTS

ROOT = Path(__file__).resolve().parent.parent
WHERE = "docs/serving.md"
# A setting is documented by its row in the table: | `FEEDS_BIND` | default | meaning |
DOCUMENTED = set(re.findall(r"^\| `(FEEDS_[A-Z_]+)` \|", (ROOT / WHERE).read_text("utf-8"), re.M))
INTERNAL = {"RENDERERS"}  # a test hook (a list of functions), not something to set from outside


def gunicorn_settings() -> set[str]:
    text = (ROOT / "gunicorn.conf.py").read_text("utf-8")
    return set(re.findall(r'environ\.get\("(FEEDS_[A-Z_]+)"', text))


def documentation() -> dict[str, str]:
    """The README and the reference: where an operator looks for a setting."""
    files = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    return {str(path.relative_to(ROOT)): path.read_text("utf-8") for path in files}


def test_every_app_setting_is_documented() -> None:
    missing = [f"FEEDS_{key}" for key in DEFAULTS if key not in INTERNAL]
    missing = [name for name in missing if name not in DOCUMENTED]
    assert not missing, f"add a row for these settings to {WHERE}'s Settings table: {missing}"


def test_every_gunicorn_setting_is_documented() -> None:
    names = gunicorn_settings()
    assert "FEEDS_BIND" in names  # the pattern still finds them
    missing = sorted(names - DOCUMENTED)
    assert not missing, f"add a row for these settings to {WHERE}'s Settings table: {missing}"


def test_no_document_names_a_setting_that_does_not_exist() -> None:
    known = {f"FEEDS_{key}" for key in DEFAULTS} | gunicorn_settings()
    unknown = {
        name: sorted(set(re.findall(r"`(FEEDS_[A-Z_]+)`", text)) - known)
        for name, text in documentation().items()
    }
    unknown = {name: settings for name, settings in unknown.items() if settings}
    assert not unknown, f"settings documented that do not exist: {unknown}"
