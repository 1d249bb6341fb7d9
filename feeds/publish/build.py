"""`feeds build`: catalog -> every Output -> an export tree, quickly, and again quicker.

Two things make it fast (10k entries, see benchmarks/RESULTS.md):

- Both cores on a large catalog: the process forks as soon as the file is read. On a
  cold build each process reads half of the entries and renders their summaries, and
  they swap halves (`_read_in_two`; a rebuild instead reads only the changed entries,
  before the fork). Then the child renders the list pages (and, on a cold build, the
  calendars) and the parent the feeds (and, on a rebuild, the calendars), and the
  entry pages, cut in runs, go to whichever is free first
  (`_EntryRuns`); each writes its own files into the same staging tree
  (`stage.Stage`, which flushes them to the disk as they come). Only a small report
  (file names, content tags, counts) goes back through a pipe, never the bodies; the
  parent checks the union for clashes before the tree is flipped live.
- A cache between builds, in the user's own cache folder (`default_cache_dir`; or
  `--cache-dir`), in files named after the catalog and sealed with the user's key
  (`feeds.sealed`: a file planted there is never unpickled):
  the parsed catalog (`CatalogParser`: a rebuild parses only the entries whose text
  changed), the `feeds.memo` tables (rendered pages, feed entries, events, gzip bodies,
  each keyed by content) and the manifests of the live and the previous tree. A
  rebuild after an edit renders and compresses only what the edit changed, and
  recycles the previous tree (`export`): only files that differ are written. The
  cache is tagged with a hash of the code, so an upgrade starts cold; deleting the
  folder is always safe.

And Python's cyclic garbage collector is paused for the whole build
(`_cyclic_collector_paused`).

Outputs are rendered, written and dropped one renderer at a time, so memory holds one
format's files at once (plus the memo tables), not the whole Site.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import itertools
import os
import pickle
import signal
import stat
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn, TextIO

from .. import memo, sealed
from ..catalog import CatalogErrors, read_catalog
from ..catalog.incremental import (
    CatalogParser,
    Parts,
    join_parts,
    part_entry_names,
    part_feed,
    read_part,
)
from ..model import Catalog, Feed
from ..render import entry_key
from ..render.text import adopt_summaries, render_summaries
from ..site import Renderer, catalog_last_modified, default_renderers, make_output
from .export import staged_export, summary
from .files import ExportResult, TreeManifest, WriteReport, plan_files
from .stage import Stage
from .trees import ExportError, check_out, live_tree
from .websub import Retry, changed_feed_paths, publish

# Below this many entries a second process saves nothing (fork, page faults and the swap
# of halves cost what it saves). Cold builds with 1 and 2 processes (tmpfs, 5 each):
# 10 entries 0.36 s both; 100: 0.51 / 0.46 s; 300: 0.77 / 0.65 s; 600: 1.00 / 0.74 s;
# 1,000: 1.10 / 0.78 s. Rebuilds after an edit: 10 entries alike; 300: 0.52 / 0.47 s;
# 1,000: 0.70 / 0.60 s; 3,000: 1.44 / 1.00 s (benchmarks/RESULTS.md, fifth round).
PARALLEL_MIN_ENTRIES = 100


@dataclass(frozen=True)
class BuildOptions:
    cache_dir: Path | None  # None: no cache (a cold build that leaves nothing behind)
    jobs: int | None = None  # processes: 1 or 2; None picks by catalog size and cores
    quiet: bool = False


def default_cache_dir(catalog_path: Path) -> Path | None:
    """`${XDG_CACHE_HOME:-~/.cache}/feeds/<catalog's name>-<hash of its absolute path>`:
    the user's own, not a folder beside the catalog, which its editors can write (a
    pull request in CI); named by path so that two catalogs never share one. None for
    a user without a home folder."""
    absolute = os.path.abspath(catalog_path)
    digest = hashlib.sha256(os.fsencode(absolute)).hexdigest()[:16]
    home = os.environ.get("XDG_CACHE_HOME", "")
    try:
        root = Path(home) if os.path.isabs(home) else Path.home() / ".cache"
    except RuntimeError:  # no HOME, and no password entry for this user
        return None
    return root / "feeds" / f"{Path(absolute).name}-{digest}"


def build_command(
    catalog_path: Path,
    out: Path,
    options: BuildOptions | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Validate, render, export; print a summary or the problems. Exit code.

    A catalog with errors is reported like `feeds check` and nothing is written: the
    folder keeps serving the last good export.
    """
    with _cyclic_collector_paused():
        return _build_command(catalog_path, out, options, stderr)


