"""`feeds build` with its cache and its second process: same bytes, less work.

Every rebuild here is compared with a cold build of the same catalog (`--no-cache
--jobs 1`), file by file (bytes and mtime), so reusing work can never change output.
Which files were reused is read from the filesystem: a hard-linked file has the inode
of the previous tree's copy.
"""

from __future__ import annotations

import errno
import gc
import gzip
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from rebuild_support import log_entry_page_renders

from feeds import memo
from feeds.catalog import incremental, load_catalog
from feeds.catalog.layout import Chunk
from feeds.catalog.parts import Parts
from feeds.catalog.rules import Zones
from feeds.cli import main
from feeds.model import Entry
from feeds.publish import marks, processes, stage
from feeds.publish.build_cache import default_cache_dir
from feeds.render import pages
from feeds.site import make_output

ROOT = Path(__file__).resolve().parent.parent
ENTRY = "entries/eurocities-city-leaders-agenda-for-europe/index.html"
OTHER_ENTRY = "entries/bologna-lets-do-it-together/index.html"


pytestmark = pytest.mark.usefixtures("cold_memo")  # tables as a new process finds them


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    path = tmp_path / "entries.yaml"
    shutil.copyfile(ROOT / "entries.yaml", path)
    return path


def build(*args: str) -> Result:
    result = CliRunner().invoke(main, ["build", *args])
    return result


def build_ok(catalog: Path, out: Path, *options: str) -> Result:
    """`feeds build CATALOG --out OUT OPTIONS`, which must succeed; then the memo tables
    are emptied, so the next build starts as a new process does (only the cache files
    carry work over)."""
    result = build(str(catalog), "--out", str(out), *options)
    assert result.exit_code == 0, result.output
    memo.clear_all()
    return result


def files(out: Path) -> dict[str, tuple[bytes, int, int]]:
    """Every file of the live export: bytes, mtime and inode. Not the tree's mark
    (`feeds.publish.marks`): each tree has its own, never linked from another."""
    found = {}
    for directory, _dirs, names in os.walk(out, followlinks=True):
        for name in names:
            path = Path(directory, name)
            if path == out / marks.MARK:
                continue
            info = path.stat()
            found[str(path.relative_to(out))] = (path.read_bytes(), info.st_mtime_ns, info.st_ino)
    return found


@contextmanager
def export_left_as_it_was(catalog: Path, out: Path) -> Iterator[None]:
    """Build `out`, run the block (a build that must fail), then check that the export
    and the folder holding it are exactly as they were."""
    build_ok(catalog, out, "--no-cache")
    before, names = files(out), sorted(os.listdir(out.parent))
    yield
    assert files(out) == before and sorted(os.listdir(out.parent)) == names


def assert_reported_as_check_reports(catalog: Path, result: Result) -> None:
    """The build failed with the problems `feeds check` lists, in its words and order."""
    checked = CliRunner().invoke(main, ["check", str(catalog)])
    assert result.exit_code == checked.exit_code == 1
    problems = [line for line in result.stderr.splitlines() if line.startswith(str(catalog))]
    assert problems and problems == checked.stderr.splitlines()[: len(problems)]


def content(tree: dict[str, tuple[bytes, int, int]]) -> dict[str, tuple[bytes, int]]:
    return {name: (body, mtime) for name, (body, mtime, _inode) in tree.items()}


def cold_build(catalog: Path, tmp_path: Path) -> dict[str, tuple[bytes, int]]:
    """The export a new process makes of `catalog` with no cache at all."""
    memo.clear_all()
    out = tmp_path / "cold" / "site"
    build_ok(catalog, out, "--no-cache", "--jobs", "1")
    return content(files(out))


def edit(catalog: Path, old: str, new: str) -> None:
    text = catalog.read_text(encoding="utf-8")
    assert old in text
    catalog.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_rebuild_of_the_same_catalog_links_every_file(
    catalog: Path, tmp_path: Path, jobs: str
) -> None:
    out = tmp_path / "site"
    build_ok(catalog, out, "--jobs", jobs)
    first = files(out)
    again = build(str(catalog), "--out", str(out), "--jobs", jobs)
    assert again.exit_code == 0, again.output
    second = files(out)
    assert second == first  # same bytes, mtimes and inodes: every file hard-linked
    assert f"{len(first)} unchanged, not written" in again.stdout
    assert content(second) == cold_build(catalog, tmp_path)


