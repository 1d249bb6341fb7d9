"""The thin WSGI layer in front of Flask: a Site path is answered from its prepared
header lists and body (`SiteResponder`), with the development banner on pages when the
catalog has problems; anything else goes on to Flask.

Every public URL is a precomputed Output, so answering is a dictionary lookup: a full
Flask dispatch would cost several times the whole answer.
"""

from __future__ import annotations

import html
import os
import re
import urllib.parse
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol

from .. import i18n
from ..render.pages_embed import embed_query_problem
from ..site import Output, Site, make_output
from .headers import Headers, accepts_gzip, is_not_modified
from .served import View, ViewMaker

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment


# --- what a request is answered from -------------------------------------------------------


def make_view(
    site: Site, problems: tuple[str, ...], banner: bool, maker: ViewMaker | None = None
) -> View:
    """The View of a Site built in this process (with the development banner if asked)."""
    outputs: Iterable[Output] = site.outputs.values()
    if banner and problems:
        outputs = (with_banner(output, problems, site.language) for output in outputs)
    return (maker or ViewMaker()).from_outputs(outputs, site.version)


# --- the development banner ------------------------------------------------------------

_BODY_TAG = re.compile(rb"<body\b[^>]*>", re.IGNORECASE)


def banner_html(problems: tuple[str, ...], language: str = "en") -> bytes:
    """Each problem as its `FILE:LINE: field: message` line, in a block styled by
    style.css (`.catalog-errors`); `role="alert"`: a screen reader announces it. The
    frame's words in the catalog's language; the problems as `feeds check` says them."""
    words = i18n.translations(language)
    items = "".join(f"<li><code>{html.escape(problem)}</code></li>" for problem in problems)
    headline = words.ngettext(
        "The catalog has %(count)s problem; this page shows the last good version.",
        "The catalog has %(count)s problems; this page shows the last good version.",
        len(problems),
    ) % {"count": len(problems)}
    advice = words.gettext("Fix the file and reload the page.")
    return (
        f'<div class="catalog-errors" role="alert"><p><strong>{html.escape(headline)}'
        f"</strong> {html.escape(advice)}</p><ul>{items}</ul></div>"
    ).encode()


def with_banner(output: Output, problems: tuple[str, ...], language: str = "en") -> Output:
    """The HTML page with the catalog's problems listed right after `<body>`; other
    outputs unchanged. The ETag is that of the new body, so no cache mixes the two."""
    if not output.content_type.startswith("text/html"):
        return output
    page = output.body
    match = _BODY_TAG.search(page)
    if match is None:
        return output
    body = page[: match.end()] + banner_html(problems, language) + page[match.end() :]
    fresh = make_output(output.path, body, output.last_modified)
    return replace(
        output,
        source=fresh.source,
        etag=fresh.etag,
        gzip_body=fresh.gzip_body,
        gzip_etag=fresh.gzip_etag,
    )


# --- the thin WSGI layer ------------------------------------------------------------------


# An answer: status line, header list, body (empty for HEAD and 304).
Answer = tuple[str, Headers, bytes]


def plain_answer(status: str, text: str, extra: Sequence[tuple[str, str]] = ()) -> Answer:
    """A short plain-text answer (errors, redirects): never cached, never sniffed."""
    body = text.encode()
    headers: Headers = [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", str(len(body))),
        ("Cache-Control", "no-store"),
        ("X-Content-Type-Options", "nosniff"),
        ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
        ("X-Frame-Options", "DENY"),
        *extra,
    ]
    return status, headers, body


_NOT_ALLOWED = plain_answer(
    "405 Method Not Allowed", "405 Method Not Allowed\n", [("Allow", "GET, HEAD")]
)
_NOT_FOUND = plain_answer("404 Not Found", "404 Not Found\n")  # as Flask's (`web._plain_error`)
_ABOVE_THE_ROOT = plain_answer("400 Bad Request", "400 Bad Request\n")


def odd_spelling_answer(path: str) -> Answer | None:
    """The answer to a path spelled with dot segments or empty ones (`/./feed.atom`,
    `/feed.atom/..`, `//feed.atom`; `path` is decoded, so `%2e` and `%2f` count too), or
    None for every other path.

    One URL, one answer, and the same one from nginx (deploy/nginx.conf says why it is not
    a redirect): 404 for all of them, even when resolving them would name an output, and
    400 when they climb above the root (`/..`, `/../etc/passwd`), where nginx refuses the
    request line itself and nothing lets its configuration answer otherwise.
    """
    if "/." not in path and "//" not in path:
        return None  # every Site path, at the cost of two substring scans
    segments = path.split("/")
    depth = 0
    odd = False
    # segments[0] is what precedes the leading "/"; the last may be empty ("/events/").
    for index, segment in enumerate(segments[1:], start=1):
        if segment == "..":
            depth -= 1
            if depth < 0:
                return _ABOVE_THE_ROOT
            odd = True
        elif segment == "." or (segment == "" and index < len(segments) - 1):
            odd = True  # nginx merges "//" and drops "/./": neither climbs or descends
        elif segment != "":
            depth += 1
    return _NOT_FOUND if odd else None


