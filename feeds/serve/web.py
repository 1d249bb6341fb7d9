"""The web app: serves the current Site, reloads it when the catalog changes.

    app = create_app("entries.yaml")      # a Flask app; `wsgi.py` holds one for gunicorn

Every public URL is a precomputed Output, so answering is a dictionary lookup: a thin
WSGI layer (`SiteResponder`) sits in front of Flask and answers Site paths from header
lists and bodies prepared when the Site was loaded (a full Flask dispatch would cost
several times the whole answer). Flask handles what is left: `/health` and the plain
404/405 answers.

Configuration (`app.config`, from the environment as `FEEDS_<KEY>`, JSON-parsed):
    CATALOG          the catalog file (default `entries.yaml`)
    RELOAD           watch the catalog and swap in changes (default true)
    RELOAD_INTERVAL  seconds between two stats of the catalog (default 0.1)
    RELOAD_SETTLE    where inotify cannot tell that the writer closed the file (not
                     Linux, no watch; `feeds.serve.filewatch`), read a file rewritten in place
                     only once it held still for the interval (its last write, by
                     ctime, is that old, or its stat held for one more check), so a
                     half-finished save is not published (default true)
    DEV_BANNER       show catalog errors on every page (`feeds serve` sets it)
    WEBSUB           ping `feed.hub` for changed feeds after a reload (default true)
    WORKER_HEADER    add `X-Worker: <pid>` to Site answers (tests of several workers)
    SHARED_BUILD     a directory: serve the build the builder process publishes there
                     instead of building in this process (gunicorn.conf.py sets it)
    PUBLISH_ORIGIN   `http://HOST:PORT`: publish as if `feed.base_url` were there (its
                     path kept), so every link and address works locally; ids do not
                     change (`feed.id_authority`). `feeds serve` sets its own address.
                     Only for a Site built in this process (not with SHARED_BUILD).
"""

from __future__ import annotations

import html
import logging
import os
import re
import sys
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from flask import Flask, Response, current_app, json, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from ..catalog import CatalogErrors, read_catalog
from ..model import Catalog
from ..publish.websub import HubNotifier
from ..render.pages_embed import embed_query_problem
from ..render.pages_env import keep_compiled_templates
from ..site import Output, Renderer, Site, build_site, make_output
from .headers import Headers, accepts_gzip, is_not_modified
from .health import health_report, shared_build_report
from .listeners import configure_logging, log_when_good_again, notify_hub_on_change
from .reload import DEFAULT_INTERVAL, CatalogWatcher, PackWatcher
from .served import View, ViewMaker

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger("feeds.serve.web")

DEFAULTS: dict[str, Any] = {
    "CATALOG": "entries.yaml",
    "RELOAD": True,
    "RELOAD_INTERVAL": DEFAULT_INTERVAL,
    "RELOAD_SETTLE": True,
    "DEV_BANNER": False,
    "WEBSUB": True,
    "WORKER_HEADER": False,
    "RENDERERS": None,  # a list of renderers instead of the full set (tests)
    "SHARED_BUILD": None,  # serve the builder process's pack in this directory
    "PUBLISH_ORIGIN": None,  # publish from this origin instead of feed.base_url's
}
_EXTENSION = "feeds"


# --- what a request is answered from -------------------------------------------------------


def make_view(
    site: Site, problems: tuple[str, ...], banner: bool, maker: ViewMaker | None = None
) -> View:
    """The View of a Site built in this process (with the development banner if asked)."""
    outputs: Iterable[Output] = site.outputs.values()
    if banner and problems:
        outputs = (with_banner(output, problems) for output in outputs)
    return (maker or ViewMaker()).from_outputs(outputs, site.version)


# --- the development banner ------------------------------------------------------------

_BODY_TAG = re.compile(rb"<body\b[^>]*>", re.IGNORECASE)


def banner_html(problems: tuple[str, ...]) -> bytes:
    """Each problem as its `FILE:LINE: field: message` line, in a block styled by
    style.css (`.catalog-errors`); `role="alert"`: a screen reader announces it."""
    items = "".join(f"<li><code>{html.escape(problem)}</code></li>" for problem in problems)
    return (
        '<div class="catalog-errors" role="alert"><p><strong>The catalog has '
        f"{len(problems)} problem{'s' if len(problems) != 1 else ''}; this page shows the "
        "last good version.</strong> Fix the file and reload the page.</p>"
        f"<ul>{items}</ul></div>"
    ).encode()


