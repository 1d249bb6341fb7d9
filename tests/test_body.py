"""A body kept as its gzip (feeds/body.py): the same bytes back, whatever its size."""

from __future__ import annotations

import gzip
import hashlib
import pickle
import random

import pytest

from feeds import gzip_resume
from feeds.body import Body

pytestmark = pytest.mark.usefixtures("cold_memo")


def page(size: int, seed: int = 3) -> bytes:
    rng = random.Random(seed)
    words = [b"<li>", b"event", b"Bruxelles", b"caf\xc3\xa9", b"&amp;", b"</li>\n"]
    out = bytearray()
    while len(out) < size:
        out += rng.choice(words) + b" "
    return bytes(out[:size])


@pytest.mark.parametrize("size", [0, 1, 255, 256, 4000, 2 * gzip_resume.RESUMABLE_FROM])
def test_a_body_gives_its_bytes_back_and_serves_their_gzip(size: int) -> None:
    data = page(size)
    body = Body.of("/events/", data)
    assert bytes(body) == data and len(body) == size
    assert body[: min(size, 10)] == data[:10] and body[:] == data
    assert body.sha == hashlib.sha256(data).digest()
    if body.gzip is not None:
        assert gzip.decompress(body.gzip) == data
        assert len(body.gzip) < size
    else:
        assert size < 256  # too small to be worth compressing


def test_random_bytes_are_kept_as_they_are() -> None:
    data = random.Random(5).randbytes(5000)  # gzip would be larger
    body = Body.of("/noise", data)
    assert body.gzip is None and bytes(body) == data


def test_bodies_are_equal_when_their_bytes_are() -> None:
    one, same, other = Body.of("/a", page(900)), Body.of("/b", page(900)), Body.of("/a", page(901))
    assert one == same and hash(one) == hash(same)
    assert one != other
    assert len({one, same, other}) == 2


def test_a_body_read_back_from_a_cache_file_is_the_same() -> None:
    """What `feeds build` saves between runs (sealed pickles of the memo tables)."""
    body = Body.of("/entries/x/", page(3000))
    again = pickle.loads(pickle.dumps(body))
    assert again == body and bytes(again) == bytes(body) and again.gzip == body.gzip
