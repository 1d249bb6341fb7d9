"""/health's report: what is served, whether the catalog on disk is what is served, and
whether the builder that should pick up edits is alive.

Public: the report holds no text from the catalog file (a catalog can be anything, a
secrets file by mistake), only counts, line numbers and field paths made of the
schema's own names; the messages go to the log. No web framework here: the builder
writes this report into its pack, and the app's `/health` view answers with it.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

from ..catalog.schema import BLOCKS
from . import heartbeat
from .live import Activity, Live
from .pack import Mapped

_NEVER_LOADED = "no good catalog has been loaded yet; see problems"


_PROBLEMS = "the catalog on disk has problems; the last good version is served"


def _builder_trouble(beat: dict[str, Any] | None, published_by: object) -> dict[str, Any]:
    """`stale` and why, when the builder has exited, is stopped or stopped beating."""
    pid = beat["pid"] if beat is not None else published_by
    if not isinstance(pid, int):
        return {}
    state = _process_state(pid)
    if state == "gone":
        # What is served stays good, but edits are no longer picked up.
        reason = (
            f"the builder process ({pid}) has exited: edits to the catalog are not served "
            "until it is restarted (the server restarts it; see the log)"
        )
        return {"status": "stale", "reason": reason}
    silent = time.time() - beat["at"] if beat is not None else None
    if state == "stopped" or (silent is not None and silent > heartbeat.HEARTBEAT_STALE):
        reason = f"the builder process ({pid}) is not responding: edits are not served"
        return {"status": "stale", "reason": reason, "seconds": round(silent or 0.0, 1)}
    return {}


def _not_mapped_yet(report: dict[str, Any], mapped_version: str | None) -> dict[str, Any]:
    """`building` while this worker has not mapped the version the builder published."""
    catalog = report.get("catalog") or {}
    if report.get("status") == "ok" and catalog.get("version") != mapped_version:
        return {"status": "building", "reason": "this worker is loading the new version"}
    return {}


def _process_state(pid: int) -> str:
    """`running`, `stopped` (SIGSTOP, a debugger) or `gone` (exited, or a zombie)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()
    except OSError:
        return "running" if _alive(pid) else "gone"  # no /proc (other OS): only alive or not
    except IndexError:
        return "running"
    state = fields[0] if fields else b"R"
    if state in (b"Z", b"X"):
        return "gone"
    return "stopped" if state in (b"T", b"t") else "running"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def health_report(
    live: Live[Any], catalog_path: Path, activity: Activity | None = None
) -> dict[str, Any]:
    """/health's report. Public: it holds no text from the catalog file (a catalog can
    be anything, a secrets file by mistake), only counts, line numbers and field paths
    made of the schema's own names; the messages go to the log."""
    catalog = live.catalog
    return {
        **_status(live, activity or Activity(), time.time()),
        "catalog": None
        if catalog is None or live.site is None
        else {
            "file": catalog_path.name,
            "version": catalog.version,
            "entries": len(catalog.entries),
            "publications": len(catalog.publications),
            "events": len(catalog.events),
            "tags": len(catalog.tags),
            "outputs": len(live.site),
            "last_modified": live.site.last_modified.isoformat(),
            "loaded_at": live.loaded_at.isoformat() if live.loaded_at else None,
        },
        "problems": [
            {"line": error.line, "field": public_field(error.field)} for error in live.errors
        ],
        "problem_count": len(live.errors),
        "last_error": None
        if live.last_error_at is None
        else {"at": live.last_error_at.isoformat(), "problem_count": len(live.last_error)},
        "reloads": live.reloads,
        "failed_reloads": live.failures,
        "pid": os.getpid(),
    }


def _status(live: Live[Any], activity: Activity, now: float) -> dict[str, Any]:
    """`status` (ok, building, stale, failed) and, unless ok, `reason` (and `seconds`).

    Building comes first: a first build under way is not a failure (yet)."""
    if activity.building_since is not None:
        seconds = round(now - activity.building_since, 1)
        return {"status": "building", "reason": "building the new version", "seconds": seconds}
    if activity.writing_since is not None:
        seconds = round(now - activity.writing_since, 1)
        reason = "the catalog is being written: read once its writer closes it"
        return {"status": "building", "reason": reason, "seconds": seconds}
    if live.site is None:
        return {"status": "failed", "reason": _NEVER_LOADED}
    if activity.unread_change:
        return {"status": "building", "reason": "the catalog changed: about to read it"}
    if live.errors:
        count = len(live.errors)
        reason = f"the catalog on disk has {count} problem(s); the last good version is served"
        return {"status": "stale", "reason": reason}
    return {"status": "ok"}


_FIELD_PART = re.compile(r"([a-z_]+)((?:\[\d+\])*)")


_SCHEMA_NAMES = frozenset(name for block in BLOCKS.values() for name in block)


def public_field(field: str) -> str:
    """A problem's field path as far as it is the schema's names and indexes: a key
    the schema does not know is the file's own text (`DB_PASSWORD`), shown as `?`."""
    if not field:
        return ""
    parts: list[str] = []
    for part in field.split("."):
        match = _FIELD_PART.fullmatch(part)
        if match is None or match.group(1) not in _SCHEMA_NAMES:
            parts.append("?")
            break
        parts.append(part)
    return ".".join(parts)


def shared_build_report(directory: Path, mapped: Mapped | None, serving: bool) -> dict[str, Any]:
    """A worker's report of a shared build: the builder's latest (its heartbeat, else
    its last publish), checked against what this worker maps (`mapped`; `serving`: it
    has a View of it) and whether the builder still lives and beats."""
    beat = heartbeat.read(directory)
    if mapped is None:
        report = health_report(Live(), Path(""))
        report["reason"] = "the builder has not published a build yet"
    else:
        report = dict(beat["health"] if beat is not None else mapped.index.health)
        if not serving:
            report.update(status="failed", reason=report.get("reason") or _NEVER_LOADED)
        else:
            if report.get("status") == "failed":
                # A restarted builder that cannot load the file: what is served is
                # an earlier builder's last good version.
                report.update(status="stale", reason=_PROBLEMS, catalog=None)
            report["catalog"] = report.get("catalog") or mapped.index.health.get("catalog")
            report.update(_builder_trouble(beat, mapped.index.health.get("pid")))
            report.update(_not_mapped_yet(report, mapped.index.version))
    report["builder_pid"] = beat["pid"] if beat is not None else report.get("pid")
    report["pid"] = os.getpid()
    return report
