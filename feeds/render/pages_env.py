"""The Jinja environment of the pages and the static files they link to.

Templates live in `feeds/templates/`, static files in `feeds/static/`; both are package
data, read once per process. Autoescaping is on for every template and undefined names
fail the build (StrictUndefined), so a typo in a template is an error, not an empty
string on a public page.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

# Static files served as they are, at the Site root ("/style.css" ...).
STATIC_FILES = ("style.css", "site.js", "embed.js", "embed-page.js", "icon.svg")


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("feeds", "templates"),
        autoescape=select_autoescape(("html", "xsl", "xml"), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # Package data does not change while the process runs: without this, every
        # render stats each template file it uses (3 per entry page, 30,000 at 10k).
        auto_reload=False,
    )
    return env


def render_template(name: str, **context: Any) -> bytes:
    return environment().get_template(name).render(**context).encode("utf-8")


def template_module(name: str, **context: Any) -> Any:
    """The macros of template `name`, callable from Python, seeing `context` as a page
    that imports them `with context` would (each returns Markup)."""
    return environment().get_template(name).make_module(context)


@cache
def static_file(name: str) -> bytes:
    return resources.files("feeds").joinpath("static", name).read_bytes()


def base_path(base_url: str) -> str:
    """The path the Site is mounted at ("/" or "/feeds/"), from `feed.base_url`.

    Pages link root-relative under it, so they work on any host that serves the Site
    at that path: the public one, a loopback test server, a static export.
    """
    return urlsplit(base_url).path or "/"
