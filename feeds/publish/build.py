"""`feeds build`: catalog -> every Output -> an export tree, quickly, and again quicker.

Two things make it fast (10k entries, see benchmarks/RESULTS.md):

- Both cores on a large catalog (`feeds.publish.processes`): the process forks as soon
  as the file is read. On a cold build each process reads half of the entries and
  renders their summaries, and they swap halves (`processes.read_catalog_in_two`; a
  rebuild instead reads only the changed entries, before the fork). Then the child
  renders the list pages (and, on a cold build, the calendars) and the parent the feeds
  (and, on a rebuild, the calendars), and the entry pages, cut in runs, go to
  whichever is free first (`processes._EntryRuns`); each writes its own files into the
  same staging tree (`stage.Stage`, which flushes them to the disk as they come). Only a
  small report (file names, content tags, counts) goes back through a pipe, never the
  bodies; the parent checks the union for clashes before the tree is flipped live.
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

import gc
import hashlib
import os
import stat
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from ..catalog import CatalogErrors, read_catalog
from ..model import Feed
from ..site import default_renderers
from .build_cache import BuildCache, default_cache_dir
from .export import staged_export, summary
from .files import ExportResult, TreeManifest
from .processes import Child, build_outputs, default_jobs, read_catalog_in_two
from .trees import ExportError, check_out, left_as_it_was, live_tree
from .websub import Retry, changed_feed_paths, publish


@dataclass(frozen=True)
class BuildOptions:
    cache_dir: Path | None  # None: no cache (a cold build that leaves nothing behind)
    jobs: int | None = None  # processes: 1 or 2; None picks by catalog size and cores
    quiet: bool = False


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
    cache = BuildCache(options.cache_dir, catalog_path, out)
    child: Child | None = None
    try:
        data = read_catalog(catalog_path)
        halves = read_catalog_in_two(data, catalog_path, cache, options.jobs)
        if halves is not None:
            catalog, child = halves
        else:
            catalog = cache.parse_catalog(data, catalog_path)
    except CatalogErrors as exc:
        for error in exc.errors:
            print(error, file=err)
        count = len(exc.errors)
        print(
            f"{count} problem{'s' if count != 1 else ''} in {catalog_path}; "
            f"nothing was built, {left_as_it_was(out)}",
            file=err,
        )
        return 1
    jobs = 2 if child is not None else options.jobs or default_jobs(len(catalog.entries))
    renderers = default_renderers()  # imported first: their memo tables receive the cache
    try:
        known = cache.load_manifests()
        feeds_before = previous_feed_tags(known, out) if catalog.feed.hub else {}
        with staged_export(out, catalog.version, known) as stage:
            child = build_outputs(catalog, renderers, stage, jobs, cache, child)
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