@contextmanager
def _cyclic_collector_paused() -> Iterator[None]:
    """A build allocates millions of objects that live until it ends (the catalog, the
    rendered bodies, the memo tables) and leaves little garbage in cycles, which Python's
    collector would look for by walking all of them, again and again as they are made:
    at 10k entries 0.5-1 s of CPU of 6-7 s, for the same peak memory without it
    (benchmarks/RESULTS.md). Reference counting still frees everything else. The child
    process inherits the pause."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _build_command(
    catalog_path: Path, out: Path, options: BuildOptions | None, stderr: TextIO | None
) -> int:
    options = options or BuildOptions(cache_dir=default_cache_dir(catalog_path))
    err = stderr if stderr is not None else sys.stderr
    started = time.perf_counter()
    try:  # first: a refused --out (`/`, `~`) costs no read, no walk and leaves no lock file
        out = check_out(out)
    except ExportError as exc:
        print(f"feeds build: {exc}", file=err)
        return 1
    cache = _Cache(options.cache_dir, catalog_path, out)
    child: _Child | None = None
    try:
        data = read_catalog(catalog_path)
        read_in_two = _read_in_two(data, catalog_path, cache, options)
        if read_in_two is not None:
            catalog, child = read_in_two
        else:
            catalog = cache.parse_catalog(data, catalog_path)
    except CatalogErrors as exc:
        for error in exc.errors:
            print(error, file=err)
        count = len(exc.errors)
        print(
            f"{count} problem{'s' if count != 1 else ''} in {catalog_path}; "
            f"nothing was built, {out} was left as it was",
            file=err,
        )
        return 1
    jobs = 2 if child is not None else options.jobs or _default_jobs(len(catalog.entries))
    renderers = default_renderers()  # imported first: their memo tables receive the cache
    try:
        known = cache.load_manifests()
        feeds_before = previous_feed_tags(known, out) if catalog.feed.hub else {}
        with staged_export(out, catalog.version, known) as stage:
            child = _build(catalog, renderers, stage, jobs, cache, child)
        assert stage.result is not None
        problem = cache.save(_newest_two(stage.result, known), jobs)
    except ExportError as exc:
        print(f"feeds build: {exc}", file=err)
        return 1
    finally:
        cache.wait_for_saving()  # also when the build failed: never exit while it writes
        if child is not None:
            child.join()  # it saves its share of the cache meanwhile (or was never started)
    if problem:
        print(f"feeds build: {problem}; the next build will start cold", file=err)
    if not options.quiet:
        print(summary(stage.result, time.perf_counter() - started))
    if catalog.feed.hub and stage.result.manifest is not None:
        ping_hub(catalog.feed, feeds_before, feed_tags(stage.result.manifest.files), err)
    return 0


# --- WebSub: tell the hub which feeds this build changed ----------------------------------

_FEED_SUFFIXES = (".atom", ".rss", ".json")  # the Site's feed types (see websub.FEED_TYPES)
# A build is run by hand or from cron: try a few times, briefly, and never hang on a dead hub.
BUILD_RETRY = Retry(attempts=3, first_delay=1.0, max_delay=4.0, timeout=5.0)


def feed_tags(files: Mapping[str, tuple[str, int]]) -> dict[str, str]:
    """{URL path: ETag} of the feeds in an export manifest (file name -> (tag, mtime))."""
    return {"/" + name: tag for name, (tag, _) in files.items() if name.endswith(_FEED_SUFFIXES)}


def previous_feed_tags(known: Sequence[TreeManifest], out: Path) -> dict[str, str]:
    """The feeds' ETags in the export being replaced: from the cached manifest when one
    describes the live tree, else by hashing the live tree's feed files (a build with
    --no-cache); empty for a first build, which then pings every feed.

    Only a tree of this export is read (`trees.live_tree`: `out` a symlink to it; any
    other `out` is refused), without following a symlink in it: never a walk of a
    folder the build did not make."""
    live = live_tree(out)
    if live is None:
        return {}
    for manifest in known:
        if live.name == manifest.tree:
            return feed_tags(manifest.files)
    tags: dict[str, str] = {}
    for folder, _folders, names in os.walk(live):  # follows no symlink
        for name in names:
            path = Path(folder, name)
            if path.suffix in _FEED_SUFFIXES and stat.S_ISREG(path.lstat().st_mode):
                digest = hashlib.sha256(path.read_bytes()).hexdigest()[:32]  # as make_output
                tags["/" + path.relative_to(live).as_posix()] = f'"{digest}"'
    return tags


def ping_hub(feed: Feed, before: Mapping[str, str], after: Mapping[str, str], err: TextIO) -> None:
    """Ping `feed.hub` for each feed that is new or changed; a failure is reported, never
    fatal (the export is done), and a hub that is down is not asked again for the rest."""
    assert feed.hub is not None
    urls = [feed.url(path) for path in changed_feed_paths(before, after)]
    for done, url in enumerate(urls):
        if publish(feed.hub, [url], BUILD_RETRY):
            print(
                f"feeds build: the WebSub hub {feed.hub} did not accept a ping for {url}; "
                f"{len(urls) - done - 1} more changed feeds were not pinged. Subscribers "
                "get the changes at their next poll; run the build again to retry.",
                file=err,
            )
            return


def _newest_two(result: ExportResult, known: Sequence[TreeManifest]) -> tuple[TreeManifest, ...]:
    """The manifests to keep: the new live tree's and the one live before this build
    (the next build recycles that one, see `export`)."""
    if result.manifest is None:
        return ()
    replaced = [m for m in known if m.tree == result.replaced]
    return (result.manifest, *replaced[:1])


def _default_jobs(entries: int) -> int:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return 2 if (cores or 1) >= 2 and entries >= PARALLEL_MIN_ENTRIES else 1


def _shares(renderers: list[Renderer], cold: bool) -> tuple[list[Renderer], list[Renderer]]:
    """(child's, parent's): the pages but the entries' own, and everything else; the
    entry pages go to whichever process is free first (`_EntryRuns`). On a cold build
    the calendars are the child's too: the feeds' share alone (2.6 s at 10k on tmpfs)
    outlasted the child's lists and every entry run (2.0 s), and the child idled up to
    0.7 s; after an edit they stay the parent's, whose share is then the shorter one
    (their tables are saved apart for it: `_Cache.save_memo`).

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

    The pages the parent rendered are saved apart (`_Cache.save_memo`) and loaded by the
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


