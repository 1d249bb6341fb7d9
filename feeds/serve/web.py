"""The web app: serves the current Site, reloads it when the catalog changes.

    app = create_app("entries.yaml")      # a Flask app; `wsgi.py` holds one for gunicorn

Every public URL is a precomputed Output, so answering is a dictionary lookup: a thin
WSGI layer (`responder.SiteResponder`) sits in front of Flask and answers Site paths from header
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

import logging
import os
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, current_app, json, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from ..model import Catalog
from ..publish.websub import HubNotifier
from ..render.pages_env import keep_compiled_templates
from ..site import Renderer, Site, build_site
from .health import health_report, shared_build_report
from .listeners import log_when_good_again, notify_hub_on_change
from .polling import PackWatcher
from .reload import DEFAULT_INTERVAL, CatalogWatcher
from .responder import SiteResponder, make_view, plain_answer
from .served import View, ViewMaker

if TYPE_CHECKING:
    pass

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


# --- the Flask app -------------------------------------------------------------------------


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
    _, headers, body = plain_answer(status, status + "\n")
    response = Response(body, status=error.code or 500)
    response.headers.clear()
    for name, value in headers:
        if name != "Content-Length":
            response.headers[name] = value
    if isinstance(error, MethodNotAllowed):
        response.headers["Allow"] = ", ".join(error.valid_methods or ("GET", "HEAD"))
    return response
