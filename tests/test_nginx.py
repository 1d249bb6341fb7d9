"""End to end: `feeds build`, then real nginx with deploy/nginx.conf serving the folder.

nginx must answer like the app: the same bodies, content types and policy headers
(feeds/serve/headers.py) for every path, gzip from the .gz files, 304 on both validators,
HEAD, plain 404/405, and a build that flips the folder while nginx serves it.
"""

from __future__ import annotations

import gzip
import http.client
import subprocess
import sys
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from sample_site import sample_site
from servers import Server, start_nginx

from feeds.catalog import load_catalog
from feeds.publish.export import export_site
from feeds.serve.headers import Encoding, headers_for, http_date, not_modified_headers_for
from feeds.site import Output, Site, build_site

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
FEEDS = Path(sys.executable).parent / "feeds"
# What nginx adds on its own, beside the policy's headers.
TRANSPORT = {"server", "date", "content-length", "connection"}


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Message
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


def fetch(server: Server, path: str, method: str = "GET", **headers: str) -> Answer:
    """One request, headers exactly as given (`If_None_Match="..."` -> If-None-Match)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request(
            method, path, headers={k.replace("_", "-"): v for k, v in headers.items()}
        )
        response = connection.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        connection.close()


def nginx_etag(output: Output, encoding: Encoding) -> str:
    """nginx's ETag: hex mtime (= Last-Modified, set by the export) and hex size."""
    body = output.gzip_body if encoding == "gzip" else output.body
    assert body is not None
    return f'"{int(output.last_modified.timestamp()):x}-{len(body):x}"'


def assert_answers_like_the_policy(answer: Answer, output: Output, encoding: Encoding) -> None:
    expected = dict(headers_for(output, encoding))
    expected["ETag"] = nginx_etag(output, encoding)
    got = {name: answer.headers.get_all(name) for name in answer.headers}
    for name, value in expected.items():
        assert got.get(name) == [value], f"{output.path} ({encoding}): {name}"
    extra = {n for n in got if n.lower() not in TRANSPORT | {e.lower() for e in expected}}
    assert not extra, f"{output.path} ({encoding}): headers the app does not send: {extra}"


@pytest.fixture(scope="module")
def sample() -> Site:
    return sample_site()


@pytest.fixture(scope="module")
def nginx(sample: Site, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    out = tmp_path_factory.mktemp("nginx-sample") / "site"
    export_site(sample, out)
    with start_nginx(out) as server:
        yield server


def test_every_path_has_the_body_and_headers_of_its_output(sample: Site, nginx: Server) -> None:
    for path in sample:
        output = sample[path]
        answer = fetch(nginx, path)
        assert answer.status == 200, path
        assert answer.body == output.body, path
        assert answer.header("Content-Length") == str(len(output.body))
        assert_answers_like_the_policy(answer, output, "identity")


def test_gzip_is_served_from_the_gz_files(sample: Site, nginx: Server) -> None:
    compressed = [sample[p] for p in sample if sample[p].gzip_body is not None]
    assert compressed
    for output in compressed:
        answer = fetch(nginx, output.path, Accept_Encoding="gzip, deflate")
        assert answer.status == 200
        assert answer.header("Content-Encoding") == "gzip"
        assert answer.body == output.gzip_body  # the deterministic bytes, not recompressed
        assert gzip.decompress(answer.body) == output.body
        assert_answers_like_the_policy(answer, output, "gzip")


def test_gzip_also_reaches_a_cdn_or_proxy(sample: Site, nginx: Server) -> None:
    answer = fetch(nginx, "/feed.atom", Accept_Encoding="gzip", Via="1.1 cdn.example.net")
    assert answer.header("Content-Encoding") == "gzip"
    assert answer.header("Vary") == "Accept-Encoding"
    assert answer.body == sample["/feed.atom"].gzip_body


def test_outputs_without_gz_are_never_compressed_on_the_fly(sample: Site, nginx: Server) -> None:
    plain = [sample[p] for p in sample if sample[p].gzip_body is None]
    assert plain
    for output in plain:
        answer = fetch(nginx, output.path, Accept_Encoding="gzip")
        assert answer.header("Content-Encoding") is None
        assert answer.body == output.body
        assert_answers_like_the_policy(answer, output, "identity")


def test_clients_that_refuse_gzip_get_identity(sample: Site, nginx: Server) -> None:
    answer = fetch(nginx, "/feed.atom", Accept_Encoding="gzip;q=0")
    assert answer.header("Content-Encoding") is None
    assert answer.body == sample["/feed.atom"].body


def _assert_not_modified(answer: Answer, output: Output, encoding: Encoding) -> None:
    """A 304 with what the app sends with one, and only that (plus nginx's Last-Modified)."""
    assert answer.status == 304, output.path
    assert answer.body == b""
    expected = dict(not_modified_headers_for(output, encoding))
    expected["ETag"] = nginx_etag(output, encoding)
    expected["Last-Modified"] = http_date(output.last_modified)
    got = {name: value for name, value in answer.headers.items() if name.lower() not in TRANSPORT}
    assert got == expected, output.path


def test_304_on_nginx_etag_and_on_last_modified(sample: Site, nginx: Server) -> None:
    for path in sample:
        output = sample[path]
        etag = nginx_etag(output, "identity")
        _assert_not_modified(fetch(nginx, path, If_None_Match=etag), output, "identity")
        since = http_date(output.last_modified)
        _assert_not_modified(fetch(nginx, path, If_Modified_Since=since), output, "identity")
        if output.gzip_body is not None:
            gz = fetch(
                nginx, path, Accept_Encoding="gzip", If_None_Match=nginx_etag(output, "gzip")
            )
            _assert_not_modified(gz, output, "gzip")


def test_changed_validators_get_the_full_answer(sample: Site, nginx: Server) -> None:
    output = sample["/feed.atom"]
    other_etag = fetch(nginx, "/feed.atom", If_None_Match='"5cd3c45f-1"')
    assert other_etag.status == 200 and other_etag.body == output.body
    earlier = http_date(output.last_modified - timedelta(seconds=1))
    assert fetch(nginx, "/feed.atom", If_Modified_Since=earlier).status == 200
    # Identity's ETag does not validate the gzip variant.
    crossed = fetch(
        nginx, "/feed.atom", Accept_Encoding="gzip", If_None_Match=nginx_etag(output, "identity")
    )
    assert crossed.status == 200 and crossed.body == output.gzip_body


def test_head_sends_the_headers_without_the_body(sample: Site, nginx: Server) -> None:
    for path in sample:
        output = sample[path]
        answer = fetch(nginx, path, method="HEAD")
        assert answer.status == 200 and answer.body == b""
        assert answer.header("Content-Length") == str(len(output.body))
        assert_answers_like_the_policy(answer, output, "identity")


@pytest.mark.parametrize(
    "path",
    ["/nope", "/nope.html", "/feed.atom.gz", "/.site.lock", "/tags/", "/entries/"],
)
def test_unknown_paths_get_a_short_plain_404(nginx: Server, path: str) -> None:
    answer = fetch(nginx, path)
    assert answer.status == 404
    assert answer.header("Content-Type") == "text/plain; charset=utf-8"
    assert answer.body == b"404 Not Found\n"
    assert answer.header("X-Content-Type-Options") == "nosniff"
    assert answer.header("X-Frame-Options") == "DENY"
    assert answer.header("Cache-Control") == "no-store"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "OPTIONS"])
