"""Helpers for the web, reload and WebSub tests (no tests here).

The web tests serve the real feed and calendar renderers plus a small stand-in for the
pages (an HTML page per entry, a home page, the embed page and the static files), so
that every kind of output the header rules distinguish is present without depending on
how the pages look.
"""

from __future__ import annotations

import html
import shutil
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from flask import Flask

from feeds.model import Catalog
from feeds.render import atom, ics, jsonfeed, rss
from feeds.serve.web import create_app
from feeds.site import Renderer

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "entries.yaml"
UNTAGGED_ID = "eurocities-city-leaders-agenda-for-europe"


def stand_in_pages(catalog: Catalog) -> Mapping[str, bytes]:
    """HTML pages shaped like the real ones (a <body>, the embed page) plus static files."""

    def page(title: str, body: str) -> bytes:
        return (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title>"
            '<link rel="stylesheet" href="/style.css"></head>'
            f'<body class="page"><main><h1>{html.escape(title)}</h1>{body}</main></body></html>'
        ).encode()

    items = "".join(f"<li>{html.escape(e.title)}</li>" for e in catalog.entries)
    pages = {
        "/": page(catalog.feed.title, f"<ul>{items}</ul>"),
        "/embed/": page("Latest", f"<ul>{items}</ul>"),
        "/style.css": b"body { font-family: sans-serif; }\n" * 20,
        "/embed.js": b"customElements.define('feeds-list', class extends HTMLElement {});\n",
        "/feed.xsl": b'<?xml version="1.0"?><xsl:stylesheet version="1.0" '
        b'xmlns:xsl="http://www.w3.org/1999/XSL/Transform"/>\n',
    }
    for entry in catalog.entries:
        pages[f"/entries/{entry.id}/"] = page(entry.title, html.escape(entry.summary) * 3)
    return pages


RENDERERS: list[Renderer] = [atom.render, rss.render, jsonfeed.render, ics.render, stand_in_pages]


def copy_catalog(tmp_path: Path, hub: str | None = None) -> Path:
    """A private copy of the bundled catalog (with `feed.hub` set when given)."""
    path = tmp_path / "entries.yaml"
    shutil.copyfile(BUNDLED, path)
    if hub is not None:
        text = path.read_text()
        path.write_text(text.replace("  feed_size: 50\n", f"  feed_size: 50\n  hub: {hub}\n", 1))
    return path


def make_app(catalog: Path, **config: Any) -> Flask:
    settings: dict[str, Any] = {
        "TESTING": True,
        "RELOAD": False,
        "WEBSUB": False,
        "RENDERERS": RENDERERS,
        # Tests write the catalog in place and look once; the settle wait is tested alone.
        "RELOAD_SETTLE": False,
    }
    settings.update(config)
    return create_app(catalog, settings)


def edit(path: Path, old: str, new: str) -> None:
    """Replace `old` (which must be there) in the catalog file."""
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def retitle_untagged(path: Path, title: str) -> None:
    """Change the title of an entry without tags: only the main feeds change."""
    _replace_field(path, "title", f"    title: {title}\n")


BROKEN_LINE = "    published: 2019-02-30\n"


def break_catalog(path: Path) -> int:
    """Give the untagged entry an impossible date; returns the line of the mistake."""
    return _replace_field(path, "published", BROKEN_LINE)


def _replace_field(path: Path, name: str, line: str) -> int:
    """Replace the untagged entry's `name:` line; returns its line number."""
    lines = path.read_text().splitlines(keepends=True)
    start = lines.index(f"  - id: {UNTAGGED_ID}\n")
    index = next(i for i in range(start, len(lines)) if lines[i].startswith(f"    {name}:"))
    lines[index] = line
    path.write_text("".join(lines))
    return index + 1


# --- a WebSub hub on loopback ------------------------------------------------------------


@dataclass
class Hub:
    """Records every publish ping; answers with `statuses` in turn, then 204."""

    url: str
    pings: list[dict[str, list[str]]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def urls(self) -> list[str]:
        with self.lock:
            return sorted(ping["hub.url"][0] for ping in self.pings)


@contextmanager
def local_hub() -> Iterator[Hub]:
    hub = Hub(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = parse_qs(self.rfile.read(length).decode())
            with hub.lock:
                hub.pings.append(form)
                status = hub.statuses.pop(0) if hub.statuses else 204
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    hub.url = f"http://127.0.0.1:{server.server_address[1]}/hub"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hub
    finally:
        server.shutdown()
        server.server_close()