def _build(
    catalog: Catalog,
    renderers: list[Renderer],
    stage: Stage,
    jobs: int,
    cache: _Cache,
    started: _Child | None = None,
) -> _Child | None:
    """Render and write every output into `stage`; the child process, if one was used
    (`started`: one that read half of the catalog and waits to be told where to write)."""
    cache.name_entries(catalog)
    if started is None and (jobs < 2 or not hasattr(os, "fork")):
        cache.load_memo(share=None)
        _render_and_write(catalog, renderers, stage)
        return None
    theirs, ours = _shares(renderers, cold=started is not None)
    runs = started.runs if started is not None else _EntryRuns(len(catalog.entries), renderers)

    def child_share(channel: _Channel) -> WriteReport:
        return _child_renders(catalog, theirs, runs, stage, cache)

    child = started or _Child(child_share, then=_save_child_cache(cache, cold=False), runs=runs)
    try:
        if started is not None:
            try:
                started.send(("go", stage))
            except OSError:  # it is gone (the pipe is closed)
                raise ExportError(
                    f"the build's second process stopped ({_exit_text(started.join())})"
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
    catalog: Catalog, renderers: list[Renderer], runs: _EntryRuns, stage: Stage, cache: _Cache
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


def _save_child_cache(cache: _Cache, cold: bool) -> Callable[[], object]:
    """The child's share of the cache: its memo tables (the parent saves the parse)."""

    def save() -> None:
        cache.save_memo(share=1, cold=cold)  # a failure only makes the next build colder

    return save


# --- the catalog read by two processes -----------------------------------------------------


class _Stopped(Exception):
    """The child is not needed (the parent reads the catalog whole): exit quietly."""


def _read_in_two(
    data: bytes, catalog_path: Path, cache: _Cache, options: BuildOptions
) -> tuple[Catalog, _Child] | None:
    """The catalog read half by this process and half by a child, which then stays to
    render its share of the build (`_build`); None when that is not for this build:
    one job, a catalog the cache already parsed (a rebuild reads only what changed), a
    small one, a file of another shape, or any problem in it (the whole file is then
    read again by one process, which reports every problem where it is).

    Each process also renders the summaries of its half and takes the other's: the
    Markdown of 10,000 summaries is read once per build instead of once per process.
    """
    if options.jobs == 1 or not hasattr(os, "fork") or cache.has_parse():
        return None
    parts = Parts.of(data, 2)
    if parts is None or (options.jobs is None and _default_jobs(len(parts.layout.chunks)) < 2):
        return None
    feed = part_feed(parts)
    if feed is None:
        return None
    source = os.fspath(catalog_path)
    runs = _EntryRuns(len(parts.layout.chunks), default_renderers())  # the catalog's entries
    work = _child_reads(parts, source, cache, runs)
    child = _Child(work, then=_save_child_cache(cache, cold=True), runs=runs)
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
    parts: Parts, source: str, cache: _Cache, runs: _EntryRuns
) -> Callable[[_Channel], WriteReport]:
    """The child's side of `_read_in_two`, then its share of `_build`."""

    def work(channel: _Channel) -> WriteReport:
        feed = part_feed(parts)
        run = read_part(parts, 1) if feed is not None else None
        if feed is None or run is None:
            channel.send(("fallback",))
            raise _Stopped
        renders = render_summaries((entry.summary for entry in run), feed.base_url)
        channel.send(("run", run, renders))
        message = channel.receive()
        if not (isinstance(message, tuple) and message[0] == "run"):
            raise _Stopped
        catalog = join_parts(None, parts, [message[1], run], source)  # the parent keeps the parse
        if catalog is None:
            raise _Stopped  # as the parent found: it reads the whole file
        adopt_summaries(message[2], feed.base_url)
        cache.name_entries(catalog, parts)
        message = channel.receive()
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


