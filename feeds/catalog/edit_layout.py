"""The layout of an edited catalog from the layout of the version before: only the chunks
around the bytes that differ are split again.

`layout.split` scans the whole file and makes a chunk per entry (10k entries: ~40 ms);
an editor's save changes a few lines. `edited(previous, data)` finds the span where
`data` differs from the previous version (compared in blocks, at memcmp speed), keeps
the previous chunks before it and after it (those after it with their lines moved by
the lines the edit added or removed) and splits only the chunks around the span, as a
small document: the feed block and those chunks. The result is what `split(data)`
gives, or None when that cannot be told so cheaply (the caller then splits the file):

- a chunk starts wherever a line break is followed by the item marker (the first item's
  indentation and "- "), which depends on those bytes alone; the span is widened to the
  chunk starts at least a marker's length away from any differing byte, so every
  chunk start outside it is where it was, and `split` finds those inside it;
- `split`'s conditions on the whole file (one `entries:` line; no CR, NEL or Unicode
  line separator; no document end marker; no line starting with `%`; no dash alone on
  an item line; a final line break) held outside the span before and still do, and
  `split` of the small document checks them inside it; none of those patterns can
  straddle an edge of the span (a line break, then the marker), as none holds a line
  break followed by a space or dash; its conditions on the feed block (`feed:` first,
  no directive) hold as the feed block is the previous version's;
- the span's items must use the marker the file's first item uses (an edit of the first
  item may change it for the whole file).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from itertools import accumulate

from .layout import Chunk, Layout, split

_ENTRIES_LINE = b"entries:\n"
_BLOCK = 1 << 16  # compared at once when looking for the first and last difference


@dataclass(frozen=True)
class Split:
    """A file of the usual shape, its layout, and where each chunk sits in it."""

    data: bytes
    layout: Layout
    starts: tuple[int, ...]  # offset of each chunk in `data`, then len(data)
    marker: bytes  # indentation and "- " of every item

    @classmethod
    def of(cls, data: bytes, layout: Layout) -> Split:
        """`layout` is `split(data)`: the chunks tile the file after the `entries:` line."""
        body = len(layout.feed) + len(_ENTRIES_LINE)
        starts = tuple(accumulate((len(chunk.text) for chunk in layout.chunks), initial=body))
        return cls(data, layout, starts, _marker(layout.chunks[0].text))


@dataclass(frozen=True)
class Edit:
    """How a file differs from the version before, by chunks: the previous chunks
    `[first, end)` became this version's chunks `[first, first + count)`."""

    split: Split  # this version
    first: int
    end: int
    count: int
    lines: int  # lines the edit added (negative: removed): what the chunks after it moved


def edited(previous: Split, data: bytes) -> Edit | None:
    """`data` split by its difference from `previous` (see the module doc), or None."""
    old, starts = previous.data, previous.starts
    head = _common_head(old, data)
    if head < starts[0]:
        return None  # the feed block or the `entries:` line changed
    tail = _common_tail(old, data, min(len(old), len(data)) - head)
    margin = len(previous.marker) + 1
    first = bisect_right(starts, max(head - margin, starts[0])) - 1
    end = min(bisect_left(starts, len(old) - tail + margin), len(starts) - 1)
    grown = len(data) - len(old)
    span = data[starts[first] : starts[end] + grown]
    small = split(data[: starts[0]] + span)
    if small is None or _marker(small.chunks[0].text) != previous.marker:
        return None
    return _spliced(previous, data, small.chunks, first, end, span)


def _spliced(
    previous: Split, data: bytes, middle: tuple[Chunk, ...], first: int, end: int, span: bytes
) -> Edit:
    old = previous.layout.chunks
    at, grown = previous.starts[first], len(data) - len(previous.data)
    shift = old[first].line - middle[0].line
    lines = span.count(b"\n") - previous.data.count(b"\n", at, previous.starts[end])
    after = old[end:] if lines == 0 else tuple(Chunk(c.text, c.line + lines) for c in old[end:])
    chunks = old[:first] + tuple(Chunk(chunk.text, chunk.line + shift) for chunk in middle) + after
    starts = (
        previous.starts[:first]
        + tuple(accumulate((len(chunk.text) for chunk in middle[:-1]), initial=at))
        + tuple(start + grown for start in previous.starts[end:])
    )
    layout = Layout(previous.layout.feed, chunks)
    return Edit(Split(data, layout, starts, previous.marker), first, end, len(middle), lines)


def _marker(first_chunk: bytes) -> bytes:
    """The item marker of a first chunk (comments and blank lines, then the first item)."""
    for line in first_chunk.split(b"\n"):
        item = line.lstrip(b" ")
        if item.startswith(b"- "):
            return line[: len(line) - len(item)] + b"- "
    raise ValueError("a chunk without an item")  # split() never makes one


def _common_head(a: bytes, b: bytes) -> int:
    """Length of the longest common prefix of `a` and `b`."""
    limit = min(len(a), len(b))
    low = 0
    while low + _BLOCK <= limit and a[low : low + _BLOCK] == b[low : low + _BLOCK]:
        low += _BLOCK
    high = min(low + _BLOCK, limit)
    while low < high:  # a[:low] == b[:low]; the first difference is before `high`
        middle = (low + high + 1) // 2
        if a[low:middle] == b[low:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _common_tail(a: bytes, b: bytes, limit: int) -> int:
    """Length of the longest common suffix of `a` and `b`, at most `limit`."""
    length = 0
    while length + _BLOCK <= limit and _ends(a, length, _BLOCK) == _ends(b, length, _BLOCK):
        length += _BLOCK
    high = min(length + _BLOCK, limit)
    while length < high:
        middle = (length + high + 1) // 2
        if _ends(a, length, middle - length) == _ends(b, length, middle - length):
            length = middle
        else:
            high = middle - 1
    return length


def _ends(data: bytes, skip: int, size: int) -> bytes:
    """The `size` bytes before the last `skip` bytes of `data`."""
    return data[len(data) - skip - size : len(data) - skip]
