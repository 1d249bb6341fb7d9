"""Faults while the app runs, in process: the catalog deleted, unreadable, replaced by
garbage or cut mid-entry, and a WebSub hub that is down or hangs.

The rule each time: every path of the last good Site is still served with the same bytes,
/health says "stale" and names the problem (file:line for what the validator can place),
and putting the good file back restores "ok". The watcher is driven with `check_now()`;
tests/test_reload.py has the single-fault basics, this file goes through every kind of
fault on the full Site (tests/test_faults_gunicorn.py does the same end to end).

We run as root in CI, so `chmod 000` would not stop a read: "unreadable" is a directory,
a FIFO, a dangling symlink or a symlink loop where the file was.
"""

from __future__ import annotations

import json
import os
import random
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from test_web_support import copy_catalog, make_app, retitle_untagged

from feeds.catalog import parse_catalog
from feeds.serve.web import create_app, runtime

HANG_GUARD = 30.0  # seconds: a bound against a hang, never a timing check


@pytest.fixture(scope="module")
def good_bytes() -> bytes:
    return (Path(__file__).resolve().parent.parent / "entries.yaml").read_bytes()


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    return copy_catalog(tmp_path)


@pytest.fixture
def app(catalog: Path) -> Flask:
    """The full Site (every real renderer): a fault must leave every kind of output alone."""
    return create_app(
        catalog, {"TESTING": True, "RELOAD": False, "WEBSUB": False, "RELOAD_SETTLE": False}
    )


def snapshot(client: FlaskClient, app: Flask) -> dict[str, tuple[int, str, bytes]]:
    site = runtime(app).watcher.live.site
    assert site is not None
    answers = {}
    for path in site.outputs:
        response = client.get(path)
        answers[path] = (response.status_code, response.headers["ETag"], response.data)
    return answers


def health(client: FlaskClient) -> dict[str, Any]:
    response = client.get("/health")
    assert response.status_code == 200
    report: dict[str, Any] = json.loads(response.data)
    return report


def check(app: Flask) -> bool:
    """One look at the file, on a thread with a hang guard (a blocked read would stall
    the whole test run otherwise)."""
    result: list[bool] = []
    worker = threading.Thread(
        target=lambda: result.append(runtime(app).watcher.check_now()), daemon=True
    )
    worker.start()
    worker.join(HANG_GUARD)
    assert not worker.is_alive(), "check_now() hung"
    return result[0]


# --- the faults ---------------------------------------------------------------------------

Fault = Callable[[Path, bytes], None]


def deleted(path: Path, good: bytes) -> None:
    path.unlink()


def directory_in_place(path: Path, good: bytes) -> None:
    path.unlink()
    path.mkdir()


def dangling_symlink(path: Path, good: bytes) -> None:
    path.unlink()
    path.symlink_to(path.parent / "gone.yaml")


def symlink_loop(path: Path, good: bytes) -> None:
    path.unlink()
    path.symlink_to(path)


def empty(path: Path, good: bytes) -> None:
    path.write_bytes(b"")


def random_bytes(path: Path, good: bytes) -> None:
    path.write_bytes(random.Random(8).randbytes(4096))


def invalid_utf8(path: Path, good: bytes) -> None:
    path.write_bytes(good.replace(b"EUROCITIES", b"EUROCIT\xff\xfeIES", 1))


