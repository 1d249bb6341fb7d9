"""End to end: real gunicorn (2 workers, the repo's gunicorn.conf.py) serves the Site and
every worker converges on an edited catalog within the issue's 2 seconds."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from servers import GUNICORN, Server, free_port, start_gunicorn, start_process
from werkzeug.datastructures import Headers

from feeds.catalog import load_catalog, parse_catalog
from feeds.site import Site, build_site

ROOT = Path(__file__).resolve().parent.parent
CONVERGENCE_SECONDS = 2.0  # the bound: every worker serves the edit within 2 s
WORKERS = 2

pytestmark = pytest.mark.slow


def fetch(server: Server, path: str, method: str = "GET") -> tuple[int, Headers, bytes]:
    """One request on its own connection (so the kernel may hand it to either worker)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request(method, path, headers={"Connection": "close"})
        response = connection.getresponse()
        # Field names without case (RFC 9110 5.1): the asgi worker's answers from Flask
        # (through a2wsgi: /health, 404s) name them in lower case.
        return response.status, Headers(response.getheaders()), response.read()
    finally:
        connection.close()


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    path = tmp_path / "entries.yaml"
    shutil.copyfile(ROOT / "entries.yaml", path)
    return path


# The documented command (the asgi worker serving asgi:app) and the threaded WSGI one.
INTERFACES = [("asgi", "asgi:app"), ("gthread", "wsgi:app")]


@pytest.fixture(params=INTERFACES, ids=[worker for worker, _app in INTERFACES])
def gunicorn(catalog: Path, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Server]:
    worker_class, app = request.param
    settings = {
        "FEEDS_WORKERS": str(WORKERS),
        "FEEDS_WORKER_CLASS": worker_class,
        "FEEDS_WORKER_HEADER": "true",  # X-Worker: <pid>, to see each worker converge
    }
    with start_gunicorn(catalog, tmp_path / "gunicorn.log", settings, app) as server:
        yield server


def feed_and_calendar_paths(site: Site) -> list[str]:
    return [path for path in site if path.endswith((".atom", ".rss", ".json", ".ics"))]


def worker_pids(server: Server) -> set[str]:
    """The workers answering, seen over separate connections."""
    pids: set[str] = set()
    for _ in range(400):
        pids.add(fetch(server, "/health")[1]["X-Worker"])
        if len(pids) == WORKERS:
            break
    assert len(pids) == WORKERS, f"only saw workers {pids}:\n{server.output()}"
    return pids


def test_gunicorn_serves_every_feed_and_calendar(gunicorn: Server, catalog: Path) -> None:
    site = build_site(load_catalog(catalog))
    paths = feed_and_calendar_paths(site)
    assert {"/feed.atom", "/feed.rss", "/feed.json", "/events.ics"} <= set(paths)
    for path in paths:
        status, headers, body = fetch(gunicorn, path)
        assert status == 200, path
        assert body == site[path].body, path
        assert headers["ETag"] == site[path].etag
        assert headers["Content-Type"] == site[path].content_type
        assert headers["Content-Length"] == str(len(body))
        head_status, head_headers, head_body = fetch(gunicorn, path, "HEAD")
        assert (head_status, head_body) == (200, b"")
        assert head_headers["Content-Length"] == str(len(body))


def test_every_worker_converges_on_an_edit(gunicorn: Server, catalog: Path) -> None:
    assert_every_worker_converges_on_an_edit(gunicorn, catalog)


def assert_every_worker_converges_on_an_edit(gunicorn: Server, catalog: Path) -> None:
    pids = worker_pids(gunicorn)
    old_site = build_site(load_catalog(catalog))
    for path in feed_and_calendar_paths(old_site):
        assert fetch(gunicorn, path)[1]["ETag"] == old_site[path].etag

    text = catalog.read_text().replace(
        "  title: EUROCITIES news and events\n", "  title: EUROCITIES news, events\n", 1
    )
    new_site = build_site(parse_catalog(text.encode(), str(catalog)))  # before the clock runs
    watched = ["/feed.atom", "/events.ics"]
    assert all(old_site[p].etag != new_site[p].etag for p in watched)
    catalog.write_text(text)
    edited_at = time.monotonic()

    # Poll until every worker has answered with the new ETag for each watched path and
    # no answer since has been old, on separate connections.
    converged: dict[tuple[str, str], bool] = {}
    while not (len(converged) == len(pids) * len(watched) and all(converged.values())):
        assert time.monotonic() - edited_at < CONVERGENCE_SECONDS, (
            f"workers not converged within {CONVERGENCE_SECONDS} s: {converged}\n"
            f"{gunicorn.output()}"
        )
        for path in watched:
            status, headers, _ = fetch(gunicorn, path)
            assert status == 200
            converged[(headers["X-Worker"], path)] = headers["ETag"] == new_site[path].etag

    # Afterwards every worker serves every feed and calendar of the new Site.
    for _ in range(WORKERS * 3):
        for path in feed_and_calendar_paths(new_site):
            status, headers, body = fetch(gunicorn, path)
            assert (status, headers["ETag"], body) == (
                200,
                new_site[path].etag,
                new_site[path].body,
            )
    assert "problem" not in gunicorn.output()


