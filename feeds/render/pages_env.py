"""The Jinja environment of the pages and the static files they link to.

Templates live in `feeds/templates/`, static files in `feeds/static/`; both are package
data, read once per process. The core compiles the templates in memory and writes no
file; the programs (the `feeds build` command, the web app, the builder) keep them
compiled between processes with `keep_compiled_templates`, as Python keeps .pyc files.
Autoescaping is on for every template and undefined names fail the build
(StrictUndefined), so a typo in a template is an error, not an empty string on a
public page.
"""

from __future__ import annotations

import io
import logging
from contextlib import suppress
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import (
    BytecodeCache,
    Environment,
    FileSystemBytecodeCache,
    PackageLoader,
    StrictUndefined,
    select_autoescape,
)
from jinja2.bccache import Bucket

from .. import sealed

log = logging.getLogger("feeds.templates")

# Static files served as they are, at the Site root ("/style.css" ...).
STATIC_FILES = ("style.css", "site.js", "embed.js", "embed-page.js", "icon.svg")


@cache
def environment() -> Environment:
    """The pages' environment (one per process; see `keep_compiled_templates`)."""
    return make_environment(None)


def keep_compiled_templates() -> None:
    """Have the pages keep their compiled templates in Jinja's folder (`bytecode_cache`)
    for the next processes: called by the programs, before they render, so that the
    core itself never writes a file. Templates already loaded stay as they are."""
    environment().bytecode_cache = bytecode_cache()


def make_environment(compiled: BytecodeCache | None) -> Environment:
    """The pages' environment, keeping compiled templates in `compiled` (if any)."""
    return Environment(
        loader=PackageLoader("feeds", "templates"),
        # `{% trans %}` and `_()`: every render is given the catalog language's `gettext`
        # and `ngettext` in its context (feeds.i18n), so one environment serves every
        # language and the templates stay the extraction source of their messages.
        extensions=["jinja2.ext.i18n"],
        autoescape=select_autoescape(("html", "xsl", "xml"), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # Package data does not change while the process runs: without this, every
        # render stats each template file it uses (3 per entry page, 30,000 at 10k).
        auto_reload=False,
        bytecode_cache=compiled,
    )


class QuietBytecodeCache(FileSystemBytecodeCache):
    """Jinja's bytecode cache, sealed, whose failures only cost the time it saves.

    Compiling the templates took ~65 ms in each process that renders pages, a third of a
    build of the bundled catalog (0.42 s instead of 0.52 s); loading them compiled takes
    ~5 ms. Jinja checks each file against the template's source (a checksum) and its
    own and Python's versions, as Python does its .pyc files, but it reads that checksum
    with pickle and the code with marshal, then runs the code: so each file is sealed
    with the user's key (`feeds.sealed`) and one not sealed with it (planted in the
    folder, damaged) is never read, only said once (`sealed.say_once`). A cache that
    cannot be read or written, or a damaged file, means compiling again."""

    def load_bytecode(self, bucket: Bucket) -> None:
        path = Path(self._get_cache_filename(bucket))
        try:
            code = sealed.read(path, _PURPOSE)
        except FileNotFoundError:
            return
        except (sealed.Unsealed, sealed.NoKey) as exc:
            sealed.say_once(path, exc, log.warning)
            return
        except OSError:
            return
        try:
            bucket.load_bytecode(io.BytesIO(code))
        except Exception:  # noqa: BLE001 - ours, from another version: compile the template
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        with suppress(OSError):  # a full disk, a read-only one: the next process compiles
            sealed.write(Path(self._get_cache_filename(bucket)), _PURPOSE, bucket.write_bytecode)


_PURPOSE = "compiled template"


def bytecode_cache(directory: str | None = None) -> BytecodeCache | None:
    """The compiled templates' cache: in `directory`, by default in Jinja's own folder
    for it (`_jinja2-cache-<uid>` in the temporary folder, private to the user: Jinja
    refuses one another user could write to). None where there is no such folder, or
    no key to seal the files with (`feeds.sealed`)."""
    try:
        sealed.key()
        return QuietBytecodeCache(directory, pattern="__feeds_%s.cache")
    except (OSError, RuntimeError):  # cannot be made, or not private; or no key
        return None


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