def with_banner(output: Output, problems: tuple[str, ...]) -> Output:
    """The HTML page with the catalog's problems listed right after `<body>`; other
    outputs unchanged. The ETag is that of the new body, so no cache mixes the two."""
    if not output.content_type.startswith("text/html"):
        return output
    match = _BODY_TAG.search(output.body)
    if match is None:
        return output
    body = output.body[: match.end()] + banner_html(problems) + output.body[match.end() :]
    fresh = make_output(output.path, body, output.last_modified)
    return replace(
        output,
        body=fresh.body,
        etag=fresh.etag,
        gzip_body=fresh.gzip_body,
        gzip_etag=fresh.gzip_etag,
    )


# --- the thin WSGI layer ------------------------------------------------------------------


# An answer: status line, header list, body (empty for HEAD and 304).
Answer = tuple[str, Headers, bytes]


def _plain(status: str, text: str, extra: Sequence[tuple[str, str]] = ()) -> Answer:
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


_NOT_ALLOWED = _plain(
    "405 Method Not Allowed", "405 Method Not Allowed\n", [("Allow", "GET, HEAD")]
)
_NOT_FOUND = _plain("404 Not Found", "404 Not Found\n")  # as Flask's (`_plain_error`)
_ABOVE_THE_ROOT = _plain("400 Bad Request", "400 Bad Request\n")


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
                return self._with_worker(*_plain("400 Bad Request", text))
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
        return _plain("503 Service Unavailable", text, [("Retry-After", "5")])


def _redirect(location: str, query: str) -> Answer:
    target = urllib.parse.quote(location.encode("latin-1"), safe="/-._~!$&'()*+,;=:@")
    if query:
        target += "?" + query
    return _plain(
        "301 Moved Permanently", f"301 Moved Permanently: {target}\n", [("Location", target)]
    )


# --- the Flask app -------------------------------------------------------------------------


class Source(Protocol):
    """Where an app's Views come from."""

    @property
    def view(self) -> View | None: ...  # None: no good catalog yet
    @property
    def problems(self) -> tuple[str, ...]: ...  # why the file on disk is not served
    def start(self) -> None: ...  # watch in a thread of this process
    def running_here(self) -> bool: ...
    def health(self) -> dict[str, Any]: ...  # /health's report (see health_report)


class LocalSource:
    """The Site is built in this process, by a CatalogWatcher (dev server, tests, one
    process per machine)."""

    def __init__(self, watcher: CatalogWatcher[View], catalog_path: Path) -> None:
        self.watcher = watcher
        self.catalog_path = catalog_path

    @property
    def view(self) -> View | None:
        return self.watcher.live.view

    @property
    def problems(self) -> tuple[str, ...]:
        return self.watcher.live.problems

    def start(self) -> None:
        self.watcher.start()

    def running_here(self) -> bool:
        return self.watcher.running_here()

    def health(self) -> dict[str, Any]:
        return health_report(self.watcher.live, self.catalog_path, self.watcher.activity())


class SharedSource:
    """The Site is built by the builder process (`feeds.serve.builder`) and read from its pack:
    every gunicorn worker serves one build, mapped, instead of building its own."""

    def __init__(self, watcher: PackWatcher[View]) -> None:
        self.watcher = watcher

    @property
    def view(self) -> View | None:
        return self.watcher.view

    @property
    def problems(self) -> tuple[str, ...]:
        """Where the problems are (the builder's report holds no more than that)."""
        mapped = self.watcher.mapped
        located = mapped.index.health.get("problems", ()) if mapped is not None else ()
        return tuple(
            f"line {problem.get('line')}: {problem.get('field') or '(the file)'}"
            for problem in located
            if isinstance(problem, dict)
        )

    def start(self) -> None:
        self.watcher.start()

    def running_here(self) -> bool:
        return self.watcher.running_here()

    def health(self) -> dict[str, Any]:
        return shared_build_report(
            self.watcher.reader.directory, self.watcher.mapped, self.watcher.view is not None
        )


@dataclass
class Runtime:
    """What one app instance runs: kept in `app.extensions["feeds"]`."""

    source: LocalSource | SharedSource
    notifier: HubNotifier | None
    catalog_path: Path

    @property
    def watcher(self) -> CatalogWatcher[View]:
        """The catalog watcher of an app that builds its own Site (not a shared one)."""
        if not isinstance(self.source, LocalSource):
            raise TypeError("this app serves a shared build; it has no catalog watcher")
        return self.source.watcher


