"""`gzip_resume` gives exactly `compress_whole(body)` (zlib's `gzip.compress(body, LEVEL,
mtime=0)` for large bodies) and `sha256(body)`,
whichever version of an output it resumes from: edits anywhere, bytes inserted and
removed, bodies that grow past or shrink under the size it resumes from, a body seen
before, another output's body, across builds that sweep what they did not use."""

from __future__ import annotations

import gzip
import hashlib
import os
import random
import subprocess
import sys
import zlib

import pytest
from conftest import BUNDLED_CATALOG
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feeds import gzip_resume, memo

pytestmark = pytest.mark.usefixtures("cold_memo")  # tables as a new process finds them


def expected(body: bytes) -> tuple[bytes, bytes]:
    if len(body) >= gzip_resume.RESUMABLE_FROM:
        whole = gzip.compress(body, compresslevel=gzip_resume.LEVEL, mtime=0)
    else:
        whole = gzip_resume.compress_whole(body)
    return hashlib.sha256(body).digest(), whole


@pytest.mark.parametrize("size", [0, 1, 100, 70_000, gzip_resume.RESUMABLE_FROM - 1])
def test_small_bodies_are_one_gzip_member_that_decompresses_to_the_body(size: int) -> None:
    body = text(random.Random(size), size)
    once = gzip_resume.compress_whole(body)
    assert once == gzip_resume.compress_whole(body)  # deterministic: the ETags rely on it
    assert once[:10] == b"\x1f\x8b\x08\x00\x00\x00\x00\x00" + once[8:10]  # mtime 0
    assert gzip.decompress(once) == body
    member = zlib.decompressobj(31)  # one gzip member, as zlib reads it
    assert member.decompress(once) == body and member.eof and member.unused_data == b""


def in_a_build(path: str, body: bytes) -> tuple[bytes, bytes]:
    memo.begin_build()
    try:
        return gzip_resume.sha256(path, body), gzip_resume.gzip(path, body)
    finally:
        memo.end_build()


def text(rng: random.Random, size: int) -> bytes:
    """Compressible text, like the pages: words from a small vocabulary, some markup."""
    words = [b"<li>", b"event", b"Brussels", b"2025-04-23", b"</li>\n", b"caf\xc3\xa9", b"&amp;"]
    out = bytearray()
    while len(out) < size:
        out += rng.choice(words) + b" "
    return bytes(out[:size])


def test_an_edit_near_the_end_of_a_large_page_resumes_and_is_exact() -> None:
    rng = random.Random(7)
    body = text(rng, 3 * gzip_resume.RESUMABLE_FROM)
    edited = body[: len(body) - 5000] + b"<b>edited</b>" + body[len(body) - 5000 :]
    again = edited[: len(edited) - 900] + b"<i>again</i>" + edited[len(edited) - 900 :]
    assert in_a_build("/events/", body) == expected(body)
    # A body compressed once (a cold build) keeps no checkpoints; one that changes from
    # build to build does.
    assert gzip_resume._resume_point("/events/", edited) is None
    assert in_a_build("/events/", edited) == expected(edited)
    assert gzip_resume._resume_point("/events/", again) is not None  # it does resume
    assert in_a_build("/events/", again) == expected(again)
    assert in_a_build("/events/", body) == expected(body)  # and back


Edit = tuple[float, int, bytes]  # where (fraction of the body), bytes removed, bytes put


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**16),
    size=st.integers(0, 6000),
    edits=st.lists(
        st.tuples(st.floats(0, 1), st.integers(0, 3000), st.binary(max_size=2500)),
        min_size=1,
        max_size=6,
    ),
    paths=st.lists(st.sampled_from(["/a", "/b"]), min_size=6, max_size=6),
)
def test_every_version_is_exact(seed: int, size: int, edits: list[Edit], paths: list[str]) -> None:
    with pytest.MonkeyPatch.context() as patch:
        # Small sizes, so that a few kB make many checkpoints.
        patch.setattr(gzip_resume, "RESUMABLE_FROM", 1000)
        patch.setattr(gzip_resume, "_STEP", 256)
        patch.setattr(gzip_resume, "_BLOCK", 64)
        memo.clear_all()
        body = text(random.Random(seed), size)
        assert in_a_build(paths[-1], body) == expected(body)
        for (where, removed, put), path in zip(edits, paths, strict=False):
            at = int(where * len(body))
            body = body[:at] + put + body[at + removed :]
            assert in_a_build(path, body) == expected(body)


# Compresses every body of the bundled catalog's Site after churning the heap with
# JSON text (ISA-L, the compressor before zlib-ng, gave the JSON documents other gzip
# bytes in one process of many), and prints one digest of all the gzip bytes.
_DIGEST_OF_EVERY_GZIP = """
import hashlib, json, sys
from feeds.catalog import load_catalog
from feeds.site import build_site
churn = [json.dumps({"k": list(range(n))}).encode() for n in range(int(sys.argv[2]))]
del churn
site = build_site(load_catalog(sys.argv[1]))
digest = hashlib.sha256()
for path in sorted(site.outputs):
    digest.update(path.encode() + b"\\0" + (site.outputs[path].gzip_body or b"-"))
print(digest.hexdigest())
"""


def test_every_process_gives_a_body_the_same_gzip_bytes() -> None:
    """The same catalog, the same files on every node: the gzip bytes too (their ETag)."""
    digests = {
        subprocess.run(
            [sys.executable, "-c", _DIGEST_OF_EVERY_GZIP, str(BUNDLED_CATALOG), str(churn)],
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed, churn in ((0, 0), (1, 300), (2, 3000))
    }
    assert len(digests) == 1, digests
