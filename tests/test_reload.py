"""Live reload: a changed catalog is swapped in; a broken one never replaces a good one.

The watcher is driven with `check_now()`, never by sleeping; one test runs its thread.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

import html5lib
import pytest
from flask import Flask
from flask.testing import FlaskClient
from test_web_support import (
    BROKEN_LINE,
    UNTAGGED_ID,
    break_catalog,
    copy_catalog,
    edit,
    make_app,
    retitle_untagged,
)

from feeds.model import Catalog
from feeds.serve.reload import CatalogWatcher
from feeds.serve.web import runtime
from feeds.site import Site, build_site, make_output

PAGE = f"/entries/{UNTAGGED_ID}/"


def health(client: FlaskClient) -> tuple[int, dict[str, Any]]:
    response = client.get("/health")
    return response.status_code, json.loads(response.data)


def check(app: Flask) -> bool:
    return runtime(app).watcher.check_now()


def bump_mtime(path: Path) -> None:
    """Make sure a rewrite within the same clock tick still looks changed to stat."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))


def test_good_then_broken_then_fixed(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    catalog = copy_catalog(tmp_path)
    app = make_app(catalog)
    client = app.test_client()
    good = client.get("/feed.atom")
    status, report = health(client)
    assert (status, report["status"], report["reloads"]) == (200, "ok", 0)
    first_version = report["catalog"]["version"]

    # An edit that is fine: swapped in, new bytes and ETag.
    retitle_untagged(catalog, "A new title")
    assert check(app)
    edited = client.get("/feed.atom")
    assert edited.headers["ETag"] != good.headers["ETag"]
    assert b"A new title" in edited.data
    status, report = health(client)
    assert (status, report["status"], report["reloads"]) == (200, "ok", 1)
    assert report["catalog"]["version"] != first_version

    # A broken edit: the last good Site stays, /health says why, with file and line.
    caplog.set_level(logging.INFO, logger="feeds")
    line = break_catalog(catalog)
    assert check(app)
    kept = client.get("/feed.atom")
    assert kept.data == edited.data
    assert kept.headers["ETag"] == edited.headers["ETag"]
    status, report = health(client)
    assert status == 200
    assert report["status"] == "stale"
    assert report["catalog"]["version"] != first_version
    assert len(report["problems"]) == 1
    # Public: the line and the field path, never the message (it may quote the file).
    assert report["problems"][0]["line"] == line
    assert report["problems"][0]["field"].startswith("entries[")
    assert report["problems"][0]["field"].endswith(".published")
    assert report["last_error"]["problem_count"] == 1
    assert report["failed_reloads"] == 1
    (problem,) = runtime(app).watcher.live.problems  # the log's and the banner's
    assert problem.startswith(f"{catalog}:{line}: entries[")
    assert "published" in problem
    # Logged as lines, with file:line, without a traceback.
    logged = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert problem in logged
    assert not any(r.exc_info for r in caplog.records)

    # Fixed: the new content is served, problems are gone, the last error is remembered.
    edit(catalog, BROKEN_LINE, "    published: 2019-03-12\n")
    retitle_untagged(catalog, "Fixed title")
    assert check(app)
    fixed = client.get("/feed.atom")
    assert b"Fixed title" in fixed.data
    status, report = health(client)
    assert (status, report["status"], report["problems"]) == (200, "ok", [])
    assert report["reloads"] == 2
    assert report["last_error"]["problem_count"] == 1
    assert runtime(app).watcher.live.last_error == (problem,)


def test_a_catalog_never_good_is_503_until_fixed(tmp_path: Path) -> None:
    catalog = copy_catalog(tmp_path)
    break_catalog(catalog)
    app = make_app(catalog)
    client = app.test_client()
    status, report = health(client)
    assert (status, report["status"], report["catalog"]) == (503, "failed", None)
    assert report["problems"]
    response = client.get("/feed.atom")
    assert response.status_code == 503
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.headers["Retry-After"]

    edit(catalog, BROKEN_LINE, "    published: 2019-03-12\n")
    assert check(app)
    assert client.get("/feed.atom").status_code == 200
    status, report = health(client)
    assert (status, report["status"]) == (200, "ok")
    assert report["reloads"] == 0  # the first good load is a load, not a reload


def test_identical_content_is_not_rebuilt(tmp_path: Path) -> None:
    catalog = copy_catalog(tmp_path)
    builds: list[Catalog] = []

    def counting_build(value: Catalog) -> Site:
        builds.append(value)
        return build_site(value, renderers=[])

    watcher = CatalogWatcher(catalog, lambda site, problems: site, build=counting_build)
    assert watcher.check_now()
    first = watcher.live
    assert len(builds) == 1
    assert not watcher.check_now()  # nothing changed: one stat
    catalog.write_bytes(catalog.read_bytes())  # rewritten, same bytes
    bump_mtime(catalog)
    assert not watcher.check_now()
    assert watcher.live is first
    assert len(builds) == 1


def test_undoing_a_broken_edit_needs_no_rebuild(tmp_path: Path) -> None:
    catalog = copy_catalog(tmp_path)
    builds: list[Catalog] = []

    def counting_build(value: Catalog) -> Site:
        builds.append(value)
        return build_site(value, renderers=[])

    watcher = CatalogWatcher(catalog, lambda site, problems: site, build=counting_build)
    watcher.check_now()
    site = watcher.live.site
    original = catalog.read_bytes()
    break_catalog(catalog)
    assert watcher.check_now()
    assert watcher.live.problems
    catalog.write_bytes(original)
    bump_mtime(catalog)
    assert watcher.check_now()
    assert watcher.live.problems == ()
    assert watcher.live.site is site
    assert len(builds) == 1


def test_a_deleted_file_keeps_the_last_good_site(tmp_path: Path) -> None:
    catalog = copy_catalog(tmp_path)
    app = make_app(catalog)
    client = app.test_client()
    before = client.get("/feed.atom")
    saved = catalog.read_bytes()
    catalog.unlink()
    assert check(app)
    assert not check(app)  # still missing: no new state, no new log line
    after = client.get("/feed.atom")
    assert after.status_code == 200
    assert after.data == before.data
    status, report = health(client)
    assert (status, report["status"]) == (200, "stale")
    assert report["problems"] == [{"line": 0, "field": ""}]
    assert "cannot read the catalog" in runtime(app).watcher.live.problems[0]

    catalog.write_bytes(saved)
    assert check(app)
    status, report = health(client)
    assert (report["status"], report["problems"]) == ("ok", [])


def test_an_unreadable_file_keeps_the_last_good_site(tmp_path: Path) -> None:
    catalog = copy_catalog(tmp_path)
    app = make_app(catalog)
    catalog.rename(tmp_path / "elsewhere.yaml")
    catalog.mkdir()  # a directory where the file was: open() fails
    assert check(app)
    status, report = health(app.test_client())
    assert (status, report["status"]) == (200, "stale")
    assert app.test_client().get("/feed.atom").status_code == 200


def test_a_half_written_file_keeps_the_last_good_site(tmp_path: Path) -> None:
    catalog = copy_catalog(tmp_path)
    app = make_app(catalog)
    client = app.test_client()
    before = client.get("/events.ics").data
    text = catalog.read_text()
    # Cut inside a quoted title, as a writer caught halfway would leave it.
    catalog.write_text(text[: text.index('title: "Bologna - Let') + 15])
    assert check(app)
    assert client.get("/events.ics").data == before
    assert health(client)[1]["status"] == "stale"
    catalog.write_text(text)
    assert check(app)
    assert health(client)[1]["status"] == "ok"


def test_a_file_changing_while_read_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = copy_catalog(tmp_path)
    watcher = CatalogWatcher(catalog, lambda site, problems: site)
    watcher.check_now()
    retitle_untagged(catalog, "Written in two steps")
    real_fstat = os.fstat

    def still_writing(fd: int) -> os.stat_result:
        # The writer appends while we read: fstat disagrees with the stat before.
        catalog.write_bytes(catalog.read_bytes() + b"\n")
        return real_fstat(fd)

    monkeypatch.setattr(os, "fstat", still_writing)
    assert not watcher.check_now()  # nothing built from a moving file
    monkeypatch.setattr(os, "fstat", real_fstat)
    assert watcher.check_now()
    assert watcher.live.catalog is not None
    assert watcher.live.catalog.version == hashlib.sha256(catalog.read_bytes()).hexdigest()


def test_a_renderer_failure_keeps_the_last_good_site(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    catalog = copy_catalog(tmp_path)
    failing = {"now": False}

    def renderer(value: Catalog) -> dict[str, bytes]:
        if failing["now"]:
            raise RuntimeError("renderer bug")
        return {"/feed.json": value.feed.title.encode()}

    app = make_app(catalog, RENDERERS=[renderer])
    failing["now"] = True
    retitle_untagged(catalog, "Triggers a rebuild")
    with caplog.at_level(logging.ERROR, logger="feeds"):
        assert check(app)
    assert app.test_client().get("/feed.json").status_code == 200
    report = health(app.test_client())[1]
    assert report["status"] == "stale"
    assert report["problems"] == [{"line": 0, "field": ""}]
    problem = runtime(app).watcher.live.problems[0]
    assert "could not build the site: RuntimeError: renderer bug" in problem
    assert any(r.exc_info for r in caplog.records)  # our bug: the traceback is logged


# --- the development banner -----------------------------------------------------------------


def test_dev_mode_shows_the_errors_on_every_page_while_broken(tmp_path: Path) -> None:
    catalog = copy_catalog(tmp_path)
    app = make_app(catalog, DEV_BANNER=True)
    client = app.test_client()
    clean_page = client.get(PAGE)
    clean_feed = client.get("/feed.atom")
    edit(catalog, "  language: en\n", "  language: en\n  colour: <b>red</b>\n")
    assert check(app)
    problem = runtime(app).watcher.live.problems[0]
    assert "colour" in problem
    # /health is public even in development: the unknown key is the file's own text.
    assert health(client)[1]["problems"][0]["field"] == "feed.?"
    assert "colour" not in client.get("/health").get_data(as_text=True)

    page = client.get(PAGE)
    assert page.headers["ETag"] != clean_page.headers["ETag"]
    document = html5lib.parse(page.data, namespaceHTMLElements=False)
    body = document.find("body")
    assert body is not None
    banner = body[0]  # right after <body>, above the last good content
    assert banner.get("role") == "alert"
    assert problem in "".join(banner.itertext())
    assert b"<b>red</b>" not in page.data  # escaped
    assert html.escape(problem).encode() in page.data
    assert page.data.replace(_banner_of(page.data), b"") == clean_page.data
    # The banner's page is a valid Output: its ETag is the one of its bytes.
    assert clean_page.last_modified is not None
    assert page.headers["ETag"] == make_output(PAGE, page.data, clean_page.last_modified).etag
    # Feeds and calendars are not pages: unchanged.
    assert client.get("/feed.atom").data == clean_feed.data

    edit(catalog, "  colour: <b>red</b>\n", "")
    assert check(app)
    assert client.get(PAGE).data == clean_page.data


def test_production_never_shows_the_banner(tmp_path: Path) -> None:
    catalog = copy_catalog(tmp_path)
    app = make_app(catalog)
    client = app.test_client()
    clean_page = client.get(PAGE)
    break_catalog(catalog)
    assert check(app)
    page = client.get(PAGE)
    assert page.data == clean_page.data
    assert page.headers["ETag"] == clean_page.headers["ETag"]


def _banner_of(body: bytes) -> bytes:
    """The banner's element: from `<body>`'s first child to its first `</ul></div>`."""
    start = body.index(b'<div class="catalog-errors"')
    end = b"</ul></div>"
    return body[start : body.index(end, start) + len(end)]


# --- the thread --------------------------------------------------------------------------


def test_the_watcher_thread_picks_up_an_edit(tmp_path: Path) -> None:
    catalog = copy_catalog(tmp_path)
    app = make_app(catalog, RELOAD=True, RELOAD_INTERVAL=0.05)
    client = app.test_client()
    watcher = runtime(app).watcher
    assert not watcher.running_here()
    etag = client.get("/feed.rss").headers["ETag"]  # the first request starts it
    assert watcher.running_here()
    try:
        retitle_untagged(catalog, "Seen by the thread")
        deadline = time.monotonic() + 30  # a bound against hanging, not a timing check
        while client.get("/feed.rss").headers["ETag"] == etag:
            assert time.monotonic() < deadline, "the watcher never swapped the new Site in"
            time.sleep(0.02)
        assert b"Seen by the thread" in client.get("/feed.rss").data
    finally:
        watcher.stop()
    assert not watcher.running_here()


def test_starting_twice_at_once_starts_one_thread(tmp_path: Path) -> None:
    def watcher_threads() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if t.name == "feeds-catalog-watcher"}

    before = watcher_threads()
    watcher = CatalogWatcher(copy_catalog(tmp_path), lambda site, problems: site, interval=60)
    starters = [threading.Thread(target=watcher.start) for _ in range(8)]
    for starter in starters:
        starter.start()
    for starter in starters:
        starter.join()
    try:
        assert watcher.running_here()
        assert len(watcher_threads() - before) == 1
        watcher.start()
        assert len(watcher_threads() - before) == 1
    finally:
        watcher.stop()
    assert watcher_threads() - before == set()
