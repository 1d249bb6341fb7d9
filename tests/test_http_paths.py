"""One URL, one answer, from every server: the app under gunicorn (the documented asgi
worker, and the gthread one serving `wsgi:app`) and nginx serving the export.

- Paths spelled with dot segments or empty ones (`/./feed.atom`, `/feed.atom/..`,
  `//feed.atom`, also as `%2e` and `%2f`) are a 404 everywhere, even where nginx would
  resolve them to a file; paths that climb above the root are a 400 everywhere (nginx
  refuses their request line, and no configuration changes that). deploy/nginx.conf
  says why this and not a redirect.
- A client that shuts down its sending side after a complete request (`nc -N`) gets
  its answer from every server.

Raw sockets throughout: client libraries resolve dot segments before sending.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from rawhttp import RawAnswer, exchange, parse_answers, request
from servers import Server, start_gunicorn, start_nginx

from feeds.catalog import load_catalog
from feeds.publish.export import export_site
from feeds.site import Site, build_site

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
NOT_FOUND = b"404 Not Found\n"

# (method, request target, status): what every server answers.
PATHS: list[tuple[str, str, int]] = [
    # The canonical spellings, and percent-encodings that decode to them.
    ("GET", "/feed.atom", 200),
    ("GET", "/", 200),
    ("GET", "/events/", 200),
    ("GET", "/events", 301),
    ("GET", "/feed%2eatom", 200),
    ("GET", "/events%2f", 200),
    ("GET", "/feed.atom?x=/../", 200),  # the query is not the path
    ("GET", "http://feeds.example.org/feed.atom", 200),
    ("GET", "/nope", 404),
    # Dot segments.
    ("GET", "/./feed.atom", 404),
    ("GET", "/feed.atom/..", 404),
    ("GET", "/feed.atom/.", 404),
    ("GET", "/entries/../feed.atom", 404),
    ("GET", "/tags/../events", 404),
    ("GET", "/./", 404),
    ("GET", "/.", 404),
    ("GET", "/events/.", 404),
    ("GET", "/events/..", 404),
    ("GET", "/events/./", 404),
    ("GET", "/embed/./?kind=events", 404),
    ("GET", "/./feed.atom?x=1", 404),
    ("GET", "http://feeds.example.org/./feed.atom", 404),
    # Empty segments.
    ("GET", "//feed.atom", 404),
    ("GET", "/feed.atom//", 404),
    ("GET", "//", 404),
    ("GET", "//events/", 404),
    ("GET", "/events//", 404),
    ("GET", "/tags//feed.atom", 404),
    ("GET", "http://feeds.example.org//feed.atom", 404),
    # Percent-encoded dots and slashes.
    ("GET", "/%2e/feed.atom", 404),
    ("GET", "/feed.atom/%2e%2e", 404),
    ("GET", "/events/%2E%2E/feed.atom", 404),
    ("GET", "/%2fevents/", 404),
    ("GET", "/feed.atom%2f..", 404),
    ("GET", "/feed.atom%2F%2E", 404),
    # Above the root.
    ("GET", "/..", 400),
    ("GET", "/../etc/passwd", 400),
    ("GET", "/../feed.atom", 400),
    ("GET", "/%2e%2e/feed.atom", 400),
    ("GET", "/..%2ffeed.atom", 400),
    ("GET", "/feed.atom/../..", 400),
    ("GET", "//..", 400),
    # Other methods: the spelling is refused before the method.
    ("HEAD", "/./feed.atom", 404),
    ("HEAD", "//feed.atom", 404),
    ("HEAD", "/..", 400),
    ("POST", "/./feed.atom", 404),
    ("POST", "/feed.atom/..", 404),
    ("POST", "/..", 400),
    ("POST", "/feed.atom", 405),
]


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("http-paths") / "entries.yaml"
    path.write_bytes((ROOT / "entries.yaml").read_bytes())
    return path


@pytest.fixture(scope="module")
def site(catalog: Path) -> Site:
    return build_site(load_catalog(catalog))


@pytest.fixture(scope="module")
def servers(
    catalog: Path, site: Site, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Server]]:
    """nginx on the export, gunicorn as documented (asgi), and gunicorn's gthread worker."""
    logs = tmp_path_factory.mktemp("http-paths-logs")
    out = catalog.parent / "site"
    export_site(site, out)
    environ = {"PATH": "/usr/bin:/bin"}  # none of the runner's FEEDS_* settings
    one = {"FEEDS_WORKERS": "1", "FEEDS_WEBSUB": "false"}
    gthread = {**one, "FEEDS_WORKER_CLASS": "gthread", "FEEDS_THREADS": "2"}
    with (
        start_nginx(out) as nginx,
        start_gunicorn(catalog, logs / "asgi.log", one, environ=environ) as asgi,
        start_gunicorn(
            catalog, logs / "gthread.log", gthread, app="wsgi:app", environ=environ
        ) as threads,
    ):
        yield {"nginx": nginx, "gunicorn asgi": asgi, "gunicorn gthread": threads}


