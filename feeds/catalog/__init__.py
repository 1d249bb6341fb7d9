"""Read and check the catalog (`entries.yaml`) into the immutable model of `feeds.model`.

    catalog = load_catalog("entries.yaml")      # raises CatalogErrors listing every problem

`parse_catalog` does the same from bytes, without touching the file system.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import stat
from dataclasses import replace

from ..model import Catalog
from .assemble import CatalogAssembler
from .errors import CatalogError, CatalogErrors, Problems, StopReading
from .schema import BLOCKS
from .yamlnodes import compose

__all__ = [
    "BLOCKS",
    "DEFAULT_MAX_BYTES",
    "CatalogError",
    "CatalogErrors",
    "load_catalog",
    "parse_catalog",
    "read_catalog",
    "read_catalog_file",
]

#: Far above any real catalog (100k entries are about 46 MB), far below what hurts.
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
_BOM = b"\xef\xbb\xbf"
# Opening a FIFO for reading waits for a writer unless told not to (no effect on files).
_NO_WAIT = getattr(os, "O_NONBLOCK", 0)
# What the YAML reader accepts (YAML 1.1 "printable"): tab, line breaks, and no other controls.
_NOT_YAML = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def load_catalog(path: str | os.PathLike[str], max_bytes: int = DEFAULT_MAX_BYTES) -> Catalog:
    """Read the catalog file and check it; `Catalog.source` is the path as given."""
    return parse_catalog(read_catalog(path, max_bytes), os.fspath(path), max_bytes)


def read_catalog(path: str | os.PathLike[str], max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """The catalog file's bytes, or CatalogErrors saying why they cannot be read."""
    return read_catalog_file(path, max_bytes)[0]


def read_catalog_file(
    path: str | os.PathLike[str], max_bytes: int = DEFAULT_MAX_BYTES
) -> tuple[bytes, os.stat_result]:
    """The catalog file's bytes and its stat taken after reading them (a writer still at
    work shows up as a stat that differs from an earlier one), or CatalogErrors.

    The one way every reader (`feeds check`, `feeds build`, the server) gets the bytes:
    a FIFO, a device or a folder is refused with a `FILE:0:` line before a byte is read
    (reading /dev/zero never ends; opening a FIFO waits for a writer, so it is opened
    without waiting), and so is a file past `max_bytes`.
    """
    source = os.fspath(path)
    try:
        descriptor = os.open(source, os.O_RDONLY | _NO_WAIT)
        try:
            return _read_open(descriptor, source, max_bytes)
        finally:
            os.close(descriptor)
    except OSError as exc:
        raise CatalogErrors([_unreadable(source, exc.strerror or str(exc))]) from None


def _read_open(descriptor: int, source: str, max_bytes: int) -> tuple[bytes, os.stat_result]:
    info = os.fstat(descriptor)
    if not stat.S_ISREG(info.st_mode):
        raise CatalogErrors([_unreadable(source, _not_a_file(info.st_mode))])
    if info.st_size > max_bytes:
        raise CatalogErrors([_too_large(source, info.st_size, max_bytes)])
    with open(descriptor, "rb", closefd=False) as stream:
        data = stream.read(max_bytes + 1)  # the file may have grown since fstat
    return data, os.fstat(descriptor)


def _not_a_file(mode: int) -> str:
    if stat.S_ISDIR(mode):
        what = "a folder"
    elif stat.S_ISFIFO(mode):
        what = "a FIFO (named pipe)"
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        what = "a device"
    else:
        what = "a socket or another special file"
    return f"it is {what}, not a file; give the path of the catalog file (entries.yaml)"


def _unreadable(source: str, reason: str) -> CatalogError:
    return CatalogError(source, 0, "", f"cannot read the catalog: {reason}")


def parse_catalog(
    data: bytes, source: str = "entries.yaml", max_bytes: int = DEFAULT_MAX_BYTES
) -> Catalog:
    """Check catalog bytes and build the model; `source` names the file in messages."""
    problems = Problems(source)
    if len(data) > max_bytes:
        raise CatalogErrors([_too_large(source, len(data), max_bytes)])
    _check_text(data, problems)
    problems.raise_if_any()
    out_of_memory = False
    try:
        catalog = _read(data.removeprefix(_BOM), source, problems)
    except StopReading:
        catalog = None  # the last problem says where reading stopped, and why
    except MemoryError:
        # Handled outside this block: the exception's frames still hold the partial tree.
        out_of_memory = True
    if out_of_memory:
        raise CatalogErrors([_too_large_for_memory(source, len(data))])
    problems.raise_if_any()
    assert catalog is not None  # no problems means the tree was complete
    return replace(catalog, version=hashlib.sha256(data).hexdigest())


def _read(data: bytes, source: str, problems: Problems) -> Catalog | None:
    assembler = CatalogAssembler(problems)
    root = compose(data, problems, assembler)
    if root is None and not problems:
        problems.add(1, "", "the catalog is empty; it needs a feed: block and an entries: list")
    elif root is not None:
        return assembler.finish(root, source)
    return None


def _check_text(data: bytes, problems: Problems) -> None:
    """UTF-8, and no character YAML refuses to read (libyaml would not say where)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start].decode("utf-8")  # valid: the error is the first bad byte
        line, column = _position(before, len(before))
        problems.add(
            line,
            "",
            f"is not UTF-8 text (byte 0x{data[exc.start]:02x} in column {column}); "
            "save the file as UTF-8",
        )
        return
    for bad in itertools.islice(_NOT_YAML.finditer(text), 20):
        line, column = _position(text, bad.start())
        problems.add(
            line,
            "",
            f"contains the character U+{ord(bad.group()):04X} (column {column}), "
            "which YAML does not allow in a file; remove it",
        )


def _position(text: str, index: int) -> tuple[int, int]:
    """1-based line and column (in characters, as editors count) of `index` in `text`."""
    line_start = text.rfind("\n", 0, index) + 1
    return text.count("\n", 0, index) + 1, index - line_start + 1


def _too_large_for_memory(source: str, size: int) -> CatalogError:
    return CatalogError(
        source,
        0,
        "",
        f"there is not enough memory to check this file ({size:,} bytes); "
        "write feed: before entries: (entries are then checked one at a time) or split it",
    )


def _too_large(source: str, size: int, max_bytes: int) -> CatalogError:
    return CatalogError(
        source,
        0,
        "",
        f"the file is too large ({size:,} bytes; the limit is {max_bytes:,}); "
        "split it or raise the limit",
    )
