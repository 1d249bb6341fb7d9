"""A body the Site serves, kept as its gzip: what renderers keep between builds.

An entry page or a feed document is kept by its renderer's memo table from one build to
the next (an unchanged entry's page is the very object the last build made, which is
how `feeds.site.build_site` knows its Output without hashing it again). Kept as bytes,
those bodies were most of a large Site's memory (100k entries: 1.3 GB of 2.8 GB at the
builder's peak), next to their gzip, which the Site serves anyway. A `Body` is made
once, at its path, with its SHA-256 and gzip (the Site's, see `gzip_resume`), and keeps
the bytes themselves only when there is no gzip of them; its bytes are decompressed
when asked for (writing a file, a client that takes no gzip), which costs ~3 ms per MB
(the 1k benchmark Site: 16.8 MB in 48 ms).

`sha_and_gzip` is the one place a body's validator and gzip are made, for Bodies and for
the plain bytes every other renderer returns.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from . import gzip_resume, memo

_GZIP_MIN_BYTES = 256
_GZIP_WBITS = 31  # a gzip member


@dataclass(frozen=True, slots=True, eq=False)
class Body:
    """Bytes at a path, kept as their gzip when there is one (`bytes(body)` gives them).

    Equal when the bytes are (by their SHA-256), as the bytes it stands for would be."""

    sha: bytes  # SHA-256 of the bytes
    length: int
    gzip: bytes | None  # what the Site serves gzipped, None when not worth it
    raw: bytes | None  # the bytes, kept only when `gzip` is None

    @classmethod
    def of(cls, path: str, data: bytes, compressible: bool = True) -> Body:
        sha, gz = sha_and_gzip(path, data, compressible)
        return cls(sha, len(data), gz, data if gz is None else None)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Body):
            return NotImplemented
        return self is other or (self.sha == other.sha and self.length == other.length)

    def __hash__(self) -> int:
        return hash(self.sha)

    def __bytes__(self) -> bytes:
        if self.raw is not None:
            return self.raw
        assert self.gzip is not None
        return zlib.decompress(self.gzip, _GZIP_WBITS)

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, part: slice) -> bytes:
        """A slice of the bytes (a Variant's body, `feeds.serve.served`)."""
        return bytes(self)[part]


# gzip of each body, keyed by its sha256 (computed anyway for the ETag): gzip is ~95% of
# the cost of making the Outputs (10k catalog: 1.8 s of 1.9 s), so a rebuild compresses
# only bodies it has not compressed before. The level is gzip_resume.LEVEL (5: why is
# said there).
# One table: the first rebuild after a cold two-process build compresses again what the
# other process compressed (the calendars, ~5,300 bodies at 10k, ~0.1 s of CPU of a 2.8 s
# rebuild, once). Tables per kind of path, each saved with the share of the process that
# made it, avoided that; they were removed: 3% of one rebuild did not pay for their
# coupling (benchmarks/RESULTS.md, issue 18).
_GZIPPED: memo.Memo[tuple[bytes, bool], bytes | None] = memo.Memo("site.gzip")


def sha_and_gzip(path: str, data: bytes, compressible: bool) -> tuple[bytes, bytes | None]:
    """SHA-256 of `data` and its deterministic gzip (mtime 0), None when not worth it."""
    sha = gzip_resume.sha256(path, data)
    return sha, _GZIPPED.get((sha, compressible), lambda: _gzip(path, data, compressible))


def _gzip(path: str, data: bytes, compressible: bool) -> bytes | None:
    if not compressible or len(data) < _GZIP_MIN_BYTES:
        return None
    gz = gzip_resume.gzip(path, data)  # large bodies: resumed where the last version differs
    return gz if len(gz) < len(data) else None
