"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py wsgi:app`.

Environment (command-line flags such as `-b` and `-w` override these):
    FEEDS_CATALOG       the catalog to serve (default entries.yaml, relative to the cwd)
    FEEDS_BIND          address to listen on (default 127.0.0.1:8000; behind a proxy)
    FEEDS_WORKERS       worker processes (default: one per CPU core)
    FEEDS_THREADS       threads per worker (default 4)
    FEEDS_WORKER_CLASS  gunicorn worker class (default gthread: keep-alive for pollers)
    FEEDS_ACCESS_LOG    access log file, "-" for stderr (default: none)
The app itself reads the other FEEDS_* settings (see feeds/web.py).
"""

from __future__ import annotations

import os
from typing import Any

from feeds.web import configure_logging, start_background

bind = os.environ.get("FEEDS_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("FEEDS_WORKERS", str(os.cpu_count() or 1)))
worker_class = os.environ.get("FEEDS_WORKER_CLASS", "gthread")
threads = int(os.environ.get("FEEDS_THREADS", "4"))
keepalive = 5
accesslog = os.environ.get("FEEDS_ACCESS_LOG") or None
# gunicorn's control socket sits at one path per user, so two instances (a second site,
# tests, benchmarks) would take it from each other; nothing here uses it.
control_socket_disable = True

# Load the app (and the Site) once in the master, then fork: workers start at once and
# share the Site's pages until they reload. Each worker then watches the catalog itself.
preload_app = True

configure_logging()


def post_worker_init(worker: Any) -> None:
    # Threads do not survive fork: start this worker's own catalog watcher.
    start_background(worker.wsgi)
