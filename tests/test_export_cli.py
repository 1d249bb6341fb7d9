"""`feeds build`: the command an operator runs, its messages and exit codes."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from feeds import cli
from feeds.catalog import load_catalog
from feeds.cli import main
from feeds.publish import stage
from feeds.site import build_site

CATALOG = """\
feed:
  title: Small
  link: https://www.example.org/
  base_url: https://feeds.example.org/
  id_authority: example.org,2019
entries:
  - id: antwerp-academy
    title: Antwerp academy
    published: 2019-03-14
    tags: [culture]
    summary: The academy on *integration*, with a long enough summary to be compressed.
    event: {start: 2019-05-21, end: 2019-05-22, location: "Antwerp, Belgium"}
"""
BROKEN = CATALOG.replace("published: 2019-03-14", "published: 2019-02-30")


def tree(out: Path) -> dict[str, bytes]:
    return {
        str(Path(d, f).relative_to(out)): Path(d, f).read_bytes()
        for d, _dirs, files in os.walk(out, followlinks=True)
        for f in files
    }


def build(*args: str) -> Result:
    return CliRunner().invoke(main, ["build", *args])


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    path = tmp_path / "entries.yaml"
    path.write_text(CATALOG)
    return path


def test_build_writes_the_site_and_prints_one_summary_line(catalog: Path, tmp_path: Path) -> None:
    out = tmp_path / "public"
    result = build(str(catalog), "--out", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"built {out} -> .public.")
    site = build_site(load_catalog(catalog))
    assert "/feed.atom" in site
    for path in site:
        assert (out / site[path].file_name).read_bytes() == site[path].body, path


def test_default_out_is_site_in_the_current_folder(
    catalog: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert build(str(catalog)).exit_code == 0
    assert (tmp_path / "site").is_symlink() and (tmp_path / "site" / "feed.atom").is_file()


def test_quiet_prints_nothing(catalog: Path, tmp_path: Path) -> None:
    result = build(str(catalog), "--out", str(tmp_path / "site"), "--quiet")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")


def test_a_broken_catalog_is_reported_and_the_export_left_untouched(
    catalog: Path, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    assert build(str(catalog), "--out", str(out)).exit_code == 0
    before, link = tree(out), os.readlink(out)
    names = sorted(os.listdir(tmp_path))

    catalog.write_text(BROKEN)
    result = build(str(catalog), "--out", str(out))

    assert result.exit_code == 1
    assert f"{catalog}:9: entries[0].published:" in result.stderr  # file:line: field
    assert f"nothing was built, {out} was left as it was" in result.stderr
    assert result.stdout == ""
    assert tree(out) == before and os.readlink(out) == link
    assert sorted(os.listdir(tmp_path)) == names


def test_a_broken_catalog_creates_no_folder(tmp_path: Path) -> None:
    broken = tmp_path / "entries.yaml"
    broken.write_text(BROKEN)
    result = build(str(broken), "--out", str(tmp_path / "out" / "site"))
    assert result.exit_code == 1
    assert not (tmp_path / "out").exists()


def test_a_missing_catalog_is_a_clear_error(tmp_path: Path) -> None:
    result = build(str(tmp_path / "nope.yaml"), "--out", str(tmp_path / "site"))
    assert result.exit_code == 1
    assert "nope.yaml" in result.stderr and "Traceback" not in result.stderr
    # no export was there: not "left as it was", which would say one is
    assert result.stderr.endswith(f"nothing was built, {tmp_path / 'site'} was not created\n")
    assert not (tmp_path / "site").exists()


def test_a_first_build_on_a_full_disk_says_nothing_was_created(
    catalog: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(path: Path, body: bytes, mtime_ns: int, chmod: bool = True) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(stage, "_write_file", full)
    out = tmp_path / "site"
    result = build(str(catalog), "--out", str(out))
    assert result.exit_code == 1
    assert result.stderr.strip().endswith(f"; {out} was not created")
    assert not out.exists()


def test_disk_full_is_a_clear_error_and_keeps_the_old_export(
    catalog: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "site"
    assert build(str(catalog), "--out", str(out)).exit_code == 0
    before = tree(out)

    def full(path: Path, body: bytes, mtime_ns: int, chmod: bool = True) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(stage, "_write_file", full)
    catalog.write_text(CATALOG.replace("Antwerp academy", "Antwerp academy, renamed"))
    result = build(str(catalog), "--out", str(out))  # unchanged files are linked, not written
    assert result.exit_code == 1
    message = result.stderr.strip()
    assert message.startswith("feeds build: disk full while writing ")
    assert "free space" in message and f"{out} was left as it was" in message
    assert "Traceback" not in result.output
    assert tree(out) == before


def test_refusing_a_foreign_folder_is_a_clear_error(catalog: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    out.mkdir()
    (out / "index.html").write_text("someone else's")
    result = build(str(catalog), "--out", str(out))
    assert result.exit_code == 1
    assert "not an export made by `feeds build`" in result.stderr
    assert (out / "index.html").read_text() == "someone else's"


@pytest.mark.slow
def test_build_as_a_subprocess(catalog: Path, tmp_path: Path) -> None:
    feeds = Path(sys.executable).parent / "feeds"
    done = subprocess.run(
        [str(feeds), "build", str(catalog), "--out", str(tmp_path / "site")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"built {tmp_path / 'site'}")
    assert done.stderr == ""


@pytest.mark.slow
def test_a_failed_build_as_a_subprocess_still_says_why(tmp_path: Path) -> None:
    broken = tmp_path / "entries.yaml"
    broken.write_text(BROKEN)
    feeds = Path(sys.executable).parent / "feeds"
    done = subprocess.run(
        [str(feeds), "build", str(broken), "--out", str(tmp_path / "site")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert "published" in done.stderr and "nothing was built" in done.stderr
    assert not (tmp_path / "site").exists()


class Exited(Exception):
    def __init__(self, status: int) -> None:
        self.status = status


@pytest.fixture
def exits(monkeypatch: pytest.MonkeyPatch) -> None:
    """`os._exit` raises `Exited` instead of ending the test run; in any other process
    (a build's forked child) it still ends that process."""
    test_process, exit_process = os.getpid(), os._exit

    def record(status: int) -> None:
        if os.getpid() != test_process:
            exit_process(status)
        raise Exited(status)

    monkeypatch.setattr(os, "_exit", record)


@pytest.mark.usefixtures("exits")
@pytest.mark.parametrize(("catalog_text", "status"), [(CATALOG, 0), (BROKEN, 1)])
def test_the_console_script_ends_a_build_without_teardown(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    catalog_text: str,
    status: int,
) -> None:
    source = tmp_path / "entries.yaml"
    source.write_text(catalog_text)
    argv = ["feeds", "build", str(source), "--out", str(tmp_path / "site"), "--jobs", "2"]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(Exited) as ended:
        cli.run()
    assert ended.value.status == status
    printed = capsys.readouterr()
    if status == 0:
        assert printed.out.startswith(f"built {tmp_path / 'site'}") and printed.err == ""
    else:
        assert "nothing was built" in printed.err


@pytest.mark.usefixtures("exits")
def test_other_commands_exit_as_usual(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["feeds", "check", str(Path(__file__).parent / "nothing")])
    with pytest.raises(SystemExit) as ended:
        cli.run()
    assert not isinstance(ended.value, cli.Finished) and ended.value.code == 1


class ClosedPipe:
    def flush(self) -> None:
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")


@pytest.mark.usefixtures("exits")
def test_a_closed_stdout_at_the_quick_exit_is_status_120(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    with pytest.raises(Exited) as ended:
        cli.exit_now(0)
    assert ended.value.status == 120
    with pytest.raises(Exited) as ended:
        cli.exit_now(1)
    assert ended.value.status == 1  # the build's own failure status is kept
