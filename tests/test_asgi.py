"""The ASGI front (`feeds.serve.asgi`, what gunicorn's asgi worker serves) answers every request
exactly as the WSGI front does: same status, same headers in the same order, same body.

Requests are driven through the ASGI interface directly (scope, receive, send), and the
WSGI answer of the same request comes from Flask's test client; the decision is shared
code (`SiteResponder.answer`), so what these tests guard is the translation either way:
paths, query strings, repeated headers, HEAD, and the hand-over to Flask for the rest.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from feeds.serve.asgi import FeedsASGI, path_info
from feeds.serve.web import runtime

Fields = list[tuple[str, str]]
Sent = Sequence[tuple[str, str]]  # request header fields


def asgi_request(
    app: FeedsASGI,
    method: str,
    raw_path: bytes,
    query: bytes = b"",
    headers: Sent = (),
) -> tuple[int, Fields, bytes]:
    """Send one request through the ASGI interface; (status, headers, body)."""
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": raw_path.decode("latin-1"),
        "raw_path": raw_path,
        "query_string": query,
        "root_path": "",
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    fields = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in start["headers"]]
    return start["status"], fields, body


def wsgi_request(
    client: FlaskClient,
    method: str,
    path: str,
    query: str = "",
    headers: Sent = (),
) -> tuple[int, Fields, bytes]:
    response = client.open(path, method=method, query_string=query, headers=headers)
    return response.status_code, list(response.headers.items()), response.get_data()


@pytest.fixture
def front(app: Flask) -> FeedsASGI:
    return FeedsASGI(app)


def same_answer(
    front: FeedsASGI,
    client: FlaskClient,
    method: str,
    path: str,
    query: str = "",
    headers: Sent = (),
) -> tuple[int, Fields, bytes]:
    via_asgi = asgi_request(front, method, path.encode(), query.encode(), headers)
    via_wsgi = wsgi_request(client, method, path, query, headers)
    # Field names are compared without case (RFC 9110 5.1): a2wsgi, which hands the
    # requests the front does not answer to Flask, sends them in lower case.
    assert lower_names(via_asgi) == lower_names(via_wsgi), (method, path, query, headers)
    return via_asgi


def lower_names(answer: tuple[int, Fields, bytes]) -> tuple[int, Fields, bytes]:
    status, fields, body = answer
    return status, [(name.lower(), value) for name, value in fields], body


def test_every_site_path_is_answered_alike_plain_gzip_and_head(
    app: Flask, front: FeedsASGI, client: FlaskClient
) -> None:
    view = runtime(app).source.view
    assert view is not None
    for path in view.served:
        status, _, body = same_answer(front, client, "GET", path)
        assert status == 200 and body
        same_answer(front, client, "GET", path, headers=[("Accept-Encoding", "gzip")])
        status, _, body = same_answer(front, client, "HEAD", path)
        assert status == 200 and body == b""


def test_conditional_requests_get_the_same_304(front: FeedsASGI, client: FlaskClient) -> None:
    _, fields, _ = same_answer(
        front, client, "GET", "/feed.atom", headers=[("Accept-Encoding", "gzip")]
    )
    etag = dict(fields)["ETag"]
    status, _, body = same_answer(
        front,
        client,
        "GET",
        "/feed.atom",
        headers=[("Accept-Encoding", "gzip"), ("If-None-Match", etag)],
    )
    assert status == 304 and body == b""


def test_a_repeated_header_counts_as_one_joined_by_commas(
    front: FeedsASGI, client: FlaskClient
) -> None:
    _, fields, _ = same_answer(front, client, "GET", "/feed.atom")
    etag = dict(fields)["ETag"]
    headers = [("If-None-Match", '"something-else"'), ("If-None-Match", etag)]
    status, _, _ = asgi_request(front, "GET", b"/feed.atom", headers=headers)
    assert status == 304  # the second field's tag matches, as in the joined WSGI header


@pytest.mark.parametrize(
    ("method", "path", "query"),
    [
        ("GET", "/no-such-page", ""),  # Flask's plain 404, through a2wsgi
        ("GET", "/health", ""),
        ("POST", "/feed.atom", ""),  # 405 from the front
        ("DELETE", "/no-such-page", ""),
        ("GET", "/events", "x=1"),  # the redirect keeps the query
        ("GET", "/embed/", "limit=oops"),  # the embed page refuses a bad query
        ("GET", "/embed/", "tag=amsterdam&limit=3"),
        ("HEAD", "/no-such-page", ""),
    ],
)
def test_everything_else_is_answered_alike(
    front: FeedsASGI, client: FlaskClient, method: str, path: str, query: str
) -> None:
    same_answer(front, client, method, path, query)


def test_the_path_is_looked_up_as_wsgi_spells_it() -> None:
    # Percent-decoded bytes read as latin-1, whatever they encode (PEP 3333).
    assert path_info({"raw_path": b"/tags/caf%C3%A9/", "path": "/tags/café/"}) == "/tags/cafÃ©/"
    assert path_info({"raw_path": b"/%FF", "path": "/\ufffd"}) == "/\xff"
    assert path_info({"path": "/tags/café/"}) == "/tags/cafÃ©/"  # no raw_path given


def test_a_websocket_is_refused_and_lifespan_is_answered(front: FeedsASGI) -> None:
    messages = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(front({"type": "lifespan"}, receive, send))
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    sent.clear()
    asyncio.run(front({"type": "websocket", "path": "/"}, receive, send))
    assert sent == []  # never accepted


def test_only_an_app_of_create_app_can_be_fronted() -> None:
    with pytest.raises(TypeError, match="create_app"):
        FeedsASGI(Flask("other"))
