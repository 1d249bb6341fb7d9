"""Write a Site to a folder that nginx, an object store or a CDN serves as static files.

Layout, for `--out site`:

    site -> .site.<version>.<token>      a symlink, flipped atomically by each build
    .site.<version>.<token>/             the complete export it points to
    .site.<older>.<token>/               the previous export, kept for a rollback
    .site.lock                           serialises concurrent builds

Own what you make, touch nothing else. The folder holding `site` is the user's: it
may hold their files (`.site.env`, `.site.backup/`) and other exports (`--out site.en`,
whose trees `.site.en.<version>.<token>` also start with `.site.`). So every folder a
build makes holds a mark, `.feeds-made` (`feeds.publish.marks`), written into it before
anything else, naming the export it belongs to; the lock file holds the same kind of
words. A build removes a folder only when its name is one a build of this export gives
(`.site.build-<token>`, `.site.<version>.<token>`) and it holds this export's mark,
owned by this user; it removes no file but its own flip's symlink (`.site.link-<token>`,
pointing at a tree of this export), never follows a symlink, and removes the mark last
(a removal cut short leaves a tree still marked). An `--out` that names no folder (`/`),
an existing folder or file that is not an export (`~`, `~/Documents`), or a symlink to
anything but this export's tree is refused before anything is made or read: no lock
file, no walk of the folder (`check_out`).

Why a symlink flip rather than renaming directories: rename(2) can replace a symlink
atomically but cannot replace a non-empty directory, so "rename old away, rename new
in" leaves a moment with no `site` at all (nginx answers 404, a crash there needs a
hand to repair). With the flip, `site` always names one complete export: before the
flip the old one, after it the new one. Every step before the flip writes only marked
folders (and the flip's symlink) starting with `.site.`, which a crash (SIGKILL at any
point) leaves as marked garbage that the next build removes:

1. make `.site.build-XXXX/` and write its mark; write every file into it (O_EXCL: a
   path is never written twice), set its mtime from Last-Modified, then flush the
   filesystem (syncfs); a file whose bytes and mtime are those of the live tree's copy
   is hard-linked to it instead of written (so never edit an export's files in place:
   the previous tree shares them);
2. rename the finished tree to `.site.<version>.<token>` (complete trees only);
3. point a new symlink at it and rename that over `site` (the atomic step);
4. remove older trees, keeping the previous one for a rollback.

Recycling: when the caller knows what the tree before the live one holds (its
manifest, from the last build), step 1 does not start from an empty folder: that tree
is renamed to `.site.build-XXXX/` and only the files that differ are replaced (a new
inode each time, unlinked then created: its unchanged files may be hard links shared
with the live tree, which must never change) and the files no longer planned removed.
A rebuild after a small edit then costs what changed instead of a link per file and a
whole tree removed in step 4 (10k entries: ~30,000 links and unlinks, seconds).

An OSError before step 3 (disk full, permissions) removes the partial tree and leaves
the previous export as it was (a recycled tree is gone then; the next build writes a
fresh one).

Trees made before marks existed are still accepted as the live one (`site` points at
them) but, unmarked, are never removed: delete them by hand after an upgrade.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import re
import secrets
import shutil
import stat
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from ..site import Output, Site
from . import marks

_FILE_MODE = 0o644  # public content: nginx workers run as another user
_DIR_MODE = 0o755


class ExportError(Exception):
    """A problem the operator can fix; the message says what happened and what to do."""


@dataclass(frozen=True)
class TreeManifest:
    """What one export tree holds: file name -> (content tag, mtime in ns).

    The content tag is the Output's ETag (or its gzip ETag), a hash of the bytes. The
    next build hard-links a file from this tree instead of writing it again when the
    tag and mtime are unchanged (see `Stage`).
    """

    tree: str  # the tree's folder name, e.g. ".site.174cb93c0949.014616d8"
    files: dict[str, tuple[str, int]]


@dataclass(frozen=True)
class ExportResult:
    out: Path  # the symlink the build (re)pointed
    tree: Path  # the directory it now points to
    files: int  # files in the tree, .gz variants included
    gzip_files: int  # of which .gz variants
    bytes: int  # their total size
    seconds: float
    # of `files`, unchanged since an earlier tree: hard-linked or kept (recycled), not written
    linked: int = 0
    manifest: TreeManifest | None = None
    replaced: str | None = None  # the tree that was live before (now the previous one)


@dataclass(frozen=True)
class PlannedFile:
    name: str  # relative to the tree, "/"-separated: "entries/a/index.html"
    body: bytes
    tag: str  # identifies the bytes: the Output's ETag (or gzip ETag)
    mtime_ns: int
    gzip: bool


@dataclass
class WriteReport:
    """What one process put into the staging tree (a build may use several)."""

    files: int = 0
    gzip_files: int = 0
    bytes: int = 0
    linked: int = 0
    manifest: dict[str, tuple[str, int]] = field(default_factory=dict)

    def merge(self, other: WriteReport) -> None:
        self.files += other.files
        self.gzip_files += other.gzip_files
        self.bytes += other.bytes
        self.linked += other.linked
        self.manifest.update(other.manifest)


def summary(result: ExportResult, seconds: float) -> str:
    """One line: what was written where, how big, how long."""
    reused = f"; {result.linked} unchanged, not written" if result.linked else ""
    return (
        f"built {result.out} -> {result.tree.name}: {result.files} files "
        f"({result.gzip_files} .gz), {_size(result.bytes)} in {seconds:.2f} s{reused}"
    )


def _size(count: int) -> str:
    if count < 1024:
        return f"{count} B"
    if count < 1024 * 1024:
        return f"{count / 1024:.1f} KiB"
    return f"{count / (1024 * 1024):.1f} MiB"


def export_site(site: Site, out: Path, known: Sequence[TreeManifest] = ()) -> ExportResult:
    """Write `site` under `out` atomically; raise ExportError on anything the operator must fix.

    `known`, the manifests of the trees next to `out` (from the last builds' results),
    lets unchanged files be hard-linked from the live tree, or kept in a recycled one,
    instead of written.
    """
    plan = plan_files(site.outputs.values())
    with staged_export(out, site.version, known) as stage:
        stage.write(plan)
    assert stage.result is not None
    return stage.result


def plan_files(outputs: Iterable[Output]) -> list[PlannedFile]:
    """Every file of the outputs, in path order, checked before anything touches the disk.

    Refuses two outputs for one file (as Pelican's writer does) and a file where another
    output needs a directory: both are renderer bugs that would otherwise silently drop
    one of the outputs.
    """
    owners: dict[str, str] = {}
    files: list[PlannedFile] = []
    for output in sorted(outputs, key=lambda o: o.path):
        name = _relative_file(output)
        mtime_ns = int(output.last_modified.timestamp()) * 1_000_000_000
        variants = [PlannedFile(name, output.body, output.etag, mtime_ns, False)]
        if output.gzip_body is not None and output.gzip_etag is not None:
            gz = PlannedFile(name + ".gz", output.gzip_body, output.gzip_etag, mtime_ns, True)
            variants.append(gz)
        for planned in variants:
            if planned.name in owners:
                raise ExportError(
                    f"{owners[planned.name]} and {output.path} would both be written to "
                    f"{planned.name}; this is a bug in a renderer, please report it"
                )
            owners[planned.name] = output.path
            files.append(planned)
    _refuse_file_folder_clashes(owners.keys())
    return files


def _refuse_file_folder_clashes(names: Collection[str]) -> None:
    folders: set[str] = set()
    for name in names:
        folder = name.rpartition("/")[0]
        while folder and folder not in folders:
            folders.add(folder)
            folder = folder.rpartition("/")[0]
    clashes = sorted(folders.intersection(names))
    if clashes:
        raise ExportError(
            f"{clashes[0]} is needed both as a file and as a directory; "
            "this is a bug in a renderer, please report it"
        )


def _relative_file(output: Output) -> str:
    """The output's file name, refusing anything that could land outside the export."""
    # Checked on the raw string: PurePosixPath would quietly fold "a//b" and "./a".
    parts = output.file_name.split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise ExportError(f"{output.path}: not a path the export can write; report this bug")
    if any(p.startswith(".") for p in parts):
        # nginx refuses dotfiles and object-store syncs skip them: the file would be lost.
        raise ExportError(f"{output.path}: a name starting with '.' would not be served")
    return "/".join(parts)


def check_out(out: Path) -> Path:
    """`out`, made absolute, if a build may make or replace it; else ExportError.

    Makes, writes and walks nothing, so a refused `--out` leaves no trace and costs
    nothing: `feeds build` calls it before anything else, `staged_export` before taking
    the lock (and checks again under it). Refused: a path that names no folder (`/`), an
    existing file or non-empty folder that is not an export (`~`, `~/Documents`), a
    symlink to anything but a tree of this export, and a lock file that is not ours.
    """
    out = Path(os.path.abspath(out))
    if not out.name:
        raise ExportError(
            f"--out {out} names no folder to export to; choose a new folder, such as ./site"
        )
    _current_tree(out)
    _check_lock(_lock_path(out), out)
    return out


def live_tree(out: Path) -> Path | None:
    """The tree of this export that `out` points to (a real folder), if any; refuses an
    `out` that is not an export like `check_out`."""
    current = _current_tree(Path(os.path.abspath(out)))
    try:
        return current if current is not None and stat.S_ISDIR(_lstat_mode(current)) else None
    except OSError:
        return None  # the symlink dangles


def _tree_mark(out: Path) -> bytes:
    return marks.mark_text("export tree", out.name)


def _lock_mark(out: Path) -> bytes:
    return marks.mark_text("export lock", out.name)


def _lock_path(out: Path) -> Path:
    return out.parent / f".{out.name}.lock"


def _check_lock(lock_path: Path, out: Path) -> None:
    """Refuse a lock file that this export's builds did not make (we would hold it open,
    never write it). Empty: made by an older version, or by a build about to mark it."""
    try:
        fd = os.open(lock_path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # a symlink in its place
            raise _foreign_lock(lock_path) from exc
        return  # missing (made by the build), or unreadable (the build says why)
    try:
        _refuse_foreign_lock(fd, lock_path, out)
    finally:
        os.close(fd)


def _refuse_foreign_lock(fd: int, lock_path: Path, out: Path) -> None:
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid():
        raise _foreign_lock(lock_path)
    if info.st_size and os.pread(fd, 4097, 0) != _lock_mark(out):
        raise _foreign_lock(lock_path)


def _foreign_lock(lock_path: Path) -> ExportError:
    return ExportError(
        f"{lock_path} exists and was not made by `feeds build` for this export; "
        "it was left as it was: move it away or choose another --out"
    )


@contextmanager
def _build_lock(out: Path) -> Iterator[None]:
    """One build at a time per output folder: a second one waits for the first. The
    lock file is made with its mark (O_EXCL); one found is used only if it is ours."""
    lock_path = _lock_path(out)
    try:
        fd = _open_lock(lock_path, out)
    except OSError as exc:
        raise ExportError(_describe(exc, lock_path, out)) from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _open_lock(lock_path: Path, out: Path) -> int:
    new = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(lock_path, new, 0o644)
    except FileExistsError:
        pass
    else:
        try:
            os.write(fd, _lock_mark(out))  # a few bytes: one write
        except BaseException:
            os.close(fd)
            raise
        return fd
    try:  # flock needs no write access: an existing lock is only read
        fd = os.open(lock_path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # a symlink in its place
            raise _foreign_lock(lock_path) from exc
        raise
    try:
        _refuse_foreign_lock(fd, lock_path, out)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _current_tree(out: Path) -> Path | None:
    """The tree `out` points to now; refuse an `out` that this module did not make."""
    try:
        mode = os.lstat(out).st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ExportError(_describe(exc, out, out)) from exc
    if stat.S_ISLNK(mode):
        target = os.readlink(out)
        if _is_our_tree(out, target):
            return out.parent / target
        raise ExportError(
            f"{out} is a symlink to {target}, not an export made by `feeds build` "
            f"for {out.name}; remove it or choose another --out"
        )
    if stat.S_ISDIR(mode) and _is_empty(out):
        return None  # an empty folder made by hand to receive the export: _flip replaces it
    raise ExportError(
        f"{out} already exists and is not an export made by `feeds build` "
        "(which makes it a symlink); it was left as it was: move it away or choose "
        "another --out"
    )


def _is_empty(folder: Path) -> bool:
    try:
        with os.scandir(folder) as entries:
            return next(entries, None) is None
    except OSError:
        return False


def _tree_name(out: Path) -> re.Pattern[str]:
    """The names a build of `out` gives its finished trees: `.site.<version>.<token>`
    (not `.site.en.<version>.<token>`, another export's)."""
    return re.compile(rf"\.{re.escape(out.name)}\.[^./]{{1,12}}\.[0-9a-f]{{8}}")


def _is_our_tree(out: Path, target: str) -> bool:
    """Whether `target`, a name next to `out`, is a finished tree of this export: a tree's
    name, and a real folder holding this export's mark. A folder of that name without a
    mark, made by an older version, is accepted too (a build left it behind: it is never
    removed), and so is a name that is gone (the symlink dangles: nothing to lose)."""
    if not _tree_name(out).fullmatch(target):
        return False
    try:
        mode = _lstat_mode(out.parent / target)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    if not stat.S_ISDIR(mode):
        return False
    mark = marks.read_mark(out.parent / target)
    return mark is None or mark == _tree_mark(out)


def _is_marked_tree(out: Path, tree: Path) -> bool:
    return marks.read_mark(tree) == _tree_mark(out)


def _lstat_mode(path: Path) -> int:
    return os.lstat(path).st_mode


@contextmanager
def staged_export(out: Path, version: str, known: Sequence[TreeManifest] = ()) -> Iterator[Stage]:
    """Lock `out`, yield a Stage to write the new tree into, then make it live.

    The caller writes every file with `Stage.write` (another process may write a share
    of them into `Stage.staging` and hand its report to `Stage.add`). When the block ends
    normally the tree is flushed, checked, renamed and flipped live, and `Stage.result`
    is set; when it raises, the partial tree is removed and `out` is left as it was.
    """
    started = time.perf_counter()
    out = check_out(out)  # before anything is made: a refused `out` leaves no lock file
    parent = out.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(_describe(exc, parent, out)) from exc
    with _build_lock(out):
        current = _current_tree(out)  # again: another build may have flipped it meanwhile
        try:
            staging, recycled = _staging(out, current, known)
            stage = Stage(out, staging, _reusable(current, known), recycled)
        except OSError as exc:
            raise ExportError(_describe(exc, out.parent, out)) from exc
        try:
            try:
                yield stage
            finally:
                stage.flusher.stop()
            tree = stage.complete(version)
        except BaseException:
            _remove_tree(out, Path(stage.staging))
            raise
        _flip(out, tree)
        _remove_stale(out, keep={tree.name, current.name if current else ""})
    report = stage.report
    stage.result = ExportResult(
        out=out,
        tree=tree,
        files=report.files,
        gzip_files=report.gzip_files,
        bytes=report.bytes,
        seconds=time.perf_counter() - started,
        linked=report.linked,
        manifest=TreeManifest(tree.name, report.manifest),
        replaced=current.name if current else None,
    )


class _Flusher:
    """Flushes a staging tree's file system every INTERVAL seconds, in a thread, from
    the first file written (`Stage.write`) until `stop`: the disk then writes while the
    build renders.

    The kernel would otherwise write nothing of a build's 140 MB (10k entries) until
    the final flush before the flip (`Stage.complete`), which took 0.4 s on this
    machine's ext4; flushed as it goes, each flush takes 0.05-0.1 s and the final one
    as little, for the same rendering time (benchmarks/RESULTS.md). syncfs waits in the
    kernel without holding the interpreter. A failed flush here is left to the final
    one, which reports it.

    Only the process that made the Stage flushes (a flush is of the whole file system,
    the other process's files included), and it starts at the first write, not before:
    `feeds build` forks its second process before that, and a fork should not copy a
    running thread.
    """

    INTERVAL = 0.25

    def __init__(self, tree: str) -> None:
        self.tree = Path(tree)
        self.pid = os.getpid()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def __getstate__(self) -> tuple[Path, int]:  # the Stage is sent to the other process
        return self.tree, self.pid

    def __setstate__(self, state: tuple[Path, int]) -> None:
        self.tree, self.pid = state
        self._done = threading.Event()
        self._thread = None

    def start(self) -> None:
        if self._thread is None and os.getpid() == self.pid:
            self._thread = threading.Thread(target=self._run, name="flush-export", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._done.wait(self.INTERVAL):
            with suppress(OSError):
                _flush_to_disk(self.tree)

    def stop(self) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join()


def _reusable(current: Path | None, known: Sequence[TreeManifest]) -> _Reuse | None:
    """The live tree's files that may be hard-linked, if a manifest describes that tree."""
    for manifest in known:
        if current is not None and manifest.tree == current.name:
            return _Reuse(str(current), manifest.files)
    return None


def _staging(
    out: Path, current: Path | None, known: Sequence[TreeManifest]
) -> tuple[str, dict[str, tuple[str, int]] | None]:
    """The folder to build in and what it already holds: a recycled tree (the one before
    the live one, renamed, with its manifest) or a new empty folder (None)."""
    for manifest in known:
        tree = out.parent / manifest.tree
        if (
            (current is None or manifest.tree != current.name)
            and _tree_name(out).fullmatch(manifest.tree)
            and _is_marked_tree(out, tree)  # a real folder of this export's, not a copy's
        ):
            staging = _staging_name(out)
            os.rename(tree, staging)
            return staging, dict(manifest.files)
    return _make_staging(out), None


@dataclass(frozen=True)
class _Reuse:
    tree: str
    files: dict[str, tuple[str, int]]


class Stage:
    """A new export tree being written in a hidden folder next to `out`."""

    def __init__(
        self,
        out: Path,
        staging: str,
        reuse: _Reuse | None,
        recycled: dict[str, tuple[str, int]] | None = None,
    ) -> None:
        self.out = out
        self.staging = staging
        self.reuse = reuse
        self.recycled = recycled  # what a recycled staging tree holds; None: it was empty
        mask = _umask()  # read once per build, not once per file
        self._chmod = bool(mask & _FILE_MODE)
        self._chmod_folders = bool(mask & _DIR_MODE)
        self.report = WriteReport()
        self.result: ExportResult | None = None
        self._folders = {""}  # made by this process, relative to the tree
        self.flusher = _Flusher(staging)

    def write(self, plan: list[PlannedFile]) -> WriteReport:
        """Write (or hard-link, when unchanged) every planned file; add it to the report."""
        report = WriteReport()
        current = self.staging
        self.flusher.start()
        try:
            for item in plan:
                folder = item.name.rpartition("/")[0]
                if folder not in self._folders:
                    current = f"{self.staging}/{folder}"
                    self._make_folders(folder)
                current = f"{self.staging}/{item.name}"
                report.linked += self._place(item, current)
                report.files += 1
                report.gzip_files += item.gzip
                report.bytes += len(item.body)
                report.manifest[item.name] = (item.tag, item.mtime_ns)
        except OSError as exc:
            raise ExportError(_describe(exc, current, self.out)) from exc
        self.add(report)
        return report

    def _place(self, item: PlannedFile, target: str) -> bool:
        """Put `item` at `target`; True if its bytes were already there or linked."""
        if self.recycled is not None:
            if self._kept(item, target):
                return True
            _clear(target)  # never write into it: it may be a link shared with the live tree
        if self._link_unchanged(item, target):
            return True
        _write_file(target, item.body, item.mtime_ns, self._chmod)
        return False

    def _kept(self, item: PlannedFile, target: str) -> bool:
        """The recycled tree's copy holds these bytes: its manifest says so and its size
        and mtime agree (a file replaced or truncated since is written afresh)."""
        assert self.recycled is not None
        if self.recycled.get(item.name) != (item.tag, item.mtime_ns):
            return False
        return _same_file(target, item)

    def add(self, report: WriteReport) -> None:
        """Count files another process wrote into this tree; refuse a name both wrote."""
        twice = self.report.manifest.keys() & report.manifest.keys()
        if twice:
            raise ExportError(
                f"two outputs would both be written to {min(twice)}; "
                "this is a bug in a renderer, please report it"
            )
        self.report.merge(report)

    def complete(self, version: str) -> Path:
        """Check the whole tree, flush it to disk and give it its final name."""
        _refuse_file_folder_clashes(self.report.manifest.keys())
        current = self.staging
        try:
            if self.recycled is not None:
                self._remove_unplanned(self.recycled.keys() - self.report.manifest.keys())
            _flush_to_disk(Path(self.staging))
            final = f".{self.out.name}.{(version or 'unversioned')[:12]}.{secrets.token_hex(4)}"
            current = str(self.out.parent / final)
            os.rename(self.staging, current)
            _fsync_dir(self.out.parent)
        except OSError as exc:
            raise ExportError(_describe(exc, current, self.out)) from exc
        return self.out.parent / final

    def _remove_unplanned(self, names: Iterable[str]) -> None:
        """Remove the recycled tree's files that this build did not plan, and the folders
        that leaves empty (nginx would answer 403 for one, not 404)."""
        folders: set[str] = set()
        for name in names:
            try:
                os.unlink(f"{self.staging}/{name}")
            except (FileNotFoundError, IsADirectoryError):
                continue  # gone, or a folder of this build's files now
            folders.add(name.rpartition("/")[0])
        for folder in sorted(folders, key=len, reverse=True):  # the deepest first
            while folder:
                try:
                    os.rmdir(f"{self.staging}/{folder}")
                except OSError:
                    break  # not empty: it holds planned files
                folder = folder.rpartition("/")[0]

    def _make_folders(self, folder: str) -> None:
        parts = folder.split("/")
        for depth in range(1, len(parts) + 1):
            relative = "/".join(parts[:depth])
            if relative in self._folders:
                continue
            path = f"{self.staging}/{relative}"
            try:
                os.mkdir(path, _DIR_MODE)
            except FileExistsError:
                if not os.path.isdir(path):
                    if self.recycled is None:  # a file where a folder is needed
                        raise
                    os.unlink(path)  # a recycled tree's file, where a folder is needed now
                    os.mkdir(path, _DIR_MODE)
                    if self._chmod_folders:
                        os.chmod(path, _DIR_MODE)
            else:
                if self._chmod_folders:  # mkdir honours the umask; the export is public
                    os.chmod(path, _DIR_MODE)
            self._folders.add(relative)

    def _link_unchanged(self, item: PlannedFile, target: str) -> bool:
        """Hard-link the live tree's copy of `item` if it holds the very same bytes.

        The manifest says which bytes the live tree's file got; its size and mtime are
        checked again so a file replaced or truncated since is written afresh. A
        filesystem without hard links (or a file at its link limit) falls back to writing.
        """
        if self.reuse is None or self.reuse.files.get(item.name) != (item.tag, item.mtime_ns):
            return False
        source = f"{self.reuse.tree}/{item.name}"
        if not _same_file(source, item):
            return False
        try:
            os.link(source, target)
        except OSError as exc:
            if exc.errno in (errno.EMLINK, errno.EPERM, errno.EXDEV, errno.EOPNOTSUPP):
                return False
            raise
        return True


def _same_file(path: str, item: PlannedFile) -> bool:
    """`path` is a regular file of `item`'s size and mtime (its bytes per a manifest)."""
    try:
        found = os.lstat(path)
    except FileNotFoundError:
        return False
    return (
        stat.S_ISREG(found.st_mode)
        and found.st_size == len(item.body)
        and found.st_mtime_ns == item.mtime_ns
    )


def _clear(path: str) -> None:
    """Make room at `path` in a recycled tree: unlink a file, remove a folder."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except IsADirectoryError:
        shutil.rmtree(path)


def _staging_name(out: Path) -> str:
    return os.path.join(out.parent, f".{out.name}.build-{secrets.token_hex(4)}")


def _make_staging(out: Path) -> str:
    """A new staging folder, marked before anything is written into it."""
    staging = _staging_name(out)
    os.mkdir(staging, _DIR_MODE)
    try:
        marks.write_mark(staging, _tree_mark(out))
        os.chmod(staging, _DIR_MODE)  # mkdir honours the umask; the export is world-readable
    except BaseException:
        # Made a moment ago by this call: remove it (a mark half written too).
        with suppress(OSError):
            os.unlink(os.path.join(staging, marks.MARK))
        with suppress(OSError):
            os.rmdir(staging)
        raise
    return staging


def _remove_tree(out: Path, tree: Path) -> None:
    """Remove a tree of this export (marked), never anything else; a failure leaves it
    marked, for the next build's `_remove_stale`."""
    with suppress(OSError):
        marks.remove_marked(tree, _tree_mark(out))


def _umask() -> int:
    """This process's umask. Whether it takes bits off `_FILE_MODE` or `_DIR_MODE` says
    whether each new file or folder needs a chmod; the usual 022 does not, which saves a
    call per file (30,000 at 10k) and per folder (10,000)."""
    mask = os.umask(0o022)  # the only way to read it before Python 3.13: set, then restore
    os.umask(mask)
    return mask


def _write_file(path: str, body: bytes, mtime_ns: int, chmod: bool = True) -> None:
    # O_EXCL: the plan already refuses duplicates; this makes a second write impossible.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _FILE_MODE)
    try:
        if chmod:  # the umask took bits off: the export must be world-readable
            os.fchmod(fd, _FILE_MODE)
        view = memoryview(body)
        while view:
            view = view[os.write(fd, view) :]
        # nginx derives Last-Modified (and, with size, its ETag) from the mtime: taking it
        # from the Output makes every node that builds the same catalog answer alike.
        os.utime(fd, ns=(mtime_ns, mtime_ns))
    finally:
        os.close(fd)


def _load_syncfs() -> Callable[[int], int] | None:
    try:
        syncfs = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):  # not Linux/glibc
        return None
    syncfs.argtypes = [ctypes.c_int]
    syncfs.restype = ctypes.c_int
    return syncfs


_syncfs = _load_syncfs()


def _flush_to_disk(tree: Path) -> None:
    """Make every file and directory of `tree` durable before the flip can point at it.

    One syncfs(2) of the export's filesystem rather than an fsync per file and folder:
    the same guarantee for a tree written in one go, and far cheaper (1000 files on
    ext4: 0.3 s against 5 s). Where syncfs is missing, os.sync() does the same for all
    filesystems.
    """
    if _syncfs is None:
        os.sync()
        return
    fd = os.open(tree, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if _syncfs(fd) != 0:
            code = ctypes.get_errno()
            raise OSError(code, os.strerror(code), str(tree))
    finally:
        os.close(fd)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _flip(out: Path, tree: Path) -> None:
    """Point `out` at `tree` in one rename(2): readers see the old export or the new one."""
    link = out.parent / f".{out.name}.link-{secrets.token_hex(4)}"
    try:
        os.symlink(tree.name, link)  # relative, so the parent folder can be moved whole
        if out.is_dir() and not out.is_symlink():
            out.rmdir()  # empty (checked before the build); rename(2) cannot replace a directory
        os.replace(link, out)
        _fsync_dir(out.parent)
    except OSError as exc:
        with suppress(OSError):
            if link.is_symlink():  # made by this call: ours
                link.unlink()
        _remove_tree(out, tree)
        raise ExportError(_describe(exc, out, out)) from exc


def _remove_stale(out: Path, keep: set[str]) -> None:
    """Remove what older or crashed builds of this export left, except the live and the
    previous tree: folders of a build's names holding this export's mark, and the
    flip's symlinks pointing at this export's trees. Nothing else, whatever its name
    (`.site.env`, `.site.backup/`, another export's `.site.en.*`, the lock).

    The new export is already live, so a failure here is not an error of the build.
    """
    staging = re.compile(rf"\.{re.escape(out.name)}\.build-[0-9a-f]{{8}}")
    link = re.compile(rf"\.{re.escape(out.name)}\.link-[0-9a-f]{{8}}")
    trees = _tree_name(out)
    try:
        with os.scandir(out.parent) as found:
            entries = [(e.name, e.is_symlink(), e.is_dir(follow_symlinks=False)) for e in found]
    except OSError:
        return
    for name, is_link, is_folder in entries:
        if name in keep:
            continue
        try:
            if is_link and link.fullmatch(name):
                if trees.fullmatch(os.readlink(out.parent / name)):
                    os.unlink(out.parent / name)
            elif is_folder and (staging.fullmatch(name) or trees.fullmatch(name)):
                marks.remove_marked(out.parent / name, _tree_mark(out))
        except OSError:
            continue  # left for the next build to retry: still marked


def _describe(exc: OSError, where: Path | str, out: Path) -> str:
    """An OSError as one sentence: what failed, where, what it means for the export, what to do."""
    keep = f"{out} was left as it was"
    if exc.errno == errno.ENOSPC:
        advice = f"disk full while writing {where}: free space on that filesystem and build again"
    elif exc.errno == errno.EDQUOT:
        advice = f"disk quota exceeded while writing {where}: free space and build again"
    elif exc.errno in (errno.EACCES, errno.EPERM):
        advice = f"permission denied on {where}: make {out.parent} writable for this user"
    elif exc.errno == errno.EROFS:
        advice = f"{where} is on a read-only filesystem: choose another --out"
    else:
        advice = f"cannot write {where}: {exc.strerror or exc}"
    return f"{advice}; {keep}"
