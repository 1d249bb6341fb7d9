"""The embed page's query rules (server side and nginx pattern) and its precomputed items."""

from __future__ import annotations

import re
from urllib.parse import parse_qs

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_pages_support import bundled_catalog, elements, parse_html, text_of

from feeds.render.pages import validate_embed_query
from feeds.render.pages_embed import (
    EMBED_DEFAULTS,
    EMBED_QUERY_PATTERN,
    embed_query_problem,
)
from feeds.site import build_site

VALID = [
    {},
    {"kind": ["events"]},
    {"kind": ["publications"], "tag": ["culture"], "limit": ["1"], "theme": ["dark"]},
    {"limit": ["50"]},
    {"theme": ["auto"], "tag": ["social-inclusion"]},
]
INVALID = [
    ({"kind": ["news"]}, "kind must be one of publications, events"),
    ({"limit": ["0"]}, "limit must be a whole number from 1 to 50"),
    ({"limit": ["51"]}, "limit must be"),
    ({"limit": ["05"]}, "limit must be"),
    ({"limit": ["ten"]}, "limit must be"),
    ({"limit": [""]}, "limit must be"),
    ({"theme": ["blue"]}, "theme must be one of light, dark, auto"),
    ({"tag": ["Culture"]}, "tag must be lowercase"),
    ({"tag": ["a/b"]}, "tag must be lowercase"),
    ({"kind": ["events", "events"]}, "give kind once, not 2 times"),
    ({"utm_source": ["x"]}, "unknown parameter 'utm_source'"),
    ({"callback": ["alert"]}, "unknown parameter"),
]


@pytest.mark.parametrize("args", VALID)
def test_valid_queries_pass(args: dict[str, list[str]]) -> None:
    assert validate_embed_query(args) is None


@pytest.mark.parametrize(("args", "message"), INVALID)
def test_invalid_queries_say_what_to_fix(args: dict[str, list[str]], message: str) -> None:
    problem = validate_embed_query(args)
    assert problem is not None and message in problem


def test_known_tags_reject_a_tag_the_catalog_lacks() -> None:
    assert validate_embed_query({"tag": ["culture"]}, known_tags={"culture"}) is None
    assert (
        validate_embed_query({"tag": ["sport"]}, known_tags={"culture"})
        == "there is no tag 'sport'"
    )


# Query strings as an embed snippet writes them: the allowed names with valid or invalid
# values, unknown names, repeats, in any order.
_values = {
    "kind": st.sampled_from(["publications", "events", "news", ""]),
    "tag": st.from_regex(r"[a-z0-9-]{0,6}", fullmatch=True) | st.just("A"),
    "limit": st.integers(-2, 60).map(str) | st.sampled_from(["05", "x", ""]),
    "theme": st.sampled_from(["light", "dark", "auto", "sepia"]),
    "other": st.just("1"),
}
_pairs = st.lists(
    st.sampled_from(sorted(_values)).flatmap(lambda name: _values[name].map(lambda v: (name, v))),
    max_size=5,
)


@given(_pairs)
def test_nginx_pattern_agrees_with_the_server(pairs: list[tuple[str, str]]) -> None:
    query = "&".join(f"{name}={value}" for name, value in pairs)
    args = parse_qs(query, keep_blank_values=True)
    by_server = validate_embed_query(args) is None
    by_nginx = re.search(EMBED_QUERY_PATTERN, query) is not None
    assert by_server == by_nginx, query


def _percent_encoded(text: str) -> str:
    return "".join(f"%{ord(char):02X}" for char in text)


# The same pairs written as a sloppy snippet or a hand-edited URL might: empty parts
# between, before or after them, and values percent-encoded (which decode to the same).
_raw_queries = st.lists(
    st.tuples(
        st.sampled_from(["&", "&&", "&&&"]),
        st.sampled_from(sorted(_values)).flatmap(
            lambda name: st.tuples(st.just(name), _values[name], st.booleans())
        ),
    ),
    max_size=4,
).flatmap(
    lambda parts: st.tuples(st.sampled_from(["", "&"]), st.sampled_from(["", "&"])).map(
        lambda ends: (
            ends[0]
            + "".join(
                (separator if i else "") + f"{name}={_percent_encoded(value) if encoded else value}"
                for i, (separator, (name, value, encoded)) in enumerate(parts)
            )
            + ends[1]
        )
    )
)


@given(_raw_queries)
def test_the_server_refuses_exactly_what_nginx_refuses(query: str) -> None:
    by_server = embed_query_problem(query) is None
    by_nginx = re.search(EMBED_QUERY_PATTERN, query) is not None
    assert by_server == by_nginx, query


@pytest.mark.parametrize(
    "query", ["&&&", "&", "kind=events&", "&kind=events", "kind=events&&limit=5", "kind=%65vents"]
)
def test_a_query_that_only_decodes_to_a_valid_one_is_refused_with_how_to_write_it(
    query: str,
) -> None:
    assert validate_embed_query(parse_qs(query, keep_blank_values=True)) is None
    problem = embed_query_problem(query)
    assert problem is not None and "name=value pairs joined by single '&'" in problem


def test_the_server_keeps_its_own_messages_for_values() -> None:
    assert embed_query_problem("") is None
    assert embed_query_problem("kind=events&limit=5&theme=dark") is None
    assert embed_query_problem("limit=%ff") == "the query is not valid UTF-8 percent-encoding"
    problem = embed_query_problem("kind=news&")
    assert problem is not None and problem.startswith("kind must be one of")
    assert embed_query_problem("tag=sport", known_tags={"culture"}) == "there is no tag 'sport'"


def test_embed_page_holds_every_item_and_shows_the_defaults_without_script() -> None:
    catalog = bundled_catalog()
    document = parse_html(build_site(catalog)["/embed/"].body)
    sections = {s.get("data-kind"): s for s in elements(document, "section")}  # type: ignore[attr-defined]
    publications = list(elements(sections["publications"], "li"))
    events = list(elements(sections["events"], "li"))
    assert [text_of(next(elements(li, "a"))) for li in publications] == [
        e.title for e in catalog.publications
    ]
    assert {text_of(next(elements(li, "a"))) for li in events} == {e.title for e in catalog.events}
    shown = [li for li in publications if li.get("hidden") is None]  # type: ignore[attr-defined]
    assert len(shown) == int(EMBED_DEFAULTS["limit"])
    assert sections["events"].get("hidden") is not None  # type: ignore[attr-defined]
    for a in elements(document, "a"):
        assert a.get("target") == "_top", a.get("href")  # type: ignore[attr-defined]
    antwerp = next(li for li in events if "Antwerp" in text_of(li))
    assert antwerp.get("data-last-day") == "2019-05-22"  # type: ignore[attr-defined]
    assert antwerp.get("data-tags") == ""  # type: ignore[attr-defined]
