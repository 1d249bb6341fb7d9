"""Marks that prove a folder was made by feeds, and a removal that trusts nothing else.

Every folder that a build or a server makes among the user's own files (an export tree,
its staging folder, a shared build folder) holds a small file, MARK, written before
anything else goes in, saying what made the folder and for which export. Cleanup removes
a folder only when that file is there, a regular file owned by this user in a folder
owned by this user, holding exactly the expected words: a user's `.site.backup/`,
another export's tree, or a folder planted by another user are never removed, whatever
their names.

A removal never follows a symlink (it works from a descriptor of the folder, opened
with O_NOFOLLOW) and removes the mark last, so a removal cut short (SIGKILL, a full
disk) leaves a folder that is still marked, which the next cleanup finishes.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

MARK = ".feeds-made"  # a dotfile: nginx (deploy/nginx.conf) and object-store syncs skip it
_MAX_MARK = 4096  # a mark is a line of JSON; anything longer is not one of ours


def mark_text(kind: str, name: str) -> bytes:
    """The words of a mark: what made the folder, what it is and whose (the export's
    name). JSON, so no name (newlines, quotes) can make one mark read as another."""
    fields = {"made_by": "feeds", "kind": kind, "name": name}
    return json.dumps(fields, sort_keys=True).encode() + b"\n"


def write_mark(folder: str | Path, text: bytes) -> None:
    """Write the mark into `folder`, which must not hold one yet (O_EXCL, no symlink).

    Mode 0644 whatever the umask and mtime 0: two builds of one catalog, on any node,
    give trees alike to the byte and the mtime, the mark included."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(os.path.join(folder, MARK), flags, 0o644)
    try:
        os.fchmod(fd, 0o644)
        view = memoryview(text)
        while view:
            view = view[os.write(fd, view) :]
        os.utime(fd, ns=(0, 0))
    finally:
        os.close(fd)


def read_mark(folder: str | Path, follow: bool = False) -> bytes | None:
    """The mark in `folder`: None unless `folder` is a folder of this user (itself no
    symlink, unless `follow`) holding a mark that is a regular file of this user."""
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC | (0 if follow else os.O_NOFOLLOW)
    try:
        folder_fd = os.open(folder, flags)
    except OSError:
        return None
    try:
        return _read_mark_in(folder_fd)
    finally:
        os.close(folder_fd)


def _read_mark_in(folder_fd: int) -> bytes | None:
    me = os.geteuid()
    try:
        if os.fstat(folder_fd).st_uid != me:
            return None  # another user's folder: theirs to clean, whatever it holds
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC  # a FIFO never blocks
        fd = os.open(MARK, flags, dir_fd=folder_fd)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != me or info.st_size > _MAX_MARK:
            return None
        return os.read(fd, _MAX_MARK + 1)
    except OSError:
        return None
    finally:
        os.close(fd)


def remove_marked(folder: str | Path, text: bytes) -> bool:
    """Remove `folder` if it holds the mark `text` (`read_mark`); False if it does not,
    and then nothing was touched. Everything else first, the mark last, then the folder.
    Raises OSError if the removal fails midway (the folder is still marked then)."""
    path = os.fspath(folder)
    parent, name = os.path.split(path)
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        folder_fd = os.open(path, flags)
    except OSError:
        return False  # gone, a symlink, or not a folder: not ours to remove
    try:
        if _read_mark_in(folder_fd) != text:
            return False
        # Everything below is reached through `folder_fd`: a symlink put in the folder's
        # place meanwhile cannot redirect the removal elsewhere.
        with os.scandir(folder_fd) as entries:
            names = [(e.name, e.is_dir(follow_symlinks=False)) for e in entries]
        for entry, is_folder in names:
            if entry == MARK:
                continue
            if is_folder:
                shutil.rmtree(entry, dir_fd=folder_fd)
            else:
                os.unlink(entry, dir_fd=folder_fd)
        os.unlink(MARK, dir_fd=folder_fd)
    finally:
        os.close(folder_fd)
    os.rmdir(os.path.join(parent, name))  # empty now; rmdir can remove nothing else
    return True