def nul_bytes(path: Path, good: bytes) -> None:
    path.write_bytes(good[: len(good) // 2] + b"\0" * 64 + good[len(good) // 2 :])


def utf16(path: Path, good: bytes) -> None:
    path.write_bytes(good.decode().encode("utf-16"))


def source_code(path: Path, good: bytes) -> None:
    """An editor saved the wrong buffer."""
    path.write_bytes(Path(__file__).read_bytes())


def too_large(path: Path, good: bytes) -> None:
    """Past the validator's size limit (64 MiB): a sparse file, so it costs no disk."""
    from feeds.catalog import DEFAULT_MAX_BYTES

    with path.open("r+b") as file:
        file.truncate(DEFAULT_MAX_BYTES + 1)


FAULTS: dict[str, Fault] = {
    "deleted": deleted,
    "directory in place": directory_in_place,
    "dangling symlink": dangling_symlink,
    "symlink loop": symlink_loop,
    "empty": empty,
    "random bytes": random_bytes,
    "invalid UTF-8": invalid_utf8,
    "NUL bytes": nul_bytes,
    "UTF-16": utf16,
    "source code": source_code,
    "too large": too_large,
}
UNREADABLE = {"deleted", "directory in place", "dangling symlink", "symlink loop"}


def restore(path: Path, good: bytes) -> None:
    if path.is_dir() and not path.is_symlink():
        path.rmdir()
    elif path.exists() or path.is_symlink():
        path.unlink()
    path.write_bytes(good)


def assert_stale_and_served(
    client: FlaskClient, app: Flask, before: dict[str, tuple[int, str, bytes]], catalog: Path
) -> dict[str, Any]:
    assert snapshot(client, app) == before
    report = health(client)
    assert report["status"] == "stale"
    assert report["problems"], "a stale catalog with no problem named"
    # Public: where each problem is, never its message (which may quote the file) ...
    assert all(set(p) == {"line", "field"} for p in report["problems"]), report["problems"]
    # ... which the log and the development banner have, as FILE:LINE: ...
    messages = runtime(app).watcher.live.problems
    assert len(messages) == len(report["problems"])
    assert all(p.startswith(f"{catalog}:") for p in messages), messages
    assert report["catalog"]["version"] == runtime(app).watcher.live.catalog.version  # type: ignore[union-attr]
    return report


@pytest.mark.parametrize("name", list(FAULTS))
def test_a_fault_keeps_every_output_and_health_says_why(
    app: Flask, catalog: Path, good_bytes: bytes, name: str
) -> None:
    client = app.test_client()
    before = snapshot(client, app)
    FAULTS[name](catalog, good_bytes)
    assert check(app)
    report = assert_stale_and_served(client, app, before, catalog)
    message = runtime(app).watcher.live.problems[0]
    if name in UNREADABLE:
        assert "cannot read the catalog" in message
        assert report["problems"][0] == {"line": 0, "field": ""}
    else:  # the validator places it: FILE:LINE: ...
        assert re.match(rf"{re.escape(str(catalog))}:\d+: ", message)
    assert not check(app)  # the same fault again: no new state
    restore(catalog, good_bytes)
    assert check(app)
    assert health(client)["status"] == "ok"
    assert snapshot(client, app) == before


def mid_entry_cuts(good: bytes) -> Iterator[tuple[int, int]]:
    """(cut offset, line) in the middle of each entry's `- id:` line: whatever the writer
    left, the last entry then lacks its required fields, so the file cannot be valid."""
    offset = 0
    for number, line in enumerate(good.splitlines(keepends=True), start=1):
        if line.startswith(b"  - id: "):
            yield offset + len(line) // 2, number
        offset += len(line)


def test_a_file_cut_mid_entry_anywhere_keeps_the_last_good_site(
    app: Flask, catalog: Path, good_bytes: bytes
) -> None:
    client = app.test_client()
    before = snapshot(client, app)
    cuts = list(mid_entry_cuts(good_bytes))
    assert len(cuts) >= 5
    text = good_bytes.decode()
    feed_cut = text.index("  base_url:") + 12  # inside the feed block as well
    for cut, line in [*cuts, (feed_cut, text[:feed_cut].count("\n") + 1)]:
        catalog.write_bytes(good_bytes[:cut])
        assert check(app), f"cut at byte {cut} (line {line}) not noticed"
        report = assert_stale_and_served(client, app, before, catalog)
        lines = [p["line"] for p in report["problems"]]
        assert lines and max(lines) <= line + 1, (cut, report["problems"])
    restore(catalog, good_bytes)
    assert check(app)
    assert health(client)["status"] == "ok"


def test_many_faults_in_a_row_then_a_good_edit(
    app: Flask, catalog: Path, good_bytes: bytes
) -> None:
    """Fault after fault (never restoring in between), then a real edit is picked up."""
    client = app.test_client()
    before = snapshot(client, app)
    for fault in FAULTS.values():
        restore(catalog, good_bytes)
        # Each fault right after a good file: bytes identical to the served version
        # (nothing to do), then the fault itself.
        check(app)
        fault(catalog, good_bytes)
        check(app)
        assert_stale_and_served(client, app, before, catalog)
    restore(catalog, good_bytes)
    retitle_untagged(catalog, "Edited after the storm")
    assert check(app)
    assert health(client)["status"] == "ok"
    assert b"Edited after the storm" in client.get("/feed.atom").data
    assert health(client)["failed_reloads"] >= len(FAULTS)


def test_the_valid_first_half_of_an_in_place_write_is_not_published(
    catalog: Path, good_bytes: bytes
) -> None:
    """With RELOAD_SETTLE (the default), a file changed in place is read only once its
    stat held for one more check: the first look at a half-finished save publishes
    nothing, the look after the save completes publishes the whole file."""
    app = create_app(catalog, {"TESTING": True, "RELOAD": False, "WEBSUB": False})
    client = app.test_client()
    before = snapshot(client, app)
    half = good_bytes[: len(good_bytes) // 2]
    assert len(parse_catalog(half, str(catalog)).entries) > 0  # valid on its own
    with catalog.open("r+b") as file:  # an editor writing in place, caught halfway
        file.truncate(0)
        file.write(half)
        file.flush()
        check(app)
        assert snapshot(client, app) == before
        file.write(good_bytes[len(half) :].replace(b"Lyon metropole", b"Lyon Metropole", 1))
    assert not check(app)  # the finished save, seen once: wait for it to hold
    assert check(app)  # held: read and published
    assert b"Lyon Metropole" in client.get("/feed.atom").data


@contextmanager
def fifo_in_place(app: Flask, catalog: Path) -> Iterator[threading.Event]:
    """A FIFO where the catalog was, and a check of it running on a thread; yields the
    event set when that check returns. Afterwards the FIFO is unblocked (opened for
    writing and closed: the reader sees EOF) so no thread is left waiting."""
    catalog.unlink()
    os.mkfifo(catalog)
    done = threading.Event()

    def look() -> None:
        runtime(app).watcher.check_now()
        done.set()

    worker = threading.Thread(target=look, daemon=True)
    worker.start()
    try:
        yield done
    finally:
        if not done.wait(1.0):
            with suppress(OSError):  # ENXIO: no reader has the FIFO open (any more)
                os.close(os.open(catalog, os.O_WRONLY | os.O_NONBLOCK))
        worker.join(HANG_GUARD)


def test_requests_never_wait_on_a_blocked_watcher(app: Flask, catalog: Path) -> None:
    client = app.test_client()
    before = snapshot(client, app)
    with fifo_in_place(app, catalog):
        assert snapshot(client, app) == before
        assert health(client)["catalog"] is not None


def test_a_fifo_in_place_of_the_catalog_is_a_problem_not_a_hang(app: Flask, catalog: Path) -> None:
    client = app.test_client()
    with fifo_in_place(app, catalog) as done:
        assert done.wait(5.0), "check_now() blocked on the FIFO"  # a hang guard
        report = health(client)
        assert report["status"] == "stale"
        assert report["problems"] == [{"line": 0, "field": ""}]
        assert "cannot read the catalog" in runtime(app).watcher.live.problems[0]


# --- the WebSub hub down or hanging -----------------------------------------------------------


@dataclass
class BlockingHub:
    """A hub whose every ping hangs until `release` is set (a slow or stuck hub)."""

    url: str = ""
    entered: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    pings: int = 0


@contextmanager
def blocking_hub() -> Iterator[BlockingHub]:
    hub = BlockingHub()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            hub.pings += 1
            hub.entered.set()
            hub.release.wait(HANG_GUARD)
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    hub.url = f"http://127.0.0.1:{server.server_address[1]}/hub"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hub
    finally:
        hub.release.set()
        server.shutdown()
        server.server_close()


def test_a_hanging_hub_never_holds_up_a_request_or_a_reload(tmp_path: Path) -> None:
    """By structure, not by the clock: while the hub still holds the ping, requests are
    answered with the new Site and a second reload goes through."""
    with blocking_hub() as hub:
        catalog = copy_catalog(tmp_path, hub=hub.url)
        app = make_app(catalog, WEBSUB=True)
        client = app.test_client()
        retitle_untagged(catalog, "Pinged to a stuck hub")
        assert check(app)  # returns although the ping will hang
        assert hub.entered.wait(HANG_GUARD), "the hub was never pinged"

        paths = list(runtime(app).watcher.live.site.outputs)  # type: ignore[union-attr]
        for _ in range(20):
            for path in paths:
                assert client.get(path).status_code == 200
        assert b"Pinged to a stuck hub" in client.get("/feed.atom").data
        retitle_untagged(catalog, "Reloaded while the hub hangs")
        assert check(app)
        assert b"Reloaded while the hub hangs" in client.get("/feed.atom").data
        assert health(client)["status"] == "ok"
        assert not hub.release.is_set() and hub.pings == 1  # all of it while the hub hung

        hub.release.set()
        notifier = runtime(app).notifier
        assert notifier is not None and notifier.wait_idle(HANG_GUARD)


def test_a_hub_refusing_connections_never_holds_up_a_reload(tmp_path: Path) -> None:
    with blocking_hub() as gone:
        url = gone.url  # closed when the block ends: connection refused from then on
    catalog = copy_catalog(tmp_path, hub=url)
    app = make_app(catalog, WEBSUB=True)
    client = app.test_client()
    for n in range(3):  # three edits while the pings of the first still retry with backoff
        retitle_untagged(catalog, f"Edit {n} with the hub down")
        assert check(app)
        assert f"Edit {n} with the hub down".encode() in client.get("/feed.atom").data
    assert health(client)["status"] == "ok"