def test_a_broken_edit_keeps_every_worker_serving(gunicorn: Server, catalog: Path) -> None:
    pids = worker_pids(gunicorn)
    etag = fetch(gunicorn, "/feed.atom")[1]["ETag"]
    catalog.write_text(
        catalog.read_text().replace("  language: en\n", "  language: en\n  oops: 1\n")
    )
    stale: set[str] = set()
    deadline = time.monotonic() + 30  # a bound against hanging, not a timing check
    while stale != pids:
        assert time.monotonic() < deadline, f"not all workers noticed:\n{gunicorn.output()}"
        status, headers, body = fetch(gunicorn, "/health")
        assert status == 200
        if b'"stale"' in body:
            stale.add(headers["X-Worker"])
        time.sleep(0.05)
    for _ in range(10):
        status, headers, _ = fetch(gunicorn, "/feed.atom")
        assert (status, headers["ETag"]) == (200, etag)
    assert "feed.oops: unknown key" in gunicorn.output()  # logged with file:line
    assert "Traceback" not in gunicorn.output()


def test_one_builder_serves_every_worker_and_stops_with_the_server(
    catalog: Path, tmp_path: Path
) -> None:
    settings = {"FEEDS_WORKERS": str(WORKERS), "FEEDS_WORKER_HEADER": "true"}
    with start_gunicorn(catalog, tmp_path / "gunicorn.log", settings) as server:
        pids = worker_pids(server)
        builders = set()
        for _ in range(WORKERS * 10):
            status, headers, body = fetch(server, "/health")
            report = json.loads(body)
            assert status == 200 and report["status"] == "ok"
            assert str(report["pid"]) == headers["X-Worker"]
            builders.add(report["builder_pid"])
        assert len(builders) == 1  # every worker serves the one builder's build
        (builder,) = builders
        assert str(builder) not in pids
        assert b"feeds.serve.builder" in Path(f"/proc/{builder}/cmdline").read_bytes()
    deadline = time.monotonic() + 30  # a bound against hanging, not a timing check
    while Path(f"/proc/{builder}").exists() and b"feeds.serve.builder" in _cmdline(builder):
        assert time.monotonic() < deadline, "the builder outlived the server"
        time.sleep(0.05)


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


@pytest.mark.parametrize(
    ("worker_class", "app", "wanted"),
    [("asgi", "wsgi:app", "asgi:app"), ("gthread", "asgi:app", "wsgi:app")],
)
def test_the_wrong_app_for_the_worker_class_stops_the_server_clearly(
    catalog: Path, worker_class: str, app: str, wanted: str
) -> None:
    env = {
        **os.environ,
        "FEEDS_CATALOG": str(catalog),
        "FEEDS_BIND": f"127.0.0.1:{free_port()}",
        "FEEDS_WORKERS": "1",
        "FEEDS_WORKER_CLASS": worker_class,
    }
    argv = [str(GUNICORN), "-c", str(ROOT / "gunicorn.conf.py"), app]
    result = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 4  # gunicorn's "app failed to load", not a respawn loop
    assert f"the {worker_class} worker class serves {wanted}" in result.stderr
    assert f"run `gunicorn {wanted}`" in result.stderr
    assert "Traceback" not in result.stderr


# What an operator types (README, "Serving"): no -c, no FEEDS_WORKER_CLASS. gunicorn reads
# ./gunicorn.conf.py by itself from the project root, which picks the worker for the app.
@pytest.mark.parametrize(("app", "worker"), [("wsgi:app", "gthread"), ("asgi:app", "ASGIWorker")])
def test_the_plain_gunicorn_command_serves_and_every_worker_converges(
    catalog: Path, tmp_path: Path, app: str, worker: str
) -> None:
    port = free_port()
    env = {name: value for name, value in os.environ.items() if name != "FEEDS_WORKER_CLASS"}
    env.update(
        FEEDS_CATALOG=str(catalog), FEEDS_BIND=f"127.0.0.1:{port}", FEEDS_WORKER_HEADER="true"
    )
    argv = [str(GUNICORN), "-w", str(WORKERS), app]
    with start_process(argv, port, tmp_path / "gunicorn.log", cwd=ROOT, env=env) as server:
        site = build_site(load_catalog(catalog))
        for path in feed_and_calendar_paths(site):
            status, headers, body = fetch(server, path)
            assert (status, headers["ETag"], body) == (200, site[path].etag, site[path].body)
        assert_every_worker_converges_on_an_edit(server, catalog)
        assert "Using worker: " in server.output() and worker in server.output()
        assert "Traceback" not in server.output()


def test_a_killed_server_s_shared_build_is_removed_by_the_next_server(
    catalog: Path, tmp_path: Path
) -> None:
    temp = tmp_path / "tmp"  # where the server makes its folder (tempfile reads TMPDIR)
    temp.mkdir()
    settings = {"FEEDS_WORKERS": "1", "FEEDS_WORKER_HEADER": "true", "TMPDIR": str(temp)}
    with start_gunicorn(catalog, tmp_path / "first.log", settings) as server:
        _status, headers, body = fetch(server, "/health")
        holders = {int(headers["X-Worker"]), json.loads(body)["builder_pid"]}
        (left,) = temp.glob("feeds-shared-build-*")
        server.process.kill()  # SIGKILL: gunicorn's on_exit never runs
        server.process.wait()
    deadline = time.monotonic() + 30  # the worker and the builder notice and exit
    while any(_running(pid) for pid in holders):
        assert time.monotonic() < deadline, "the killed server's processes stayed"
        time.sleep(0.05)
    assert (left / "index").exists()  # its published build, left behind
    with start_gunicorn(catalog, tmp_path / "second.log", settings) as server:
        assert fetch(server, "/health")[0] == 200
        assert not left.exists()
        assert len(list(temp.glob("feeds-shared-build-*"))) == 1
    assert list(temp.glob("feeds-shared-build-*")) == []  # stopped: removed its own


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"