class _Channel:
    """Pickled messages over a pair of pipes, one each way."""

    def __init__(self, read_fd: int, write_fd: int) -> None:
        self._inbox = os.fdopen(read_fd, "rb")
        self._outbox = os.fdopen(write_fd, "wb")

    def send(self, message: object) -> None:
        pickle.dump(message, self._outbox, protocol=pickle.HIGHEST_PROTOCOL)
        self._outbox.flush()

    def receive(self) -> object:
        """The next message; EOFError when the other side closed its end."""
        return pickle.load(self._inbox)

    def close_sending(self) -> None:
        with suppress(OSError):  # the other side is gone: what was left unsent goes too
            self._outbox.close()

    def close(self) -> None:
        self.close_sending()
        self._inbox.close()


class _Child:
    """A forked process doing a share of the build.

    It starts with the parent's memory as it was at the fork (the catalog or its bytes,
    the loaded cache), so little is sent to it: the messages of `_read_in_two`, then the
    staging tree to write into. It sends back its pickled report (or what went wrong),
    then runs `then` (saving its share of the cache) while the parent finishes.
    """

    def __init__(
        self,
        work: Callable[[_Channel], WriteReport],
        then: Callable[[], object],
        runs: _EntryRuns,
    ) -> None:
        self.runs = runs  # the queue of entry runs, shared with it
        up_read, up_write = os.pipe()
        down_read, down_write = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            os.close(up_read)
            os.close(down_write)
            _child_main(work, then, _Channel(down_read, up_write))
        os.close(up_write)
        os.close(down_read)
        self._channel = _Channel(up_read, down_write)
        self._status: int | None = None

    def send(self, message: object) -> None:
        self._channel.send(message)

    def receive(self) -> object:
        return self._channel.receive()

    def report(self) -> WriteReport:
        """Wait for the child's report; raise ExportError (or RuntimeError) if it failed."""
        try:
            message = self._channel.receive()
        except (pickle.UnpicklingError, EOFError, ValueError, OSError):
            message = None
        if not (isinstance(message, tuple) and len(message) == 2):
            raise ExportError(f"the build's second process stopped ({_exit_text(self.join())})")
        kind, value = message
        if kind == "ok" and isinstance(value, WriteReport):
            return value
        if kind == "export":
            raise ExportError(str(value))
        raise RuntimeError(f"the build's second process failed: {value}")

    def join(self) -> int:
        if self._status is None:
            self._channel.close_sending()  # a child still waiting for a message stops
            _, self._status = os.waitpid(self.pid, 0)
            self.runs.close()
        return self._status

    def stop(self) -> None:
        """Kill the child (before the staging tree it writes into is removed)."""
        if self._status is None:
            os.kill(self.pid, signal.SIGKILL)
            self.join()
        self._channel.close()


