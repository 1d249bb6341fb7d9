"""`feeds serve`: the development server reloads, and shows a broken catalog's errors on
every page while serving the last good content."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from xml.etree import ElementTree

import pytest
from servers import Server, free_port, start_process

from feeds.catalog import load_catalog
from feeds.site import build_site

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
        # The fix brought back the version served all along: the log says it is fixed.
        version = json.loads(get(server, "/health")[1])["catalog"]["version"]
        wait_for("the fix logged", lambda: "catalog is good again" in server.output(), server)
        assert f"catalog is good again: served version {version[:12]}" in server.output()


def _fifo(tmp_path: Path) -> Path:
    os.mkfifo(tmp_path / "entries.yaml")
    return tmp_path / "entries.yaml"


# The shared reader's line (`feeds check` and `feeds build` say the same), not one of
# the dev server's own; none of these ever starts a server.
@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda tmp: tmp / "nope.yaml", "No such file or directory"),
        (lambda tmp: tmp, "it is a folder, not a file"),
        (_fifo, "it is a FIFO (named pipe), not a file"),
    ],
    ids=["missing", "folder", "fifo"],
)
def test_serve_without_a_catalog_file_says_so(
    tmp_path: Path, make: Callable[[Path], Path], reason: str
) -> None:
    path = make(tmp_path)
    result = subprocess.run(
        [str(FEEDS), "serve", str(path), "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.startswith(f"{path}:0: cannot read the catalog: {reason}")
    assert len(result.stderr.splitlines()) == 1
    assert "Traceback" not in result.stderr


def _serve(catalog: Path, tmp_path: Path, *flags: str) -> AbstractContextManager[Server]:
    port = free_port()
    argv = [str(FEEDS), "serve", str(catalog), "--port", str(port), *flags]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return start_process(argv, port, tmp_path / "serve.log", env=env)


def _atom_ids(feed: bytes) -> list[str]:
    root = ElementTree.fromstring(feed)
    return [element.text or "" for element in root.iter("{http://www.w3.org/2005/Atom}id")]


@pytest.mark.slow
def test_serve_publishes_with_its_own_address(tmp_path: Path) -> None:
    catalog = tmp_path / "entries.yaml"
    shutil.copyfile(ROOT / "entries.yaml", catalog)
    published = build_site(load_catalog(catalog))  # as exported: the catalog's base_url
    with _serve(catalog, tmp_path) as server:
        local = server.url("/")
        for path in ("/", "/subscribe/", "/feed.atom", "/feed.json", "/events.ics"):
            status, body = get(server, path)
            assert status == 200, path
            assert local.encode() in body, path
            assert b"https://feeds.example.org/" not in body, path
        # The subscribe, copy and embed addresses work here: fetch every one on the pages.
        pages = get(server, "/")[1] + get(server, "/subscribe/")[1]
        assert b"feeds.example.org" not in pages  # nor in Google's or Outlook's links
        found = set(re.findall(rb"(?:http|webcal)://127\.0\.0\.1:\d+/[^\"&<\s]*", pages))
        addresses = {url.decode().replace("webcal://", "http://") for url in found}
        for path in ("", "feed.atom", "events.ics", "embed.js", "subscribe/"):
            assert local + path in addresses
        for url in addresses:
            with urllib.request.urlopen(url, timeout=10) as response:
                assert response.status == 200, url
        # Ids come from feed.id_authority: the same as the catalog's own publication's.
        feed = get(server, "/feed.atom")[1]
        assert _atom_ids(feed) == _atom_ids(published["/feed.atom"].body)
        assert f"on {local}" in server.output()


@pytest.mark.slow
def test_serve_keeps_the_catalog_s_base_url_when_asked(tmp_path: Path) -> None:
    catalog = tmp_path / "entries.yaml"
    shutil.copyfile(ROOT / "entries.yaml", catalog)
    published = build_site(load_catalog(catalog))
    with _serve(catalog, tmp_path, "--keep-base-url") as server:
        assert get(server, "/feed.atom")[1] == published["/feed.atom"].body
        assert server.url("/").encode() not in get(server, "/")[1]
