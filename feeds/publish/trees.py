"""The export's folders and lock: which are ours (marked, named for this export), an
`--out` refused before anything is made, the atomic flip of `site`, and removal of
nothing but our own stale trees. See `feeds.publish.export` for the whole sequence."""

from __future__ import annotations

import errno
import fcntl
import os
import re
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from . import marks

DIR_MODE = 0o755


class ExportError(Exception):
    """A problem the operator can fix; the message says what happened and what to do."""


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
    current_tree(out)
    _check_lock(_lock_path(out), out)
    return out


def live_tree(out: Path) -> Path | None:
    """The tree of this export that `out` points to (a real folder), if any; refuses an
    `out` that is not an export like `check_out`."""
    current = current_tree(Path(os.path.abspath(out)))
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
def build_lock(out: Path) -> Iterator[None]:
    """One build at a time per output folder: a second one waits for the first. The
    lock file is made with its mark (O_EXCL); one found is used only if it is ours."""
    lock_path = _lock_path(out)
    try:
        fd = _open_lock(lock_path, out)
    except OSError as exc:
        raise ExportError(describe(exc, lock_path, out)) from exc
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


def current_tree(out: Path) -> Path | None:
    """The tree `out` points to now; refuse an `out` that this module did not make."""
    try:
        mode = os.lstat(out).st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ExportError(describe(exc, out, out)) from exc
    if stat.S_ISLNK(mode):
        target = os.readlink(out)
        if _is_our_tree(out, target):
            return out.parent / target
        raise ExportError(
            f"{out} is a symlink to {target}, not an export made by `feeds build` "
            f"for {out.name}; remove it or choose another --out"
        )
    if stat.S_ISDIR(mode) and _is_empty(out):
        return None  # an empty folder made by hand to receive the export: flip replaces it
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


def tree_name(out: Path) -> re.Pattern[str]:
    """The names a build of `out` gives its finished trees: `.site.<version>.<token>`
    (not `.site.en.<version>.<token>`, another export's); group 1 is the version."""
    return re.compile(rf"\.{re.escape(out.name)}\.([^./]{{1,12}})\.[0-9a-f]{{8}}")


def new_tree_name(out: Path, version: str) -> str:
    """A finished tree's name: the catalog version it holds (its first 12 characters)
    and a token of its own."""
    return f".{out.name}.{_version_part(version)}.{secrets.token_hex(4)}"


def _version_part(version: str) -> str:
    return (version or "unversioned")[:12]


def holds_version(out: Path, tree: Path, version: str) -> bool:
    """Whether `tree`, a finished tree of `out`, was built from the catalog `version`."""
    found = tree_name(out).fullmatch(tree.name)
    return found is not None and found.group(1) == _version_part(version)


def other_versions(out: Path, version: str) -> set[str]:
    """This export's finished, marked trees of another catalog version than `version`.

    A build of the catalog the live tree already holds keeps them: the live tree is
    then a copy of the new one, and the tree before it the only rollback to what was
    published before (a cron job rebuilding an unchanged catalog must not lose it)."""
    pattern = tree_name(out)
    try:
        names = os.listdir(out.parent)
    except OSError:
        return set()
    return {
        name
        for name in names
        if (found := pattern.fullmatch(name)) is not None
        and found.group(1) != _version_part(version)
        and is_marked_tree(out, out.parent / name)
    }


def _is_our_tree(out: Path, target: str) -> bool:
    """Whether `target`, a name next to `out`, is a finished tree of this export: a tree's
    name, and a real folder holding this export's mark. A folder of that name without a
    mark, made by an older version, is accepted too (a build left it behind: it is never
    removed), and so is a name that is gone (the symlink dangles: nothing to lose)."""
    if not tree_name(out).fullmatch(target):
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


def is_marked_tree(out: Path, tree: Path) -> bool:
    return marks.read_mark(tree) == _tree_mark(out)


def _lstat_mode(path: Path) -> int:
    return os.lstat(path).st_mode


def staging_name(out: Path) -> str:
    return os.path.join(out.parent, f".{out.name}.build-{secrets.token_hex(4)}")


def make_staging(out: Path) -> str:
    """A new staging folder, marked before anything is written into it."""
    staging = staging_name(out)
    os.mkdir(staging, DIR_MODE)
    try:
        marks.write_mark(staging, _tree_mark(out))
        os.chmod(staging, DIR_MODE)  # mkdir honours the umask; the export is world-readable
    except BaseException:
        # Made a moment ago by this call: remove it (a mark half written too).
        with suppress(OSError):
            os.unlink(os.path.join(staging, marks.MARK))
        with suppress(OSError):
            os.rmdir(staging)
        raise
    return staging


def remove_tree(out: Path, tree: Path) -> None:
    """Remove a tree of this export (marked), never anything else; a failure leaves it
    marked, for the next build's `remove_stale`."""
    with suppress(OSError):
        marks.remove_marked(tree, _tree_mark(out))


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def flip(out: Path, tree: Path) -> None:
    """Point `out` at `tree` in one rename(2): readers see the old export or the new one."""
    link = out.parent / f".{out.name}.link-{secrets.token_hex(4)}"
    try:
        os.symlink(tree.name, link)  # relative, so the parent folder can be moved whole
        if out.is_dir() and not out.is_symlink():
            out.rmdir()  # empty (checked before the build); rename(2) cannot replace a directory
        os.replace(link, out)
        fsync_dir(out.parent)
    except OSError as exc:
        with suppress(OSError):
            if link.is_symlink():  # made by this call: ours
                link.unlink()
        remove_tree(out, tree)
        raise ExportError(describe(exc, out, out)) from exc


def remove_stale(out: Path, keep: set[str]) -> None:
    """Remove what older or crashed builds of this export left, except the live and the
    previous tree: folders of a build's names holding this export's mark, and the
    flip's symlinks pointing at this export's trees. Nothing else, whatever its name
    (`.site.env`, `.site.backup/`, another export's `.site.en.*`, the lock).

    The new export is already live, so a failure here is not an error of the build.
    """
    staging = re.compile(rf"\.{re.escape(out.name)}\.build-[0-9a-f]{{8}}")
    link = re.compile(rf"\.{re.escape(out.name)}\.link-[0-9a-f]{{8}}")
    trees = tree_name(out)
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


def left_as_it_was(out: Path) -> str:
    """What a refused or failed build did to `out`: nothing, said so truthfully whether
    or not there was an export there."""
    return f"{out} was left as it was" if os.path.lexists(out) else f"{out} was not created"


def describe(exc: OSError, where: Path | str, out: Path) -> str:
    """An OSError as one sentence: what failed, where, what it means for the export, what to do."""
    keep = left_as_it_was(out)
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
