"""SHA-256 and gzip of a large output, resumed from where its last version started to differ.

An edit changes a few bytes of the largest outputs: /events/ and /events.ics hold every
event (2 MB each at 10k entries), and hashing and compressing them again costs ~30 ms
each. zlib's output for the first N bytes of input depends on those bytes alone, however
the input is fed to it (in one call or in pieces, without flushing), and a compressor's
state, like a hash's, can be copied. So an output of at least `RESUMABLE_FROM` bytes is
compressed in steps, keeping a copy of the compressor and of the hash at the end of each
step (a `_Checkpoint`); the next version of the same path starts from the last
checkpoint before its first difference with the version kept. The bytes are exactly
`gzip.compress(body, LEVEL, mtime=0)`'s (tests hold us to it).

Smaller bodies, the great majority (10k entries: 14,830 of 14,836, 110 of 122 MB), are
compressed whole by zlib-ng (`zlib_ng`) at its level 2: 0.95 s of CPU for the 10k
Site's 133 MB against zlib's 1.38 s at level 1, for 1.7% fewer bytes: `compress_whole`.
ISA-L's igzip did it before in 0.43 s, but its output was not always the same for the
same body: one process gave the JSON documents gzip streams one byte longer than
another's (caught in a test, cause inside ISA-L, not reproduced on demand), and the
same catalog must give the same files on every node. zlib-ng's output depends on its
input, level and version only, as zlib's does.
The large ones keep zlib, whose state can be copied and whose better ratio pays off
on the biggest documents.

Memory: a checkpoint is ~270 kB (zlib's window and hash chains), at most
`_MOST_CHECKPOINTS` per output, kept in a `feeds.memo` table swept per build for the
outputs a build compressed that the build before compressed too (those each edit
changes), at most `_MOST_STREAMS` of them.
"""

from __future__ import annotations

import gzip as gzip_module
import hashlib
import zlib
from dataclasses import dataclass
from typing import Any

from zlib_ng import zlib_ng

from . import memo

RESUMABLE_FROM = 1 << 20  # smaller bodies are compressed whole: a few ms at most
# The level of every gzip body the Site serves (feeds.site compresses through here).
# 5, not zlib's default 6: over the 10k benchmark Site's 14,836 bodies (122 MB), 6 took
# 1.93 s of CPU for 23.44 MB, 5 takes 1.43 s for 23.84 MB (+1.7% on the wire), 1 takes
# 1.44 s for 26.12 MB (+11%): 5 is a quarter cheaper for almost the same bytes.
LEVEL = 5
# zlib-ng's level for bodies under RESUMABLE_FROM: over the 10k Site's 14,835 of them
# (133 MB), 1 takes 0.44 s for 35.26 MB (+22% on the wire), 2 takes 0.95 s for 28.79 MB,
# 3 takes 1.37 s for 27.77 MB. (nginx's on-the-fly gzip, gzip_comp_level's default, is
# zlib's 1.)
SMALL_LEVEL = 2
_GZIP_WBITS = 31  # a gzip member with an empty header (mtime 0), as gzip.compress writes
_STEP = 1 << 18  # bytes between checkpoints, at least
_MOST_CHECKPOINTS = 32
_MOST_STREAMS = 8  # outputs whose checkpoints a build keeps
_BLOCK = 1 << 16  # compared at once when looking for the first difference


@dataclass(frozen=True)
class _Checkpoint:
    offset: int  # bytes of the body compressed and hashed so far
    compressor: Any  # zlib's Compress object (no public type), state after `offset` bytes
    sha: Any  # hashlib's sha256 object after `offset` bytes
    compressed: int  # bytes of gzip output written so far


@dataclass(frozen=True)
class _Stream:
    """One version of an output: its body, its gzip and the states along the way."""

    body: bytes
    gzip: bytes
    checkpoints: tuple[_Checkpoint, ...]  # by offset


