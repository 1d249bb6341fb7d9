"""The builder's heartbeat: a small JSON file in the shared build's folder, rewritten
every HEARTBEAT_EVERY seconds by a thread of its own, so that it keeps beating while a
long build runs and stops when the builder is stopped (SIGSTOP), hung or gone.

    {"pid": 1234, "at": 1796621587.08, "health": {...the builder's /health report...}}

Workers read it for /health: a beat older than HEARTBEAT_STALE means that edits are not
reaching readers, whatever the last publish said. JSON, never pickle: it is read on
every /health request and must not be able to run anything.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger("feeds.serve.heartbeat")

HEARTBEAT = "heartbeat.json"
HEARTBEAT_EVERY = 0.5  # seconds between two beats
HEARTBEAT_STALE = 5.0  # seconds without a beat after which the builder counts as hung


def write(directory: Path, pid: int, health: dict[str, Any]) -> None:
    """Replace the heartbeat (a temporary file renamed over it: readers see one whole)."""
    data = json.dumps({"pid": pid, "at": time.time(), "health": health}).encode()
    fd, temporary = tempfile.mkstemp(prefix=".heartbeat-", dir=directory)
    try:
        with open(fd, "wb") as file:
            file.write(data)
        os.replace(temporary, directory / HEARTBEAT)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read(directory: Path) -> dict[str, Any] | None:
    """The last beat, or None when there is none (or it cannot be read as one)."""
    try:
        beat = json.loads((directory / HEARTBEAT).read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(beat, dict) or not isinstance(beat.get("at"), float | int):
        return None
    if not isinstance(beat.get("pid"), int) or not isinstance(beat.get("health"), dict):
        return None
    return beat


class Heart:
    """Beats from a daemon thread until `stop()`; `beat()` adds one now (after a publish).

    One beat at a time, each computing its report when it writes: a beat made before a
    publish can never land after the one made after it."""

    def __init__(self, directory: Path, report: Callable[[], dict[str, Any]]) -> None:
        self.directory = directory
        self._report = report
        self._lock = threading.Lock()
        self._stop = threading.Event()
        threading.Thread(target=self._run, name="feeds-heartbeat", daemon=True).start()

    def beat(self) -> None:
        with self._lock:
            try:
                write(self.directory, os.getpid(), self._report())
            except OSError:
                pass  # the folder is being removed (the server stops): nothing to tell
            except Exception:  # a bug in the report must not look like a hung builder
                log.exception("cannot write the heartbeat")

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while True:
            self.beat()
            if self._stop.wait(HEARTBEAT_EVERY):
                return
