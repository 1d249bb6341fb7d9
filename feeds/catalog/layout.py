"""The usual shape of a catalog file, found with byte searches: the `feed:` block, then
one chunk of text per entry.

    # comments
    feed:
      title: ...
    entries:
      - id: first          <- a chunk starts at each item of the list, at the list's
        title: ...            indentation, and runs to the next one (or the end)
      - id: second

`split()` returns None for anything else (flow style, CRLF, a BOM, `entries:` with a
comment, a second document, items at mixed indentation, YAML directives, a top level
that does not start with `feed:` at the first column ...): the caller then reads the
file as a whole.

A chunk is read alone as the document `entries:` + its lines, so the file must give
its lines the very meaning they have there: no directive (`%TAG !! ...` changes what
`!!str` means in every later line; `%YAML` picks another reader), and a top level that
is a block mapping at column 0 whose first key is `feed:` (a flow mapping `{feed: ...}`
or an indented `  feed:` reads fine alone, but in the whole file `entries:` then
cannot follow it). Both are asked of the text before the first key, which is where a
directive or another top level would be; a later `%` at the start of a line is
refused too, so that no directive can be anywhere at all.

When `split` does return a layout, the caller still proves each part by parsing it in
isolation (see `incremental`); this module only has to be cheap and to
never cut a file where a part read alone could mean something else than in the whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

_ENTRIES = b"\nentries:\n"
_OTHER_SHAPES = (
    b"\r",  # CR: CRLF or old Mac line breaks
    b"\xc2\x85",  # U+0085, U+2028, U+2029: also line breaks to YAML 1.1 (so to libyaml)
    b"\xe2\x80\xa8",
    b"\xe2\x80\xa9",
    b"\n...",  # a document end marker
    b"\n%",  # a directive (only valid before a document; refused wherever it stands)
)


class Chunk(NamedTuple):  # a tuple: ten thousand of them are made per read
    text: bytes  # one entry's lines, with their indentation, ending with a line break
    line: int  # 1-based line of its first line in the file


@dataclass(frozen=True)
class Layout:
    feed: bytes  # everything before the `entries:` line
    chunks: tuple[Chunk, ...]


def split(data: bytes) -> Layout | None:
    """The feed block and the entry chunks of `data`, or None when it has another shape."""
    if any(mark in data for mark in _OTHER_SHAPES) or data.startswith(b"\xef\xbb\xbf"):
        return None
    at = data.find(_ENTRIES)
    if at == -1 or data.find(_ENTRIES, at + 1) != -1:
        return None
    feed, body = data[: at + 1], data[at + len(_ENTRIES) :]
    if not _starts_with_feed_key(feed):
        return None
    first = _first_item(body)
    if first < 0:
        return None
    return Layout(feed, _chunks(body, first, feed.count(b"\n") + 2))


def _chunks(body: bytes, first: int, line: int) -> tuple[Chunk, ...]:
    """`body` cut before each line that starts an item at the first item's indentation.

    The blank lines and comments before the first item are part of the first chunk.
    """
    dash = body.index(b"-", first)
    prefix = body[first : dash + 2]  # the indentation, "- "
    # One bytes.split instead of a find per item: it takes the marker's line break from
    # the end of each piece and its indentation and dash from the start of the next.
    pieces = body[dash + 2 :].split(b"\n" + prefix)
    chunks: list[Chunk] = []
    last = len(pieces) - 1
    for index, piece in enumerate(pieces):
        head = body[: dash + 2] if index == 0 else prefix
        text = head + piece + b"\n" if index < last else head + piece
        chunks.append(Chunk(text, line))
        line += text.count(b"\n")
    return tuple(chunks)


def _starts_with_feed_key(feed: bytes) -> bool:
    """Whether only blank lines and comments stand before a `feed:` key at column 0: the
    file is then one implicit document (no directive, no `---`) whose top level is a
    block mapping at column 0, as the chunk documents' is."""
    for line in feed.split(b"\n"):
        stripped = line.lstrip(b" ")
        if stripped and not stripped.startswith(b"#"):
            return line == b"feed:" or line.startswith(b"feed: ")
    return False


def _first_item(body: bytes) -> int:
    """Offset of the first `- ` item, if only blank lines and comments stand before it and
    no item's value starts on the line after its dash; else -1."""
    position = 0
    while position < len(body):
        end = body.find(b"\n", position)
        text = body[position : end if end != -1 else len(body)]
        stripped = text.lstrip(b" ")
        if stripped.startswith(b"- "):
            indent = text[: len(text) - len(stripped)]
            if body.find(b"\n" + indent + b"-\n") != -1 or not body.endswith(b"\n"):
                return -1  # `-` alone on its line; or no line break at the end: rare, keep simple
            return position
        if (stripped and not stripped.startswith(b"#")) or end == -1:
            return -1
        position = end + 1
    return -1
