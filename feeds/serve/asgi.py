"""The ASGI front of the web app: what gunicorn's asyncio worker serves (`asgi.py`).

    app = create_asgi_app("entries.yaml")

Why a second front: answering a Site path is a dictionary lookup and a few header
checks (`responder.SiteResponder.answer`), so what a request costs is the server's own work
around it. Measured on 2 cores with wrk (benchmarks/RESULTS.md), gunicorn's threaded
WSGI worker spends ~150 us of CPU per request (a thread hand-off per request, and
header handling in Python); its asyncio worker with uvloop spends ~60 us. The decision
itself is the very same code for both fronts.

Site paths are answered here, on the event loop (nothing in an answer blocks: the body
is in memory or in the mapped pack). Everything else (`/health`, the plain 404 and 405
answers) goes to the Flask app through a2wsgi, which runs it in a thread.

`ASGIWorker` is that worker (gunicorn.conf.py's `asgi`), answering clients that
half-close their connection after sending a request, as nginx and gunicorn's gthread
worker do and gunicorn's own asyncio worker does not.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from a2wsgi import WSGIMiddleware
from flask import Flask
from gunicorn.asgi.protocol import ASGIProtocol
from gunicorn.workers import gasgi

from .headers import Headers
from .responder import SiteResponder
from .web import create_app, start_background

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# The request headers an answer depends on, as ASGI names them (lower case).
_ACCEPT_ENCODING = b"accept-encoding"
_IF_NONE_MATCH = b"if-none-match"
_IF_MODIFIED_SINCE = b"if-modified-since"
_WANTED = frozenset((_ACCEPT_ENCODING, _IF_NONE_MATCH, _IF_MODIFIED_SINCE))


class FeedsASGI:
    """ASGI app: Site paths answered by the Flask app's `SiteResponder`, the rest by
    the Flask app itself."""

    def __init__(self, flask_app: Flask) -> None:
        responder = flask_app.wsgi_app
        if not isinstance(responder, SiteResponder):
            raise TypeError("FeedsASGI needs an app made by feeds.serve.web.create_app")
        self.flask = flask_app
        self.responder = responder
        self.fallback = WSGIMiddleware(flask_app)  # type: ignore[arg-type]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        # Anything else (websocket): returning without accepting refuses it.

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        method: str = scope["method"]
        wanted = _request_headers(scope["headers"])
        answer = self.responder.answer(
            method,
            path_info(scope),
            scope["query_string"].decode("latin-1"),
            wanted.get(_ACCEPT_ENCODING),
            wanted.get(_IF_NONE_MATCH),
            wanted.get(_IF_MODIFIED_SINCE),
        )
        if answer is None:
            await self.fallback(scope, receive, send)  # type: ignore[arg-type]
            return
        status, headers, body = answer
        await send(
            {"type": "http.response.start", "status": int(status[:3]), "headers": _encoded(headers)}
        )
        await send({"type": "http.response.body", "body": b"" if method == "HEAD" else body})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                start_background(self.flask)  # this worker's watcher of the build
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


def path_info(scope: Scope) -> str:
    """The request path as WSGI's PATH_INFO spells it (percent-decoded bytes read as
    latin-1), which is how `served.View` keys its paths: from the raw path when the
    server gives it, so that bytes that are not UTF-8 reach the lookup as they came.
    A target in absolute form (`GET http://host/feed.atom`, RFC 9112 3.2.2), which
    gunicorn's asgi worker passes on whole, names the same path as its origin form,
    as under the gthread worker and nginx."""
    raw: bytes | None = scope.get("raw_path")
    if raw is None:
        path: str = scope["path"]
        return path.encode("utf-8").decode("latin-1")
    raw = raw.partition(b"?")[0]
    if raw[:1] != b"/":
        raw = _ABSOLUTE_FORM.sub(b"", raw, count=1) or b"/"
    if b"%" in raw:
        raw = urllib.parse.unquote_to_bytes(raw)
    return raw.decode("latin-1")


# RFC 3986's scheme and authority: what precedes the path of an absolute-form target.
_ABSOLUTE_FORM = re.compile(rb"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*")


def _request_headers(fields: list[tuple[bytes, bytes]]) -> dict[bytes, str]:
    """The headers an answer depends on; repeated fields joined as a WSGI server joins
    them (RFC 9110 5.3: a list header sent twice means the same as one joined by commas)."""
    found: dict[bytes, str] = {}
    for name, value in fields:
        if name in _WANTED:
            text = value.decode("latin-1")
            found[name] = f"{found[name]}, {text}" if name in found else text
    return found


# The header lists of a View are prepared once per output and shared by every request
# for it (`served.Variant`), so their bytes are kept by the list's identity: the list
# itself is held in the entry, so its id cannot be reused while the entry lives. Reset
# when large, so that the lists of Sites no longer served are let go. No larger than
# what a View of a shared build keeps prepared (`served.CACHED_PATHS`): each entry holds
# its list alive, and a crawl through 100k paths would otherwise keep ~100 MB here.
_ENCODED: dict[int, tuple[Headers, list[tuple[bytes, bytes]]]] = {}
_ENCODED_MOST = 4096


def _encoded(headers: Headers) -> list[tuple[bytes, bytes]]:
    known = _ENCODED.get(id(headers))
    if known is not None and known[0] is headers:
        return known[1]
    fields = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers]
    if len(_ENCODED) >= _ENCODED_MOST:
        _ENCODED.clear()
    _ENCODED[id(headers)] = (headers, fields)
    return fields


def create_asgi_app(
    catalog_path: str | os.PathLike[str] | None = None, test_config: dict[str, Any] | None = None
) -> FeedsASGI:
    """The ASGI app serving `catalog_path`; configured like `web.create_app`."""
    return FeedsASGI(create_app(catalog_path, test_config))


# --- the gunicorn worker ---------------------------------------------------------------------


class _HalfClosingProtocol(ASGIProtocol):  # type: ignore[misc]  # gunicorn has no types
    """gunicorn's connection protocol, also answering a client that shut down its sending
    side after a complete request (`shutdown(SHUT_WR)`: `nc -N`, some probes and proxies).

    Why: gunicorn 27's protocol has no `eof_received`, so asyncio's default closes the
    transport at the client's EOF, `connection_lost` marks the connection closed, and
    the request already read is dropped without an answer (0 to 10 of 20 answered, by
    whether the request ran before the EOF was read). TCP lets us keep sending: with a
    complete request read, our side stays open until it is answered, then closes, since
    no further request can come.
    """

    _client_done = False

    def eof_received(self) -> bool | None:
        ready = self._request_ready
        receiver = self._body_receiver
        if (
            self._callback_parser is None  # HTTP/2, uWSGI: as gunicorn does
            or self._websocket is not None
            or ready is None
            or not ready.is_set()  # idle, or the request cut off in its head: close
            or (receiver is not None and not receiver._complete)  # cut off in its body
        ):
            return super().eof_received()  # type: ignore[no-any-return]
        self._client_done = True
        return True  # keep the transport open for the answer

    def _arm_keepalive_timer(self) -> None:
        """Called when the connection turns idle: after EOF no request can follow."""
        if self._client_done:
            self._keepalive_timeout()  # closes now, and wakes the connection's loop
        else:
            super()._arm_keepalive_timer()


class ASGIWorker(gasgi.ASGIWorker):  # type: ignore[misc]
    """gunicorn's asyncio worker with `_HalfClosingProtocol` for its connections. Keeps
    gunicorn's class name: gunicorn.conf.py tells the two interfaces apart by it."""

    def init_process(self) -> None:
        # gunicorn makes each connection's protocol from this module-level name
        # (`create_server(lambda: ASGIProtocol(self))` in `ASGIWorker._serve`) and has no
        # setting for it: replace it in this worker process, before it serves anything.
        if getattr(gasgi, "ASGIProtocol", None) is not ASGIProtocol:
            self.log.warning(
                "gunicorn's asgi worker no longer builds its protocol as feeds.serve.asgi expects: "
                "clients that half-close their connection may get no answer"
            )
        gasgi.ASGIProtocol = _HalfClosingProtocol
        super().init_process()


def worker_class_for(kind: str) -> str:
    """gunicorn's `worker_class` for FEEDS_WORKER_CLASS `kind`: ours for `asgi`."""
    return f"{__name__}.ASGIWorker" if kind == "asgi" else kind
