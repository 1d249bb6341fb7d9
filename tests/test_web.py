"""The web app through Flask's test client: every HTTP rule of the Site's answers."""

from __future__ import annotations

import builtins
import gzip
import json
import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from test_web_support import UNTAGGED_ID, copy_catalog, make_app
from werkzeug.test import TestResponse

from feeds.serve.headers import XML_CSP, headers_for
from feeds.serve.web import runtime
from feeds.site import Output, Site

FEEDS = ["/feed.atom", "/feed.rss", "/feed.json"]
CALENDARS = ["/events.ics"]


@pytest.fixture
def site_app(tmp_path: Path) -> Flask:
    return make_app(copy_catalog(tmp_path))


@pytest.fixture
def web(site_app: Flask) -> FlaskClient:
    return site_app.test_client()


@pytest.fixture
def site(site_app: Flask) -> Site:
    served = runtime(site_app).watcher.live.site
    assert served is not None
    return served


def headers_of(response: TestResponse) -> list[tuple[str, str]]:
    return list(response.headers.items())


def test_the_site_has_every_kind_of_output(site: Site) -> None:
    paths = set(site.outputs)
    assert set(FEEDS + CALENDARS) <= paths
    assert {"/", "/embed/", f"/entries/{UNTAGGED_ID}/", "/style.css", "/feed.xsl"} <= paths
    assert any(path.startswith("/tags/") for path in paths)
    assert any(path.endswith(".ics") and path.startswith("/entries/") for path in paths)


def test_every_output_is_served_with_its_bytes_and_exactly_its_headers(
    web: FlaskClient, site: Site
) -> None:
    for path, output in site.outputs.items():
        response = web.get(path)
        assert response.status_code == 200, path
        assert response.data == output.body, path
        expected = [*headers_for(output), ("Content-Length", str(len(output.body)))]
        assert headers_of(response) == expected, path


def test_gzip_when_asked_decompresses_to_the_same_bytes(web: FlaskClient, site: Site) -> None:
    compressed = [o for o in site.outputs.values() if o.gzip_body is not None]
    assert {"/feed.atom", "/events.ics", "/"} <= {o.path for o in compressed}
    for output in compressed:
        response = web.get(output.path, headers={"Accept-Encoding": "gzip, deflate, br"})
        assert response.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(response.data) == output.body
        assert response.headers["ETag"] == output.gzip_etag != output.etag
        assert response.headers["Vary"] == "Accept-Encoding"
        assert response.headers["Content-Length"] == str(len(response.data))
        assert response.headers["Content-Type"] == output.content_type


@pytest.mark.parametrize("accept", [None, "gzip;q=0", "identity", "br", "*;q=0", "q=;;,"])
def test_no_gzip_unless_acceptable(web: FlaskClient, site: Site, accept: str | None) -> None:
    headers = {"Accept-Encoding": accept} if accept is not None else {}
    response = web.get("/feed.atom", headers=headers)
    assert "Content-Encoding" not in response.headers
    assert response.data == site["/feed.atom"].body
    assert response.headers["Vary"] == "Accept-Encoding"  # the answer depended on it


def test_small_outputs_are_never_gzipped_and_do_not_vary(web: FlaskClient, site: Site) -> None:
    small = [o for o in site.outputs.values() if o.gzip_body is None]
    for output in small:
        response = web.get(output.path, headers={"Accept-Encoding": "gzip"})
        assert "Content-Encoding" not in response.headers
        assert "Vary" not in response.headers


# --- conditional requests -------------------------------------------------------------------


@pytest.mark.parametrize("path", FEEDS + CALENDARS + ["/"])
def test_if_none_match_gives_304_for_each_encoding(web: FlaskClient, path: str) -> None:
    for accept in ("identity", "gzip"):
        first = web.get(path, headers={"Accept-Encoding": accept})
        again = web.get(
            path, headers={"Accept-Encoding": accept, "If-None-Match": first.headers["ETag"]}
        )
        assert again.status_code == 304
        assert again.data == b""
        assert again.headers["ETag"] == first.headers["ETag"]
        assert again.headers["Cache-Control"] == first.headers["Cache-Control"]
        assert again.headers["Vary"] == "Accept-Encoding"
        assert "Content-Type" not in again.headers


