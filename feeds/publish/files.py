"""What an export holds: the planned files of a Site (a name and bytes per Output and
its gzip), what a process wrote, and a tree's manifest for the next build."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..body import Body
from ..site import Output
from .trees import ExportError


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
    body: bytes | Body  # a Body is decompressed as it is written
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
        variants = [PlannedFile(name, output.source, output.etag, mtime_ns, False)]
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
    refuse_file_folder_clashes(owners.keys())
    return files


def refuse_file_folder_clashes(names: Collection[str]) -> None:
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
