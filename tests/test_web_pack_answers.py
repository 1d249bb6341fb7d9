"""A worker serving from the builder's pack answers every path of a Site exactly as an
app that built the Site in its own process: same status, same headers in the same
order, same body, for plain, gzip, HEAD and conditional requests, whether a path's
answers are made for the first time, kept, or made again after being let go."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from test_web_view import assert_same_answers

from feeds.catalog import parse_catalog
from feeds.serve import served
from feeds.serve.pack import PackReader
from feeds.serve.pack_writer import PackWriter
from feeds.serve.responder import make_view
from feeds.serve.served import ViewMaker, wsgi_key
from feeds.serve.web import create_app, runtime
from feeds.site import Site, build_site, make_output

ROOT = Path(__file__).resolve().parent.parent
Answer = tuple[int, list[tuple[str, str]], bytes]


def generated_catalog(entries: int) -> str:
    """The benchmarks' deterministic catalog (zones, RRULEs, tags, markup in text)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from gen_catalog import generate
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    text: str = generate(entries)
    return text


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("catalog") / "entries.yaml"
    path.write_text(generated_catalog(300), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def in_process(catalog: Path) -> Flask:
    app = create_app(catalog, {"RELOAD": False})
    app.testing = True
    return app


@pytest.fixture
def from_pack(catalog: Path, tmp_path: Path) -> Flask:
    site = build_site(parse_catalog(catalog.read_bytes(), str(catalog)))
    PackWriter(tmp_path).publish(site, {"status": "ok", "pid": 1})
    app = create_app(catalog, {"SHARED_BUILD": str(tmp_path), "RELOAD": False})
    app.testing = True
    return app


def answer(client: FlaskClient, method: str, path: str, headers: dict[str, str]) -> Answer:
    response = client.open(path, method=method, headers=headers)
    return response.status_code, list(response.headers.items()), response.get_data()


def requests_for(client: FlaskClient, path: str) -> list[tuple[str, dict[str, str]]]:
    """Every kind of request a path is answered differently for."""
    etag = client.get(path).headers["ETag"]
    gzip_etag = client.get(path, headers={"Accept-Encoding": "gzip"}).headers["ETag"]
    last_modified = client.get(path).headers["Last-Modified"]
    return [
        ("GET", {}),
        ("GET", {"Accept-Encoding": "gzip"}),
        ("HEAD", {"Accept-Encoding": "gzip, deflate"}),
        ("GET", {"If-None-Match": etag}),
        ("GET", {"If-None-Match": gzip_etag, "Accept-Encoding": "gzip"}),
        ("GET", {"If-Modified-Since": last_modified}),
        ("POST", {}),
    ]


@pytest.mark.parametrize("cached", [4096, 16], ids=["all kept", "few kept"])
def test_a_pack_worker_answers_every_path_as_an_in_process_app(
    in_process: Flask, from_pack: Flask, monkeypatch: pytest.MonkeyPatch, cached: int
) -> None:
    monkeypatch.setattr(served, "CACHED_PATHS", cached, raising=False)
    view = runtime(in_process).source.view
    assert view is not None
    paths = sorted(view.served)
    assert len(paths) > 300
    # Without their trailing slash (a redirect), and paths the Site does not have.
    extra = [p[:-1] + "?q=1" for p in paths if p.endswith("/") and p != "/"][:20]
    extra += ["/nothing-here", "/feed.atom/", "/tags/", "/embed/?tag=nope"]
    reference, worker = in_process.test_client(), from_pack.test_client()
    for round_ in range(2):  # answers made, then kept or made again
        for path in paths:
            for method, headers in requests_for(reference, path):
                expected = answer(reference, method, path, headers)
                assert answer(worker, method, path, headers) == expected, (round_, method, path)
        for path in extra:
            assert answer(worker, "GET", path, {}) == answer(reference, "GET", path, {}), path


def test_paths_beyond_ascii_are_found_as_wsgi_spells_them(tmp_path: Path) -> None:
    moment = datetime(2019, 3, 14, 9, 30, tzinfo=timezone(timedelta(hours=2)))
    paths = ["/tags/café/", "/entries/日本/", "/tags/plain/", "/feed.json"]
    outputs = {p: make_output(p, f'{{"p": "{p}"}}'.encode() * 40, moment) for p in paths}
    site = Site(outputs=outputs, version="1", last_modified=moment)
    PackWriter(tmp_path).publish(site, {"status": "ok"})
    mapped = PackReader(tmp_path).read()
    assert mapped is not None
    view = ViewMaker().from_pack(mapped)
    assert view is not None
    assert_same_answers(view, make_view(site, (), banner=False))
    assert view.tags == make_view(site, (), banner=False).tags == {wsgi_key("café"), "plain"}
    assert "/tags/café/" not in view.served  # PATH_INFO is latin-1 text of the raw bytes
