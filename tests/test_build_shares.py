"""How `feeds build` shares its work between two processes, seen from outside: the pages
in parts (`render_lists`, `render_entries`) are the pages whole; the queue of entry runs
gives each run to exactly one process; and whichever process rendered what on a cold
build, a rebuild after an edit renders only what the edit changed and writes the tree a
cold build writes."""

from __future__ import annotations

import functools
import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from rebuild_support import log_entry_page_renders, log_event_renders
from test_catalog_incremental import generated_catalog
from test_export_build import build_ok, cold_build, content, edit, files

from feeds import memo
from feeds.catalog import load_catalog, parse_catalog
from feeds.model import Catalog
from feeds.publish import processes
from feeds.publish.build_cache import BuildCache
from feeds.publish.processes import _EntryRuns
from feeds.render import pages
from feeds.site import default_renderers

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.usefixtures("cold_memo")  # tables as a new process finds them


def catalog_named(name: str) -> Catalog:
    if name == "entries.yaml":
        return load_catalog(ROOT / name)
    return parse_catalog(generated_catalog(int(name.rpartition("-")[2])), "x.yaml")


@pytest.mark.parametrize("name", ["entries.yaml", "generated-250"])
@pytest.mark.parametrize("cuts", [(), (1,), (3, 7, 8), (100, 101, 249)])
def test_the_pages_in_parts_are_the_pages_whole(name: str, cuts: tuple[int, ...]) -> None:
    catalog = catalog_named(name)
    whole = pages.render(catalog)
    memo.clear_all()  # the parts render again: no page is taken from the whole's tables
    bounds = [0, *(cut for cut in cuts if cut < len(catalog.entries)), len(catalog.entries)]
    parts = pages.render_lists(catalog)
    for start, stop in zip(bounds, bounds[1:], strict=False):
        entry_pages = pages.render_entries(catalog, start, stop)
        assert len(entry_pages) == stop - start
        assert not entry_pages.keys() & parts.keys()
        parts.update(entry_pages)
    assert parts == whole


def claiming(runs: _EntryRuns) -> Iterator[tuple[int, int]]:
    """Each run's (start, stop), claimed as it is asked for, until the queue is empty."""
    for render in runs.claimed():
        assert isinstance(render, functools.partial)
        yield render.keywords["start"], render.keywords["stop"]


def catalog_in(tmp_path: Path, entries: int | None = None) -> Path:
    """A copy of the bundled catalog in `tmp_path`, or a generated one of `entries`."""
    catalog = tmp_path / "entries.yaml"
    if entries is None:
        shutil.copyfile(ROOT / "entries.yaml", catalog)
    else:
        catalog.write_bytes(generated_catalog(entries))
    return catalog


def only_one_process_claims_runs(monkeypatch: pytest.MonkeyPatch, parent: bool) -> None:
    """The entry runs of the next builds all go to the parent (this process), or all to
    the child: the two ends of how a cold build can share them out."""
    me = os.getpid()
    claimed = _EntryRuns.claimed

    def one_only(self: _EntryRuns):  # type: ignore[no-untyped-def]
        return claimed(self) if (os.getpid() == me) == parent else iter(())

    monkeypatch.setattr(_EntryRuns, "claimed", one_only)


def test_each_entry_run_is_claimed_by_exactly_one_of_two_processes() -> None:
    runs = _EntryRuns(1050, default_renderers())
    assert runs.count == 11
    read, write = os.pipe()
    started_read, started_write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        os.close(read)
        claimed = []
        for bounds in claiming(runs):
            claimed.append(bounds)
            if len(claimed) == 1:
                os.write(started_write, b"x")  # the parent starts claiming now
            time.sleep(0.01)  # leave some to the parent
        os.write(write, json.dumps(claimed).encode())
        os._exit(0)
    os.close(write)
    assert os.read(started_read, 1) == b"x"
    mine = []
    for bounds in claiming(runs):
        mine.append(bounds)
        time.sleep(0.01)
    _, status = os.waitpid(pid, 0)
    with os.fdopen(read, "rb") as pipe:
        theirs = [tuple(bounds) for bounds in json.loads(pipe.read())]
    for fd in (started_read, started_write):
        os.close(fd)
    runs.close()
    assert os.waitstatus_to_exitcode(status) == 0
    assert mine and theirs
    together = sorted(mine + theirs)
    assert together[0][0] == 0 and together[-1][1] == 1050
    assert all(a[1] == b[0] for a, b in zip(together, together[1:], strict=False))
    assert all(start < stop for start, stop in together)