def test_an_etag_of_the_other_encoding_does_not_match(web: FlaskClient, site: Site) -> None:
    feed = site["/feed.atom"]
    response = web.get("/feed.atom", headers={"If-None-Match": feed.gzip_etag or ""})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "header",
    ['"stale", {etag}', "W/{etag}", "*", '  "a" ,{etag}'],
)
def test_if_none_match_lists_weak_and_star(web: FlaskClient, site: Site, header: str) -> None:
    value = header.format(etag=site["/feed.rss"].etag)
    assert web.get("/feed.rss", headers={"If-None-Match": value}).status_code == 304


def test_a_changed_etag_means_200_even_with_a_matching_date(web: FlaskClient) -> None:
    first = web.get("/feed.atom")
    response = web.get(
        "/feed.atom",
        headers={"If-None-Match": '"old"', "If-Modified-Since": first.headers["Last-Modified"]},
    )
    assert response.status_code == 200
    assert response.data == first.data


def test_if_modified_since(web: FlaskClient) -> None:
    last_modified = web.get("/events.ics").headers["Last-Modified"]
    assert web.get("/events.ics", headers={"If-Modified-Since": last_modified}).status_code == 304
    later = "Fri, 01 Jan 2100 00:00:00 GMT"
    assert web.get("/events.ics", headers={"If-Modified-Since": later}).status_code == 304
    earlier = "Mon, 01 Jan 2001 00:00:00 GMT"
    assert web.get("/events.ics", headers={"If-Modified-Since": earlier}).status_code == 200
    for garbage in ("yesterday", "", "Mon, 32 Jan 2001 00:00:00 GMT"):
        assert web.get("/events.ics", headers={"If-Modified-Since": garbage}).status_code == 200


def test_a_304_answers_head_too(web: FlaskClient) -> None:
    etag = web.get("/feed.json").headers["ETag"]
    response = web.head("/feed.json", headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.data == b""


# --- HEAD, methods, paths -----------------------------------------------------------------


@pytest.mark.parametrize("accept", ["identity", "gzip"])
def test_head_has_the_headers_of_get_and_no_body(web: FlaskClient, accept: str) -> None:
    for path in FEEDS + CALENDARS + ["/", "/embed/"]:
        get = web.get(path, headers={"Accept-Encoding": accept})
        head = web.head(path, headers={"Accept-Encoding": accept})
        assert head.status_code == 200
        assert head.data == b""
        assert headers_of(head) == headers_of(get)
        assert head.headers["Content-Length"] == str(len(get.data))


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "BREW"])
def test_other_methods_are_405_with_allow(web: FlaskClient, method: str) -> None:
    response = web.open("/feed.atom", method=method, data=b"x")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD"
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.data == b"405 Method Not Allowed\n"


def test_health_allows_get_and_head_only(web: FlaskClient) -> None:
    response = web.post("/health")
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD"}
    assert response.data == b"405 Method Not Allowed\n"


@pytest.mark.parametrize(
    "path",
    [
        "/nope",
        "/feed.atom/",
        "/feed.ATOM",
        "/tags//feed.atom",
        "/entries/",
        "/entries.yaml",
        "/tags/../entries.yaml",  # "/../entries.yaml", above the root: a 400 as from nginx
        "/wsgi.py",
        "/feeds/serve/web.py",
        "/tags/",
        "/caf\u00e9/",
        "/%00",
    ],
)
def test_unknown_paths_are_a_short_plain_404(web: FlaskClient, path: str) -> None:
    response = web.get(path)
    assert response.status_code == 404
    assert response.data == b"404 Not Found\n"
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_an_entry_page_without_its_slash_redirects(web: FlaskClient) -> None:
    response = web.get(f"/entries/{UNTAGGED_ID}")
    assert response.status_code == 301
    assert response.headers["Location"] == f"/entries/{UNTAGGED_ID}/"
    with_query = web.get(f"/entries/{UNTAGGED_ID}?utm=x&y=1")
    assert with_query.headers["Location"] == f"/entries/{UNTAGGED_ID}/?utm=x&y=1"
    followed = web.get(f"/entries/{UNTAGGED_ID}", follow_redirects=True)
    assert followed.status_code == 200
    assert followed.request.path == f"/entries/{UNTAGGED_ID}/"


def test_a_query_string_does_not_change_the_answer(web: FlaskClient, site: Site) -> None:
    response = web.get("/feed.atom?since=yesterday")
    assert response.status_code == 200
    assert response.data == site["/feed.atom"].body