def test_other_methods_get_a_short_plain_405(nginx: Server, method: str) -> None:
    answer = fetch(nginx, "/feed.atom", method=method)
    assert answer.status == 405
    assert answer.header("Allow") == "GET, HEAD"
    assert answer.header("Content-Type") == "text/plain; charset=utf-8"
    assert answer.body == b"405 Method Not Allowed\n"


def test_a_folder_without_its_slash_redirects_relatively(nginx: Server) -> None:
    answer = fetch(nginx, "/events")
    assert answer.status == 301
    assert answer.header("Location") == "/events/"


def test_symlinks_inside_the_export_are_not_followed(tmp_path: Path) -> None:
    out = tmp_path / "site"
    export_site(sample_site(), out)
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the web")
    (out / "secret.txt").symlink_to(secret)
    with start_nginx(out) as server:
        assert fetch(server, "/secret.txt").status == 404
        assert fetch(server, "/feed.atom").status == 200  # the root itself is a symlink


def test_a_build_flips_what_nginx_serves_without_a_reload_or_a_gap(tmp_path: Path) -> None:
    old, new = sample_site("old"), sample_site("new")
    out = tmp_path / "site"
    export_site(old, out)
    bodies = {old["/feed.rss"].body, new["/feed.rss"].body}
    seen: list[tuple[int, bytes]] = []
    stop = threading.Event()
    with start_nginx(out) as server:

        def poll() -> None:
            while not stop.is_set():
                answer = fetch(server, "/feed.rss")
                seen.append((answer.status, answer.body))

        poller = threading.Thread(target=poll)
        poller.start()
        try:
            for round_ in range(10):
                export_site(new if round_ % 2 == 0 else old, out)
        finally:
            stop.set()
            poller.join()
        assert fetch(server, "/feed.rss").body == old["/feed.rss"].body  # the last build
    assert seen
    assert all(status == 200 and body in bodies for status, body in seen)


# --- the command and the app --------------------------------------------------------------