def create_app(
    catalog_path: str | os.PathLike[str] | None = None, test_config: Mapping[str, Any] | None = None
) -> Flask:
    """The app serving `catalog_path` (default: config CATALOG, env FEEDS_CATALOG).

    Loads the catalog once, synchronously: the first request already has a Site (or,
    for a broken catalog, a 503 and /health saying why). Watching starts on the first
    request of each process, or from gunicorn's post_worker_init hook.

    With config SHARED_BUILD (env FEEDS_SHARED_BUILD, a directory) the app builds
    nothing: it serves what the builder process publishes there (see `feeds.serve.builder`;
    gunicorn.conf.py runs one for all workers).
    """
    app = Flask(__name__)
    app.config.from_mapping(DEFAULTS)
    app.config.from_prefixed_env("FEEDS")
    if test_config is not None:
        app.config.from_mapping(test_config)
    if catalog_path is not None:
        app.config["CATALOG"] = os.fspath(catalog_path)
    path = Path(app.config["CATALOG"])

    source: LocalSource | SharedSource
    notifier = None
    if app.config["SHARED_BUILD"]:
        pack = PackWatcher(Path(app.config["SHARED_BUILD"]), ViewMaker().from_pack)
        pack.check_now()
        source = SharedSource(pack)
    else:
        keep_compiled_templates()  # this process renders: every worker after the first loads them
        watcher = _make_watcher(app, path)
        notifier = _make_notifier(app, path, watcher)
        watcher.check_now()
        source = LocalSource(watcher, path)
    app.extensions[_EXTENSION] = Runtime(source, notifier, path)

    app.add_url_rule("/health", "health", health, provide_automatic_options=False)
    app.register_error_handler(HTTPException, _plain_error)
    app.wsgi_app = SiteResponder(  # type: ignore[method-assign]
        app.wsgi_app,
        source,
        watch=bool(app.config["RELOAD"]),
        worker_header=bool(app.config["WORKER_HEADER"]),
        dev=bool(app.config["DEV_BANNER"]),
    )
    return app


def _make_watcher(app: Flask, path: Path) -> CatalogWatcher[View]:
    banner = bool(app.config["DEV_BANNER"])
    renderers: list[Renderer] | None = app.config["RENDERERS"]
    origin: str | None = app.config["PUBLISH_ORIGIN"]

    def build(catalog: Catalog) -> Site:
        # Only what is rendered moves: the watcher keeps the catalog as read (its
        # version, /health, the hub pings).
        return build_site(published_from(catalog, origin) if origin else catalog, renderers)

    watcher: CatalogWatcher[View] = CatalogWatcher(
        path,
        _view_deriver(banner),
        build=build,
        interval=float(app.config["RELOAD_INTERVAL"]),
        settle_in_place=bool(app.config["RELOAD_SETTLE"]),
    )
    log_when_good_again(watcher, path)
    return watcher


def published_from(catalog: Catalog, origin: str) -> Catalog:
    """`catalog` with `feed.base_url` moved to `origin` (`http://127.0.0.1:8000`), its path
    kept (a Site mounted at /feeds/ stays there). Ids come from `feed.id_authority`, so
    no entry's or feed's id changes."""
    path = urllib.parse.urlsplit(catalog.feed.base_url).path or "/"
    feed = replace(catalog.feed, base_url=origin.rstrip("/") + path)
    return replace(catalog, feed=feed)


def local_origin(host: str, port: int) -> str:
    """The origin a browser on this machine reaches a server listening on `host` at:
    an address for every interface becomes loopback's; an IPv6 one is bracketed."""
    host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _view_deriver(banner: bool) -> Callable[[Site, tuple[str, ...]], View]:
    """`make_view`, reusing the last View when nothing it shows changed (production
    ignores problems, so a failed reload does not re-prepare an unchanged Site), and the
    prepared answers of every output a new Site did not change."""
    last: list[tuple[Site, tuple[str, ...], View]] = []
    maker = ViewMaker()

    def derive(site: Site, problems: tuple[str, ...]) -> View:
        shown = problems if banner else ()
        if last and last[0][0] is site and last[0][1] == shown:
            return last[0][2]
        view = make_view(site, shown, banner, maker)
        last[:] = [(site, shown, view)]
        return view

    return derive


