"""`feeds build`: catalog -> every Output -> an export tree, quickly, and again quicker.

Two things make it fast (10k entries, see benchmarks/RESULTS.md):

- Both cores on a large catalog: after the catalog is loaded the process forks; the
  child renders the pages and the parent the feeds and calendars, and each writes its
  own files into the same staging tree (`export.Stage`). Only a small report (file
  names, content tags, counts) goes back through a pipe, never the bodies; the parent
  checks the union for clashes before the tree is flipped live.
- A cache between builds, in `.feeds-cache/` next to the catalog (or `--cache-dir`),
  in files named after the catalog:
  the parsed catalog (`CatalogParser`: a rebuild parses only the entries whose text
  changed), the `feeds.memo` tables (rendered pages, feed entries, events, gzip bodies,
  each keyed by content) and the manifests of the live and the previous tree. A
  rebuild after an edit renders and compresses only what the edit changed, and
  recycles the previous tree (`export`): only files that differ are written. The
  cache is tagged with a hash of the code, so an upgrade starts cold; deleting the
  folder is always safe.

Outputs are rendered, written and dropped one renderer at a time, so memory holds one
format's files at once (plus the memo tables), not the whole Site.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn, TextIO

from . import memo
from .catalog import CatalogErrors, read_catalog
from .catalog.incremental import CatalogParser
from .export import (
    ExportError,
    ExportResult,
    Stage,
    TreeManifest,
    WriteReport,
    plan_files,
    staged_export,
    summary,
)
from .model import Catalog, Feed
from .site import Renderer, catalog_last_modified, default_renderers, make_output
from .websub import Retry, changed_feed_paths, publish

CACHE_DIR_NAME = ".feeds-cache"
# Below this many entries a second process costs more (fork, page faults) than it saves.
PARALLEL_MIN_ENTRIES = 2000


@dataclass(frozen=True)
class BuildOptions:
    cache_dir: Path | None  # None: no cache (a cold build that leaves nothing behind)
    jobs: int | None = None  # processes: 1 or 2; None picks by catalog size and cores
    quiet: bool = False


def default_cache_dir(catalog_path: Path) -> Path:
    return catalog_path.parent / CACHE_DIR_NAME


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
    options = options or BuildOptions(cache_dir=default_cache_dir(catalog_path))
    err = stderr if stderr is not None else sys.stderr
    started = time.perf_counter()
    cache = _Cache(options.cache_dir, catalog_path, out)
    try:
        catalog = cache.parse_catalog(catalog_path)
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
    jobs = options.jobs or _default_jobs(catalog)
    child: _Child | None = None
    renderers = default_renderers()  # imported first: their memo tables receive the cache
    known = cache.load_manifests()
    feeds_before = previous_feed_tags(known, out) if catalog.feed.hub else {}
    try:
        with staged_export(out, catalog.version, known) as stage:
            child = _build(catalog, renderers, stage, jobs, cache)
        assert stage.result is not None
        problem = cache.save(_newest_two(stage.result, known), jobs)
    except ExportError as exc:
        print(f"feeds build: {exc}", file=err)
        return 1
    finally:
        if child is not None:
            child.join()  # it saved its share of the cache meanwhile
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
    --no-cache); empty for a first build, which then pings every feed."""
    if not out.is_dir():
        return {}
    live = out.resolve()
    for manifest in known:
        if live.name == manifest.tree:
            return feed_tags(manifest.files)
    tags: dict[str, str] = {}
    for path in live.rglob("*"):
        if path.suffix in _FEED_SUFFIXES and path.is_file():
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:32]  # as site.make_output
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


def _default_jobs(catalog: Catalog) -> int:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return 2 if (cores or 1) >= 2 and len(catalog.entries) >= PARALLEL_MIN_ENTRIES else 1


