"""Finding 5: the builder is supervised and /health is honest about it, through the real
server (gunicorn with its builder, tests/servers.py).

- SIGKILLed, the builder is restarted by the server (which logs it) and the next edit
  is served within 10 s;
- SIGSTOPped, /health says `stale` within 10 s (`/health?strict=1`: 503), and `ok`
  again once it runs on.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from servers import Server, start_gunicorn
from test_gunicorn import fetch

from feeds.serve import supervisor

ROOT = Path(__file__).resolve().parent.parent
WITHIN = 10.0  # seconds: the bound for both

pytestmark = pytest.mark.slow


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    path = tmp_path / "entries.yaml"
    shutil.copyfile(ROOT / "entries.yaml", path)
    return path


@pytest.fixture
def server(catalog: Path, tmp_path: Path) -> Iterator[Server]:
    with start_gunicorn(catalog, tmp_path / "gunicorn.log", {"FEEDS_WORKERS": "2"}) as running:
        yield running


def health(server: Server, query: str = "") -> tuple[int, dict[str, object]]:
    status, _headers, body = fetch(server, "/health" + query)
    report = json.loads(body)
    assert isinstance(report, dict)
    return status, report


def builder_pid(server: Server) -> int:
    pid = health(server)[1]["builder_pid"]
    assert isinstance(pid, int)
    return pid


def within(seconds: float, condition: Callable[[], bool], server: Server) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not within {seconds} s:\n{server.output()}"
        time.sleep(0.1)


def save(catalog: Path, old: bytes, new: bytes) -> None:
    data = catalog.read_bytes()
    assert old in data
    temporary = catalog.with_name(".entries.yaml.new")
    temporary.write_bytes(data.replace(old, new, 1))
    temporary.rename(catalog)


def test_a_killed_builder_is_restarted_and_the_next_edit_is_served(
    server: Server, catalog: Path
) -> None:
    first = builder_pid(server)
    os.kill(first, signal.SIGKILL)
    save(catalog, b"Lyon metropole", b"Lyon Metropole")
    within(WITHIN, lambda: b"Lyon Metropole" in fetch(server, "/feed.atom")[2], server)
    assert builder_pid(server) != first
    assert f"the feeds builder (pid {first})" in server.output()
    within(WITHIN, lambda: health(server, "?strict=1")[0] == 200, server)
    # And again: a second death in a row is restarted too (after a longer backoff).
    second = builder_pid(server)
    os.kill(second, signal.SIGKILL)
    save(catalog, b"Lyon Metropole", b"Lyon, metropole")
    within(3 * WITHIN, lambda: b"Lyon, metropole" in fetch(server, "/feed.atom")[2], server)


def test_a_stopped_builder_makes_health_stale_within_10_seconds(server: Server) -> None:
    pid = builder_pid(server)
    assert health(server, "?strict=1")[0] == 200
    os.kill(pid, signal.SIGSTOP)
    try:
        within(WITHIN, lambda: health(server)[1]["status"] == "stale", server)
        status, report = health(server, "?strict=1")
        assert (status, report["status"]) == (503, "stale")
        assert "not responding" in str(report["reason"])
        assert health(server)[0] == 200  # the plain /health: what is served is still good
    finally:
        os.kill(pid, signal.SIGCONT)
    within(WITHIN, lambda: health(server, "?strict=1")[0] == 200, server)
    assert health(server)[1]["status"] == "ok"


def test_stopping_the_whole_server_restarts_no_builder(server: Server) -> None:
    """systemd (KillMode=control-group) or Ctrl-C signal the whole process group: the
    builder stops on its own SIGTERM a moment before the master does. That is the server
    stopping, not a builder that died: nothing is restarted and nothing says so."""
    pid = builder_pid(server)
    # Both workers up first: one still booting can miss its SIGTERM (gunicorn's own race),
    # and the master then waits its 30 s graceful timeout for it.
    within(WITHIN, lambda: server.output().count("ASGI server listening") == 2, server)
    os.kill(pid, signal.SIGTERM)
    os.kill(server.process.pid, signal.SIGTERM)
    server.process.wait(timeout=30)
    output = server.output()
    assert "starting a new one" not in output, output
    assert "started a new feeds builder" not in output, output
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_a_builder_stopped_alone_is_restarted_after_the_grace(
    server: Server, catalog: Path
) -> None:
    """SIGTERM to the builder alone (the master runs on): after the grace in which a
    stopping server would have stopped the supervisor, it is restarted and says so."""
    first = builder_pid(server)
    os.kill(first, signal.SIGTERM)
    save(catalog, b"Lyon metropole", b"Lyon Metropole")
    within(3 * WITHIN, lambda: b"Lyon Metropole" in fetch(server, "/feed.atom")[2], server)
    assert builder_pid(server) != first
    assert f"the feeds builder (pid {first}) exited" in server.output()


def test_no_builder_is_restarted_once_the_server_is_stopping(tmp_path: Path) -> None:
    """Whatever ends the builder (here SIGKILL), nothing is started while the server
    stops (gunicorn closes its listeners, then waits up to 30 s for its workers)."""
    exited = subprocess.Popen([sys.executable, "-c", "import os; os.kill(os.getpid(), 9)"])
    exited.wait()
    started: list[object] = []
    watching = supervisor.Supervisor(tmp_path / "entries.yaml", tmp_path, exited, lambda: True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(supervisor, "start", lambda *args: started.append(args))
        watching.start()
        time.sleep(3 * supervisor.SUPERVISE_EVERY + supervisor.RESTART_FIRST)
        watching.stop()
    assert started == [] and watching.restarts == 0
