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


LATER = """\
feed:
  title: T
  link: https://example.org/
  base_url: https://feeds.example.org/
  id_authority: example.org,2019
entries:
{entries}"""


def test_check_says_when_publications_are_dated_after_today(tmp_path: Path) -> None:
    """Builds have no clock: a publication dated later is published by the next build."""
    path = tmp_path / "entries.yaml"
    items = "".join(
        f"  - id: p{day}\n    title: P\n    published: 2999-01-0{day}\n" for day in range(1, 6)
    )
    path.write_text(
        LATER.format(entries="  - id: now\n    title: Now\n    published: 2019-03-14\n" + items)
    )
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == f"{path}: 6 entries, 6 publications, 0 events, 0 tags"
    assert lines[1] == (
        f"{path}:10: entries[1]: published 2999-01-01 is after today: builds have no clock, "
        "so it is in the feeds and pages from the next build on (with that date); to hold "
        "it back, keep it out of the catalog until then"
    )
    assert [line.split(": ")[1] for line in lines[2:4]] == ["entries[2]", "entries[3]"]
    assert lines[4:] == [f"{path}: and 2 more publications dated after today"]


def test_check_says_nothing_of_dates_already_past(tmp_path: Path) -> None:
    path = tmp_path / "entries.yaml"
    path.write_text(
        LATER.format(entries="  - id: now\n    title: Now\n    published: 2019-03-14\n")
    )
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exit_code == 0
    assert result.stdout == f"{path}: 1 entry, 1 publication, 0 events, 0 tags\n"
