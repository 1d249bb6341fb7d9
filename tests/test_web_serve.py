"""`feeds serve`: the development server reloads, and shows a broken catalog's errors on
every page while serving the last good content."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from servers import Server, free_port, start_process

ROOT = Path(__file__).resolve().parent.parent
FEEDS = Path(sys.executable).parent / "feeds"


def get(server: Server, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(server.url(path), timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def wait_for(condition: str, check: Callable[[], bool], server: Server) -> None:
    deadline = time.monotonic() + 30  # a bound against hanging, not a timing check
    while not check():
        assert time.monotonic() < deadline, f"never saw {condition}:\n{server.output()}"
        time.sleep(0.1)


@pytest.mark.slow
def test_serve_reloads_and_shows_errors_on_pages(tmp_path: Path) -> None:
    catalog = tmp_path / "entries.yaml"
    shutil.copyfile(ROOT / "entries.yaml", catalog)
    port = free_port()
    argv = [str(FEEDS), "serve", str(catalog), "--port", str(port)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with start_process(argv, port, tmp_path / "serve.log", env=env) as server:
        status, home = get(server, "/")
        assert status == 200
        _, feed = get(server, "/feed.atom")
        assert json.loads(get(server, "/health")[1])["status"] == "ok"

        good = catalog.read_text()
        catalog.write_text(good.replace("  language: en\n", "  language: en\n  colour: <red>\n"))
        wait_for("the banner", lambda: b"catalog-errors" in get(server, "/")[1], server)
        page = get(server, "/")[1]
        assert b"feed.colour: unknown key" in page
        assert b"<red>" not in page
        assert get(server, "/feed.atom")[1] == feed  # the last good feed, no banner
        assert json.loads(get(server, "/health")[1])["status"] == "stale"

        catalog.write_text(good)
        wait_for("the banner gone", lambda: get(server, "/")[1] == home, server)
        assert "feed.colour: unknown key" in server.output()  # the log names it too


def test_serve_without_the_file_says_so(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    result = subprocess.run(
        [str(FEEDS), "serve", str(missing)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert f"{missing}: no such catalog file" in result.stderr
    assert "Traceback" not in result.stderr
