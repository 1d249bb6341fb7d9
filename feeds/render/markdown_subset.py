"""A fast renderer for the Markdown most summaries are written in, exact or nothing.

markdown-it-py costs ~0.3 ms a summary (10,000 summaries: ~2 s of a build), nearly all
of it in the generality of its rule chains. Most summaries use a small part of
CommonMark: paragraphs of prose with `*emphasis*`, `**strong**`, `` `code` ``,
`[links](url)` and characters such as `&`, `<`, `>` and quotes. `render(text)` writes
exactly the HTML markdown-it writes for such a text (same bytes), and returns None for
any text outside that subset, which then goes to markdown-it. The subset is chosen so
that no CommonMark rule has a choice to make in it:

- the configuration of `feeds.render.text`: CommonMark, no raw HTML (so `<` opens no HTML
  block), no linkify, no typographer, no `breaks`;
- blocks: paragraphs separated by blank lines, and nothing else: no line starts with
  what may open a block (`#`, `>`, `-`, `+`, `=`, `|`, two backticks or tildes, digits
  followed by `.` or `)`, `*` or `_` followed by a space, a line of only `*`, `_` and
  spaces), and no line starts or ends with white space (no indented code, no hard line
  breaks, nothing trimmed); no control character but the newline anywhere (markdown-it
  normalises some: tab, CR, NUL).
  A line may start with `[` because the links below are never `[label]:` definitions;
- inline: no backslash, no `![`, no `&` that starts an entity reference, no `<` that
  starts an autolink (found with markdown-it's own expressions), code spans of single
  backticks within one line, links `[text](destination)` with a plain destination
  (no spaces, brackets, parentheses, quotes, `<>`, `&` or backslash) that markdown-it's
  own `validateLink` accepts (normalised by its `normalizeLink`, or kept as is when
  that is provably its answer: `normalized_link`), and brackets only in such links;
- emphasis: each run of `*` or `_` is classified by markdown-it's own `scanDelims`
  (once per characters around the run, all it reads: `_scan_delimiters`); a
  run that can neither open nor close stays text; any other has 1 or 2 characters and
  either closes the last open run exactly (same character, same length: strictly
  nested, inside a link's text or outside it) or, if it cannot close, opens one. Then
  CommonMark's delimiter algorithm pairs each closer with that opener.

`parse(text)` reads such a text once into a `Document`: each paragraph's text with the
markup as marks (control characters the subset never lets through), and the link
destinations. From it `html()` writes markdown-it's HTML, and `feeds.render.text` writes its
sanitised HTML and plain text directly, without parsing HTML again (see there).

`tests/test_feeds_text_subset.py` checks, on generated texts dense in exactly those
characters, that whenever `render` answers, its answer equals markdown-it's.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import NamedTuple

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.rules_inline.autolink import AUTOLINK_RE, EMAIL_RE
from markdown_it.rules_inline.entity import DIGITAL_RE, NAMED_RE
from markdown_it.rules_inline.state_inline import Scanned, StateInline

# The start of a line that could be anything but paragraph text (a heading, quote, list
# item, rule, fence, setext underline, HTML, reference definition), or would be trimmed.
# (Its end is checked apart, in `_paragraphs`: `.*\s$` would backtrack through the line.)
_NOT_PARAGRAPH_START = re.compile(r"[#>+=|-]|``|~~|[*_](\s|$)|[*_\s]+$|\d+[.)]|\s|\ufeff")
# Backslash escapes and images are outside the subset. Control characters (but the
# newline) are too: markdown-it normalises some, and the others are free to be the
# marks of a `Document`. So are lone surrogates, which nh3 refuses (the slow path
# raises on them, so must the fast one).
# (`![` is looked for apart: a character set alone is searched faster.)
_UNSUPPORTED = re.compile(r"[\x00-\x09\x0b-\x1f\x7f\\\ud800-\udfff]")
# What may be in a link destination written plainly (markdown-it then takes it as is).
_PLAIN_DESTINATION = re.compile(r"[^\s\x00-\x1f\x7f()<>\[\]\"'`&\\]+")

# Where an inline rule of the subset may start; everything else is text.
_SPECIAL = re.compile(r"[`*_\[\]<&]")

# Marks standing for markup in a `Document`'s text: control characters, which the subset
# never lets through (`_UNSUPPORTED`), so a mark is never text.
EM, EM_END, STRONG, STRONG_END, CODE, CODE_END, LINK, LINK_END = (chr(c) for c in range(1, 9))
MARKS = re.compile("[\x01-\x08]")
_OPENING = {("*", 1): EM, ("_", 1): EM, ("*", 2): STRONG, ("_", 2): STRONG}
_CLOSING = {EM: EM_END, STRONG: STRONG_END}

# The HTML markdown-it writes for each mark but LINK (whose tag holds its destination).
MARKUP = {
    EM: "<em>",
    EM_END: "</em>",
    STRONG: "<strong>",
    STRONG_END: "</strong>",
    CODE: "<code>",
    CODE_END: "</code>",
    LINK_END: "</a>",
}

# Link destinations that markdown-it's normalizeLink returns as they are and its
# validateLink accepts, which covers nearly every link in practice; any other is left
# to markdown-it (mdurl's parser and encoder, a Python loop over each character):
# - characters mdurl.encode keeps (ASCII letters, digits, `;/?:@=+$,-_.!~*#`, and `%`
#   followed by two hex digits; `&'()` never reach here, see _PLAIN_DESTINATION);
# - shapes mdurl.parse splits and mdurl.format joins back unchanged: a path from the
#   root; http(s)://host[/...]; mailto:local@host, with an ASCII host name of
#   dot-separated labels (punycode leaves those alone; a part mdurl would reject is
#   not a label; `:` would be a port, `@` credentials), at most 255 characters long.
_URL_CHAR = r"(?:[A-Za-z0-9;/?:@=+$,\-_.!~*#]|%[0-9A-Fa-f]{2})"
_HOST = r"[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*"
_KEPT_DESTINATION = re.compile(
    rf"/(?!/){_URL_CHAR}*|https?://{_HOST}(?:/{_URL_CHAR}*)?|mailto:[A-Za-z0-9._+-]+@{_HOST}"
)
_HOST_MAX_LENGTH = 255


class _Outside(Exception):
    """The text is outside the subset: markdown-it renders it."""


class Document(NamedTuple):
    """A text of the subset, read: what its HTML and its plain text are made from."""

    paragraphs: tuple[str, ...]  # each paragraph's text, with marks for its markup
    hrefs: tuple[str, ...]  # the normalised destination of each LINK mark, in order

    def html(self) -> str:
        """markdown-it's HTML."""
        return self.write(escapeHtml, lambda href: f'<a href="{escapeHtml(href)}">', MARKUP)

    def write(
        self, escape: Callable[[str], str], link: Callable[[str], str], markup: dict[str, str]
    ) -> str:
        """`<p>`s of the paragraphs' text, escaped by `escape` (which must leave the
        marks alone), with each mark written as `markup` says and LINK as
        `link(destination)`: the HTML of one serialiser or another."""
        hrefs = iter(self.hrefs)
        written: list[str] = []
        for paragraph in self.paragraphs:
            html = escape(paragraph)
            for mark, tag in markup.items():
                if mark in html:  # most paragraphs hold few marks; `in` is cheap
                    html = html.replace(mark, tag)
            if LINK in html:
                first, *rest = html.split(LINK)
                html = first + "".join(link(next(hrefs)) + after for after in rest)
            written.append(f"<p>{html}</p>\n")
        return "".join(written)

    def texts(self) -> list[str]:
        """Each paragraph's text without markup."""
        return [MARKS.sub("", paragraph) for paragraph in self.paragraphs]


