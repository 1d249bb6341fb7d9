"""How `feeds build` shares the pages between its two processes: the pages in parts
(`render_lists`, `render_entries`) are the pages whole; the queue of entry runs
(`_EntryRuns`) gives each run to exactly one process; a cold build's parent renders
the runs the child has not reached, saves their pages apart, and the next build's child
finds them there."""

from __future__ import annotations

import functools
import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rebuild_support import log_entry_page_renders
from test_catalog_incremental import generated_catalog
from test_export_build import build_ok, content, files

from feeds import memo, sealed
from feeds.catalog import load_catalog, parse_catalog
from feeds.model import Catalog
from feeds.publish import processes
from feeds.publish.build_cache import BuildCache, default_cache_dir
from feeds.publish.processes import _EntryRuns
from feeds.render import atom, ics_event, pages
from feeds.site import default_renderers, gzip_resume

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


def run_bounds(runs: _EntryRuns) -> list[tuple[int, int]]:
    return list(claiming(runs))


def bundled_catalog_in(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A copy of the bundled catalog in `tmp_path`, its export and its cache folder."""
    catalog = tmp_path / "entries.yaml"
    shutil.copyfile(ROOT / "entries.yaml", catalog)
    cache = default_cache_dir(catalog)
    assert cache is not None
    return catalog, tmp_path / "site", cache


def only_the_parent_claims_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The entry runs of the next builds go to the parent (this process): none to a child."""
    parent = os.getpid()
    claimed = _EntryRuns.claimed

    def parent_only(self: _EntryRuns):  # type: ignore[no-untyped-def]
        return claimed(self) if os.getpid() == parent else iter(())

    monkeypatch.setattr(_EntryRuns, "claimed", parent_only)


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


def test_runs_are_at_most_255_and_only_for_the_pages() -> None:
    runs = _EntryRuns(100_000, default_renderers())
    bounds = run_bounds(runs)
    runs.close()
    assert len(bounds) == 255 and bounds[0][0] == 0 and bounds[-1][1] == 100_000
    assert sum(stop - start for start, stop in bounds) == 100_000
    no_pages = _EntryRuns(1000, [atom.render])
    assert no_pages.count == 0 and run_bounds(no_pages) == []
    no_pages.close()


def test_a_cold_build_s_parent_renders_the_runs_the_child_does_not_reach(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = tmp_path / "entries.yaml"
    catalog.write_bytes(generated_catalog(450))  # five runs
    build_ok(catalog, tmp_path / "alone", "--no-cache", "--jobs", "1")

    only_the_parent_claims_runs(monkeypatch)  # the child takes none
    out = tmp_path / "site"
    build_ok(catalog, out, "--jobs", "2")
    monkeypatch.undo()
    assert content(files(out)) == content(files(tmp_path / "alone"))  # bytes and mtimes

    # The parent's pages are saved apart, and the next build's child finds them.
    cache = default_cache_dir(catalog)
    assert cache is not None
    _, tables = saved_memo(cache / "entries.yaml.memo-0-pages.pickle")
    assert len([key for key in tables["pages.page"] if key[0] == "entry"]) == 450
    rendered = tmp_path / "rendered.log"
    log_entry_page_renders(monkeypatch, rendered)
    text = catalog.read_text(encoding="utf-8").replace("(7)", "(seven)", 1)
    catalog.write_text(text, encoding="utf-8")  # one entry retitled: a rebuild
    build_ok(catalog, out, "--jobs", "2")
    assert rendered.read_text() == "page\n"  # only the edited entry's page


def test_a_rebuild_s_parent_leaves_the_runs_to_the_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog, out, _ = bundled_catalog_in(tmp_path)
    build_ok(catalog, out, "--jobs", "2")
    parent, took = os.getpid(), []
    claimed = _EntryRuns.claimed

    def watched(self: _EntryRuns):  # type: ignore[no-untyped-def]
        if os.getpid() == parent:
            took.append(self.count)
        return claimed(self)

    monkeypatch.setattr(_EntryRuns, "claimed", watched)
    build_ok(catalog, out, "--jobs", "2")
    assert took == []


def test_a_rebuild_s_child_finds_the_cold_parent_s_pages_however_late_it_loads_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The rebuild's child loads its tables when it starts its share, the parent saves
    # its own when it ends its share: on a small catalog, or a busy machine, the parent
    # can be done first. It used to rewrite the file of the pages it rendered cold (with
    # none: a rebuild's parent renders no page) before the child read it, and the child
    # then rendered every one of those pages again (a flaky test showed it).
    catalog, out, cache = bundled_catalog_in(tmp_path)
    only_the_parent_claims_runs(monkeypatch)  # the cold parent's pages
    build_ok(catalog, out, "--jobs", "2")
    monkeypatch.undo()
    parent_pages = cache / "entries.yaml.memo-0-pages.pickle"
    assert "pages.page" in saved_tables(parent_pages)

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
    assert not parent_pages.exists()  # the child's own file holds them now: one copy
    assert "pages.page" in saved_tables(cache / "entries.yaml.memo-1.pickle")

    monkeypatch.undo()
    log_entry_page_renders(monkeypatch, rendered)
    build_ok(catalog, out, "--jobs", "2")
    assert not rendered.exists()


def test_a_rebuild_compresses_nothing_the_other_process_compressed_cold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Cold, the child renders the calendars and the parent here every entry page: the
    # next build has them the other way round, and must find their gzip bodies too.
    catalog, out, _ = bundled_catalog_in(tmp_path)
    only_the_parent_claims_runs(monkeypatch)
    build_ok(catalog, out, "--jobs", "2")
    monkeypatch.undo()
    log = tmp_path / "gzip.log"
    compress = gzip_resume.compress_whole

    def logged(body: bytes) -> bytes:
        with log.open("a") as handle:
            handle.write(f"{os.getpid()}\n")
        return compress(body)

    monkeypatch.setattr(gzip_resume, "compress_whole", logged)
    build_ok(catalog, out, "--jobs", "2")
    assert not log.exists()


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


def test_a_cold_build_s_child_renders_the_calendars_and_a_rebuild_s_parent_finds_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Cold, the feeds' share outlasted the pages' whole on a fast disk (the child idled up
    # to 0.7 s at 10k), so the child renders the calendars; after an edit the parent does,
    # and must find the events the child rendered (saved apart for it).
    catalog, out, cache = bundled_catalog_in(tmp_path)
    log = tmp_path / "events.log"
    rendered = ics_event._event_pieces

    def logged(feed, entry):  # type: ignore[no-untyped-def]
        with log.open("a") as handle:
            handle.write(f"{os.getpid()}\n")
        return rendered(feed, entry)

    monkeypatch.setattr(ics_event, "_event_pieces", logged)
    build_ok(catalog, out, "--jobs", "2")
    pids = log.read_text().split()
    assert len(pids) == len(load_catalog(catalog).events) > 0
    assert str(os.getpid()) not in pids  # all in the child
    assert "ics.event" in saved_tables(cache / "entries.yaml.memo-1-calendars.pickle")
    assert "ics.event" not in saved_tables(cache / "entries.yaml.memo-1.pickle")

    log.unlink()
    memo.clear_all()  # as a new process
    build_ok(catalog, out, "--jobs", "2")
    assert not log.exists()  # every event found by the parent
    assert "ics.event" in saved_tables(cache / "entries.yaml.memo-0.pickle")
    assert not (cache / "entries.yaml.memo-1-calendars.pickle").exists()  # one copy

    text = catalog.read_text(encoding="utf-8").replace(" - 21-22 May, Antwerp", " in Antwerp", 1)
    catalog.write_text(text, encoding="utf-8")  # one event retitled
    memo.clear_all()
    build_ok(catalog, out, "--jobs", "2")
    assert log.read_text().split() == [str(os.getpid())]  # that event alone, by the parent


def saved_memo(path: Path) -> Any:
    """(code fingerprint, tables) as `memo.save` sealed them in `path`."""
    return sealed.load(path, memo.SEALED_AS)


def saved_tables(path: Path) -> set[str]:
    fingerprint, tables = saved_memo(path)
    return set(tables)
