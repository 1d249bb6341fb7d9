"""Finding 9: memory back. A builder that built a large catalog and then serves a small
one starts itself afresh (same pid: the server's supervisor sees no exit), publishes
the small catalog from a cold build, and holds less than before. The real builder
process, with its threshold lowered so that a catalog of a few thousand entries is
"large" (`--large-mb`); benchmarks/bench_memory.py --shrink-to measures it at 100k."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from feeds.serve import heartbeat

ROOT = Path(__file__).resolve().parent.parent
LARGE = 2000  # entries
HANG_GUARD = 180.0  # seconds: a cold build of LARGE entries on a busy machine

pytestmark = pytest.mark.slow


def resident_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


def wait_for_entries(directory: Path, entries: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + HANG_GUARD
    while True:
        assert process.poll() is None, "the builder exited"
        beat = heartbeat.read(directory)
        health = beat["health"] if beat is not None else {}
        catalog = health.get("catalog") or {}
        if health.get("status") == "ok" and catalog.get("entries") == entries:
            return
        assert time.monotonic() < deadline, health
        time.sleep(0.2)


def test_a_builder_gives_its_heap_back_after_the_catalog_shrinks(tmp_path: Path) -> None:
    catalog = tmp_path / "entries.yaml"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "gen_catalog.py"),
            str(LARGE),
            "-o",
            str(catalog),
        ],
        check=True,
    )
    directory = tmp_path / "shared"
    directory.mkdir()
    log = tmp_path / "builder.log"
    argv = [sys.executable, "-m", "feeds.serve.builder", str(directory), "--catalog", str(catalog)]
    argv += ["--no-websub", "--large-mb", "1"]
    with log.open("wb") as sink:
        process = subprocess.Popen(argv, cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT)
    try:
        wait_for_entries(directory, LARGE, process)
        time.sleep(0.5)  # its first quiet look settles the heap
        large = resident_kb(process.pid)
        small = tmp_path / "small.yaml"
        small.write_bytes((ROOT / "entries.yaml").read_bytes())
        small.rename(catalog)
        wait_for_entries(directory, 10, process)
        deadline = time.monotonic() + HANG_GUARD
        while "starting afresh" not in log.read_text():
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        wait_for_entries(directory, 10, process)  # published again, by the fresh process
        beat = heartbeat.read(directory)
        assert beat is not None and beat["pid"] == process.pid  # the same process, exec'd
        assert resident_kb(process.pid) < large
        assert "Traceback" not in log.read_text()
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()