@pytest.mark.parametrize("runs_to", ["either", "parent", "child"])
def test_a_rebuild_renders_only_what_an_edit_changed_whoever_rendered_it_cold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, runs_to: str
) -> None:
    catalog = catalog_in(tmp_path, 450)  # five runs of entry pages
    out = tmp_path / "site"
    if runs_to != "either":
        only_one_process_claims_runs(monkeypatch, parent=runs_to == "parent")
    build_ok(catalog, out, "--jobs", "2")
    monkeypatch.undo()
    assert content(files(out)) == cold_build(catalog, tmp_path)

    pages_log, events_log = tmp_path / "pages.log", tmp_path / "events.log"
    log_entry_page_renders(monkeypatch, pages_log)
    log_event_renders(monkeypatch, events_log)
    memo.clear_all()  # as a new process finds them: only the cache files carry the work
    build_ok(catalog, out, "--jobs", "2")  # nothing changed
    assert not pages_log.exists() and not events_log.exists()

    edit(catalog, "(7)", "(seven)")  # a publication retitled
    memo.clear_all()
    build_ok(catalog, out, "--jobs", "2")
    assert pages_log.read_text() == "page\n" and not events_log.exists()
    monkeypatch.undo()
    assert content(files(out)) == cold_build(catalog, tmp_path)


def test_a_rebuild_renders_only_the_edited_event(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog, out = catalog_in(tmp_path), tmp_path / "site"
    build_ok(catalog, out, "--jobs", "2")
    events_log = tmp_path / "events.log"
    log_event_renders(monkeypatch, events_log)
    edit(catalog, " - 21-22 May, Antwerp", " in Antwerp")  # one event retitled
    memo.clear_all()
    build_ok(catalog, out, "--jobs", "2")
    assert events_log.read_text() == "event\n"
    monkeypatch.undo()
    assert content(files(out)) == cold_build(catalog, tmp_path)


def test_a_rebuild_s_child_finds_the_cold_pages_however_late_it_loads_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The rebuild's child loads its tables when it starts its share, the parent saves
    # its own when it ends its share: on a small catalog, or a busy machine, the parent
    # can be done first. It used to rewrite the file of the pages it rendered cold (with
    # none: a rebuild's parent renders no page) before the child read it, and the child
    # then rendered every one of those pages again (a flaky test showed it).
    catalog, out = catalog_in(tmp_path), tmp_path / "site"
    only_one_process_claims_runs(monkeypatch, parent=True)  # the cold parent's pages
    build_ok(catalog, out, "--jobs", "2")
    monkeypatch.undo()

    saved = tmp_path / "parent-saved"
    save_memo, load_memo = BuildCache.save_memo, BuildCache.load_memo

    def save_then_say(self, share, **how):  # type: ignore[no-untyped-def]
        problem = save_memo(self, share, **how)
        if share == 0:
            saved.touch()
        return problem

    def load_after_the_parent(self, share):  # type: ignore[no-untyped-def]
        if share == 1:  # the child: wait for the parent's tables to be saved
            deadline = time.monotonic() + 30
            while not saved.exists() and time.monotonic() < deadline:
                time.sleep(0.01)
            assert saved.exists()
        return load_memo(self, share)

    monkeypatch.setattr(BuildCache, "save_memo", save_then_say)
    monkeypatch.setattr(BuildCache, "load_memo", load_after_the_parent)
    rendered = tmp_path / "rendered.log"
    log_entry_page_renders(monkeypatch, rendered)
    build_ok(catalog, out, "--jobs", "2")
    assert not rendered.exists()  # every page found, though loaded after the parent saved
    monkeypatch.undo()
    log_entry_page_renders(monkeypatch, rendered)
    build_ok(catalog, out, "--jobs", "2")
    assert not rendered.exists()


@pytest.mark.parametrize(("entries", "forks"), [(99, 0), (100, 1)])
def test_a_build_uses_two_processes_from_100_entries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, entries: int, forks: int
) -> None:
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one core: every build uses one process")
    catalog = tmp_path / "entries.yaml"
    catalog.write_bytes(generated_catalog(entries))
    started = []
    child = processes.Child.__init__

    def counted(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        started.append(os.getpid())
        child(self, *args, **kwargs)

    monkeypatch.setattr(processes.Child, "__init__", counted)
    build_ok(catalog, tmp_path / "site")  # no --jobs: the default
    assert len(started) == forks