def _make_notifier(app: Flask, path: Path, watcher: CatalogWatcher[View]) -> HubNotifier | None:
    if not app.config["WEBSUB"]:
        return None
    return notify_hub_on_change(watcher, path)


def runtime(app: Flask) -> Runtime:
    rt: Runtime = app.extensions[_EXTENSION]
    return rt


def start_background(app: object) -> None:
    """Start this process's watcher (gunicorn's post_worker_init calls it with the app it
    loaded: this Flask app, or the ASGI front holding one as `flask`). Idempotent."""
    flask_app = app if isinstance(app, Flask) else getattr(app, "flask", None)
    if isinstance(flask_app, Flask) and flask_app.config["RELOAD"]:
        runtime(flask_app).source.start()


# --- Flask views -----------------------------------------------------------------------


def health() -> Response:
    """JSON for monitoring: what is served, since when, and whether the file on disk is
    (or is about to be) what is served. 200 with the status in the body, 503 when
    nothing is served; `/health?strict=1` answers 503 unless the status is `ok`."""
    payload = runtime(current_app).source.health()
    strict = request.args.get("strict", "") not in ("", "0", "false", "no")
    failing = payload["status"] == "failed" or (strict and payload["status"] != "ok")
    response = current_app.response_class(
        json.dumps(payload, indent=2) + "\n",
        status=503 if failing else 200,
        content_type="application/json; charset=utf-8",
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'"
    response.headers["X-Frame-Options"] = "DENY"
    if current_app.config["WORKER_HEADER"]:
        response.headers["X-Worker"] = str(os.getpid())
    return response


def _plain_error(error: HTTPException) -> Response:
    """404, 405 and the rest as one short line of text, never an HTML page."""
    status = f"{error.code} {error.name}"
    _, headers, body = _plain(status, status + "\n")
    response = Response(body, status=error.code or 500)
    response.headers.clear()
    for name, value in headers:
        if name != "Content-Length":
            response.headers[name] = value
    if isinstance(error, MethodNotAllowed):
        response.headers["Allow"] = ", ".join(error.valid_methods or ("GET", "HEAD"))
    return response


# --- logging and the development server ------------------------------------------------------


def run_dev_server(catalog_path: Path, host: str, port: int, keep_base_url: bool = False) -> int:
    """`feeds serve`: the development server, reloading, with the error banner on pages.

    Publishes with its own address as `feed.base_url` (unless `keep_base_url`), so every
    link, subscribe address and embed snippet can be tried here. Returns the exit status.
    A path that is no file (missing, a folder, a FIFO) is an error; a broken catalog is
    served as "no good catalog yet" (503, errors listed) until the editor fixes it.
    """
    from werkzeug.serving import make_server

    unreadable = _unreadable(catalog_path)
    if unreadable:
        for line in unreadable:
            print(line, file=sys.stderr)
        return 1
    configure_logging()
    # The server first, its app after: with --port 0 only the bound socket knows the
    # port, and the pages are rendered with the address.
    apps: list[Flask] = []
    try:
        server = make_server(host, port, lambda env, start: apps[0](env, start), threaded=True)
    except OSError as exc:
        print(
            f"feeds serve: cannot listen on {host}:{port}: {exc.strerror or exc}; "
            "give another --port (or --host)",
            file=sys.stderr,
        )
        return 1
    origin = local_origin(host, server.server_port)
    config = {
        "DEV_BANNER": True,
        "RELOAD": True,
        "PUBLISH_ORIGIN": None if keep_base_url else origin,
    }
    apps.append(create_app(catalog_path, config))
    start_background(apps[0])
    bound = host if ":" not in host else f"[{host}]"
    links = "the catalog's base_url" if keep_base_url else origin + "/"
    log.info(
        "serving %s on http://%s:%d/ (development server; links point at %s; Ctrl-C to stop)",
        catalog_path,
        bound,
        server.server_port,
        links,
    )
    server.serve_forever()  # returns on Ctrl-C
    return 0


def _unreadable(catalog_path: Path) -> list[str]:
    """The shared reader's `FILE:0: cannot read the catalog: ...` lines for a path that
    names no readable file. Other problems (a file too large) are served as any broken
    catalog: the banner and /health say them, and a fix is picked up."""
    try:
        read_catalog(catalog_path)
    except CatalogErrors as problems:
        return [str(error) for error in problems.errors if error.message.startswith(_CANNOT_READ)]
    return []


_CANNOT_READ = "cannot read the catalog:"
