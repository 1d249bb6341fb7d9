"""Imported text as the catalog's Markdown: HTML summaries converted where it is exact,
plain text escaped; whatever cannot be carried is named, never dropped silently.

HTML is parsed by html5lib (the WHATWG algorithm browsers use: no entity expansion
beyond HTML's own named characters, no network) and walked once. Paragraphs, line
breaks, emphasis, strong, code, links and images with http(s)/mailto URLs, headings,
lists, block quotes, preformatted text and rules have an exact Markdown form (the
summary renderer, `feeds.render.text`, turns them back into the same elements). Inline
wrappers without meaning of their own (span, font, u, small ...) keep their text.
Scripts, styles, frames, embedded objects and forms are removed, tables are
flattened to lines of text, and links and images with other URLs (javascript:, data:)
keep only their text: each is reported as a loss. Finally the words of the Markdown's
rendering are compared with the HTML's: if the Markdown says anything else (an
emphasis CommonMark reads otherwise), the summary is kept as plain text instead, and
that is reported too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote, urljoin, urlsplit
from xml.etree.ElementTree import Element

import html5lib

from ..render.text import summary_text

#: Elements whose content is removed (and reported): active or embedded content.
_REMOVED = frozenset(
    [
        "script",
        "style",
        "iframe",
        "frame",
        "frameset",
        "object",
        "embed",
        "applet",
        "video",
        "audio",
        "source",
        "track",
        "canvas",
        "svg",
        "math",
        "form",
        "input",
        "button",
        "select",
        "textarea",
        "noscript",
        "template",
        "map",
        "area",
        "link",
        "meta",
        "base",
    ]
)
_TABLE = frozenset(
    ["table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption", "colgroup", "col"]
)
_HEADINGS = {f"h{level}": level for level in range(1, 7)}
_BLOCK_CONTAINERS = frozenset(
    [
        "div",
        "section",
        "article",
        "header",
        "footer",
        "main",
        "aside",
        "nav",
        "figure",
        "figcaption",
        "details",
        "summary",
        "address",
        "dl",
        "dt",
        "dd",
        "center",
        "body",
        "html",
    ]
)
_EMPHASIS = {"em": "*", "i": "*", "strong": "**", "b": "**"}
_URL_SCHEMES = ("http", "https", "mailto")
# Characters CommonMark may read as markup anywhere in a line (backslash-escaped).
_INLINE_SPECIAL = re.compile(r"([\\`*_\[\]<>&!|~])")
# What may open a block at the start of a line: heading, quote, list item, rule, fence,
# setext underline, table-like pipe; digits then `.` or `)` (an ordered list).
_LINE_START_SPECIAL = re.compile(r"^(\s*)([#>+=\-~]|\d+(?=[.)]))", re.MULTILINE)
_SPACE = re.compile(r"[ \t\n\r\f]+")
_WORD = re.compile(r"\w+")


@dataclass
class Converted:
    markdown: str
    losses: list[str] = field(default_factory=list)  # what did not carry over, each once


def plain_to_markdown(text: str) -> str:
    """Plain text (an iCalendar DESCRIPTION, a JSON Feed content_text) as Markdown that
    renders to the same text: markup characters escaped, lines kept."""
    lines = [line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    joined = "\n".join(lines).strip("\n")
    joined = re.sub(r"\n{3,}", "\n\n", joined)
    return _escape_line_starts(_INLINE_SPECIAL.sub(r"\\\1", joined))


def html_to_markdown(html: str, base: str | None) -> Converted:
    """An HTML fragment as Markdown; `base` resolves relative links (the item's URL)."""
    root = html5lib.parseFragment(html, treebuilder="etree", namespaceHTMLElements=False)
    walker = _Walker(base)
    blocks = walker.blocks(root)
    markdown = "\n\n".join(block for block in blocks if block.strip())
    result = Converted(markdown, walker.losses)
    if _words(summary_text(markdown)) != _words(walker.kept_text):
        result.markdown = plain_to_markdown(walker.kept_text)
        result.losses.append("formatting that has no exact Markdown form (kept as plain text)")
    return result


def _name(element: Element) -> str:
    """The element's local name ("svg" for html5lib's "{http://www.w3.org/2000/svg}svg");
    "" for a comment."""
    return element.tag.rsplit("}", 1)[-1].lower() if isinstance(element.tag, str) else ""


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def _escape_line_starts(text: str) -> str:
    return _LINE_START_SPECIAL.sub(
        lambda m: m[1] + m[2] + "\\" if m[2][0].isdigit() else m[1] + "\\" + m[2], text
    )


def _inline_text(text: str) -> str:
    return _INLINE_SPECIAL.sub(r"\\\1", _SPACE.sub(" ", text))


class _Walker:
    def __init__(self, base: str | None) -> None:
        self.base = base
        self.losses: list[str] = []
        self.kept: list[str] = []  # the text that carries over, for the final comparison

    @property
    def kept_text(self) -> str:
        return "".join(self.kept)

    def lose(self, what: str) -> None:
        if what not in self.losses:
            self.losses.append(what)

    # Blocks: a list of Markdown blocks, separated by blank lines when joined.
    def blocks(self, element: Element) -> list[str]:
        out: list[str] = []
        line: list[str] = []

        def flush() -> None:
            text = "".join(line).strip()
            line.clear()
            if text:
                out.append(_escape_line_starts(text))

        if element.text:
            line.append(self.text(element.text))
        for child in element:
            tag = _name(child)
            if self._is_block(tag):
                flush()
                self.kept.append("\n")
                out.extend(self.block(child, tag))
                self.kept.append("\n")
            else:
                line.append(self.inline(child, tag))
            if child.tail:
                line.append(self.text(child.tail))
        flush()
        return out

    @staticmethod
    def _is_block(tag: str) -> bool:
        return (
            tag in ("p", "ul", "ol", "blockquote", "pre", "hr", "li")
            or tag in _HEADINGS
            or tag in _BLOCK_CONTAINERS
            or tag in _TABLE
            or tag in _REMOVED
        )

    def block(self, element: Element, tag: str) -> list[str]:
        if tag in _REMOVED:
            self.lose(f"<{tag}> removed")
            return []
        if tag == "hr":
            return ["* * *"]
        if tag in _HEADINGS:
            text = self.inline_children(element).strip()
            return [f"{'#' * _HEADINGS[tag]} {text}"] if text else []
        if tag == "pre":
            return [self._fence("".join(element.itertext()))]
        if tag in ("ul", "ol"):
            return [self._list(element, ordered=tag == "ol")]
        if tag == "blockquote":
            inner = self.blocks(element)
            return [
                "\n".join("> " + line if line else ">" for line in "\n\n".join(inner).split("\n"))
            ]
        if tag == "table":
            self.lose("a table flattened to lines of text")
            return self._table(element)
        return self.blocks(element)

    def _fence(self, code: str) -> str:
        self.kept.append(code)
        longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
        fence = "`" * max(3, longest + 1)
        return f"{fence}\n{code.strip(chr(10))}\n{fence}"

    def _list(self, element: Element, ordered: bool) -> str:
        items: list[str] = []
        for number, child in enumerate((c for c in element if c.tag == "li"), start=1):
            marker = f"{number}. " if ordered else "- "
            body = "\n\n".join(self.blocks(child)) or ""
            indent = " " * len(marker)
            lines = body.split("\n")
            items.append(
                marker + "\n".join([lines[0]] + [indent + ln if ln else "" for ln in lines[1:]])
            )
            self.kept.append("\n")
        for child in element:
            if child.tag != "li" and isinstance(child.tag, str):
                self.lose(f"<{child.tag}> inside a list removed")
        return "\n".join(items)

    def _table(self, element: Element) -> list[str]:
        rows: list[str] = []
        for row in element.iter("tr"):
            cells = []
            for cell in row:
                if cell.tag in ("td", "th"):
                    cells.append(self.inline_children(cell).strip())
                    self.kept.append(" ")  # cells are words apart
            self.kept.append("\n")
            if any(cells):
                rows.append(_escape_line_starts(" - ".join(cell for cell in cells if cell)))
        return rows

    # Inline: Markdown text of one line (hard breaks included).
    def inline_children(self, element: Element) -> str:
        parts = [self.text(element.text)] if element.text else []
        for child in element:
            tag = _name(child)
            if self._is_block(tag) and tag not in _REMOVED:
                parts.append(" " + " ".join(self.block(child, tag)).replace("\n", " ") + " ")
            else:
                parts.append(self.inline(child, tag))
            if child.tail:
                parts.append(self.text(child.tail))
        return "".join(parts)

    def text(self, text: str) -> str:
        self.kept.append(text)
        return _inline_text(text)

    def inline(self, element: Element, tag: str) -> str:
        if not tag:  # a comment or processing instruction
            return ""
        if tag in _REMOVED:
            self.lose(f"<{tag}> removed")
            return ""
        if tag == "br":
            self.kept.append("\n")
            return "\\\n"
        if tag in _EMPHASIS:
            return self._emphasis(element, _EMPHASIS[tag])
        if tag == "code":
            return self._code("".join(element.itertext()))
        if tag == "a":
            return self._link(element)
        if tag == "img":
            return self._image(element)
        return self.inline_children(element)

    def _emphasis(self, element: Element, mark: str) -> str:
        inner = self.inline_children(element)
        core = inner.strip()
        if not core:
            return inner
        lead = inner[: len(inner) - len(inner.lstrip())]
        trail = inner[len(inner.rstrip()) :]
        return f"{lead}{mark}{core}{mark}{trail}"

    def _code(self, code: str) -> str:
        self.kept.append(code)
        code = _SPACE.sub(" ", code)
        if not code.strip():
            return _inline_text(code)
        longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
        ticks = "`" * (longest + 1)
        pad = " " if code.startswith("`") or code.endswith("`") else ""
        return f"{ticks}{pad}{code}{pad}{ticks}"

    def _url(self, value: str | None) -> str | None:
        if not value:
            return None
        absolute = urljoin(self.base, value.strip()) if self.base else value.strip()
        if urlsplit(absolute).scheme.lower() not in _URL_SCHEMES:
            return None
        # No space, parenthesis or angle bracket is left to end the destination early.
        return quote(absolute, safe="/:?#[]@!$&'*+,;=%~.-_")

    def _link(self, element: Element) -> str:
        inner = self.inline_children(element).strip()
        url = self._url(element.get("href"))
        if url is None:
            if element.get("href"):
                self.lose("a link that is not http(s) or mailto (kept as text)")
            return inner
        if not inner:
            self.kept.append(url)
            return f"<{url}>" if "<" not in url and ">" not in url else _inline_text(url)
        return f"[{inner}]({url})"

    def _image(self, element: Element) -> str:
        alt = element.get("alt") or ""
        url = self._url(element.get("src"))
        if url is None:
            self.kept.append(alt)
            self.lose("an image that is not http(s) (its alt text kept)")
            return _inline_text(alt)
        return f"![{_inline_text(alt)}]({url})"