def _child_main(
    work: Callable[[_Channel], WriteReport], then: Callable[[], object], channel: _Channel
) -> NoReturn:
    outcome: tuple[str, object]
    try:
        try:
            outcome = ("ok", work(channel))
        except (_Stopped, EOFError):
            os._exit(0)  # not needed, or the parent went on without us: nothing to say
        except ExportError as exc:
            outcome = ("export", str(exc))
        except BaseException as exc:  # noqa: BLE001 - reported by the parent, never a traceback
            outcome = ("crash", f"{type(exc).__name__}: {exc}")
        channel.send(outcome)
        channel.close()
        if outcome[0] == "ok":
            then()
    finally:
        os._exit(0)  # never back into the caller's stack, its atexit handlers or buffers


def _exit_text(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}, perhaps for lack of memory"
    return f"exit status {os.waitstatus_to_exitcode(status)}"


class _Cache:
    """The parsed catalog, the memo tables and the last export's manifest, kept between
    builds."""

    def __init__(self, folder: Path | None, catalog_path: Path, out: Path) -> None:
        self.folder = folder if folder is None or self._has_key() else None
        # Files named after the catalog and the export folder: builds of other catalogs
        # sharing the folder would otherwise sweep each other's tables at every build.
        self.prefix = catalog_path.name
        key = hashlib.sha256(os.path.abspath(out).encode()).hexdigest()[:16]
        folder = self.folder
        self.manifest_file = folder / f"{self.prefix}.export-{key}.pickle" if folder else None
        self.parser_file = folder / f"{self.prefix}.parse.pickle" if folder else None
        self._parser: CatalogParser | None = None
        self._parser_loaded = False
        self._parser_changed = False
        self._memo_problem: str | None = None
        self._memo_saver: threading.Thread | None = None
        self._to_name: tuple[Catalog, Parts | None] | None = None

    def parse_catalog(self, data: bytes, catalog_path: Path) -> Catalog:
        """The catalog, read with the entries of the last build's parse: only the entries
        whose text changed are parsed again (`CatalogParser`; 10k entries: seconds for a
        full read). Same result and errors as `load_catalog`."""
        parser = self._load_parser() or CatalogParser()
        catalog = parser.parse(data, os.fspath(catalog_path))
        self._parser = parser
        self._parser_changed = parser.reused < len(catalog.entries)
        return catalog

    def has_parse(self) -> bool:
        """Whether the last build's parse is here to reuse (then one process reads only
        the entries that changed, faster than two reading half each)."""
        return self._load_parser() is not None

    def keep_parser(self, parser: CatalogParser) -> None:
        """Save `parser` (which read this build's catalog) with `save_parser`."""
        self._parser = parser
        self._parser_loaded = True
        self._parser_changed = True

    def _load_parser(self) -> CatalogParser | None:
        if not self._parser_loaded:
            self._parser = self._read_parser()
            self._parser_loaded = True
        return self._parser

    def _has_key(self) -> bool:
        """Whether cache files can be sealed and checked; if not, say so (no cache)."""
        try:
            sealed.key()
        except sealed.NoKey as exc:
            _say_ignored(Path(), exc)
            return False
        return True

    def _load(self, path: Path, purpose: str) -> object:
        """The value kept at `path`, or None: none there, one from another version of
        feeds, or one this user's feeds did not write (said once, never unpickled)."""
        try:
            return sealed.load(path, purpose)
        except (sealed.Unsealed, sealed.NoKey) as exc:
            _say_ignored(path, exc)
        except (OSError, sealed.Outdated):
            pass
        return None

    def _read_parser(self) -> CatalogParser | None:
        if self.parser_file is None:
            return None
        saved = self._load(self.parser_file, _PARSE)
        if not (isinstance(saved, tuple) and len(saved) == 2):
            return None
        fingerprint, parser = saved
        if fingerprint != memo.code_fingerprint() or not isinstance(parser, CatalogParser):
            return None
        return parser

    def save_parser(self) -> str | None:
        """Keep the parse for the next build, unless it is the one already kept."""
        if self.parser_file is None or self._parser is None or not self._parser_changed:
            return None
        try:
            sealed.dump(self.parser_file, _PARSE, (memo.code_fingerprint(), self._parser))
        except OSError as exc:
            return f"could not save the cache in {self.folder}: {exc.strerror or exc}"
        self._parser_changed = False
        return None

    def name_entries(self, catalog: Catalog, parts: Parts | None = None) -> None:
        """Have the memo files refer to the entries of `catalog` by name rather than hold
        copies of them (`entry_key.use_entry_names`): names from the parse, or, in a cold
        build's child, which keeps no parse, from the `parts` it read. Named (~20 ms at
        10k) when the tables are first loaded or saved."""
        self._to_name = (catalog, parts)

    def _use_entry_names(self) -> None:
        if self._to_name is None:
            return
        catalog, parts = self._to_name
        self._to_name = None
        if parts is not None:
            named = part_entry_names(parts, catalog)
        else:
            named = self._parser.entry_names(catalog) if self._parser is not None else []
        entry_key.use_entry_names(catalog.feed, named)

    def _memo_file(self, share: int | str) -> Path:
        assert self.folder is not None
        return self.folder / f"{self.prefix}.memo-{share}.pickle"

    def load_memo(self, share: int | None) -> None:
        """Fill the memo tables with what the process doing `share` saved last time
        (None: one process does both shares). Each process of a two-process build loads
        only its own share, both at once, and what the other rendered of it on a cold
        build: the child the pages of the entry runs the parent claimed (`_EntryRuns`),
        the parent the calendars (`_shares`). After a one-process build everything is in
        share 0. Never fails: a missing or foreign file leaves the tables to fill."""
        if self.folder is None:
            return
        if any(self._memo_file(saved).exists() for saved in _MEMO_FILES):
            self._use_entry_names()  # else (a cold build) when the tables are saved
        if share is None:
            for saved in _MEMO_FILES:
                self._load_memo(saved)
            return
        if not self._load_memo(share) and share != 0:
            self._load_memo(0)
        self._load_memo("0-pages" if share != 0 else "1-calendars")

    def _load_memo(self, share: int | str) -> bool:
        try:
            return memo.load(self._memo_file(share))
        except (sealed.Unsealed, sealed.NoKey) as exc:
            _say_ignored(self._memo_file(share), exc)
            return False

    def load_manifests(self) -> tuple[TreeManifest, ...]:
        """The manifests of the live and the previous tree, as far as known. Never fails."""
        if self.folder is None or self.manifest_file is None:
            return ()
        manifests = self._load(self.manifest_file, _MANIFESTS)
        if not isinstance(manifests, tuple):
            return ()
        return tuple(m for m in manifests if isinstance(m, TreeManifest))

    def save_memo(self, share: int, cold: bool = False) -> str | None:
        """Save this process's tables; what it rendered of the other's share apart, for
        the other to load: the pages of the entry runs a cold build's parent claimed, the
        calendars a cold build's child rendered.

        Each file apart is written by one process and dropped by the other once its own
        file holds what it had, never the other way round. A rebuild's child loads the
        parent's pages when its share starts, which on a small catalog or a busy machine
        can be after the parent ended its share and saved: so a rebuild's parent, which
        renders no page, must not rewrite that file; the child drops it (`cold` False)
        once its own file took the pages."""
        if self.folder is None:
            return None
        self._use_entry_names()
        try:
            if share == 0:
                memo.save(self._memo_file(0), tables=lambda name: not _is_pages(name))
                if memo.filled(_is_pages):  # it rendered pages: one process, or runs claimed
                    memo.save(self._memo_file("0-pages"), tables=_is_pages)
                if memo.filled(_is_calendars):
                    self._memo_file("1-calendars").unlink(missing_ok=True)
            else:
                memo.save(self._memo_file(share), tables=lambda name: not _is_calendars(name))
                if memo.filled(_is_calendars):
                    memo.save(self._memo_file("1-calendars"), tables=_is_calendars)
                if not cold:  # a cold build's parent writes the file meanwhile
                    self._memo_file("0-pages").unlink(missing_ok=True)
        except OSError as exc:
            return f"could not save the cache in {self.folder}: {exc.strerror or exc}"
        return None

    def save_memo_meanwhile(self, share: int) -> None:
        """Start saving this process's tables, and the parse, in a thread, which `save`
        waits for and whose failure it reports. The caller then only waits (for the
        child's report, for the disk's flush), which leaves the interpreter to the
        thread. The tables hold renders keyed by content and the parse is the catalog's:
        both right whether or not this export goes live."""

        def save() -> None:
            self._memo_problem = self.save_memo(share) or self.save_parser()

        self._memo_saver = threading.Thread(target=save, name="save-memo")
        self._memo_saver.start()

    def wait_for_saving(self) -> None:
        """Wait for `save_memo_meanwhile`'s thread, if one was started."""
        if self._memo_saver is not None:
            self._memo_saver.join()

    def save(self, manifests: tuple[TreeManifest, ...], jobs: int) -> str | None:
        """Save the parent's tables (unless saved early) and the manifests; a message if
        that failed."""
        if self.folder is None or self.manifest_file is None:
            return None
        if self._memo_saver is not None:
            self.wait_for_saving()
            tables = self._memo_problem
        else:
            tables = self.save_memo(share=0)
        problem = tables or self.save_parser()  # nothing to do if the thread saved it
        if problem:
            return problem
        try:
            if jobs < 2:  # the other share's tables are in memo-0 now; keep one copy
                self._memo_file(1).unlink(missing_ok=True)
            sealed.dump(self.manifest_file, _MANIFESTS, manifests)
        except OSError as exc:
            return f"could not save the cache in {self.folder}: {exc.strerror or exc}"
        return None


def _say_ignored(path: Path, problem: Exception) -> None:
    """One line on stderr, once per process, for a cache file not used (or no key)."""

    def say(line: str) -> None:
        print(f"feeds build: {line}", file=sys.stderr, flush=True)

    sealed.say_once(path, problem, say)


# What each sealed file holds (part of its seal: one cannot stand in for another).
_PARSE = "parsed catalog"
_MANIFESTS = "export manifests"

# Every memo file: each process's share, and what each rendered of the other's share.
_MEMO_FILES: tuple[int | str, ...] = (0, 1, "0-pages", "1-calendars")


def _is_pages(table: str) -> bool:
    """Whether a memo table holds pages (the lists rendered by the child, the entry
    pages by either process), as opposed to feeds and calendars (`_shares`)."""
    return table.startswith("pages.")


def _is_calendars(table: str) -> bool:
    """Whether a memo table is the calendars' own (rendered by the child of a cold build,
    by the parent of a rebuild)."""
    return table.startswith("ics.")
