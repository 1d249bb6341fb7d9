"""The catalog reader's fast paths give exactly what the general paths give.

Each shortcut on the hot path of `parse_catalog` (issue 7) answers only the common case
and must agree with the general code it skips; these properties check that on text built
to sit on both sides of each shortcut's edge.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.catalog import BLOCKS
from feeds.catalog.errors import Invalid, Problems
from feeds.catalog.schema import key_in_path
from feeds.catalog.values import _NOT_XML, _PLAIN_URL, _checked_url, first_not_xml, url
from feeds.catalog.yamlnodes import Scalar

PROPERTY = settings(max_examples=400, deadline=None)

# Characters around every edge the checks draw: controls, space, the URL delimiters,
# brackets, @, %, non-ASCII letters, C1 controls, surrogates' neighbours, noncharacters
# inside and beyond the BMP, and characters beyond the BMP that are fine.
EDGE_CHARACTERS = (
    "\x00\x01\x08\t\n\x0b\x0c\r\x1f \x7f\x80\x85\x9f\xa0"
    "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~aAzZ09"
    "é北\u2028\ud7ff\ue000\ufdd0\ufdef\ufffd\ufffe\uffff"
    "\U00010000\U0001f600\U0001fffe\U0001ffff\U0010fffd\U0010ffff"
)
edge_text = st.text(alphabet=st.sampled_from(EDGE_CHARACTERS), max_size=30) | st.text(max_size=30)
SCHEMES = ["http://", "https://", "HTTP://", "https:", "https:/", "ftp://", "//", ""]
HOST_PARTS = ["example.org", "EXAMPLE", "a", ".", "-", ":", ":80", "x", "[::1]", "[", "]", "@"]
HOST_PARTS += ["user:pw@", "%", "é", " ", "\t", "\n", "\x00", "\x7f", "_", "\\"]
REST_PARTS = ["/", "?", "#", "/path", "?q=1&r=2", "#frag", "%20", "[", "@", " ", "é", "\x7f"]
url_like = st.tuples(
    st.sampled_from(SCHEMES),
    st.lists(st.sampled_from(HOST_PARTS), max_size=4),
    st.lists(st.sampled_from(REST_PARTS) | edge_text, max_size=4),
).map(lambda parts: parts[0] + "".join(parts[1]) + "".join(parts[2]))


def general_outcome(value: str) -> str:
    try:
        return "accepted " + _checked_url(value)
    except Invalid as exc:
        return "refused " + exc.message


def url_outcome(value: str) -> str:
    try:
        return "accepted " + url(Scalar(1, value, False), "link", Problems("c.yaml"))
    except Invalid as exc:
        return "refused " + exc.message


@PROPERTY
@given(url_like)
def test_url_fast_path_accepts_only_what_the_general_check_accepts(value: str) -> None:
    if _PLAIN_URL.fullmatch(value):
        assert general_outcome(value) == "accepted " + value
    assert url_outcome(value) == general_outcome(value)


def test_the_fast_path_takes_the_common_urls() -> None:
    """Not a property: shows the shortcut is really taken (else the test above is vacuous)."""
    for value in ("https://www.example.org/news/1?utm_source=feed&id=1", "http://a.b:8080"):
        assert _PLAIN_URL.fullmatch(value)


@PROPERTY
@given(edge_text)
def test_first_not_xml_finds_what_the_full_class_finds(value: str) -> None:
    fast, general = first_not_xml(value), _NOT_XML.search(value)
    assert (fast and (fast.start(), fast.group())) == (
        general and (general.start(), general.group())
    )


def test_schema_names_are_their_own_field_paths() -> None:
    """read_mapping writes path + "." + name, which is join(path, name) for such names."""
    for block in BLOCKS.values():
        for name in block:
            assert key_in_path(name) == name
