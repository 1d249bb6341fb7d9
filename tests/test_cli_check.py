"""`feeds check`: the summary line on success, help text, and no traceback ever."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from feeds import cli
from feeds.cli import main

ROOT = Path(__file__).resolve().parent.parent
SUMMARY = "entries.yaml: 10 entries, 9 publications, 4 events, 2 tags\n"


def test_check_bundled_catalog_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == SUMMARY
    assert result.stderr == ""


def test_check_names_the_catalog_as_given(tmp_path: Path, bundled_catalog_path: Path) -> None:
    copy = tmp_path / "news.yaml"
    copy.write_bytes(bundled_catalog_path.read_bytes())
    result = CliRunner().invoke(main, ["check", str(copy)])
    assert result.exit_code == 0
    assert result.stdout == f"{copy}: 10 entries, 9 publications, 4 events, 2 tags\n"


def test_summary_uses_singular_for_one() -> None:
    catalog_text = (
        "feed:\n  title: T\n  link: https://e.org/\n  base_url: https://e.org/\n"
        "  id_authority: e.org,2019\nentries:\n  - id: a\n    title: A\n"
        "    published: 2019-01-01\n    tags: [x]\n    event: {start: 2019-01-02}\n"
    )
    from feeds.catalog import parse_catalog

    assert cli.summary(parse_catalog(catalog_text.encode(), "c.yaml")) == (
        "c.yaml: 1 entry, 1 publication, 1 event, 1 tag"
    )


def test_check_through_the_installed_command() -> None:
    feeds = Path(sys.executable).with_name("feeds")
    result = subprocess.run(
        [str(feeds), "check"], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == SUMMARY
    assert result.stderr == ""


def test_problems_through_the_installed_command(tmp_path: Path) -> None:
    (tmp_path / "entries.yaml").write_text("feed: {}\nentries: []\n")
    feeds = Path(sys.executable).with_name("feeds")
    result = subprocess.run(
        [str(feeds), "check"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == "entries.yaml:1: feed.title: is required but missing; add 'title: ...'"
    assert lines[-1] == "entries.yaml:2: entries: is empty; add at least one entry"
    assert "Traceback" not in result.stderr


def test_help_explains_the_commands() -> None:
    top = CliRunner().invoke(main, ["--help"])
    assert top.exit_code == 0
    assert "check" in top.stdout and "entries.yaml" in top.stdout
    check = CliRunner().invoke(main, ["check", "--help"])
    assert check.exit_code == 0
    assert "Usage: main check [OPTIONS] [CATALOG]" in check.stdout
    assert "FILE:LINE: field: message" in check.stdout
    assert "exits 1" in check.stdout


def test_unexpected_exception_is_one_line_and_exit_2(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(path: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(cli, "load_catalog", broken)
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == 2
    assert result.stderr == "feeds: internal error: RuntimeError: disk on fire\n"
    assert result.exception is None or isinstance(result.exception, SystemExit)
