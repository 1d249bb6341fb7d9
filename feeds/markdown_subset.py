"""A fast renderer for the Markdown most summaries are written in, exact or nothing.

markdown-it-py costs ~0.3 ms a summary (10,000 summaries: ~2 s of a build), nearly all
of it in the generality of its rule chains. Most summaries use a small part of
CommonMark: paragraphs of prose with `*emphasis*`, `**strong**`, `` `code` ``,
`[links](url)` and characters such as `&`, `<`, `>` and quotes. `render(text)` writes
exactly the HTML markdown-it writes for such a text (same bytes), and returns None for
any text outside that subset, which then goes to markdown-it. The subset is chosen so
that no CommonMark rule has a choice to make in it:

- the configuration of `feeds.text`: CommonMark, no raw HTML (so `<` opens no HTML
  block), no linkify, no typographer, no `breaks`;
- blocks: paragraphs separated by blank lines, and nothing else: no line starts with
  what may open a block (`#`, `>`, `-`, `+`, `=`, `|`, two backticks or tildes, digits
  followed by `.` or `)`, `*` or `_` followed by a space, a line of only `*`, `_` and
  spaces), and no line starts or ends with white space (no indented code, no hard line
  breaks, nothing trimmed); no tab, CR or NUL anywhere (markdown-it normalises those).
  A line may start with `[` because the links below are never `[label]:` definitions;
- inline: no backslash, no `![`, no `&` that starts an entity reference, no `<` that
  starts an autolink (found with markdown-it's own expressions), code spans of single
  backticks within one line, links `[text](destination)` with a plain destination
  (no spaces, brackets, parentheses, quotes, `<>`, `&` or backslash) that markdown-it's
  own `validateLink` accepts, and brackets only in such links;
- emphasis: each run of `*` or `_` is classified by markdown-it's own `scanDelims`; a
  run that can neither open nor close stays text; any other has 1 or 2 characters and
  either closes the last open run exactly (same character, same length: strictly
  nested, inside a link's text or outside it) or, if it cannot close, opens one. Then
  CommonMark's delimiter algorithm pairs each closer with that opener.

`tests/test_feeds_text_subset.py` checks, on generated texts dense in exactly those
characters, that whenever `render` answers, its answer equals markdown-it's.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.rules_inline.autolink import AUTOLINK_RE, EMAIL_RE
from markdown_it.rules_inline.entity import DIGITAL_RE, NAMED_RE
from markdown_it.rules_inline.state_inline import StateInline

# A line that could be anything but paragraph text (a heading, quote, list item, rule,
# fence, setext underline, HTML, reference definition), or whose edges would be trimmed.
_NOT_PARAGRAPH_LINE = re.compile(
    r"[#>+=|-]|``|~~|[*_](\s|$)|[*_\s]+$|\d+[.)]|\s|\ufeff|.*[\s\ufeff]$"
)
_BLANK_LINE = re.compile(r"[ ]*")
_UNSUPPORTED = re.compile(r"[\t\r\0\\]|!\[")
# What may be in a link destination written plainly (markdown-it then takes it as is).
_PLAIN_DESTINATION = re.compile(r"[^\s\x00-\x1f\x7f()<>\[\]\"'`&\\]+")

# Where an inline rule of the subset may start; everything else is text.
_SPECIAL = re.compile(r"[`*_\[\]<&]")

_TAGS = {("*", 1): "em", ("_", 1): "em", ("*", 2): "strong", ("_", 2): "strong"}


class _Outside(Exception):
    """The text is outside the subset: markdown-it renders it."""


def render(text: str, markdown: MarkdownIt) -> str | None:
    """markdown-it's HTML for `text` (configured as `markdown`), or None outside the subset."""
    if _UNSUPPORTED.search(text) or not _supported(markdown):
        return None
    try:
        return "".join(
            f"<p>{_Inline(paragraph, markdown).render()}</p>\n" for paragraph in _paragraphs(text)
        )
    except _Outside:
        return None


def _supported(markdown: MarkdownIt) -> bool:
    options = markdown.options
    return not (
        options.get("html") or options.get("linkify") or options.get("typographer")
    ) and not options.get("breaks")


def _paragraphs(text: str) -> list[str]:
    paragraphs: list[str] = []
    lines: list[str] = []
    for line in text.split("\n"):
        if _BLANK_LINE.fullmatch(line):
            if lines:
                paragraphs.append("\n".join(lines))
                lines = []
        elif _NOT_PARAGRAPH_LINE.match(line):
            raise _Outside
        else:
            lines.append(line)
    if lines:
        paragraphs.append("\n".join(lines))
    return paragraphs


class _Inline:
    """One paragraph's inline content, rendered left to right."""

    def __init__(self, src: str, markdown: MarkdownIt) -> None:
        self.src = src
        self.markdown = markdown
        self.state = StateInline(src, markdown, {}, [])  # for its scanDelims only
        self.out: list[str] = []

    def render(self) -> str:
        self._segment(0, len(self.src), in_link=False)
        return "".join(self.out)

    def _segment(self, pos: int, end: int, in_link: bool) -> None:
        """Render src[pos:end] (a paragraph, or a link's text) with its own emphasis."""
        src, out = self.src, self.out
        open_runs: list[tuple[str, int]] = []
        text_start = pos
        while (special := _SPECIAL.search(src, pos, end)) is not None:
            pos = special.start()
            char = src[pos]
            out.append(escapeHtml(src[text_start:pos]))
            if char == "`":
                pos = self._code(pos, end)
            elif char in "*_":
                pos = self._emphasis(pos, end, open_runs)
            elif char == "[" and not in_link:
                pos = self._link(pos, end)
            elif char == "<" and not self._starts_autolink(pos, end):
                out.append("&lt;")
                pos += 1
            elif char == "&" and not (DIGITAL_RE.match(src, pos) or NAMED_RE.match(src, pos)):
                out.append("&amp;")
                pos += 1
            else:
                raise _Outside
            text_start = pos
        out.append(escapeHtml(src[text_start:end]))
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
        self.out.append(f"<code>{escapeHtml(content)}</code>")
        return close + 1

    def _emphasis(self, pos: int, end: int, open_runs: list[tuple[str, int]]) -> int:
        marker = self.src[pos]
        self.state.posMax = end
        scanned = self.state.scanDelims(pos, marker == "*")
        length = scanned.length
        if not scanned.can_open and not scanned.can_close:
            self.out.append(marker * length)  # can never pair: text
        elif length > 2:
            raise _Outside
        elif scanned.can_close and open_runs and open_runs[-1] == (marker, length):
            # Also when the run could open: a closer is matched first, and 1+1 or 2+2 is
            # never a multiple of 3, so the rule of 3 never stops this pair.
            open_runs.pop()
            self.out.append(f"</{_TAGS[marker, length]}>")
        elif scanned.can_open and not scanned.can_close:
            open_runs.append((marker, length))
            self.out.append(f"<{_TAGS[marker, length]}>")
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
        href = self.markdown.normalizeLink(destination.group())
        if not self.markdown.validateLink(href):
            raise _Outside
        self.out.append(f'<a href="{escapeHtml(href)}">')
        self._segment(pos + 1, label_end, in_link=True)
        self.out.append("</a>")
        return close + 1

    def _starts_autolink(self, pos: int, end: int) -> bool:
        """Whether markdown-it's autolink rule could take the `<` at `pos` (a superset)."""
        close = self.src.find(">", pos + 1)
        if close < 0:
            return False
        inside = self.src[pos + 1 : close]
        if "<" in inside:
            return False
        return bool(AUTOLINK_RE.search(inside) or EMAIL_RE.search(inside))