def ask(server: Server, method: str, target: str) -> RawAnswer | None:
    fields = [("Content-Length", "0")] if method == "POST" else []
    answers = parse_answers(exchange(server.port, request(method, target, fields)), [method])
    return answers[0] if answers else None


def test_every_spelling_of_a_path_gets_the_same_answer_everywhere(
    servers: dict[str, Server],
) -> None:
    wrong: list[str] = []
    for method, target, status in PATHS:
        for name, server in servers.items():
            answer = ask(server, method, target)
            if answer is None or answer.status != status:
                got = "no answer" if answer is None else answer.status
                wrong.append(f"{name}: {method} {target} -> {got}, not {status}")
            elif status == 301 and answer.header("Location") != target + "/":
                wrong.append(f"{name}: {method} {target} -> Location {answer.header('Location')}")
            elif status == 404 and method == "GET" and answer.body != NOT_FOUND:
                wrong.append(f"{name}: {method} {target} -> 404 with {answer.body[:60]!r}")
    assert not wrong, "\n".join(wrong)


def test_the_refusals_are_plain_and_never_cached(servers: dict[str, Server]) -> None:
    for name, server in servers.items():
        for target in ("/./feed.atom", "//feed.atom", "/feed.atom/.."):
            answer = ask(server, "GET", target)
            assert answer is not None, (name, target)
            assert answer.header("Content-Type") == "text/plain; charset=utf-8", (name, target)
            assert answer.header("Cache-Control") == "no-store", (name, target)
            assert answer.header("X-Content-Type-Options") == "nosniff", (name, target)


# --- clients that half-close -------------------------------------------------------------

KEEP_ALIVE = [("Connection", "keep-alive")]


def half_closed_cases(site: Site) -> list[tuple[str, bytes, list[tuple[int, bytes]]]]:
    """(name, bytes sent before SHUT_WR, [(status, body)] expected): 20 in all."""
    feed = site["/feed.atom"].body
    rss = site["/feed.rss"].body
    cases = [
        ("GET, Connection: close", request("GET", "/feed.atom"), [(200, feed)]),
        ("GET, keep-alive", request("GET", "/feed.atom", KEEP_ALIVE), [(200, feed)]),
        ("GET, HTTP/1.0", request("GET", "/feed.rss", version="1.0"), [(200, rss)]),
        ("HEAD", request("HEAD", "/feed.atom"), [(200, b"")]),
        ("an unknown path", request("GET", "/nope", KEEP_ALIVE), [(404, NOT_FOUND)]),
        ("a dot segment", request("GET", "/./feed.atom"), [(404, NOT_FOUND)]),
        (
            "three pipelined",
            request("GET", "/feed.atom", KEEP_ALIVE)
            + request("GET", "/nope", KEEP_ALIVE)
            + request("GET", "/feed.rss", KEEP_ALIVE),
            [(200, feed), (404, NOT_FOUND), (200, rss)],
        ),
    ]
    return [cases[i % len(cases)] for i in range(20)]


def test_every_server_answers_clients_that_half_close(
    servers: dict[str, Server], site: Site
) -> None:
    """The client sends its request(s), then `shutdown(SHUT_WR)`: nothing more will come,
    and it still reads. Every server answers all 20, then closes."""
    cases = half_closed_cases(site)
    answered: dict[str, int] = {}
    missed: list[str] = []
    for name, server in servers.items():
        answered[name] = 0
        for case, data, expected in cases:
            methods = ["HEAD" if data.startswith(b"HEAD") else "GET"] * len(expected)
            raw = exchange(server.port, data, half_close=True)
            got = [(a.status, a.body) for a in parse_answers(raw, methods)]
            if got == expected:
                answered[name] += 1
            else:
                missed.append(f"{name}, {case}: {[status for status, _ in got]}")
    assert answered == {name: len(cases) for name in servers}, "\n".join(missed)
