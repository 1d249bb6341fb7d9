"""Faults end to end: real gunicorn (2 workers, gunicorn.conf.py) while the catalog is
deleted, replaced by a directory, by garbage, cut mid-entry; and while the WebSub hub hangs.

Every worker keeps serving the last good Site byte for byte, every worker's /health says
"stale" with the problem, the log has no traceback, and the good file brings back "ok".
"""

from __future__ import annotations

import http.client
import json
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from servers import Server, start_gunicorn
from test_faults import (
    HANG_GUARD,
    blocking_hub,
    deleted,
    directory_in_place,
    mid_entry_cuts,
    random_bytes,
    restore,
)
from test_web_support import retitle_untagged
from werkzeug.datastructures import Headers

from feeds.catalog import load_catalog
from feeds.site import Site, build_site

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 2

pytestmark = pytest.mark.slow


def fetch(server: Server, path: str) -> tuple[int, Headers, bytes]:
    """One request on its own connection, so that either worker may take it."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=HANG_GUARD)
    try:
        connection.request("GET", path, headers={"Connection": "close"})
        response = connection.getresponse()
        # Field names without case (RFC 9110 5.1): the asgi worker's answers from Flask
        # (through a2wsgi: /health, 404s) name them in lower case.
        return response.status, Headers(response.getheaders()), response.read()
    finally:
        connection.close()


SETTINGS = {
    "FEEDS_WORKERS": str(WORKERS),
    "FEEDS_WORKER_HEADER": "true",
    "FEEDS_RELOAD_INTERVAL": "0.2",
}


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    path = tmp_path / "entries.yaml"
    shutil.copyfile(ROOT / "entries.yaml", path)
    return path


@contextmanager
def run_gunicorn(catalog: Path, log: Path) -> Iterator[Server]:
    with start_gunicorn(catalog, log, SETTINGS) as server:
        yield server


@pytest.fixture
def gunicorn(catalog: Path, tmp_path: Path) -> Iterator[Server]:
    with run_gunicorn(catalog, tmp_path / "gunicorn.log") as server:
        yield server


def every_worker_reports(server: Server, wanted: Callable[[dict[str, Any]], bool]) -> None:
    """Poll /health on fresh connections until each worker has said `wanted` (a hang guard,
    not a timing check)."""
    seen: set[str] = set()
    deadline = time.monotonic() + HANG_GUARD
    while len(seen) < WORKERS:
        assert time.monotonic() < deadline, f"workers {seen} only:\n{server.output()}"
        status, headers, body = fetch(server, "/health")
        assert status == 200
        if wanted(json.loads(body)):
            seen.add(headers["X-Worker"])


def assert_serves(server: Server, site: Site) -> None:
    """Every output, several times over (so both workers answer), exactly as built."""
    for _ in range(WORKERS * 2):
        for path in site:
            status, headers, body = fetch(server, path)
            assert (status, headers["ETag"], body) == (200, site[path].etag, site[path].body)


def cut_mid_entry(path: Path, good: bytes) -> None:
    cut, _line = list(mid_entry_cuts(good))[-1]
    path.write_bytes(good[:cut])


FAULTS: list[Callable[[Path, bytes], None]] = [
    deleted,
    directory_in_place,
    random_bytes,
    cut_mid_entry,
]


def test_every_worker_keeps_serving_through_every_fault(gunicorn: Server, catalog: Path) -> None:
    good = catalog.read_bytes()
    site = build_site(load_catalog(catalog))
    assert_serves(gunicorn, site)
    for fault in FAULTS:
        fault(catalog, good)
        every_worker_reports(
            gunicorn,
            lambda r: (
                r["status"] == "stale"
                and bool(r["problems"])
                and all(set(p) == {"line", "field"} for p in r["problems"])  # no message
            ),
        )
        assert_serves(gunicorn, site)
        restore(catalog, good)
        every_worker_reports(gunicorn, lambda r: r["status"] == "ok")
    assert "Traceback" not in gunicorn.output()
    assert "cannot read the catalog" in gunicorn.output()  # logged, one line each
    assert f"{catalog}:" in gunicorn.output()  # the messages, as FILE:LINE, in the log


def test_a_hanging_hub_holds_up_no_worker(catalog: Path, tmp_path: Path) -> None:
    with blocking_hub() as hub:
        text = catalog.read_text()
        catalog.write_text(
            text.replace("  feed_size: 50\n", f"  feed_size: 50\n  hub: {hub.url}\n")
        )
        with run_gunicorn(catalog, tmp_path / "gunicorn.log") as server:
            retitle_untagged(catalog, "Served while the hub hangs")
            edited = load_catalog(catalog)
            new_site = build_site(edited)
            assert hub.entered.wait(HANG_GUARD), f"no ping reached the hub:\n{server.output()}"
            every_worker_reports(server, lambda r: r["catalog"]["version"] == edited.version)
            assert_serves(server, new_site)
            assert not hub.release.is_set()  # all of the above while the ping hung
            hub.release.set()
