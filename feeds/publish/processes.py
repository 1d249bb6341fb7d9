"""`feeds build` on two cores: the catalog read in two halves, the renderers shared
between a parent and a forked child, entry pages handed out in runs; only small reports
cross the pipe, never the bodies (see `feeds.publish.build` for why and what it saves)."""

from __future__ import annotations

import functools
import itertools
import multiprocessing
import os
import pickle
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from multiprocessing.connection import Connection
from pathlib import Path

from .. import memo
from ..catalog.incremental import CatalogParser
from ..catalog.parts import Parts, join_parts, part_feed, read_part
from ..model import Catalog
from ..render.text import adopt_summaries, render_summaries
from ..site import Renderer, catalog_last_modified, default_renderers, make_output
from .build_cache import BuildCache
from .files import WriteReport, plan_files
from .stage import Stage
from .trees import ExportError

# Below this many entries a second process saves nothing (fork, page faults and the swap
# of halves cost what it saves). Cold builds with 1 and 2 processes (tmpfs, 5 each):
# 10 entries 0.36 s both; 100: 0.51 / 0.46 s; 300: 0.77 / 0.65 s; 600: 1.00 / 0.74 s;
# 1,000: 1.10 / 0.78 s. Rebuilds after an edit: 10 entries alike; 300: 0.52 / 0.47 s;
# 1,000: 0.70 / 0.60 s; 3,000: 1.44 / 1.00 s (benchmarks/RESULTS.md, fifth round).
PARALLEL_MIN_ENTRIES = 100


def default_jobs(entries: int) -> int:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return 2 if (cores or 1) >= 2 and entries >= PARALLEL_MIN_ENTRIES else 1


def _shares(renderers: list[Renderer], cold: bool) -> tuple[list[Renderer], list[Renderer]]:
    """(child's, parent's): the pages but the entries' own, and everything else; the
    entry pages go to whichever process is free first (`_EntryRuns`). On a cold build
    the calendars are the child's too: the feeds' share alone (2.6 s at 10k on tmpfs)
    outlasted the child's lists and every entry run (2.0 s), and the child idled up to
    0.7 s; after an edit they stay the parent's, whose share is then the shorter one
    (their tables are saved apart for it: `BuildCache.save_memo`).

    Seconds at 10k, cold, with the summaries rendered while reading (render only): the
    entry pages 1.0-1.4 and 20,000 files to write, the other pages 0.2-0.3; Atom 0.6-0.8,
    RSS 0.4-0.5, JSON Feed 0.4-0.5, iCalendar 0.3-0.5, and 9,600 files. How long the
    files take depends on the disk (on this machine's ext4 the entry pages took a
    second more than on tmpfs), hence a queue rather than a fixed cut. After an edit
    (a fresh process, the cache loaded): pages 0.9; the four others 1.2 together."""
    from ..render import ics, pages

    theirs: list[Renderer] = [pages.render_lists] if pages.render in renderers else []
    if cold:
        theirs += [r for r in renderers if r is ics.render]
    return theirs, [r for r in renderers if r is not pages.render and r not in theirs]


