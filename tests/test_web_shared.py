"""The shared build: the builder's pack (`feeds.serve.pack`) read back by workers serves the
very bytes and headers of an in-process Site; publishing appends only new bodies;
unchanged outputs keep their prepared answers; a worker app serves it over HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from test_web_view import assert_same_answers

from feeds.catalog import parse_catalog
from feeds.serve.health import health_report
from feeds.serve.live import Live
from feeds.serve.pack import INDEX, PackReader
from feeds.serve.pack_writer import PackWriter
from feeds.serve.responder import make_view
from feeds.serve.served import View, ViewMaker
from feeds.serve.web import create_app, runtime
from feeds.site import Site, build_site, make_output

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "entries.yaml"


def site_of(text: str) -> Site:
    return build_site(parse_catalog(text.encode(), str(CATALOG)))


@pytest.fixture(scope="module")
def text() -> str:
    return CATALOG.read_text("utf-8")


@pytest.fixture(scope="module")
def site(text: str) -> Site:
    return site_of(text)


@pytest.fixture(scope="module")
def edited_site(text: str) -> Site:
    return site_of(text.replace("title: EUROCITIES news and events", "title: EUROCITIES news", 1))


def publish(directory: Path, *sites: Site) -> PackWriter:
    writer = PackWriter(directory)
    for one in sites:
        writer.publish(one, {"status": "ok", "pid": 1})
    return writer


def pack_view(directory: Path, maker: ViewMaker | None = None) -> View:
    mapped = PackReader(directory).read()
    assert mapped is not None
    view = (maker or ViewMaker()).from_pack(mapped)
    assert view is not None
    return view


def test_a_published_site_serves_what_the_site_serves(tmp_path: Path, site: Site) -> None:
    publish(tmp_path, site)
    assert_same_answers(pack_view(tmp_path), make_view(site, (), banner=False))


def test_a_republish_appends_only_new_bodies_and_keeps_unchanged_answers(
    tmp_path: Path, site: Site, edited_site: Site
) -> None:
    writer = publish(tmp_path, site)
    reader, maker = PackReader(tmp_path), ViewMaker()
    first_mapped = reader.read()
    assert first_mapped is not None
    first = maker.from_pack(first_mapped)
    assert first is not None
    # Answers are made as paths are requested: request every one before the republish.
    assert_same_answers(first, make_view(site, (), banner=False))
    blob = tmp_path / str(first_mapped.index.blobs)
    size_before = writer._size

    writer.publish(edited_site, {"status": "ok"})
    mapped = reader.read()
    assert mapped is not None and mapped is not first_mapped
    assert mapped.blobs is first_mapped.blobs  # same generation: mapped once
    second = maker.from_pack(mapped)
    assert second is not None
    assert_same_answers(second, make_view(edited_site, (), banner=False))

    changed = {p for p in site.outputs if site[p].etag != edited_site[p].etag}
    assert changed and len(changed) < len(site.outputs)
    new_bytes = sum(
        len(edited_site[p].body) + len(edited_site[p].gzip_body or b"") for p in changed
    )
    assert writer._size - size_before <= new_bytes  # unchanged bodies were not written again
    assert blob.exists()
    for path in site.outputs:
        if path not in changed:
            assert second.served[path] is first.served[path], path


def test_a_pack_full_of_dead_bodies_starts_a_new_generation(
    tmp_path: Path, site: Site, edited_site: Site
) -> None:
    writer = publish(tmp_path, site)
    reader = PackReader(tmp_path)
    first = reader.read()
    assert first is not None
    writer._capacity = writer._size + 1  # the next publish does not fit: a new file
    writer.publish(edited_site, {"status": "ok"})
    mapped = reader.read()
    assert mapped is not None
    assert mapped.index.blobs != first.index.blobs
    assert not (tmp_path / str(first.index.blobs)).exists()  # unlinked; still mapped here
    assert first.blobs is not None and first.blobs[:10]  # the old mapping still reads
    assert_same_answers(pack_view(tmp_path), make_view(edited_site, (), banner=False))


def test_an_unchanged_index_is_not_read_again(tmp_path: Path, site: Site) -> None:
    publish(tmp_path, site)
    reader = PackReader(tmp_path)
    assert reader.read() is reader.read()


def test_no_pack_yet_reads_as_none(tmp_path: Path) -> None:
    assert PackReader(tmp_path).read() is None


def shared_app(directory: Path) -> Flask:
    app = create_app(CATALOG, {"SHARED_BUILD": str(directory), "RELOAD": False})
    app.testing = True
    return app


def test_a_worker_app_serves_the_shared_build(tmp_path: Path, site: Site) -> None:
    live: Live[None] = Live(site=site, catalog=parse_catalog(CATALOG.read_bytes(), str(CATALOG)))
    PackWriter(tmp_path).publish(site, health_report(live, CATALOG))
    client = shared_app(tmp_path).test_client()
    for path in ("/feed.atom", "/events.ics", "/"):
        response = client.get(path, headers={"Accept-Encoding": "gzip"})
        output = site[path]
        assert response.status_code == 200
        assert response.data == (output.gzip_body or output.body)
        assert response.headers["ETag"] == (output.gzip_etag or output.etag)
        again = client.get(path, headers={"If-None-Match": output.etag})
        assert (again.status_code, again.data) == (304, b"")
    health = client.get("/health").get_json()
    assert health["status"] == "ok"
    assert health["catalog"]["version"] == site.version
    assert health["pid"] == os.getpid()


def test_a_worker_follows_a_new_publish(tmp_path: Path, site: Site, edited_site: Site) -> None:
    writer = publish(tmp_path, site)
    app = shared_app(tmp_path)
    client = app.test_client()
    assert client.get("/feed.atom").headers["ETag"] == site["/feed.atom"].etag
    writer.publish(edited_site, {"status": "ok"})
    assert runtime(app).source.watcher.check_now()
    assert client.get("/feed.atom").headers["ETag"] == edited_site["/feed.atom"].etag


def test_a_worker_before_any_good_build_answers_503(tmp_path: Path) -> None:
    problems = ["entries.yaml:3: feed.title: is required but missing; add 'title: ...'"]
    PackWriter(tmp_path).publish(None, {"status": "unavailable", "problems": problems})
    client = shared_app(tmp_path).test_client()
    assert client.get("/feed.atom").status_code == 503
    response = client.get("/health")
    assert response.status_code == 503
    assert response.get_json()["problems"] == problems


def test_a_worker_without_a_pack_answers_503_until_one_appears(tmp_path: Path, site: Site) -> None:
    app = shared_app(tmp_path)
    client = app.test_client()
    assert client.get("/feed.atom").status_code == 503
    assert client.get("/health").status_code == 503
    publish(tmp_path, site)
    assert (tmp_path / INDEX).exists()
    assert runtime(app).source.watcher.check_now()
    assert client.get("/feed.atom").status_code == 200


def test_a_damaged_index_keeps_what_is_served(tmp_path: Path, site: Site) -> None:
    publish(tmp_path, site)
    app = shared_app(tmp_path)
    (tmp_path / INDEX).write_bytes(b"not a pickle")
    assert not runtime(app).source.watcher.check_now()
    assert app.test_client().get("/feed.atom").status_code == 200


def test_a_worker_says_stale_once_the_builder_is_gone(tmp_path: Path, site: Site) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # a pid that no longer runs (reaped)
    PackWriter(tmp_path).publish(site, {"status": "ok", "problems": [], "pid": gone.pid})
    client = shared_app(tmp_path).test_client()
    assert client.get("/feed.atom").status_code == 200  # still serving the last build
    report = client.get("/health").get_json()
    assert report["status"] == "stale"
    assert f"builder process ({gone.pid}) has exited" in report["reason"]


def tiny_site(version: int) -> Site:
    """Two outputs: one that never changes, one rewritten by every version."""
    moment = datetime(2019, 3, 14, tzinfo=UTC)
    bodies = {"/same.json": b'{"same": true}' * 50, "/feed.json": b'{"v": %d}' % version * 500}
    outputs = {path: make_output(path, body, moment) for path, body in bodies.items()}
    return Site(outputs=outputs, version=str(version), last_modified=moment)


def test_bodies_no_longer_served_are_dropped_by_a_new_generation(tmp_path: Path) -> None:
    writer, reader = PackWriter(tmp_path), PackReader(tmp_path)
    generations: set[str | None] = set()
    blobs = None
    for version in range(40):
        site = tiny_site(version)
        writer.publish(site, {"status": "ok"})
        mapped = reader.read()
        assert mapped is not None
        generations.add(blobs := mapped.index.blobs)
        assert_same_answers(pack_view(tmp_path), make_view(site, (), banner=False))
        assert writer._size <= 4 * sum(
            len(o.body) + len(o.gzip_body or b"") for o in site.outputs.values()
        )
    assert len(generations) > 1  # the file was compacted rather than left to grow
    assert sorted(p.name for p in tmp_path.glob("blobs-*")) == [blobs]  # old ones unlinked


def test_a_new_writer_removes_what_an_earlier_run_left(tmp_path: Path, site: Site) -> None:
    publish(tmp_path, site)
    PackWriter(tmp_path)  # a restarted builder, before its first publish
    assert PackReader(tmp_path).read() is None  # workers wait for the new build
    assert not list(tmp_path.glob("blobs-*"))
