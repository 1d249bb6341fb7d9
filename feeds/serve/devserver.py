"""`feeds serve`: the development server, reloading, with the error banner on pages."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask

from ..catalog import CatalogErrors, read_catalog
from .listeners import configure_logging
from .web import create_app, local_origin, start_background

if TYPE_CHECKING:
    pass


log = logging.getLogger("feeds.serve.web")


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