def render(text: str, markdown: MarkdownIt) -> str | None:
    """markdown-it's HTML for `text` (configured as `markdown`), or None outside the subset."""
    document = parse(text, markdown)
    return document.html() if document is not None else None


def parse(text: str, markdown: MarkdownIt) -> Document | None:
    """`text` read as `markdown` reads it, or None outside the subset."""
    if _UNSUPPORTED.search(text) or "![" in text or not _supported(markdown):
        return None
    hrefs: list[str] = []
    try:
        paragraphs = tuple(
            _Inline(paragraph, markdown, hrefs).read() for paragraph in _paragraphs(text)
        )
    except _Outside:
        return None
    return Document(paragraphs, tuple(hrefs))


def _supported(markdown: MarkdownIt) -> bool:
    options = markdown.options  # its properties: faster than the Mapping's get()
    return not (options.html or options.linkify or options.typographer or options.breaks)


def _paragraphs(text: str) -> list[str]:
    paragraphs: list[str] = []
    lines: list[str] = []
    for line in text.split("\n"):
        if not line.strip(" "):  # blank: spaces only
            if lines:
                paragraphs.append("\n".join(lines))
                lines = []
        # re's \s is str.isspace(): the same test at the end as at the start.
        elif _NOT_PARAGRAPH_START.match(line) or line[-1].isspace() or line[-1] == "\ufeff":
            raise _Outside
        else:
            lines.append(line)
    if lines:
        paragraphs.append("\n".join(lines))
    return paragraphs


def normalized_link(destination: str, markdown: MarkdownIt) -> str | None:
    """markdown-it's normalised `destination`, or None if markdown-it rejects it."""
    if len(destination) <= _HOST_MAX_LENGTH and _KEPT_DESTINATION.fullmatch(destination):
        return destination
    href = markdown.normalizeLink(destination)
    return href if markdown.validateLink(href) else None


@lru_cache(maxsize=1024)
def _scan_delimiters(before: str, run: str, after: str) -> Scanned:
    """markdown-it's scanDelims for a run of `*` or `_` between two characters (a space
    for an edge of the text): a pure function of these three, so a few hundred calls
    answer a whole catalog (it costs ~2 us a call)."""
    state = StateInline(before + run + after, _CLASSIFIER, {}, [])
    return state.scanDelims(len(before), run[0] == "*")


