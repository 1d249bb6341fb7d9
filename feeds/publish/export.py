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

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from ..site import Site
from . import trees
from .files import ExportResult, TreeManifest, plan_files
from .stage import Stage, reusable, staging_tree
from .trees import ExportError, build_lock, check_out, current_tree, describe


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
        raise ExportError(describe(exc, parent, out)) from exc
    with build_lock(out):
        current = current_tree(out)  # again: another build may have flipped it meanwhile
        # The catalog the live tree holds (an unchanged catalog rebuilt): the tree before
        # the live one is the rollback to the last change, neither recycled nor removed.
        unchanged = current is not None and trees.holds_version(out, current, version)
        try:
            if unchanged:
                staging, recycled = trees.make_staging(out), None
            else:
                staging, recycled = staging_tree(out, current, known)
            stage = Stage(out, staging, reusable(current, known), recycled)
        except OSError as exc:
            raise ExportError(describe(exc, out.parent, out)) from exc
        try:
            try:
                yield stage
            finally:
                stage.flusher.stop()
            tree = stage.complete(version)
        except BaseException:
            trees.remove_tree(out, Path(stage.staging))
            raise
        trees.flip(out, tree)
        keep = {tree.name, current.name if current else ""}
        trees.remove_stale(out, keep | (trees.other_versions(out, version) if unchanged else set()))
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
