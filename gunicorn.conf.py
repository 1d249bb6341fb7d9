"""gunicorn settings for production: `gunicorn asgi:app` (or `gunicorn wsgi:app`), run
from the project root, where gunicorn reads this file by itself.

Environment (command-line flags such as `-b` and `-w` override these):
    FEEDS_CATALOG       the catalog to serve (default entries.yaml, relative to the cwd)
    FEEDS_BIND          address to listen on (default 127.0.0.1:8000; behind a proxy)
    FEEDS_WORKERS       worker processes (default: one per CPU core)
    FEEDS_THREADS       threads per worker, for the gthread worker (default 4)
    FEEDS_WORKER_CLASS  gunicorn worker class: asgi (gunicorn's asyncio worker, with
                        uvloop; serves `asgi:app`) or gthread (threads; serves
                        `wsgi:app`). Default: the one that fits the app named on the
                        command line (`app_worker_kind`). Both keep connections alive for
                        pollers; asgi costs under half the CPU per request (see
                        benchmarks/RESULTS.md).
    FEEDS_ACCESS_LOG    access log file, "-" for stderr (default: none)
    FEEDS_SHARED_BUILD  where the builder publishes (default: a new temporary directory,
                        removed when the server stops, or by the next server to start
                        if this one was killed). A folder given here must be new, empty
                        or one feeds made (marked with a .feeds-made file): any other
                        is refused at start, untouched
The app itself reads the other FEEDS_* settings (see feeds/serve/web.py).

One builder process (`python -m feeds.serve.builder`, started before the workers, restarted
by a thread of the master when it exits (`supervisor.Supervisor`), and stopped with the
server) watches the catalog, builds the Site and publishes it; the workers map
what it publishes (`feeds.serve.pack`). So the catalog is parsed and rendered once, not once
per worker, and a worker holds no Site of its own: only the pages it sends are resident,
and those are shared with every other worker through the page cache.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

from feeds.serve import supervisor
from feeds.serve.asgi import FeedsASGI, worker_class_for
from feeds.serve.listeners import configure_logging
from feeds.serve.web import start_background


def app_uri(argv: list[str]) -> str | None:
    """The app named on gunicorn's command line (`asgi:app`), as gunicorn itself reads it.

    gunicorn loads this file after parsing its arguments but gives it no handle on them,
    so they are parsed again here with gunicorn's own parser (GUNICORN_CMD_ARGS too)."""
    from gunicorn.config import Config

    parser = Config().parser()
    try:
        given = parser.parse_args(argv)
        from_env = parser.parse_args(shlex.split(os.environ.get("GUNICORN_CMD_ARGS", "")))
    except SystemExit:  # not gunicorn's command line (this file imported by something else)
        return None
    positional = [*given.args, *from_env.args]
    return positional[0] if positional else None


def app_worker_kind(uri: str | None) -> str:
    """`asgi` for an app in a module named asgi (`asgi:app`, `feeds.serve.asgi:create_asgi_app()`),
    `gthread` for any other (`wsgi:app`: a WSGI app, which the asgi worker cannot serve).
    By name, not by importing it: importing would build the Site here, in the master."""
    module = (uri or "asgi:app").partition(":")[0]
    return "asgi" if module.rpartition(".")[2] == "asgi" else "gthread"