def test_an_edit_rewrites_the_changed_files_and_links_the_others(
    catalog: Path, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    build_ok(catalog, out)
    first = files(out)
    edit(catalog, "EUROCITIES political manifesto", "EUROCITIES' political manifesto")
    build_ok(catalog, out)
    second = files(out)

    assert b"EUROCITIES&#39; political manifesto" in second[ENTRY][0]
    assert second[ENTRY][2] != first[ENTRY][2]  # written afresh
    assert second[OTHER_ENTRY] == first[OTHER_ENTRY]  # the same inode
    assert second["style.css"] == first["style.css"]
    assert content(second) == cold_build(catalog, tmp_path)


def test_a_new_last_modified_writes_every_file_and_keeps_the_previous_tree(
    catalog: Path, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    build_ok(catalog, out)
    previous_tree = out.parent / os.readlink(out)
    first = files(out)
    edit(catalog, "published: 2019-03-14", "published: 2019-03-14\n    updated: 2019-04-01")
    build_ok(catalog, out)
    second = files(out)

    assert not {inode for *_, inode in first.values()} & {inode for *_, inode in second.values()}
    assert files(previous_tree) == first  # the rollback tree kept its bytes and mtimes
    assert content(second) == cold_build(catalog, tmp_path)


def test_a_file_changed_in_the_live_tree_is_written_not_linked(
    catalog: Path, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    build_ok(catalog, out)
    tampered = out / OTHER_ENTRY
    tampered.unlink()  # replaced by hand (a new inode, another size)
    tampered.write_bytes(b"edited on the server")
    build_ok(catalog, out)
    assert content(files(out)) == cold_build(catalog, tmp_path)


def test_two_processes_build_the_same_tree_as_one(catalog: Path, tmp_path: Path) -> None:
    out = tmp_path / "two" / "site"
    result = build(str(catalog), "--out", str(out), "--no-cache", "--jobs", "2")
    assert result.exit_code == 0, result.output
    assert content(files(out)) == cold_build(catalog, tmp_path)


def test_a_failure_in_the_second_process_keeps_the_old_export(
    catalog: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "site"
    with export_left_as_it_was(catalog, out):

        def broken(_catalog: object) -> dict[str, bytes]:
            raise ValueError("a renderer bug")

        monkeypatch.setattr(pages, "render_lists", broken)  # the child's share
        result = build(str(catalog), "--out", str(out), "--no-cache", "--jobs", "2")
        assert result.exit_code == 2
        assert "second process failed: ValueError: a renderer bug" in result.stderr


def test_disk_full_in_the_second_process_is_a_clear_error(
    catalog: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "site"
    with export_left_as_it_was(catalog, out):
        real = stage._write_file

        def full_for_pages(path: str, body: bytes, mtime_ns: int, chmod: bool = True) -> None:
            if path.endswith(".html"):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)
            real(path, body, mtime_ns, chmod)

        monkeypatch.setattr(stage, "_write_file", full_for_pages)
        result = build(str(catalog), "--out", str(out), "--no-cache", "--jobs", "2")
        assert result.exit_code == 1
        assert result.stderr.startswith("feeds build: disk full while writing ")


def user_cache(catalog: Path) -> Path:
    """The catalog's cache folder by default: the user's, never beside the catalog."""
    folder = default_cache_dir(catalog)
    assert folder is not None
    return folder


def test_the_cache_lives_in_the_user_s_folder_unless_told(catalog: Path, tmp_path: Path) -> None:
    assert build(str(catalog), "--out", str(tmp_path / "a")).exit_code == 0
    assert (user_cache(catalog) / "entries.yaml.memo-0.pickle").is_file()
    assert not (catalog.parent / ".feeds-cache").exists()  # where editors could write

    elsewhere = tmp_path / "cache"
    assert (
        build(str(catalog), "--out", str(tmp_path / "b"), "--cache-dir", str(elsewhere)).exit_code
        == 0
    )
    assert (elsewhere / "entries.yaml.memo-0.pickle").is_file()


def test_no_cache_leaves_nothing_behind(catalog: Path, tmp_path: Path) -> None:
    assert build(str(catalog), "--out", str(tmp_path / "site"), "--no-cache").exit_code == 0
    assert not user_cache(catalog).exists()


def test_a_corrupt_cache_is_ignored(catalog: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    build_ok(catalog, out)
    for cached in user_cache(catalog).iterdir():
        cached.write_bytes(b"not a pickle")
    result = build(str(catalog), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "not written" not in result.stdout  # no manifest: every file written
    assert content(files(out)) == cold_build(catalog, tmp_path)


def test_an_unwritable_cache_is_a_warning_not_a_failure(catalog: Path, tmp_path: Path) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder should be")
    cache = blocked / "cache"  # cannot be made: its parent is a file
    result = build(str(catalog), "--out", str(tmp_path / "site"), "--cache-dir", str(cache))
    assert result.exit_code == 0
    assert "could not save the cache" in result.stderr and "start cold" in result.stderr


def test_a_manifest_of_another_tree_is_not_trusted_for_the_live_one(
    catalog: Path, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    build_ok(catalog, out)
    first_tree = out.resolve().name
    build_ok(catalog, out, "--no-cache")  # a new tree
    live = files(out)
    result = build(str(catalog), "--out", str(out))  # the cache describes the first tree only
    assert result.exit_code == 0, result.output
    rebuilt = files(out)
    live_inodes = {inode for _body, _mtime, inode in live.values()}
    assert not live_inodes & {inode for _body, _mtime, inode in rebuilt.values()}
    assert not (tmp_path / first_tree).exists()  # recycled: its manifest describes it
    assert content(rebuilt) == cold_build(catalog, tmp_path)


def sibling_trees(out: Path) -> list[str]:
    trees = (p for p in out.parent.iterdir() if p.name.startswith(".site.") and p.is_dir())
    return sorted(p.name for p in trees)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_the_tree_before_the_live_one_is_recycled_not_removed(
    catalog: Path, tmp_path: Path, jobs: str
) -> None:
    out = tmp_path / "site"
    for round_ in range(4):  # tree 1, tree 2, then 1 and 2 recycled in turn
        edit(catalog, "EUROCITIES", f"EUROCITIES{round_}")
        before = out.resolve().name if out.exists() else None
        previous = files(out) if out.exists() else {}
        build_ok(catalog, out, "--jobs", jobs)
        rebuilt = files(out)
        assert content(rebuilt) == cold_build(catalog, tmp_path)
        trees = sibling_trees(out)
        assert len(trees) == (1 if before is None else 2) and out.resolve().name in trees
        assert before is None or before in trees  # the previous tree, kept for a rollback
        if previous:
            assert rebuilt["style.css"][2] == previous["style.css"][2]  # shared, not written
            assert content(files(tmp_path / before)) == content(previous)  # untouched


def test_a_recycled_tree_loses_the_files_of_a_removed_entry(catalog: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    build_ok(catalog, out)
    build_ok(catalog, out)
    text = catalog.read_text(encoding="utf-8")
    start = text.index("  - id: bologna-lets-do-it-together")
    end = text.index("  - id:", start + 1)
    catalog.write_text(text[:start] + text[end:], encoding="utf-8")
    result = build(str(catalog), "--out", str(out))  # recycles the first tree
    assert result.exit_code == 0, result.output
    assert not (out / "entries" / "bologna-lets-do-it-together").exists()  # folder too
    assert content(files(out)) == cold_build(catalog, tmp_path)


def test_a_file_changed_in_a_recycled_tree_is_written_again(catalog: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    build_ok(catalog, out)
    first = out.resolve()
    build_ok(catalog, out, "--jobs", "1")
    # Tampered with by hand: replaced by a file of the same size and mtime would pass
    # unseen, as in the live tree; a different size is caught.
    (first / "style.css").unlink()
    (first / "style.css").write_text("/* tampered */")
    build_ok(catalog, out)
    assert content(files(out)) == cold_build(catalog, tmp_path)


def test_gzip_bodies_are_compressed_once_per_content() -> None:
    when = datetime(2019, 5, 21, tzinfo=UTC)
    body = b"<p>compress me</p>" * 40
    first = make_output("/a.html", body, when)
    second = make_output("/b.html", bytes(body), when)  # equal bytes, another object
    assert first.gzip_body is not None and second.gzip_body is first.gzip_body
    assert gzip.decompress(second.gzip_body) == body


@pytest.mark.parametrize("first_jobs", ["1", "2"])  # 2: the child keeps the parse
def test_a_rebuild_parses_only_the_edited_entry(
    catalog: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, first_jobs: str
) -> None:
    out = tmp_path / "site"
    build_ok(catalog, out, "--jobs", first_jobs)
    edit(catalog, "EUROCITIES political manifesto", "EUROCITIES' political manifesto")
    read: list[bytes] = []
    read_entry = incremental.read_entry

    def spy(chunk: Chunk, zones: Zones) -> tuple[Entry, int]:
        read.append(chunk.text)
        return read_entry(chunk, zones)

    def whole_file(*args: object) -> None:
        raise AssertionError("the whole catalog was parsed again")

    monkeypatch.setattr(incremental, "read_entry", spy)
    monkeypatch.setattr(incremental, "parse_catalog", whole_file)
    result = build(str(catalog), "--out", str(out), "--jobs", "1")
    assert result.exit_code == 0, result.output
    assert len(read) == 1 and b"EUROCITIES' political manifesto" in read[0]
    monkeypatch.undo()
    assert content(files(out)) == cold_build(catalog, tmp_path)


def test_a_broken_edit_after_a_cached_build_is_reported_as_check_reports_it(
    catalog: Path, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    build_ok(catalog, out)
    before = files(out)
    edit(catalog, "2019-05-21", "2019-05-32")
    result = build(str(catalog), "--out", str(out))
    assert_reported_as_check_reports(catalog, result)
    assert files(out) == before  # nothing written


def test_each_process_of_a_rebuild_finds_its_own_share_of_the_cache(
    catalog: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "site"
    build_ok(catalog, out, "--jobs", "2")
    rendered = tmp_path / "rendered.log"
    log_entry_page_renders(monkeypatch, rendered)
    result = build(str(catalog), "--out", str(out), "--jobs", "2")
    assert result.exit_code == 0, result.output
    assert not rendered.exists()  # the pages' process rendered no entry page again
    memo.clear_all()
    (user_cache(catalog) / f"{catalog.name}.memo-1.pickle").unlink()
    build_ok(catalog, out, "--jobs", "2")
    assert rendered.read_text().count("page") == len(load_catalog(catalog).entries)


def test_a_cold_two_process_build_reads_the_catalog_in_two_halves(
    catalog: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    read: list[int] = []  # the parent's calls (the child's happen in its own memory)
    real = processes.read_part

    def spy(parts: Parts, index: int) -> tuple[Entry, ...] | None:
        read.append(index)
        return real(parts, index)

    def whole_file(*args: object) -> None:
        raise AssertionError("the whole catalog was parsed")

    monkeypatch.setattr(processes, "read_part", spy)
    monkeypatch.setattr(incremental, "parse_catalog", whole_file)
    out = tmp_path / "site"
    build_ok(catalog, out, "--jobs", "2")
    assert read == [0]
    monkeypatch.undo()
    assert content(files(out)) == cold_build(catalog, tmp_path)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("published: 2019-02-28", "published: 2019-02-30"),  # in the child's half
        ("published: 2019-03-14", "published: 2019-03-32"),  # in the parent's half
        ("id: wg-creative-citizenship-ostend", "id: bologna-lets-do-it-together"),  # both
    ],
)
def test_a_problem_found_by_either_half_is_reported_as_check_reports_it(
    catalog: Path, tmp_path: Path, old: str, new: str
) -> None:
    edit(catalog, old, new)
    result = build(str(catalog), "--out", str(tmp_path / "site"), "--jobs", "2", "--no-cache")
    assert_reported_as_check_reports(catalog, result)
    assert not (tmp_path / "site").exists()


def test_the_cyclic_collector_is_paused_for_the_build_and_restored_after(
    catalog: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []
    real = pages.render

    def watched(catalog: object) -> dict[str, bytes]:
        seen.append(gc.isenabled())
        return real(catalog)  # type: ignore[arg-type]

    monkeypatch.setattr(pages, "render", watched)
    assert gc.isenabled()
    build_ok(catalog, tmp_path / "site", "--jobs", "1")
    assert seen == [False] and gc.isenabled()


def test_a_second_process_that_dies_after_reading_its_half_is_a_clear_error(
    catalog: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "site"
    with export_left_as_it_was(catalog, out):
        parent = os.getpid()
        adopt = processes.adopt_summaries

        def killed(*args: Any) -> None:
            if os.getpid() != parent:
                os._exit(9)  # as if the kernel killed it for lack of memory, right after the swap
            adopt(*args)

        monkeypatch.setattr(processes, "adopt_summaries", killed)  # both, after the swap
        result = build(str(catalog), "--out", str(out), "--no-cache", "--jobs", "2")
        assert result.exit_code == 1, result.output
        assert "the build's second process stopped (exit status 9)" in result.stderr
        assert "Traceback" not in result.output + result.stderr


def test_a_second_process_that_dies_while_reading_its_half_leaves_the_reading_to_one(
    catalog: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = processes.read_part

    def dies_in_the_child(parts: Parts, index: int) -> tuple[Entry, ...] | None:
        if index == 1:  # the child's half
            os._exit(9)
        return real(parts, index)

    monkeypatch.setattr(processes, "read_part", dies_in_the_child)
    out = tmp_path / "site"
    build_ok(catalog, out, "--no-cache", "--jobs", "2")
    monkeypatch.undo()
    assert content(files(out)) == cold_build(catalog, tmp_path)


def test_a_failed_build_has_finished_saving_its_tables_when_it_returns(
    catalog: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The parent saves its memo tables in a thread while it waits for the child; a
    build that then fails must not return (the process exit) while that thread writes."""

    def broken(_catalog: object) -> dict[str, bytes]:
        raise ValueError("a renderer bug")

    real_save = memo.save

    def slow_save(path: Path, tables: Callable[[str], bool] = lambda name: True) -> None:
        time.sleep(0.5)  # still writing when the child's failure arrives
        real_save(path, tables)

    monkeypatch.setattr(pages, "render_lists", broken)  # the child's share fails
    monkeypatch.setattr(memo, "save", slow_save)
    result = build(str(catalog), "--out", str(tmp_path / "site"), "--jobs", "2")
    assert result.exit_code == 2
    assert [t for t in threading.enumerate() if t.name == "save-memo"] == []
    assert (user_cache(catalog) / f"{catalog.name}.memo-0.pickle").is_file()


# `feeds build` with the second process's saving of its cache failing (a bug, not a full
# disk, which is reported): the build is done, and says nothing of it.
FAILING_CHILD_SAVE = """
import sys
from feeds import cli
from feeds.publish.build_cache import BuildCache
real = BuildCache.save_memo
def save_memo(self, share, **how):
    if share == 1:
        raise RuntimeError("a bug in saving")
    return real(self, share, **how)
BuildCache.save_memo = save_memo
sys.argv = ["feeds", *sys.argv[1:]]
cli.run()
"""


def test_a_failure_saving_the_second_process_s_cache_is_no_traceback(
    catalog: Path, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    argv = ["build", str(catalog), "--out", str(out), "--jobs", "2"]
    result = subprocess.run(
        [sys.executable, "-c", FAILING_CHILD_SAVE, *argv], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "a bug in saving" not in result.stderr
    assert content(files(out)) == cold_build(catalog, tmp_path)


# `feeds build` whose parent process dies (killed, say) after it forked the second one:
# the second finishes its share and finds nobody to report to.
PARENT_GONE = """
import os, sys
from feeds import cli
from feeds.publish.build_cache import BuildCache
real = BuildCache.load_memo
def load_memo(self, share, **how):
    if share == 0:  # the parent's share, after the fork
        os._exit(3)
    return real(self, share, **how)
BuildCache.load_memo = load_memo
sys.argv = ["feeds", *sys.argv[1:]]
cli.run()
"""


@pytest.mark.slow
def test_a_second_process_whose_parent_is_gone_ends_without_a_traceback(tmp_path: Path) -> None:
    """Its report (a manifest of ~3,500 files at 1k entries) no longer fits in the pipe:
    it used to wait forever for a reader, an orphan, since the fork had given it the
    parent's end of the pipe too."""
    catalog = tmp_path / "entries.yaml"
    generate = [sys.executable, str(ROOT / "benchmarks" / "gen_catalog.py"), "1000"]
    subprocess.run([*generate, "-o", str(catalog)], check=True)
    argv = ["build", str(catalog), "--out", str(tmp_path / "site"), "--jobs", "2", "--no-cache"]
    build = subprocess.Popen(
        [sys.executable, "-c", PARENT_GONE, *argv],
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its group: the second process is in it, and only it
    )
    try:
        assert build.wait(timeout=120) == 3
        deadline = time.monotonic() + 60
        while _group_alive(build.pid):
            assert time.monotonic() < deadline, "the second process is still running"
            time.sleep(0.2)
    finally:
        with suppress(ProcessLookupError):
            os.killpg(build.pid, signal.SIGKILL)
    assert build.stderr is not None
    stderr = build.stderr.read()
    assert "Traceback" not in stderr, stderr


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True