_STREAMS: memo.Memo[str, _Stream] = memo.Memo("gzip_resume.stream", saved=False)
# The paths of the large bodies the last build compressed. Checkpoints pay back only for
# a body that changes from one build to the next (/events/ and the calendars after an
# event's edit): one is kept for a path compressed by the build before too, never by a
# cold build (100k entries: 8 archives' bodies and checkpoints, ~90 MB of the peak).
_COMPRESSED: memo.Memo[str, bool] = memo.Memo("gzip_resume.compressed", saved=False)


def sha256(path: str, body: bytes) -> bytes:
    """hashlib.sha256(body).digest(), from the last checkpoint `body` shares."""
    checkpoint = _resume_point(path, body) if len(body) >= RESUMABLE_FROM else None
    if checkpoint is None:
        return hashlib.sha256(body).digest()
    sha = checkpoint.sha.copy()
    sha.update(body[checkpoint.offset :])
    return bytes(sha.digest())


def compress_whole(body: bytes) -> bytes:
    """The gzip member of `body` (mtime 0) that `gzip` gives, made in one call."""
    if len(body) < RESUMABLE_FROM:
        return bytes(zlib_ng.compress(body, SMALL_LEVEL, wbits=_GZIP_WBITS))
    return gzip_module.compress(body, compresslevel=LEVEL, mtime=0)


def gzip(path: str, body: bytes) -> bytes:
    """compress_whole(body), resumed from the last checkpoint `body` shares when it is
    large; keeps this version's checkpoints for the next one when the last build
    compressed `path` too (up to `_MOST_STREAMS` per build)."""
    if len(body) < RESUMABLE_FROM:
        return compress_whole(body)
    # Checkpoints are made for the outputs this build keeps them for (copies of the
    # compressor cost time too): the first `_MOST_STREAMS` large ones it compresses of
    # those the last build compressed too.
    changes_again = _COMPRESSED.peek(path) is not None
    _COMPRESSED.put(path, True)
    if not changes_again or (path not in _STREAMS.used and len(_STREAMS.used) >= _MOST_STREAMS):
        return compress_whole(body)
    stream = _STREAMS.peek(path)
    checkpoint = _resume_point(path, body)
    if stream is None or checkpoint is None:
        compressor, sha = zlib.compressobj(LEVEL, zlib.DEFLATED, _GZIP_WBITS), hashlib.sha256()
        pieces, offset, kept = [], 0, []
    else:
        compressor, sha = checkpoint.compressor.copy(), checkpoint.sha.copy()
        pieces = [stream.gzip[: checkpoint.compressed]]
        offset = checkpoint.offset
        kept = [point for point in stream.checkpoints if point.offset <= offset]
    written = sum(map(len, pieces))
    step = max(_STEP, -(-len(body) // _MOST_CHECKPOINTS))
    while offset < len(body):
        end = min((offset // step + 1) * step, len(body))
        piece = body[offset:end]
        pieces.append(compressor.compress(piece))
        sha.update(piece)
        written += len(pieces[-1])
        offset = end
        if offset < len(body):
            kept.append(_Checkpoint(offset, compressor.copy(), sha.copy(), written))
    pieces.append(compressor.flush())
    compressed = b"".join(pieces)
    _STREAMS.put(path, _Stream(body, compressed, tuple(kept)))
    return compressed


def _resume_point(path: str, body: bytes) -> _Checkpoint | None:
    """The last checkpoint of `path`'s kept version inside the prefix `body` shares."""
    stream = _STREAMS.peek(path)
    if stream is None or not stream.checkpoints:
        return None
    shared = _common_head(stream.body, body)
    found = None
    for checkpoint in stream.checkpoints:
        if checkpoint.offset > shared:
            break
        found = checkpoint
    return found


def _common_head(a: bytes, b: bytes) -> int:
    """Length of the longest common prefix of `a` and `b`, to within a block (it only has
    to tell which checkpoints lie inside it): compared a block at a time."""
    limit = min(len(a), len(b))
    low = 0
    while low + _BLOCK <= limit and a[low : low + _BLOCK] == b[low : low + _BLOCK]:
        low += _BLOCK
    return low