def _shares(renderers: list[Renderer]) -> tuple[list[Renderer], list[Renderer]]:
    """(child's, parent's): the pages, and everything else, about equal in time both for
    a cold build and for a rebuild after an edit. CPU seconds at 10k, cold (render and
    gzip): pages 2.1 and 20,000 files to write; Atom 1.1, RSS 0.5, JSON Feed 0.65,
    iCalendar 0.75 and 9,600 files. After an edit (a fresh process, the cache loaded):
    pages 0.9; the four others 1.2 together."""
    from .render import pages

    theirs: list[Renderer] = [r for r in renderers if r is pages.render]
    return theirs, [r for r in renderers if r is not pages.render]


def _build(
    catalog: Catalog, renderers: list[Renderer], stage: Stage, jobs: int, cache: _Cache
) -> _Child | None:
    """Render and write every output into `stage`; the forked child, if one was used."""
    if jobs < 2 or not hasattr(os, "fork"):
        cache.load_memo(share=None)
        _render_and_write(catalog, renderers, stage)
        return None
    theirs, ours = _shares(renderers)

    def child_share() -> WriteReport:
        cache.load_memo(share=1)  # while the parent loads its own: half the wait
        _render_and_write(catalog, theirs, stage)
        return stage.report

    def save_child_share() -> None:
        cache.save_memo(share=1)
        cache.save_parser()  # off the parent's path: it is finishing the export meanwhile

    child = _Child(child_share, then=save_child_share)
    try:
        cache.load_memo(share=0)
        _render_and_write(catalog, ours, stage)
        stage.add(child.report())
    except BaseException:
        child.stop()
        raise
    return child


def _render_and_write(catalog: Catalog, renderers: list[Renderer], stage: Stage) -> None:
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


class _Child:
    """A forked process doing a share of the build.

    It starts with the parent's memory as it was at the fork (the catalog, the loaded
    cache), so nothing is sent to it; it sends back only its pickled report (or what went
    wrong), then runs `then` (saving its share of the cache) while the parent finishes.
    """

    def __init__(self, work: Callable[[], WriteReport], then: Callable[[], object]) -> None:
        read_end, write_end = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            os.close(read_end)
            _child_main(work, then, write_end)
        os.close(write_end)
        self._pipe = os.fdopen(read_end, "rb")
        self._status: int | None = None

    def report(self) -> WriteReport:
        """Wait for the child's report; raise ExportError (or RuntimeError) if it failed."""
        with self._pipe:
            data = self._pipe.read()
        try:
            kind, value = pickle.loads(data)
        except (pickle.UnpicklingError, EOFError, ValueError):
            raise ExportError(
                f"the build's second process stopped ({_exit_text(self.join())})"
            ) from None
        if kind == "ok" and isinstance(value, WriteReport):
            return value
        if kind == "export":
            raise ExportError(str(value))
        raise RuntimeError(f"the build's second process failed: {value}")

    def join(self) -> int:
        if self._status is None:
            _, self._status = os.waitpid(self.pid, 0)
        return self._status

    def stop(self) -> None:
        """Kill the child (before the staging tree it writes into is removed)."""
        if self._status is None:
            os.kill(self.pid, signal.SIGKILL)
            self.join()
        self._pipe.close()


