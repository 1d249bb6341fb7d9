"""The catalog reader's fast paths give exactly what the general paths give.

Each shortcut on the hot path of `parse_catalog` (issue 7) answers only the common case
and must agree with the general code it skips; these properties check that on text built
to sit on both sides of each shortcut's edge.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import yaml
from dateutil.rrule import rrulestr  # type: ignore[import-untyped,unused-ignore]
from hypothesis import event, given, settings
from hypothesis import strategies as st

from feeds.catalog import BLOCKS, load_catalog, yamlnodes
from feeds.catalog.errors import Invalid, Problems, StopReading
from feeds.catalog.recurrence_rules import _first_occurrence
from feeds.catalog.schema import key_in_path
from feeds.catalog.values import (
    _NOT_XML,
    _PLAIN_URL,
    _checked_url,
    check_xml_chars,
    first_not_xml,
    text,
    url,
)
from feeds.catalog.yamlnodes import Map, Node, Scalar, Seq
from feeds.model import Entry, Event

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


# --- the tree builder's shortcut for plain scalars ---------------------------------------


def tree(node: Node | None) -> object:
    """A node as plain data: kind, line and contents (nodes have no __eq__)."""
    if isinstance(node, Scalar):
        return ("scalar", node.line, node.value, node.null)
    if isinstance(node, Seq):
        return ("list", node.line, [tree(item) for item in node.items])
    if isinstance(node, Map):
        fields = [(key, line, tree(value)) for key, (line, value) in node.fields.items()]
        return ("mapping", node.line, fields)
    return None if node is None else ("rejected", node.line)


class KeepsEveryOther:
    """Hooks that record what they are given and keep every second top-level item."""

    def __init__(self) -> None:
        self.calls: list[object] = []

    def top_value(self, key: str, key_line: int, node: Node) -> None:
        self.calls.append(("value", key, key_line, tree(node)))

    def top_item(self, key: str, node: Node) -> bool:
        self.calls.append(("item", key, tree(node)))
        return len(self.calls) % 2 == 0


Built = tuple[object, list[object], list[str]]


def build_event_by_event(data: bytes) -> Built:
    """The general path: every event through _TreeBuilder.feed, none by the shortcut."""
    problems, hooks = Problems("c.yaml"), KeepsEveryOther()
    builder = yamlnodes._TreeBuilder(problems, hooks)
    parser = yaml.CSafeLoader(data)
    try:
        while (event := parser.get_event()) is not None and builder.feed(event):
            pass
    finally:
        parser.dispose()
    return tree(builder.root), hooks.calls, [str(error) for error in problems.errors]


def build_with_compose(data: bytes) -> Built:
    problems, hooks = Problems("c.yaml"), KeepsEveryOther()
    root = yamlnodes.compose(data, problems, hooks)
    return tree(root), hooks.calls, [str(error) for error in problems.errors]


SCALARS = ["a", "~", "null", "''", '""', "!!str x", "!!null ~", "!!int 1", "&a x", "*a", "!x 1"]
SCALARS += ["!!python/object:x 1", "", "|\n  block", "'quoted'", "[]", "{}", "[a, ~]", "{a: 1}"]
KEYS = ["feed", "entries", "title", "a", "~", "''", "? [k]", "!!str k", "&k k", "*k", "a"]


@st.composite
def yaml_documents(draw: st.DrawFn, depth: int = 0) -> str:
    """Mappings and lists of the scalars, keys and marks above, nested a few levels."""
    lines: list[str] = []
    indent = "  " * depth
    items = draw(st.booleans())  # a list, else a mapping; mixed only now and then
    for _ in range(draw(st.integers(0, 4))):
        nested = depth < 3 and draw(st.booleans())
        item = items != draw(st.sampled_from([False] * 9 + [True]))
        head = f"{indent}- " if item else f"{indent}{draw(st.sampled_from(KEYS))}: "
        if nested:
            lines.append(head.rstrip())
            lines.append(draw(yaml_documents(depth + 1)))
        else:
            lines.append(head + draw(st.sampled_from(SCALARS)))
    return "\n".join(lines)


def outcome(build: Callable[[bytes], Built], data: bytes) -> object:
    try:
        return build(data)
    except StopReading:  # too many problems, or items
        return "stopped"


@settings(max_examples=400, deadline=None)
@given(yaml_documents())
def test_compose_builds_what_feeding_event_by_event_builds(document: str) -> None:
    """Same tree, same lines, same hook calls, same problems (even on broken YAML)."""
    data = document.encode()
    try:
        general = outcome(build_event_by_event, data)
    except yaml.YAMLError:
        event("not YAML")
        return  # a syntax error ends compose before any tree is returned: not the shortcut's
    event("YAML")
    assert outcome(build_with_compose, data) == general


def test_printable_text_has_no_character_check_xml_chars_refuses() -> None:
    """The text converter returns printable text without the character checks."""
    refused = [chr(code) for code in range(0x110000) if _NOT_XML.match(chr(code))]
    assert len(refused) > 2000  # the controls, the surrogates, the noncharacters
    assert not any(char.isprintable() for char in refused)
    assert not any(char.isprintable() for char in "\n\r\u2028\u2029\x85")  # line breaks


def general_one_line_text(value: str, max_length: int) -> str:
    """What `text(max_length, one_line=True)` does without its shortcut."""
    if len(value) > max_length:
        raise Invalid(f"is too long ({len(value):,} characters; at most {max_length:,})")
    if not value.strip():
        raise Invalid("is empty; write some text or remove the key")
    check_xml_chars(value)
    if "\n" in value.strip() or "\r" in value.strip():
        raise Invalid("must be one line; put longer text in the summary")
    return value


@PROPERTY
@given(edge_text, st.sampled_from([5, 100]))
def test_text_gives_what_its_general_path_gives(value: str, max_length: int) -> None:
    def outcome(convert: Callable[[], str]) -> str:
        try:
            return "accepted " + convert()
        except Invalid as exc:
            return "refused " + exc.message

    node = Scalar(1, value, False)
    fast = outcome(lambda: text(max_length, one_line=True)(node, "title", Problems("c.yaml")))
    assert fast == outcome(lambda: general_one_line_text(value, max_length))


# --- a recurrence rule's first occurrence -------------------------------------------------


@PROPERTY
@given(
    start=st.datetimes(min_value=datetime(9200, 1, 1), max_value=datetime(9599, 12, 31, 23, 59)),
    whole_seconds=st.booleans(),
    parts=st.fixed_dictionaries(
        {"FREQ": st.sampled_from(["DAILY", "WEEKLY", "MONTHLY", "YEARLY"])},
        optional={
            "INTERVAL": st.integers(1, 1000).map(str),
            "WKST": st.sampled_from(["MO", "TU", "WE", "TH", "FR", "SA", "SU"]),
            "COUNT": st.integers(1, 10).map(str),
            "UNTIL": st.just("99991231"),
            "BYMONTH": st.integers(1, 12).map(str),  # not start-keeping: the general path
        },
    ),
)
def test_first_occurrence_is_what_dateutil_gives(
    start: datetime, whole_seconds: bool, parts: dict[str, str]
) -> None:
    """check_occurs probes from the start moved to the years 9200-9599."""
    probe = start.replace(microsecond=0) if whole_seconds else start
    unbounded = ";".join(f"{k}={v}" for k, v in parts.items() if k not in ("COUNT", "UNTIL"))
    expected = rrulestr(unbounded, dtstart=probe).after(probe, inc=True)
    assert _first_occurrence(parts, probe) == expected


# --- model objects made without their __init__ ----------------------------------------------


def test_entries_and_events_are_what_their_constructors_make() -> None:
    """build._made skips the dataclass __init__: same fields, in order, nothing else set."""
    catalog = load_catalog(Path(__file__).resolve().parent.parent / "entries.yaml")
    events = [entry.event for entry in catalog.entries if entry.event is not None]
    assert events and len(events) < len(catalog.entries)
    made_objects: list[Entry | Event] = [*catalog.entries, *events]
    for made in made_objects:
        cls = type(made)
        assert not hasattr(cls, "__post_init__") and not hasattr(cls, "__slots__")
        fields = {field.name: getattr(made, field.name) for field in dataclasses.fields(cls)}
        constructed = cls(**fields)
        assert list(made.__dict__.items()) == list(constructed.__dict__.items())
        assert made == constructed and hash(made) == hash(constructed)
