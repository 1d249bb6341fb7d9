"""The cache of `feeds build` between builds: the parsed catalog, the render tables and
the export manifests, in files sealed with the user's key (`feeds.sealed`), each kept by
the process that renders its share (see `feeds.publish.processes`)."""

from __future__ import annotations

import hashlib
import os
import sys
import threading
from pathlib import Path

from .. import memo, sealed
from ..catalog.incremental import CatalogParser
from ..catalog.parts import Parts, part_entry_names
from ..model import Catalog
from ..render import entry_key
from .files import TreeManifest


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


class BuildCache:
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
            say_ignored(Path(), exc)
            return False
        return True

    def _load(self, path: Path, purpose: str) -> object:
        """The value kept at `path`, or None: none there, one from another version of
        feeds, or one this user's feeds did not write (said once, never unpickled)."""
        try:
            return sealed.load(path, purpose)
        except (sealed.Unsealed, sealed.NoKey) as exc:
            say_ignored(path, exc)
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
        build: the child the pages of the entry runs the parent claimed (`processes._EntryRuns`),
        the parent the calendars (`processes._shares`). After a one-process build everything is in
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
            say_ignored(self._memo_file(share), exc)
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


def say_ignored(path: Path, problem: Exception) -> None:
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
    pages by either process), as opposed to feeds and calendars (`processes._shares`)."""
    return table.startswith("pages.")


def _is_calendars(table: str) -> bool:
    """Whether a memo table is the calendars' own (rendered by the child of a cold build,
    by the parent of a rebuild)."""
    return table.startswith("ics.")