bind = os.environ.get("FEEDS_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("FEEDS_WORKERS", str(os.cpu_count() or 1)))
# An explicit FEEDS_WORKER_CLASS wins (a mismatch is refused clearly at start, below);
# otherwise the worker that fits the app given, so `gunicorn wsgi:app` works as is.
# asgi: feeds.serve.asgi.ASGIWorker, gunicorn's own with an answer for clients that half-close.
worker_class = worker_class_for(
    os.environ.get("FEEDS_WORKER_CLASS") or app_worker_kind(app_uri(sys.argv[1:]))
)
# Only the gthread worker has threads (the asgi one warns when given any).
threads = int(os.environ.get("FEEDS_THREADS", "4")) if worker_class == "gthread" else 1
keepalive = 5
# gunicorn's own parser, not the optional C one (gunicorn_h1c): with the C parser 0.6.10
# the asgi worker drops a malformed request without the 400 answer (a traceback in the
# log instead), and it saved only ~10% of the CPU per request here.
http_parser = "python"
accesslog = os.environ.get("FEEDS_ACCESS_LOG") or None
# gunicorn's control socket sits at one path per user, so two instances (a second site,
# tests, benchmarks) would take it from each other; nothing here uses it.
control_socket_disable = True

# Each worker loads the app after the builder's first publish (on_starting below waits
# for it): the app only maps that build, so there is nothing worth loading in the master.
preload_app = False

configure_logging()

_builder: subprocess.Popen[Any] | None = None
_supervisor: supervisor.Supervisor | None = None  # restarts the builder when it exits
_made_directory: Path | None = None
_made_directory_lock: int | None = None  # held by this master and its workers


def on_starting(server: Any) -> None:
    """Start the builder and wait for its first build: the first request already has it."""
    global _builder, _made_directory, _made_directory_lock
    directory = os.environ.get("FEEDS_SHARED_BUILD")
    if directory:
        # A folder not ours and not empty is refused untouched (SharedDirectoryError, a
        # RuntimeError: gunicorn prints the message and exits 1); a new or empty one is
        # marked as ours before the builder writes anything there.
        supervisor.claim_shared_directory(Path(directory))
    else:
        # Also removes the folders of servers that were killed before their on_exit.
        _made_directory, _made_directory_lock = supervisor.make_shared_directory()
        directory = str(_made_directory)
        os.environ["FEEDS_SHARED_BUILD"] = directory  # the workers' app reads it
    catalog = Path(os.environ.get("FEEDS_CATALOG", "entries.yaml"))
    _builder = supervisor.start(catalog, Path(directory))
    if not supervisor.wait_until_published(_builder, Path(directory)):
        raise RuntimeError(f"the feeds builder exited with status {_builder.returncode}")


def when_ready(server: Any) -> None:
    """Supervise the builder once the server listens: from then on, listeners closed
    (gunicorn's Arbiter.stop empties them first) mean the server is stopping."""
    global _supervisor
    if _builder is None:
        return
    catalog = Path(os.environ.get("FEEDS_CATALOG", "entries.yaml"))
    directory = Path(os.environ["FEEDS_SHARED_BUILD"])
    _supervisor = supervisor.Supervisor(
        catalog, directory, _builder, server_stopping=lambda: not server.LISTENERS
    )
    _supervisor.start()


def on_exit(server: Any) -> None:
    if _supervisor is not None:
        _supervisor.stop()  # no restart while stopping; stops the builder of the moment
    elif _builder is not None:
        supervisor.stop(_builder)
    if _made_directory is not None:
        supervisor.remove_shared_directory(_made_directory)
    if _made_directory_lock is not None:
        os.close(_made_directory_lock)


def post_worker_init(worker: Any) -> None:
    app = getattr(worker, "asgi", None) or getattr(worker, "wsgi", None)  # what it loaded
    _refuse_the_other_interface(worker, app)
    # Threads do not survive fork: start this worker's own watcher of the shared build.
    start_background(app)


def _refuse_the_other_interface(worker: Any, app: Any) -> None:
    """`wsgi:app` under the asgi worker (or `asgi:app` under a WSGI one) would fail on
    every request; say so once, at start, and stop the server."""
    is_asgi_app = isinstance(app, FeedsASGI)
    is_asgi_worker = type(worker).__name__ == "ASGIWorker"
    if is_asgi_app != is_asgi_worker:
        wanted = "asgi:app" if is_asgi_worker else "wsgi:app"
        worker.log.error(
            "the %s worker class serves %s: run `gunicorn %s` "
            "(or set FEEDS_WORKER_CLASS=%s for the app given, or unset it)",
            os.environ.get("FEEDS_WORKER_CLASS", "asgi"),
            wanted,
            wanted,
            "gthread" if is_asgi_worker else "asgi",
        )
        sys.exit(4)  # gunicorn's "app failed to load": the master stops instead of respawning