def _child_main(work: Callable[[], WriteReport], then: Callable[[], object], fd: int) -> NoReturn:
    outcome: tuple[str, object]
    try:
        outcome = ("ok", work())
    except ExportError as exc:
        outcome = ("export", str(exc))
    except BaseException as exc:  # noqa: BLE001 - reported by the parent, never a traceback
        outcome = ("crash", f"{type(exc).__name__}: {exc}")
    try:
        with os.fdopen(fd, "wb") as pipe:
            pickle.dump(outcome, pipe, protocol=pickle.HIGHEST_PROTOCOL)
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
        self.folder = folder
        # Files named after the catalog and the export folder: builds of other catalogs
        # sharing the folder would otherwise sweep each other's tables at every build.
        self.prefix = catalog_path.name
        key = hashlib.sha256(os.path.abspath(out).encode()).hexdigest()[:16]
        self.manifest_file = folder / f"{self.prefix}.export-{key}.pickle" if folder else None
        self.parser_file = folder / f"{self.prefix}.parse.pickle" if folder else None
        self._parser: CatalogParser | None = None
        self._parser_changed = False

    def parse_catalog(self, catalog_path: Path) -> Catalog:
        """The catalog, read with the entries of the last build's parse: only the entries
        whose text changed are parsed again (`CatalogParser`; 10k entries: seconds for a
        full read). Same result and errors as `load_catalog`."""
        data = read_catalog(catalog_path)
        parser = self._load_parser() or CatalogParser()
        catalog = parser.parse(data, os.fspath(catalog_path))
        self._parser = parser
        self._parser_changed = parser.reused < len(catalog.entries)
        return catalog

    def _load_parser(self) -> CatalogParser | None:
        if self.parser_file is None:
            return None
        try:
            with self.parser_file.open("rb") as handle:
                fingerprint, parser = pickle.load(handle)
        except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError):
            return None  # missing, or not ours: parse the whole file
        if fingerprint != memo.code_fingerprint() or not isinstance(parser, CatalogParser):
            return None
        return parser

    def save_parser(self) -> str | None:
        """Keep the parse for the next build, unless it is the one already kept."""
        if self.parser_file is None or self._parser is None or not self._parser_changed:
            return None
        try:
            _write_atomically(self.parser_file, (memo.code_fingerprint(), self._parser))
        except OSError as exc:
            return f"could not save the cache in {self.folder}: {exc.strerror or exc}"
        self._parser_changed = False
        return None

    def _memo_file(self, share: int) -> Path:
        assert self.folder is not None
        return self.folder / f"{self.prefix}.memo-{share}.pickle"

    def load_memo(self, share: int | None) -> None:
        """Fill the memo tables with what the process doing `share` saved last time
        (None: one process does both shares). Each process of a two-process build loads
        only its own share, both at once. After a one-process build everything is in
        share 0. Never fails: a missing or foreign file leaves the tables to fill."""
        if self.folder is None:
            return
        if share is None:
            for saved in (0, 1):
                memo.load(self._memo_file(saved))
        elif not memo.load(self._memo_file(share)) and share != 0:
            memo.load(self._memo_file(0))

    def load_manifests(self) -> tuple[TreeManifest, ...]:
        """The manifests of the live and the previous tree, as far as known. Never fails."""
        if self.folder is None or self.manifest_file is None:
            return ()
        try:
            with self.manifest_file.open("rb") as handle:
                manifests = pickle.load(handle)
        except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError):
            return ()
        if not isinstance(manifests, tuple):
            return ()
        return tuple(m for m in manifests if isinstance(m, TreeManifest))

    def save_memo(self, share: int) -> str | None:
        if self.folder is None:
            return None
        try:
            memo.save(self._memo_file(share))
        except OSError as exc:
            return f"could not save the cache in {self.folder}: {exc.strerror or exc}"
        return None

    def save(self, manifests: tuple[TreeManifest, ...], jobs: int) -> str | None:
        """Save the parent's tables and the manifests; a message if that failed."""
        if self.folder is None or self.manifest_file is None:
            return None
        problem = self.save_memo(share=0) or (self.save_parser() if jobs < 2 else None)
        if problem:
            return problem
        try:
            if jobs < 2:  # the other share's tables are in memo-0 now; keep one copy
                self._memo_file(1).unlink(missing_ok=True)
            _write_atomically(self.manifest_file, manifests)
        except OSError as exc:
            return f"could not save the cache in {self.folder}: {exc.strerror or exc}"
        return None


def _write_atomically(path: Path, value: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".export-")
    try:
        with os.fdopen(fd, "wb") as handle:
            pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