# scanDelims reads only the text: any MarkdownIt serves for its state.
_CLASSIFIER = MarkdownIt("commonmark")


class _Inline:
    """One paragraph's inline content, read left to right into text with marks."""

    def __init__(self, src: str, markdown: MarkdownIt, hrefs: list[str]) -> None:
        self.src = src
        self.markdown = markdown
        self.hrefs = hrefs  # the document's, in order
        self.out: list[str] = []

    def read(self) -> str:
        self._segment(0, len(self.src), in_link=False)
        return "".join(self.out)

    def _segment(self, pos: int, end: int, in_link: bool) -> None:
        """Read src[pos:end] (a paragraph, or a link's text) with its own emphasis."""
        src, out = self.src, self.out
        open_runs: list[tuple[str, int]] = []
        text_start = pos
        while (special := _SPECIAL.search(src, pos, end)) is not None:
            pos = special.start()
            char = src[pos]
            out.append(src[text_start:pos])
            if char == "`":
                pos = self._code(pos, end)
            elif char in "*_":
                pos = self._emphasis(pos, end, open_runs)
            elif char == "[" and not in_link:
                pos = self._link(pos, end)
            elif char == "<" and not self._starts_autolink(pos, end):
                out.append("<")
                pos += 1
            elif char == "&" and not self._starts_entity(pos):
                out.append("&")
                pos += 1
            else:
                raise _Outside
            text_start = pos
        out.append(src[text_start:end])
        if open_runs:
            raise _Outside

    def _code(self, pos: int, end: int) -> int:
        close = self.src.find("`", pos + 1, end)
        content = self.src[pos + 1 : close]
        if close < 0 or not content or content[0] == " " or content[-1] == " ":
            raise _Outside
        if "\n" in content or "[" in content or "]" in content:
            raise _Outside
        if close + 1 < end and self.src[close + 1] == "`":  # a run of two: another rule
            raise _Outside
        self.out.append(f"{CODE}{content}{CODE_END}")
        return close + 1

    def _emphasis(self, pos: int, end: int, open_runs: list[tuple[str, int]]) -> int:
        src = self.src
        marker = src[pos]
        after = pos + 1
        while after < end and src[after] == marker:
            after += 1
        # What scanDelims reads: the characters around the run, a space at either edge.
        scanned = _scan_delimiters(
            src[pos - 1] if pos > 0 else " ", src[pos:after], src[after] if after < end else " "
        )
        length = scanned.length
        if not scanned.can_open and not scanned.can_close:
            self.out.append(marker * length)  # can never pair: text
        elif length > 2:
            raise _Outside
        elif scanned.can_close and open_runs and open_runs[-1] == (marker, length):
            # Also when the run could open: a closer is matched first, and 1+1 or 2+2 is
            # never a multiple of 3, so the rule of 3 never stops this pair.
            open_runs.pop()
            self.out.append(_CLOSING[_OPENING[marker, length]])
        elif scanned.can_open and not scanned.can_close:
            open_runs.append((marker, length))
            self.out.append(_OPENING[marker, length])
        else:
            raise _Outside
        return pos + length

    def _link(self, pos: int, end: int) -> int:
        """`[text](destination)`: the only place brackets may be."""
        src = self.src
        label_end = src.find("]", pos + 1, end)
        if label_end <= pos + 1 or "[" in src[pos + 1 : label_end]:
            raise _Outside
        destination = _PLAIN_DESTINATION.match(src, label_end + 2, end)
        if src[label_end + 1 : label_end + 2] != "(" or destination is None:
            raise _Outside
        close = destination.end()
        if close >= end or src[close] != ")":
            raise _Outside
        href = normalized_link(destination.group(), self.markdown)
        if href is None:
            raise _Outside
        self.hrefs.append(href)
        self.out.append(LINK)
        self._segment(pos + 1, label_end, in_link=True)
        self.out.append(LINK_END)
        return close + 1

    def _starts_entity(self, pos: int) -> bool:
        """Whether markdown-it's entity rule could take the `&` at `pos` (a superset)."""
        following = self.src[pos + 1 : pos + 2]
        # Its expressions need `#` or a letter next (any character they match ignoring
        # case is alphabetic), which most `&` in prose are not followed by.
        if following != "#" and not following.isalpha():
            return False
        return bool(DIGITAL_RE.match(self.src, pos) or NAMED_RE.match(self.src, pos))

    def _starts_autolink(self, pos: int, end: int) -> bool:
        """Whether markdown-it's autolink rule could take the `<` at `pos` (a superset)."""
        close = self.src.find(">", pos + 1)
        if close < 0:
            return False
        inside = self.src[pos + 1 : close]
        if "<" in inside:
            return False
        return bool(AUTOLINK_RE.search(inside) or EMAIL_RE.search(inside))
