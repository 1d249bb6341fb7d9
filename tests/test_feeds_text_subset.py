"""The fast Markdown renderer (`feeds.render.markdown_subset`) writes exactly what markdown-it
writes, or declines; summaries come out of `feeds.render.text` as they would without it (the
subset's documents written straight to sanitised HTML and plain text, plain links made
absolute without urllib): same bytes as markdown-it, then nh3.

Generated texts are dense in what changes CommonMark's reading: markers at line starts,
trailing spaces, tabs, emphasis runs next to punctuation and non-ASCII, brackets, code
spans, entity references, autolinks, backslashes, unsafe link schemes; and in what
html5ever escapes its own way (no-break spaces, quotes) or Python counts as white space.
"""

from __future__ import annotations

import html
import re

import nh3
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from markdown_it.rules_inline.state_inline import StateInline

from feeds import memo
from feeds.render import markdown_subset, text

MD = text._markdown
BASE = "https://feeds.example.org/"

# Pieces that make up hostile texts: each is either plain or means something somewhere.
TOKENS = [
    *"aZé東1 .,:;!?()'\"-+#=|~/%$@{}«»’\u00a0\u2003\u3000\u2028\x85\x0c\x1c\x7f\x01\ufffe",
    *["\n", "\n\n", "\n \n", "  \n", " \n", "\t", "\r", "\r\n", "\\", "\0"],
    *["*", "**", "***", "_", "__", "`", "``", "[", "]", "](", ")", "![", "<", ">", "&"],
    *["&amp;", "&#35;", "&#x41;", "&bogus;", "&x", "1.", "2)", "- ", "* ", "> ", "# "],
    *["---", "===", "    ", "http://a.example/b_c", "<http://a.example/>", "<x@y.example>"],
    *["mailto:x@y.example", "javascript:alert(1)", "/rel/path", "b*c", "d_e", "<b>"],
    *["`\u3000`", "`\u00a0`", "&nbsp;", "\u00a0\n", "\n\u00a0", "\ufeff", "\ufeff\n"],
    *["&ſt;", "&\u212ax;", "&#"],
]
hostile_texts = st.lists(st.sampled_from(TOKENS), max_size=24).map("".join)

# Texts shaped like real summaries, so that the fast path answers often.
WORDS = ["cities", "Zürich", "東京", "12%", "<", ">", "&", "R&D", "‘quoted’", '"q"', "it's"]
WORDS += ["no\u00a0break", "a\u3000b", "<script>x</script>", "&c"]
DESTINATIONS = ["https://www.example.org/r/4", "/summary/4", "mailto:info@example.org", "x_y"]
DESTINATIONS += ["/a/../b", "/a/./b", "https://x.example/a;p", "/q?x=1", "/f#top", "ftp://f/x"]
DESTINATIONS += ["//h.example/p", "HTTP://X.EXAMPLE/", "/é", "/%41%zz", "http:x", "mailto:@x.y"]


@st.composite
def words(draw: st.DrawFn) -> str:
    word = draw(st.sampled_from(WORDS))
    wrap = draw(st.sampled_from(["", "*", "**", "_", "__", "`", "link"]))
    if wrap == "link":
        return f"[{word}]({draw(st.sampled_from(DESTINATIONS))})"
    punctuation = draw(st.sampled_from(["", "", ".", ",", ")", "!"]))
    return f"{wrap}{word}{wrap}{punctuation}"


lines = st.lists(words(), min_size=1, max_size=8).map(" ".join)
paragraph_parts = st.lists(
    st.tuples(lines, st.sampled_from(["\n", "\n\n"])), min_size=1, max_size=5
)
summary_like = paragraph_parts.map(lambda parts: "".join(line + brk for line, brk in parts).strip())
texts = st.one_of(hostile_texts, summary_like)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts)
def test_the_subset_renders_as_markdown_it_or_declines(markdown: str) -> None:
    fast = markdown_subset.render(markdown, MD)
    event("fast" if fast is not None else "declined")
    if fast is not None:
        assert fast == MD.render(markdown)


def slow_summary_html(markdown: str, base_url: str = BASE) -> str:
    """What feeds.render.text gave before the subset and the conditional URL filter."""
    if not markdown.strip():
        return ""
    return str(
        nh3.clean(
            MD.render(markdown),
            tags=text._ALLOWED_TAGS,
            attributes=text._ALLOWED_ATTRIBUTES,
            url_schemes=text._URL_SCHEMES,
            link_rel="noopener noreferrer",
            attribute_filter=text._absolute_url_filter(base_url),
        )
    ).strip()


def slow_summary_text(markdown: str) -> str:
    """What feeds.render.text gave before the subset: markdown-it, then nh3 dropping every tag."""
    if not markdown.strip():
        return ""
    marked = re.sub(
        r"</(p|li|h[1-6]|blockquote|pre)>|<br\s*/?>|<hr\s*/?>", r"\g<0>\n\n", MD.render(markdown)
    )
    stripped = html.unescape(nh3.clean(marked, tags=set()))
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", stripped)]
    return "\n\n".join(p for p in paragraphs if p)


# Base URLs as catalogs give them: a site root, a path under it, another scheme, a port.
BASES = [BASE, "https://example.net/news/feeds/", "http://127.0.0.1:8080/x/y", "https://h.example"]


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts, st.sampled_from(BASES))
def test_summaries_are_what_markdown_it_and_nh3_give(markdown: str, base_url: str) -> None:
    event("fast" if markdown_subset.parse(markdown, MD) is not None else "declined")
    memo.clear_all()  # each example computed, not found in the memo
    assert text.summary_html(markdown, base_url) == slow_summary_html(markdown, base_url)
    assert text.summary_text(markdown) == slow_summary_text(markdown)


