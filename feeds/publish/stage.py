"""Writing an export tree: files written once (O_EXCL) or hard-linked from the live tree
when unchanged, a recycled tree updated in place, flushed to the disk while written."""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
import stat
import threading
from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from .files import ExportResult, PlannedFile, TreeManifest, WriteReport, refuse_file_folder_clashes
from .trees import (
    DIR_MODE,
    ExportError,
    describe,
    fsync_dir,
    is_marked_tree,
    make_staging,
    new_tree_name,
    staging_name,
    tree_name,
)

_FILE_MODE = 0o644  # public content: nginx workers run as another user


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


def reusable(current: Path | None, known: Sequence[TreeManifest]) -> _Reuse | None:
    """The live tree's files that may be hard-linked, if a manifest describes that tree."""
    for manifest in known:
        if current is not None and manifest.tree == current.name:
            return _Reuse(str(current), manifest.files)
    return None


def staging_tree(
    out: Path, current: Path | None, known: Sequence[TreeManifest]
) -> tuple[str, dict[str, tuple[str, int]] | None]:
    """The folder to build in and what it already holds: a recycled tree (the one before
    the live one, renamed, with its manifest) or a new empty folder (None)."""
    for manifest in known:
        tree = out.parent / manifest.tree
        if (
            (current is None or manifest.tree != current.name)
            and tree_name(out).fullmatch(manifest.tree)
            and is_marked_tree(out, tree)  # a real folder of this export's, not a copy's
        ):
            staging = staging_name(out)
            os.rename(tree, staging)
            return staging, dict(manifest.files)
    return make_staging(out), None


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
        self._chmod_folders = bool(mask & DIR_MODE)
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
            raise ExportError(describe(exc, current, self.out)) from exc
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
        _write_file(target, bytes(item.body), item.mtime_ns, self._chmod)
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
        refuse_file_folder_clashes(self.report.manifest.keys())
        current = self.staging
        try:
            if self.recycled is not None:
                self._remove_unplanned(self.recycled.keys() - self.report.manifest.keys())
            _flush_to_disk(Path(self.staging))
            final = new_tree_name(self.out, version)
            current = str(self.out.parent / final)
            os.rename(self.staging, current)
            fsync_dir(self.out.parent)
        except OSError as exc:
            raise ExportError(describe(exc, current, self.out)) from exc
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
                os.mkdir(path, DIR_MODE)
            except FileExistsError:
                if not os.path.isdir(path):
                    if self.recycled is None:  # a file where a folder is needed
                        raise
                    os.unlink(path)  # a recycled tree's file, where a folder is needed now
                    os.mkdir(path, DIR_MODE)
                    if self._chmod_folders:
                        os.chmod(path, DIR_MODE)
            else:
                if self._chmod_folders:  # mkdir honours the umask; the export is public
                    os.chmod(path, DIR_MODE)
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


def _umask() -> int:
    """This process's umask. Whether it takes bits off `_FILE_MODE` or `DIR_MODE` says
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