class SiteResponder:
    """WSGI middleware: answers Site paths itself, hands everything else to `fallback`.

    Per request: one dict lookup, the encoding and validator checks, and prepared
    header lists. A 304 never touches the body.
    """

    def __init__(
        self,
        fallback: WSGIApplication,
        source: Source,
        *,
        watch: bool,
        worker_header: bool,
        dev: bool,
    ) -> None:
        self.fallback = fallback
        self.source = source
        self.watch = watch
        self.worker_header = worker_header
        self.dev = dev

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method: str = environ["REQUEST_METHOD"]
        answer = self.answer(
            method,
            environ.get("PATH_INFO") or "/",
            environ.get("QUERY_STRING", ""),
            environ.get("HTTP_ACCEPT_ENCODING"),
            environ.get("HTTP_IF_NONE_MATCH"),
            environ.get("HTTP_IF_MODIFIED_SINCE"),
        )
        if answer is None:
            return self.fallback(environ, start_response)
        status, headers, body = answer
        start_response(status, headers)
        return [body] if body and method != "HEAD" else []

    def answer(
        self,
        method: str,
        path: str,
        query: str,
        accept_encoding: str | None,
        if_none_match: str | None,
        if_modified_since: str | None,
    ) -> Answer | None:
        """The answer to a request, or None for the fallback app: the whole decision,
        shared by the WSGI and the ASGI front (`feeds.serve.asgi`). `path` is spelled as WSGI's
        PATH_INFO (`served.wsgi_key`). The caller sends no body for HEAD (a 200 to HEAD
        comes with an empty one: the mapped body is not even read)."""
        if self.watch and not self.source.running_here():
            self.source.start()  # first request of this process (gunicorn: of the worker)
        odd = odd_spelling_answer(path)
        if odd is not None:
            return self._with_worker(*odd)
        view = self.source.view
        if view is None:
            if path == "/health":
                return None
            return self._with_worker(*self._unavailable())
        served = view.served.get(path)
        if served is None:
            if path + "/" in view.served:
                return self._with_worker(*_redirect(path + "/", query))
            return None
        if method != "GET" and method != "HEAD":
            return self._with_worker(*_NOT_ALLOWED)
        if path == "/embed/":
            problem = embed_query_problem(query, view.tags)
            if problem is not None:
                text = f"400 Bad Request: {problem}\n"
                return self._with_worker(*plain_answer("400 Bad Request", text))
        variant = served.identity
        if served.gzip is not None and accepts_gzip(accept_encoding):
            variant = served.gzip
        if (if_none_match is not None or if_modified_since is not None) and is_not_modified(
            etag=variant.etag,
            last_modified=served.last_modified,
            if_none_match=if_none_match,
            if_modified_since=if_modified_since,
        ):
            return self._with_worker("304 Not Modified", variant.not_modified_headers, b"")
        body = b"" if method == "HEAD" else variant.data[variant.start : variant.stop]
        return self._with_worker("200 OK", variant.ok_headers, body)

    def _with_worker(self, status: str, headers: Headers, body: bytes) -> Answer:
        if self.worker_header:
            return status, [*headers, ("X-Worker", str(os.getpid()))], body
        return status, headers, body

    def _unavailable(self) -> Answer:
        problems = self.source.problems
        text = "503 Service Unavailable: no good catalog has been loaded yet; see /health\n"
        if self.dev and problems:
            text += "".join(f"{problem}\n" for problem in problems)
        return plain_answer("503 Service Unavailable", text, [("Retry-After", "5")])


def _redirect(location: str, query: str) -> Answer:
    target = urllib.parse.quote(location.encode("latin-1"), safe="/-._~!$&'()*+,;=:@")
    if query:
        target += "?" + query
    return plain_answer(
        "301 Moved Permanently", f"301 Moved Permanently: {target}\n", [("Location", target)]
    )


class Source(Protocol):
    """Where an app's Views come from."""

    @property
    def view(self) -> View | None: ...  # None: no good catalog yet
    @property
    def problems(self) -> tuple[str, ...]: ...  # why the file on disk is not served
    def start(self) -> None: ...  # watch in a thread of this process
    def running_here(self) -> bool: ...
    def health(self) -> dict[str, Any]: ...  # /health's report (see health_report)