def test_a_request_never_reads_files(
    web: FlaskClient, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The test client answers in this thread. The app's catalog watcher polls the file
    # (os.stat) in a thread of its own, started by the first request; it must keep
    # working, or its failure would surface at some later, unrelated moment.
    request_thread = threading.get_ident()

    def forbidden_here(real: Callable[..., object]) -> Callable[..., object]:
        def guarded(*args: object, **kwargs: object) -> object:
            if threading.get_ident() == request_thread:
                raise AssertionError("a request opened a file")
            return real(*args, **kwargs)

        return guarded

    monkeypatch.setattr("builtins.open", forbidden_here(builtins.open))
    monkeypatch.setattr("os.stat", forbidden_here(os.stat))
    for path in site.outputs:
        assert web.get(path).status_code == 200


# --- the policy by kind -----------------------------------------------------------------------


def test_cors_on_feeds_and_calendars_only(web: FlaskClient, site: Site) -> None:
    for path in FEEDS + CALENDARS + [p for p in site.outputs if p.startswith("/tags/")]:
        assert web.get(path).headers["Access-Control-Allow-Origin"] == "*", path
    for path in ("/", "/embed/", f"/entries/{UNTAGGED_ID}/"):
        assert "Access-Control-Allow-Origin" not in web.get(path).headers, path


def test_only_the_embed_page_may_be_framed(web: FlaskClient, site: Site) -> None:
    for path in site.outputs:
        response = web.get(path)
        csp = response.headers["Content-Security-Policy"]
        if path == "/embed/":
            assert "X-Frame-Options" not in response.headers
            assert "frame-ancestors *" in csp
        else:
            assert response.headers["X-Frame-Options"] == "DENY", path
            assert "frame-ancestors 'none'" in csp, path
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_content_types_carry_a_charset(web: FlaskClient) -> None:
    expected = {
        "/feed.atom": "application/atom+xml; charset=utf-8",
        "/feed.rss": "application/rss+xml; charset=utf-8",
        "/feed.json": "application/feed+json; charset=utf-8",
        "/events.ics": "text/calendar; charset=utf-8",
        "/": "text/html; charset=utf-8",
    }
    for path, content_type in expected.items():
        assert web.get(path).headers["Content-Type"] == content_type
    assert web.get("/feed.atom").headers["Content-Security-Policy"] == XML_CSP


def test_feeds_are_cacheable_for_their_max_age(web: FlaskClient, site: Site) -> None:
    for path in FEEDS + ["/"]:
        max_age = site[path].max_age
        assert max_age > 0
        assert web.get(path).headers["Cache-Control"] == f"public, max-age={max_age}"


# --- /health -----------------------------------------------------------------------------------


def test_health_reports_the_served_catalog(site_app: Flask, web: FlaskClient, site: Site) -> None:
    response = web.get("/health")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    report = json.loads(response.data)
    catalog = runtime(site_app).watcher.live.catalog
    assert catalog is not None
    assert report["status"] == "ok"
    assert report["catalog"]["version"] == catalog.version == site.version
    assert report["catalog"]["entries"] == len(catalog.entries) == 10
    assert report["catalog"]["events"] == len(catalog.events)
    assert report["catalog"]["outputs"] == len(site)
    assert report["catalog"]["loaded_at"]
    assert report["problems"] == []
    assert report["last_error"] is None
    assert report["reloads"] == 0


def test_the_conftest_client_serves_the_full_site(client: FlaskClient, app: Flask) -> None:
    """The tutorial-style fixtures build the real Site (every renderer)."""
    site = runtime(app).watcher.live.site
    assert site is not None
    outputs: list[Output] = list(site.outputs.values())
    assert outputs
    for output in outputs:
        assert client.get(output.path).data == output.body


EMBED_QUERIES_OK = ["", "kind=events", "kind=publications&limit=50&theme=dark", "tag=culture"]
EMBED_QUERIES_BAD = [
    "&&&",
    "kind=events&",
    "kind=%65vents",
    "kind=podcasts",
    "limit=0",
    "limit=51",
    "limit=",
    "theme=neon",
    "tag=nope",
    "tag=Culture",
    "colour=red",
    "kind=events&kind=events",
    "limit=%ff",
]


@pytest.mark.parametrize("query", EMBED_QUERIES_OK)
def test_the_embed_page_takes_its_documented_query(client: FlaskClient, query: str) -> None:
    response = client.get(f"/embed/?{query}")
    assert response.status_code == 200
    assert b"<html" in response.data


@pytest.mark.parametrize("query", EMBED_QUERIES_BAD)
def test_the_embed_page_refuses_any_other_query_with_400(client: FlaskClient, query: str) -> None:
    response = client.get(f"/embed/?{query}")
    assert response.status_code == 400
    assert response.mimetype == "text/plain"
    assert response.data.startswith(b"400 Bad Request: ")
    assert len(response.data) < 300