# Link destinations dense in what URL parsers split on, encode or normalise.
URL_PIECES = [
    *["http://", "https://", "HTTPS://", "mailto:", "ftp://", "javascript:", "data:", "//"],
    *["/", "/", ".", "..", "./", "../", "a", "Z", "0", "-", "_", "~", "x.example", "é", "東"],
    *["@", ":", ":80", ";", "?", "#", "=", "+", "$", ",", "!", "*", "%", "%41", "%zz", "%2"],
    *["xn--a", "a" * 64, ".example", "[::1]", "|", "{", "^", "\u00a0"],
]
random_urls = st.lists(st.sampled_from(URL_PIECES), min_size=1, max_size=10).map("".join)
# URLs shaped like the plain ones (scheme, host, path), with a tricky piece here and there.
LABELS = [
    "www",
    "example",
    "org",
    "net",
    "x",
    "a-b",
    "0",
    "xn--bcher-kva",
    "a" * 63,
    "a" * 64,
    "",
    "é",
    "a_b",
]
SEGMENTS = [
    "reports",
    "4",
    "summary",
    "x_y",
    "a.b",
    "~u",
    "a%20b",
    "",
    ".",
    "..",
    "a;b",
    "a?b=1",
    "#top",
    "?",
    "%41",
    "%zz",
    "é",
    "a:b",
]
shaped_urls = st.builds(
    lambda scheme, host, path: scheme + ".".join(host) + "".join("/" + s for s in path),
    st.sampled_from(["http://", "https://", "mailto:info@", "mailto:", "/", "", "HTTP://"]),
    st.lists(st.sampled_from(LABELS), min_size=1, max_size=4),
    st.lists(st.sampled_from(SEGMENTS), max_size=4),
)
destinations = st.one_of(random_urls, shaped_urls)


@settings(max_examples=2000, deadline=None)
@given(destinations)
def test_links_are_normalised_as_markdown_it_does(destination: str) -> None:
    href = MD.normalizeLink(destination)
    expected = href if MD.validateLink(href) else None
    event("kept as is" if expected == destination else "changed or rejected")
    assert markdown_subset.normalized_link(destination, MD) == expected


@settings(max_examples=2000, deadline=None)
@given(destinations, st.sampled_from(BASES))
def test_plain_links_are_made_absolute_as_the_filter_does(href: str, base_url: str) -> None:
    plain = text._plain_absolute_url(base_url, href)
    event("plain" if plain is not None else "filter")
    if plain is not None:
        assert plain == text._absolute_url_filter(base_url)("a", "href", href)


def test_lone_surrogates_go_to_markdown_it() -> None:
    """nh3 cannot take them, so summaries holding one fail as before the subset."""
    assert markdown_subset.parse("a \ud800 b", MD) is None


@pytest.mark.parametrize(
    "markdown",
    [
        "Cities & regions share **what works** and what *does not*.",
        "Read the [full report](https://www.example.org/reports/4) or the [summary](/s/4).",
        "Budgets grew by 12% < 15% forecast > 9% last year.\nUse `entries.yaml`, not <b>.",
        "An investment of €4.32 billion over the next _five_ years.\n\nSecond paragraph.",
        "*Emphasis* may start a line, and (*inside* parentheses) too.",
    ],
)
def test_usual_summaries_take_the_fast_path(markdown: str) -> None:
    fast = markdown_subset.render(markdown, MD)
    assert fast is not None
    assert fast == MD.render(markdown)


@pytest.mark.parametrize(
    "markdown",
    [
        "- a list item",
        "# A heading",
        "> a quote",
        "1. first",
        "Escaped \\*star\\*",
        "An entity &amp; here",
        "An autolink <https://example.org/>",
        "A [reference][ref] link",
        "![an image](https://example.org/i.png)",
        "Hard  \nbreak",
        "***both***",
        "A [bad link](javascript:alert(1))",
        "    indented code",
        "Title\n=====",
    ],
)
def test_anything_else_goes_to_markdown_it(markdown: str) -> None:
    assert markdown_subset.render(markdown, MD) is None


# Characters of every class scanDelims tells apart: white space (ASCII, Unicode, the
# edges), ASCII and Unicode punctuation and symbols, letters, digits, markers.
DELIMITER_NEIGHBOURS = [*" \n\u00a0\u3000a1é東.,!?\"'()[]*_`<>&«»’€", "\u2028"]


@settings(max_examples=1500, deadline=None)
@given(
    st.lists(st.sampled_from(DELIMITER_NEIGHBOURS), max_size=3).map("".join),
    st.sampled_from(["*", "**", "***", "_", "__", "___"]),
    st.lists(st.sampled_from(DELIMITER_NEIGHBOURS), max_size=3).map("".join),
)
def test_delimiter_runs_are_classified_as_scan_delims_does(
    before: str, run: str, after: str
) -> None:
    """The cached classification reads only the characters next to the run."""
    src = before + run + after
    if after.startswith(run[0]):
        return  # the run would be longer
    state = StateInline(src, MD, {}, [])
    expected = state.scanDelims(len(before), run[0] == "*")
    scanned = markdown_subset._scan_delimiters(
        before[-1] if before else " ", run, after[0] if after else " "
    )
    assert scanned == expected
