"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py asgi:app`.

Environment (command-line flags such as `-b` and `-w` override these):
    FEEDS_CATALOG       the catalog to serve (default entries.yaml, relative to the cwd)
    FEEDS_BIND          address to listen on (default 127.0.0.1:8000; behind a proxy)
    FEEDS_WORKERS       worker processes (default: one per CPU core)
    FEEDS_THREADS       threads per worker, for the gthread worker (default 4)
    FEEDS_WORKER_CLASS  gunicorn worker class: asgi (default: gunicorn's asyncio worker,
                        with uvloop; serve `asgi:app`) or gthread (threads; serve
                        `wsgi:app`). Both keep connections alive for pollers; asgi costs
                        under half the CPU per request (see benchmarks/RESULTS.md).
    FEEDS_ACCESS_LOG    access log file, "-" for stderr (default: none)
    FEEDS_SHARED_BUILD  where the builder publishes (default: a new temporary directory,
                        removed when the server stops, or by the next server to start
                        if this one was killed)
The app itself reads the other FEEDS_* settings (see feeds/web.py).

One builder process (`python -m feeds.builder`, started before the workers and stopped
with the server) watches the catalog, builds the Site and publishes it; the workers map
what it publishes (`feeds.pack`). So the catalog is parsed and rendered once, not once
per worker, and a worker holds no Site of its own: only the pages it sends are resident,
and those are shared with every other worker through the page cache.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from feeds import builder
from feeds.asgi import FeedsASGI
from feeds.web import configure_logging, start_background

bind = os.environ.get("FEEDS_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("FEEDS_WORKERS", str(os.cpu_count() or 1)))
worker_class = os.environ.get("FEEDS_WORKER_CLASS", "asgi")
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
_made_directory: Path | None = None
_made_directory_lock: int | None = None  # held by this master and its workers


def on_starting(server: Any) -> None:
    """Start the builder and wait for its first build: the first request already has it."""
    global _builder, _made_directory, _made_directory_lock
    directory = os.environ.get("FEEDS_SHARED_BUILD")
    if not directory:
        # Also removes the folders of servers that were killed before their on_exit.
        _made_directory, _made_directory_lock = builder.make_shared_directory()
        directory = str(_made_directory)
        os.environ["FEEDS_SHARED_BUILD"] = directory  # the workers' app reads it
    catalog = Path(os.environ.get("FEEDS_CATALOG", "entries.yaml"))
    _builder = builder.start(catalog, Path(directory))
    if not builder.wait_until_published(_builder, Path(directory)):
        raise RuntimeError(f"the feeds builder exited with status {_builder.returncode}")


def on_exit(server: Any) -> None:
    if _builder is not None:
        builder.stop(_builder)
    if _made_directory is not None:
        shutil.rmtree(_made_directory, ignore_errors=True)
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
            "the %s worker class serves %s: run `gunicorn -c gunicorn.conf.py %s` "
            "(or set FEEDS_WORKER_CLASS=%s for the app given)",
            worker_class,
            wanted,
            wanted,
            "gthread" if is_asgi_worker else "asgi",
        )
        sys.exit(4)  # gunicorn's "app failed to load": the master stops instead of respawning