class _EntryRuns:
    """The entry pages cut in runs of consecutive entries, each rendered by whichever of
    the two processes of a cold build claims it first: the child after its share, the
    parent after its own; so neither waits long for the other, whatever the disk costs
    per file (on this machine's ext4 the parent used to wait a second for the child).

    The queue is a pipe holding one byte per run, filled before the fork: reading one
    byte from a pipe is atomic, so each run is claimed exactly once, and a process that
    finds it empty is done. A process that dies with runs claimed fails the build, as
    any failure of a share does.

    The pages the parent rendered are saved apart (`BuildCache.save_memo`) and loaded by the
    next build's child, which then has every page. A rebuild's parent claims no run:
    it has none of the pages in its share of the cache.
    """

    RUN = 100  # entries per run: ~25 ms of rendering and writing at 10k

    def __init__(self, entries: int, renderers: list[Renderer]) -> None:
        from ..render import pages

        self.count = min(255, -(-entries // self.RUN)) if pages.render in renderers else 0
        self.entries = entries
        self._read, self._write = os.pipe()
        os.set_blocking(self._read, False)
        os.write(self._write, bytes(range(self.count)))  # < 4 KiB: never blocks

    def claimed(self) -> Iterator[Renderer]:
        """A renderer for each run this process claims, claimed as it is asked for."""
        from ..render import pages

        while (run := self._claim()) is not None:
            start, stop = self.entries * run // self.count, self.entries * (run + 1) // self.count
            yield functools.partial(pages.render_entries, start=start, stop=stop)

    def _claim(self) -> int | None:
        try:
            byte = os.read(self._read, 1)
        except BlockingIOError:
            return None
        return byte[0] if byte else None

    def close(self) -> None:
        for fd in (self._read, self._write):
            with suppress(OSError):
                os.close(fd)


def build_outputs(
    catalog: Catalog,
    renderers: list[Renderer],
    stage: Stage,
    jobs: int,
    cache: BuildCache,
    started: Child | None = None,
) -> Child | None:
    """Render and write every output into `stage`; the child process, if one was used
    (`started`: one that read half of the catalog and waits to be told where to write)."""
    cache.name_entries(catalog)
    if started is None and (jobs < 2 or not hasattr(os, "fork")):
        cache.load_memo(share=None)
        _render_and_write(catalog, renderers, stage)
        return None
    theirs, ours = _shares(renderers, cold=started is not None)
    runs = started.runs if started is not None else _EntryRuns(len(catalog.entries), renderers)

    def child_share(channel: Connection) -> WriteReport:
        return _child_renders(catalog, theirs, runs, stage, cache)

    child = started or Child(child_share, then=_save_child_cache(cache, cold=False), runs=runs)
    try:
        if started is not None:
            try:
                started.send(("go", stage))
            except OSError:  # it is gone (the pipe is closed)
                raise ExportError(
                    f"the build's second process stopped ({started.exit_text()})"
                ) from None
        cache.load_memo(share=0)
        # Now, not at the end after the memo tables, where its 0.1-0.15 s (10k) were the
        # parent's alone: on a cold build the queue of entry runs evens them out, after an
        # edit the parent's share is the shorter one. Saved again at the end (and a
        # failure reported) if this fails.
        cache.save_parser()
        # A cold build's parent takes entry runs too; a rebuild's leaves them to the child,
        # which has their pages in its share of the cache (they would be rendered again here).
        claimed = runs.claimed() if started is not None else iter(())
        _render_and_write(catalog, itertools.chain(ours, claimed), stage)
        cache.save_memo_meanwhile(share=0)  # while it waits for the child and the disk
        stage.add(child.report())
    except BaseException:
        child.stop()
        raise
    return child


def _child_renders(
    catalog: Catalog, renderers: list[Renderer], runs: _EntryRuns, stage: Stage, cache: BuildCache
) -> WriteReport:
    """The child's share and the entry runs it claims: load its share of the cache
    (while the parent loads its own: half the wait), render and write, then report.
    Its share of the cache is saved after that (`_save_child_cache`), while the parent
    flushes the whole tree to the disk (one syncfs: the queue of runs has the two
    processes finish together, so a flush of the child's own files first would only
    delay its report) and makes it live."""
    cache.load_memo(share=1)
    _render_and_write(catalog, itertools.chain(renderers, runs.claimed()), stage)
    return stage.report


def _save_child_cache(cache: BuildCache, cold: bool) -> Callable[[], object]:
    """The child's share of the cache: its memo tables (the parent saves the parse)."""

    def save() -> None:
        cache.save_memo(share=1, cold=cold)  # a failure only makes the next build colder

    return save


class _Stopped(Exception):
    """The child is not needed (the parent reads the catalog whole): exit quietly."""


def read_catalog_in_two(
    data: bytes, catalog_path: Path, cache: BuildCache, jobs: int | None
) -> tuple[Catalog, Child] | None:
    """The catalog read half by this process and half by a child, which then stays to
    render its share of the build (`build_outputs`); None when that is not for this build:
    one job, a catalog the cache already parsed (a rebuild reads only what changed), a
    small one, a file of another shape, or any problem in it (the whole file is then
    read again by one process, which reports every problem where it is).

    Each process also renders the summaries of its half and takes the other's: the
    Markdown of 10,000 summaries is read once per build instead of once per process.
    """
    if jobs == 1 or not hasattr(os, "fork") or cache.has_parse():
        return None
    parts = Parts.of(data, 2)
    if parts is None or (jobs is None and default_jobs(len(parts.layout.chunks)) < 2):
        return None
    feed = part_feed(parts)
    if feed is None:
        return None
    source = os.fspath(catalog_path)
    runs = _EntryRuns(len(parts.layout.chunks), default_renderers())  # the catalog's entries
    work = _child_reads(parts, source, cache, runs)
    child = Child(work, then=_save_child_cache(cache, cold=True), runs=runs)
    try:
        run = read_part(parts, 0)
        if run is None:
            raise _Stopped
        renders = render_summaries((entry.summary for entry in run), feed.base_url)
        message = child.receive()
        if not (isinstance(message, tuple) and message[0] == "run"):
            raise _Stopped
        parser = CatalogParser()
        catalog = join_parts(parser, parts, [run, message[1]], source)
        if catalog is None:
            raise _Stopped
        cache.keep_parser(parser)
        adopt_summaries(message[2], feed.base_url)
        child.send(("run", run, renders))
    except (_Stopped, EOFError, OSError, pickle.UnpicklingError):
        child.stop()
        return None
    except BaseException:
        child.stop()
        raise
    return catalog, child


def _child_reads(
    parts: Parts, source: str, cache: BuildCache, runs: _EntryRuns
) -> Callable[[Connection], WriteReport]:
    """The child's side of `read_catalog_in_two`, then its share of `build_outputs`."""

    def work(channel: Connection) -> WriteReport:
        feed = part_feed(parts)
        run = read_part(parts, 1) if feed is not None else None
        if feed is None or run is None:
            channel.send(("fallback",))
            raise _Stopped
        renders = render_summaries((entry.summary for entry in run), feed.base_url)
        channel.send(("run", run, renders))
        message = channel.recv()
        if not (isinstance(message, tuple) and message[0] == "run"):
            raise _Stopped
        catalog = join_parts(None, parts, [message[1], run], source)  # the parent keeps the parse
        if catalog is None:
            raise _Stopped  # as the parent found: it reads the whole file
        adopt_summaries(message[2], feed.base_url)
        cache.name_entries(catalog, parts)
        message = channel.recv()
        if not (isinstance(message, tuple) and message[0] == "go"):
            raise _Stopped
        stage = message[1]
        theirs, _ = _shares(default_renderers(), cold=True)
        return _child_renders(catalog, theirs, runs, stage, cache)

    return work


def _render_and_write(catalog: Catalog, renderers: Iterable[Renderer], stage: Stage) -> None:
    """Each renderer's outputs are written as soon as they exist, then dropped."""
    last_modified = catalog_last_modified(catalog)
    memo.begin_build()
    success = False
    try:
        for render in renderers:
            outputs = [make_output(p, b, last_modified) for p, b in render(catalog).items()]
            stage.write(plan_files(outputs))
            del outputs
        success = True
    finally:
        memo.end_build(success)


class Child:
    """A forked process (`multiprocessing`, fork context) doing a share of the build.

    It starts with the parent's memory as it was at the fork (the catalog or its bytes,
    the loaded cache), so little is sent to it: the messages of `read_catalog_in_two`, then
    the staging tree to write into. It sends back its report (or what went wrong), then
    runs `then` (saving its share of the cache) while the parent finishes. Forked, not
    spawned: a spawned process would import the package and read the cache again.
    """

    def __init__(
        self,
        work: Callable[[Connection], WriteReport],
        then: Callable[[], object],
        runs: _EntryRuns,
    ) -> None:
        self.runs = runs  # the queue of entry runs, shared with it
        self._channel, theirs = _FORK.Pipe()
        self._process = _FORK.Process(target=_child_main, args=(work, then, theirs, self._channel))
        self._process.start()
        theirs.close()

    def send(self, message: object) -> None:
        self._channel.send(message)

    def receive(self) -> object:
        """The next message; EOFError when the child closed its end."""
        return self._channel.recv()

    def report(self) -> WriteReport:
        """Wait for the child's report; raise ExportError (or RuntimeError) if it failed."""
        try:
            message = self._channel.recv()
        except (pickle.UnpicklingError, EOFError, ValueError, OSError):
            message = None
        if not (isinstance(message, tuple) and len(message) == 2):
            raise ExportError(f"the build's second process stopped ({self.exit_text()})")
        kind, value = message
        if kind == "ok" and isinstance(value, WriteReport):
            return value
        if kind == "export":
            raise ExportError(str(value))
        raise RuntimeError(f"the build's second process failed: {value}")

    def join(self) -> int | None:
        """Wait for the child to end (a child still waiting for a message stops: its
        channel is closed); its exit code, negative for a signal."""
        if not self._channel.closed:
            self._channel.close()
            self._process.join()
            self.runs.close()
        return self._process.exitcode

    def stop(self) -> None:
        """Kill the child (before the staging tree it writes into is removed)."""
        if self._process.exitcode is None:
            self._process.kill()
        self.join()

    def exit_text(self) -> str:
        code = self.join()
        if code is not None and code < 0:
            return f"killed by signal {-code}, perhaps for lack of memory"
        return f"exit status {code}"


_FORK = multiprocessing.get_context("fork")


def _child_main(
    work: Callable[[Connection], WriteReport],
    then: Callable[[], object],
    channel: Connection,
    parents_end: Connection,
) -> None:
    """The child's life: its work, its report, then `then`. Nothing escapes as a traceback:
    the parent reports what went wrong."""
    # The fork copied the parent's end of the pipe too: while this process holds it, a
    # parent that died leaves no EOF to read and no broken pipe to write to, and this
    # process would wait for it forever, an orphan.
    parents_end.close()
    outcome: tuple[str, object]
    try:
        outcome = ("ok", work(channel))
    except (_Stopped, EOFError):
        return  # not needed, or the parent went on without us: nothing to say
    except ExportError as exc:
        outcome = ("export", str(exc))
    except BaseException as exc:  # noqa: BLE001 - reported by the parent, never a traceback
        outcome = ("crash", f"{type(exc).__name__}: {exc}")
    with suppress(OSError):  # the parent is gone: nobody to tell
        channel.send(outcome)
        channel.close()
    if outcome[0] == "ok":
        # Saving its share of the cache: a failure only makes the next build colder, and
        # must not reach multiprocessing, which would print its traceback.
        with suppress(Exception):
            then()
