"""The fast Markdown renderer (`feeds.markdown_subset`) writes exactly what markdown-it
writes, or declines; summaries come out of `feeds.text` as they would without it.

Generated texts are dense in what changes CommonMark's reading: markers at line starts,
trailing spaces, tabs, emphasis runs next to punctuation and non-ASCII, brackets, code
spans, entity references, autolinks, backslashes, unsafe link schemes.
"""

from __future__ import annotations

import nh3
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from feeds import markdown_subset, text

MD = text._markdown
BASE = "https://feeds.example.org/"

# Pieces that make up hostile texts: each is either plain or means something somewhere.
TOKENS = [
    *"aZé東1 .,:;!?()'\"-+#=|~/%$@{}«»’\u00a0\u2003",
    *["\n", "\n\n", "\n \n", "  \n", " \n", "\t", "\r", "\r\n", "\\", "\0"],
    *["*", "**", "***", "_", "__", "`", "``", "[", "]", "](", ")", "![", "<", ">", "&"],
    *["&amp;", "&#35;", "&#x41;", "&bogus;", "&x", "1.", "2)", "- ", "* ", "> ", "# "],
    *["---", "===", "    ", "http://a.example/b_c", "<http://a.example/>", "<x@y.example>"],
    *["mailto:x@y.example", "javascript:alert(1)", "/rel/path", "b*c", "d_e", "<b>"],
]
hostile_texts = st.lists(st.sampled_from(TOKENS), max_size=24).map("".join)

# Texts shaped like real summaries, so that the fast path answers often.
WORDS = ["cities", "Zürich", "東京", "12%", "<", ">", "&", "R&D", "‘quoted’", '"q"', "it's"]
DESTINATIONS = ["https://www.example.org/r/4", "/summary/4", "mailto:info@example.org", "x_y"]


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


def slow_summary_html(markdown: str) -> str:
    """What feeds.text gave before the subset and the conditional URL filter."""
    if not markdown.strip():
        return ""
    return str(
        nh3.clean(
            MD.render(markdown),
            tags=text._ALLOWED_TAGS,
            attributes=text._ALLOWED_ATTRIBUTES,
            url_schemes=text._URL_SCHEMES,
            link_rel="noopener noreferrer",
            attribute_filter=text._absolute_url_filter(BASE),
        )
    ).strip()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts)
def test_summaries_are_what_markdown_it_and_nh3_give(markdown: str) -> None:
    assert text.summary_html(markdown, BASE) == slow_summary_html(markdown)


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