@pytest.fixture(scope="module")
def bundled() -> Site:
    return build_site(load_catalog(ROOT / "entries.yaml"))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`feeds build entries.yaml --out DIR`, as an operator runs it, served by nginx."""
    out = tmp_path_factory.mktemp("nginx-built") / "site"
    done = subprocess.run(
        [str(FEEDS), "build", str(ROOT / "entries.yaml"), "--out", str(out)]
        + ["--cache-dir", str(out.parent / "cache")],  # not next to the checkout's catalog
        capture_output=True,
        text=True,
        cwd=out.parent,
    )
    assert done.returncode == 0, done.stderr
    assert str(out) in done.stdout  # the summary line
    with start_nginx(out) as server:
        yield server


def test_the_built_catalog_is_served_exactly(bundled: Site, built: Server) -> None:
    assert "/feed.atom" in bundled and "/events.ics" in bundled
    for path in bundled:
        output = bundled[path]
        answer = fetch(built, path)
        assert (answer.status, answer.body) == (200, output.body), path
        assert_answers_like_the_policy(answer, output, "identity")
        if output.gzip_body is not None:
            gz = fetch(built, path, Accept_Encoding="gzip")
            assert gzip.decompress(gz.body) == output.body
            assert_answers_like_the_policy(gz, output, "gzip")


@pytest.fixture(scope="module")
def app_client(built: Server) -> Any:
    from feeds.serve import web

    return web.create_app(catalog_path=str(ROOT / "entries.yaml")).test_client()


# Paths the Site does not have, each a different way of missing; and spellings of its
# paths with dot segments or empty ones, refused alike (tests/test_http_paths.py has more).
NOT_THERE = ["/nope", "/nope.html", "/feed.atom.gz", "/tags/", "/.hidden"]
ODD_SPELLINGS = ["/./feed.atom", "/feed.atom/..", "/entries/../feed.atom", "/feed.atom//"]
ODD_SPELLINGS += ["/%2e/feed.atom", "/feed.atom/%2e%2e", "/events/./", "/tags//feed.atom"]


def assert_same_answer(ours: Answer, app: Any, where: str) -> None:
    # ETags differ by design (nginx: mtime-size; app: content hash; see deploy/nginx.conf);
    # nginx adds Last-Modified to a 304, which the app leaves out.
    ignore = TRANSPORT | {"etag"} | ({"last-modified"} if ours.status == 304 else set())
    assert ours.status == app.status_code, where
    if ours.status == 301:
        # nginx writes its own small HTML body for a redirect (`return` cannot set one);
        # what clients follow, Location, is compared with the rest of the headers.
        ignore |= {"content-type"}
    else:
        assert ours.body == app.get_data(), where
    assert _comparable(ours.headers.items(), ignore) == _comparable(app.headers.items(), ignore), (
        where
    )


def test_nginx_answers_as_the_app_does(bundled: Site, built: Server, app_client: Any) -> None:
    for path in [*bundled, *NOT_THERE, *ODD_SPELLINGS]:
        for method in ("GET", "HEAD"):
            for accept in ("identity", "gzip"):
                ours = fetch(built, path, method=method, Accept_Encoding=accept)
                app = app_client.open(path, method=method, headers={"Accept-Encoding": accept})
                assert_same_answer(ours, app, f"{method} {path} (Accept-Encoding: {accept})")


def test_redirects_and_refusals_match_the_app(built: Server, app_client: Any) -> None:
    for method, path in [("GET", "/events"), ("GET", "/tags/culture"), ("POST", "/feed.atom")]:
        ours = fetch(built, path, method=method)
        assert_same_answer(ours, app_client.open(path, method=method), f"{method} {path}")


def test_revalidation_matches_the_app(bundled: Site, built: Server, app_client: Any) -> None:
    since = http_date(bundled.last_modified)
    for path in bundled:
        ours = fetch(built, path, If_Modified_Since=since)
        app = app_client.get(path, headers={"If-Modified-Since": since})
        assert_same_answer(ours, app, f"If-Modified-Since {path}")


def _comparable(headers: Iterable[tuple[str, str]], ignore: set[str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers if name.lower() not in ignore}


def test_the_embed_rule_in_nginx_conf_is_the_apps_pattern() -> None:
    from feeds.render.pages_embed import EMBED_QUERY_PATTERN

    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    assert f'if ($args !~ "{EMBED_QUERY_PATTERN}")' in conf


def test_nginx_refuses_bad_embed_queries_as_the_app_does(built: Server, app_client: Any) -> None:
    for query in [
        "kind=events&limit=5",
        "theme=dark",
        "kind=podcasts",
        "limit=0",
        "colour=red",
        "&&&",
        "kind=events&",
        "kind=%65vents",
    ]:
        ours = fetch(built, f"/embed/?{query}")
        app = app_client.get(f"/embed/?{query}")
        assert ours.status == app.status_code, query
        if ours.status == 200:
            assert ours.body == app.data, query
        else:  # both refuse shortly, in plain text (the wording differs: nginx cannot explain)
            assert ours.status == 400 and ours.body.startswith(b"400 Bad Request"), query
            assert app.data.startswith(b"400 Bad Request: "), query
