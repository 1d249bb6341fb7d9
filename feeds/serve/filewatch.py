"""Is the catalog complete? Linux tells: inotify says when its writer closed it.

A stat cannot tell a finished save from one paused halfway (an editor that rewrites the
file in place, a `cat part1 part2 > entries.yaml` with a slow second part), and the
first half of a catalog cut at an entry boundary is a valid catalog. The kernel knows:
every `write` to the file raises IN_MODIFY, and the writer's `close` raises
IN_CLOSE_WRITE. So a `CloseWatch` counts the file as being written from its first
IN_MODIFY to the next IN_CLOSE_WRITE, and the watcher reads it only outside that span.

It watches the file's folder, not the file: an atomic save renames a new file over the
old one (IN_MOVED_TO on the folder), which a watch on the old file would never see. A
catalog that is a symlink is watched in its target's folder too (that is where writes
to it happen), and the target is looked up again when the link changes.

What it cannot see (writes through a hard link in another folder, a network file
system, another OS, no inotify instance left): `open` returns None, or `events_lost`
is set, and the watcher falls back to its settle time.
"""

from __future__ import annotations

import contextlib
import logging
import select
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("feeds.serve.filewatch")

try:
    from inotify_simple import INotify, flags
except ImportError:  # not Linux: the settle time is all there is
    INotify = None

if INotify is not None:
    _WATCH_MASK = (
        flags.MODIFY
        | flags.CLOSE_WRITE
        | flags.CREATE
        | flags.DELETE
        | flags.MOVED_FROM
        | flags.MOVED_TO
        | flags.DELETE_SELF
        | flags.MOVE_SELF
    )
    _NEW_NAME = flags.CREATE | flags.DELETE | flags.MOVED_FROM | flags.MOVED_TO
    _FOLDER_GONE = flags.DELETE_SELF | flags.MOVE_SELF | flags.IGNORED | flags.UNMOUNT


@dataclass
class Seen:
    """What the events read by one `drain` said about the file."""

    touched: bool = False  # an event about the file (or its folder) arrived
    events_lost: bool = False  # the queue overflowed: only a stat can tell now


class CloseWatch:
    """inotify watches on the catalog's folder(s), and whether a writer has it open.

    Not thread-safe: one thread drains it (the watcher, under its lock); `wait` only
    polls the descriptor and may run in another.
    """

    def __init__(self, notify: INotify, path: Path) -> None:
        self._notify = notify
        self.path = path
        self.writing = False  # written to since its last close: not complete yet
        self._names: set[tuple[int, str]] = set()  # (watch, file name) pairs that are it
        self._watches: dict[int, Path] = {}
        self._target: Path | None = None
        self._rewatch = True

    @classmethod
    def open(cls, path: Path) -> CloseWatch | None:
        """A watch on `path`'s folder, or None where inotify is not available."""
        if INotify is None:
            return None
        try:
            notify = INotify()
        except OSError as exc:  # EMFILE: fs.inotify.max_user_instances reached
            log.warning("cannot watch %s with inotify (%s); using the settle time", path, exc)
            return None
        watch = cls(notify, path)
        watch._watch_folders()
        return watch

    def close(self) -> None:
        self._notify.close()

    def wait(self, timeout: float) -> bool:
        """Block until events are ready or `timeout` seconds passed; True if ready."""
        poller = select.poll()
        poller.register(self._notify.fileno(), select.POLLIN)
        return bool(poller.poll(max(0, int(timeout * 1000))))

    def drain(self) -> Seen:
        """Read the events that are ready, without waiting, and update `writing`."""
        seen = Seen()
        for event in self._notify.read(timeout=0):
            if event.mask & flags.Q_OVERFLOW:
                seen.touched = seen.events_lost = True
                self.writing = False  # unknown: the settle time decides
            elif event.mask & _FOLDER_GONE and not event.name:
                if self._watches.pop(event.wd, None) is not None:  # not one we dropped
                    seen.touched, self._rewatch = True, True
            elif (event.wd, event.name) in self._names:
                seen.touched = True
                self._note(event.mask)
        if self._rewatch or (seen.touched and self._target_moved()):
            self._watch_folders()
            seen.touched = True
        return seen

    def _note(self, mask: int) -> None:
        if mask & flags.CLOSE_WRITE:
            self.writing = False
        elif mask & flags.MODIFY:
            self.writing = True
        if mask & _NEW_NAME:
            # Another file is at the name now (an atomic save, a new symlink): nothing
            # is known to write to it, and a symlink may point somewhere else.
            self.writing = False
            self._rewatch = True

    def _target_moved(self) -> bool:
        return _resolved(self.path) != self._target

    def _watch_folders(self) -> None:
        """Watch the folder of the path and, for a symlink, of what it points to.

        A folder already watched keeps its watch: dropping and adding it again would
        lose the events in between (a writer's close: then it would never be read)."""
        self._target = _resolved(self.path)
        self._rewatch = False
        wanted = {self.path.absolute(), self._target}
        folders = {file.parent for file in wanted}
        for wd, folder in list(self._watches.items()):
            if folder not in folders:
                del self._watches[wd]
                with contextlib.suppress(OSError):  # already gone with its folder
                    self._notify.rm_watch(wd)
        watched = {folder: wd for wd, folder in self._watches.items()}
        self._names.clear()
        for file in wanted:
            if file.parent not in watched:
                try:
                    added: int = self._notify.add_watch(file.parent, _WATCH_MASK)
                except OSError:
                    self._rewatch = True  # the folder is missing: try again at the next drain
                    continue
                self._watches[added] = file.parent
                watched[file.parent] = added
            self._names.add((watched[file.parent], file.name))


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a symlink loop: the path itself, then
        return path.absolute()
