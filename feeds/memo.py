"""Content-keyed memo tables for the pure core, swept per build, optionally kept on disk.

Rendering is pure (same entry in, same bytes out), so a result can be reused whenever
its inputs are equal: the key IS the content (a frozen Entry, the Feed, a text), never a
name or a position. This is what makes a reload after editing one entry cheap: only
the edited entry misses.

- `Memo(name)` registers a table; `memo.get(key, compute)` returns the stored value or
  computes, stores and returns it; `memo.put(key, value)` replaces one. `ByIdentity`
  is a table found by an object's identity instead of its content.
- `begin_build()` / `end_build()` bracket one Site build: a value not used by the
  latest build is dropped at its end, so memory stays bounded by one catalog's worth
  however long a server runs and however often the catalog changes.
- `save(path)` / `load(path)` keep the tables between `feeds build` runs (a warm cache),
  all but those made with `Memo(name, saved=False)`, in a file sealed with this user's
  key (`feeds.sealed`): one planted where the cache is is never unpickled.
  The file is tagged with a fingerprint of the code, so a change to any module of the
  package, or a different Python, silently starts cold instead of reusing stale output.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import sys
import threading
import zlib
from collections.abc import Callable, Hashable, Iterable, Iterator
from pathlib import Path
from typing import Generic, TypeVar

from . import sealed

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_tables: dict[str, Memo[Hashable, object]] = {}
_lock = threading.Lock()  # builds may run in a watcher thread while another starts


class Memo(Generic[K, V]):
    def __init__(self, name: str, saved: bool = True) -> None:
        """`saved=False`: a table `save` leaves out (worth keeping only in memory)."""
        if name in _tables:
            raise ValueError(f"two memo tables named {name!r}")
        self.name = name
        self.saved = saved
        self.values: dict[K, V] = {}  # what the last complete build used (and loaded ones)
        self.used: dict[K, V] = {}  # what the current build has used so far
        _tables[name] = self  # type: ignore[assignment]

    def get(self, key: K, compute: Callable[[], V]) -> V:
        try:
            value = self.values[key]
        except KeyError:
            # Not known before this build: computed already by it (a key asked twice),
            # or computed now.
            value = self.used.get(key, _MISSING)  # type: ignore[assignment]
            if value is _MISSING:
                value = compute()
        self.used[key] = value
        return value

    def peek(self, key: K) -> V | None:
        """The value stored for `key`, if any, without counting it as used."""
        value = self.used.get(key, _MISSING)
        if value is _MISSING:
            value = self.values.get(key)
        return value  # type: ignore[return-value]

    def put(self, key: K, value: V) -> None:
        """Store `value` for `key` (replacing any), as used by the current build."""
        self.values[key] = value
        self.used[key] = value

    def keep_previous(self, dropping: Iterable[K] = ()) -> None:
        """Count what the last build used as used by this one too, but `dropping` (unless
        this build asked for it already).

        For a build that hands over what it made from these values (the feed documents
        after an edit that moved nothing) instead of asking for each of them again: the
        values must still be here for a later build that does ask, and those of what the
        edit replaced must go (`dropping`), or a long run of such builds would keep them.
        """
        kept = dict(self.values)
        kept.update(self.used)
        for key in dropping:
            if key not in self.used:
                kept.pop(key, None)
        self.used = kept

    def sweep(self) -> None:
        """Keep only what the last build used: the dict it filled becomes the table (no
        pass over the old table, whose keys are each hashed and compared again)."""
        self.values = self.used
        self.used = {}

    def keep_all(self) -> None:
        """Keep the old values and the new ones: after a build that did not finish, or
        before a build, for values got outside of any build (tests, one-off renders)."""
        if self.used:
            self.values.update(self.used)
            self.used = {}

    def clear(self) -> None:
        self.values = {}
        self.used = {}


_MISSING = object()  # a stored value may be None

Obj = TypeVar("Obj")


class ByIdentity(Generic[Obj, V]):
    """A table of values derived from objects, found by the object's identity.

    For objects handed over unchanged from one build to the next (the entries a reload
    did not touch, the feed documents made only of them), where hashing the object's
    content would cost more than the lookup should save. An equal object that is not the
    same one misses. A `Memo` underneath (never saved: ids mean nothing in another
    process) keeps, swept per build like any table, each object with its value, so an id
    in it always belongs to the object it was stored for.
    """

    def __init__(self, name: str) -> None:
        self._table: Memo[int, tuple[Obj, V]] = Memo(name, saved=False)

    def get(self, obj: Obj, compute: Callable[[], V]) -> V:
        known = self._known(obj)
        if known is not None:
            return known[1]
        value = compute()
        self.put(obj, value)
        return value

    def find(self, obj: Obj) -> V | None:
        """The value stored for `obj` (now counted as used), or None."""
        known = self._known(obj)
        return known[1] if known is not None else None

    def _known(self, obj: Obj) -> tuple[Obj, V] | None:
        # The table's dicts read directly: EntryKey asks ~10,000 times a build.
        table, key = self._table, id(obj)
        known = table.used.get(key) or table.values.get(key)
        if known is None or known[0] is not obj:
            return None
        table.used[key] = known
        return known

    def put(self, obj: Obj, value: V) -> None:
        self._table.put(id(obj), (obj, value))


def begin_build() -> None:
    _lock.acquire()
    for table in _tables.values():
        table.keep_all()


def end_build(success: bool = True) -> None:
    """Sweep every table (after a failed build keep everything: it was not a full use)."""
    try:
        for table in _tables.values():
            if success:
                table.sweep()
            else:
                table.keep_all()
    finally:
        _lock.release()


def clear_all() -> None:
    for table in _tables.values():
        table.clear()


# Distributions whose code reads the catalog or writes what the Site serves.
OUTPUT_LIBRARIES = (
    "PyYAML",
    "feedgen",
    "icalendar",
    "lxml",
    "Jinja2",
    "MarkupSafe",
    "markdown-it-py",
    "nh3",
    "Babel",
    "python-dateutil",
    "tzdata",
    "zlib-ng",
)


def _version_of(library: str) -> str:
    try:
        return importlib.metadata.version(library)
    except importlib.metadata.PackageNotFoundError:
        return "none"


@functools.cache
def code_fingerprint() -> str:
    """Hash of the package's source files, the Python version and the versions of the
    libraries that shape the output: a cache key for the code.

    Computed once per process (~25 ms: every source file read, 12 libraries' versions
    looked up; a build asks for it at each cache file it saves or loads): the code that
    runs is the code imported at the start, even if the files change meanwhile."""
    digest = hashlib.sha256(sys.version.encode())
    # The libraries that shape the bytes: a cache made with another version of one would
    # hand an upgraded build the old version's bodies and gzip streams.
    for library in OUTPUT_LIBRARIES:
        digest.update(f"{library}=={_version_of(library)};".encode())
    digest.update(zlib.ZLIB_RUNTIME_VERSION.encode())
    package = Path(__file__).resolve().parent
    # Every file of the package, not a list of kinds: templates, static files and the
    # translations (`locale/*.po`) shape the output as much as the code does.
    for path in sorted(package.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(package)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def save(path: Path, tables: Callable[[str], bool] = lambda name: True) -> None:
    """Write every non-empty table (of those whose name `tables` accepts) to `path`
    atomically (temp file + rename); errors are the caller's. Empty tables are left out
    so that files saved by processes that shared a build's work (each filling some
    tables) can all be loaded."""
    payload = {
        name: table.values | table.used  # `used`: values got outside of any build
        for name, table in _kept(tables)
    }
    sealed.dump(path, SEALED_AS, (code_fingerprint(), payload))


SEALED_AS = "memo tables"  # the purpose its files are sealed for (`feeds.sealed`)


def filled(tables: Callable[[str], bool]) -> bool:
    """Whether `save` would write any table (of those whose name `tables` accepts)."""
    return any(_kept(tables))


def _kept(tables: Callable[[str], bool]) -> Iterator[tuple[str, Memo[Hashable, object]]]:
    """The tables `save` writes: saved ones, not empty, whose name `tables` accepts."""
    for name, table in _tables.items():
        if table.saved and (table.values or table.used) and tables(name):
            yield name, table


def load(path: Path) -> bool:
    """Add the tables in `path` to ours if it was written by this very code; False if
    there is no such file, or one from another version of the code.

    Raises `sealed.Unsealed` for a file that this user's feeds did not write (planted
    or damaged: never unpickled), and `sealed.NoKey` where no key can be had; the
    caller says so, and goes on with the tables to fill.
    """
    try:
        saved = sealed.load(path, SEALED_AS)
    except (sealed.Unsealed, sealed.NoKey):
        raise
    except (OSError, sealed.Outdated):  # none, or unreadable: the tables fill anew
        return False
    if not (isinstance(saved, tuple) and len(saved) == 2):
        return False
    fingerprint, payload = saved
    if fingerprint != code_fingerprint() or not isinstance(payload, dict):
        return False
    for name, values in payload.items():
        table = _tables.get(name)
        if table is not None and isinstance(values, dict):
            table.values.update(values)
    return True
