"""Every setting an operator can give is documented in README.md (a Datasette habit)."""

from __future__ import annotations

import re
from pathlib import Path

from feeds.web import DEFAULTS

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text("utf-8")
INTERNAL = {"RENDERERS"}  # a test hook (a list of functions), not something to set from outside


def gunicorn_settings() -> set[str]:
    text = (ROOT / "gunicorn.conf.py").read_text("utf-8")
    return set(re.findall(r'environ\.get\("(FEEDS_[A-Z_]+)"', text))


def test_every_app_setting_is_in_the_readme() -> None:
    missing = [f"FEEDS_{key}" for key in DEFAULTS if key not in INTERNAL]
    missing = [name for name in missing if f"`{name}`" not in README]
    assert not missing, f"document these settings in README.md, Serving: {missing}"


def test_every_gunicorn_setting_is_in_the_readme() -> None:
    names = gunicorn_settings()
    assert "FEEDS_BIND" in names  # the pattern still finds them
    missing = sorted(name for name in names if f"`{name}`" not in README)
    assert not missing, f"document these settings in README.md, Serving: {missing}"


def test_the_readme_documents_no_setting_that_does_not_exist() -> None:
    known = {f"FEEDS_{key}" for key in DEFAULTS} | gunicorn_settings()
    documented = set(re.findall(r"`(FEEDS_[A-Z_]+)`", README))
    assert documented <= known, f"README documents unknown settings: {documented - known}"
