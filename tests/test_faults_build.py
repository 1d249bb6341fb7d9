"""`feeds build` killed mid-way, and on a really full disk, as a subprocess: the previous
export stays intact and complete.

The kill loop is reliability/kill_build.py, run here short (a small generated catalog,
four kills); RELIABILITY.md has the figures of its full run (10k entries). The export's
own unit tests (tests/test_export.py) inject ENOSPC, EIO and a failing flip into
`export_site`; here the whole command meets a real tmpfs that fills up.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_export import small_tmpfs

ROOT = Path(__file__).resolve().parent.parent
FEEDS = Path(sys.executable).parent / "feeds"
GEN_CATALOG = ROOT / "benchmarks" / "gen_catalog.py"

pytestmark = pytest.mark.slow


def test_builds_killed_mid_way_leave_a_whole_export(tmp_path: Path) -> None:
    report_path = tmp_path / "report.json"
    script = ROOT / "reliability" / "kill_build.py"
    args = ["--entries", "300", "--tries", "4", "--json", str(report_path)]
    run = subprocess.run(
        [sys.executable, str(script), *args], capture_output=True, text=True, timeout=600
    )
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads(report_path.read_text())
    assert len(report["tries"]) == 4
    assert {t["phase"] for t in report["tries"]} == {"render", "write"}
    for attempt in report["tries"]:
        assert attempt["outcome"] in ("previous kept", "new complete"), attempt
    assert report["final_build_ok"] and report["leftovers_after_final"] == 0


def tree_digest(out: Path) -> tuple[str, dict[str, str]]:
    target = os.readlink(out)
    root = out.parent / target
    return target, {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_a_build_on_a_full_disk_says_so_and_keeps_the_export(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    subprocess.run([sys.executable, str(GEN_CATALOG), "500", "-o", str(big)], check=True)
    with small_tmpfs(tmp_path / "fs", "2m") as fs:
        out = fs / "site"
        first = subprocess.run(
            [str(FEEDS), "build", str(ROOT / "entries.yaml"), "--out", str(out), "-q"]
            + ["--cache-dir", str(tmp_path / "cache")],  # not next to the checkout's catalog
            capture_output=True,
            text=True,
        )
        assert first.returncode == 0, first.stderr
        before, names = tree_digest(out), sorted(os.listdir(fs))

        full = subprocess.run(
            [str(FEEDS), "build", str(big), "--out", str(out)], capture_output=True, text=True
        )
        assert full.returncode == 1
        assert "disk full" in full.stderr and f"{out} was left as it was" in full.stderr
        assert "Traceback" not in full.stderr and full.stdout == ""
        assert tree_digest(out) == before  # the same tree, every file byte-identical
        assert sorted(os.listdir(fs)) == names  # the partial tree was removed
