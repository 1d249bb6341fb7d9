"""The summaries the benchmarks' catalog holds (Markdown with `&`, `<`, `>`, quotes,
emphasis, links, raw HTML that must stay text, non-ASCII) all take the fast way through
`feeds.render.text` (the Markdown subset, written straight to sanitised HTML and plain text,
links made absolute without urllib), and each comes out as markdown-it and nh3 make it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from test_feeds_text_subset import slow_summary_html, slow_summary_text

from feeds import memo
from feeds.catalog import parse_catalog
from feeds.model import Catalog
from feeds.render import markdown_subset, text

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    """The benchmarks' deterministic catalog, 1,000 entries."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from gen_catalog import generate  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    generated: str = generate(1000)
    return parse_catalog(generated.encode())


def test_every_generated_summary_is_in_the_subset(catalog: Catalog) -> None:
    summaries = {entry.summary for entry in catalog.entries if entry.summary.strip()}
    declined = [s for s in summaries if markdown_subset.parse(s, text._markdown) is None]
    assert len(summaries) > 500
    assert declined == []


def test_every_generated_link_is_plain(catalog: Catalog) -> None:
    """Each link is normalised and made absolute without mdurl or urllib."""
    base_url = catalog.feed.base_url
    hrefs = {
        href
        for entry in catalog.entries
        if (document := markdown_subset.parse(entry.summary, text._markdown)) is not None
        for href in document.hrefs
    }
    assert len(hrefs) > 100
    assert [h for h in hrefs if not markdown_subset._KEPT_DESTINATION.fullmatch(h)] == []
    assert [h for h in hrefs if text._plain_absolute_url(base_url, h) is None] == []


def test_generated_summaries_come_out_as_markdown_it_and_nh3_make_them(
    catalog: Catalog,
) -> None:
    memo.clear_all()  # computed now, not found in the memo
    base_url = catalog.feed.base_url
    for entry in catalog.entries:
        assert text.summary_html(entry.summary, base_url) == slow_summary_html(
            entry.summary, base_url
        )
        assert text.summary_text(entry.summary) == slow_summary_text(entry.summary)
