"""The incremental reader carries the Catalog's orders (publications, events, tags) over
from its last parse when an edit cannot move anything: the carried orders must be
exactly what sorting the new catalog gives, entry objects (and lines) included.

The dates are chosen to make that hard: the same instant written in different zones and
at fixed offsets, wall times around Brussels' DST gap and in its fold (Python compares two
datetimes of one zone object by wall time, others by instant, so an edit to a value
that is equal but written otherwise may change the order), ties broken by id.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feeds.catalog import parse_catalog
from feeds.catalog.incremental import CatalogParser
from feeds.model import Catalog

HEAD = """\
feed:
  title: Orders
  link: https://e.org/
  base_url: https://e.org/
  id_authority: e.org,2019
  timezone: Europe/Brussels
entries:
"""

# Published values: equal instants in other words, around the DST gap (31 March 2019,
# 02:00-03:00 does not exist in Brussels: the reader refuses it) and in the fold (27
# October 2019, 02:00-03:00 happens twice).
WHEN = [
    "2019-03-31T01:30:00",
    "2019-03-31T03:10:00",
    "2019-03-31T01:10:00+00:00",
    "2019-03-31T00:30:00Z",
    "2019-03-31T03:30:00+02:00",
    "2019-10-27T02:30:00",
    "2019-10-27T02:10:00+01:00",
    "2019-10-27T00:30:00Z",
    "2019-10-27T01:30:00+00:00",
    "2019-10-27",
    "2019-10-26T23:00:00Z",
]
EVENT_STARTS = ["2019-05-01", "2019-05-01T00:00:00Z", "2019-04-30T23:00:00-01:00", "2019-05-02"]


def entry(n: int, when: int, title: str, tags: list[str], event: int | None) -> str:
    text = (
        f"  - id: e{n:02d}\n"
        f'    title: "{title}"\n'
        f"    published: {WHEN[when]}\n"
        f"    tags: [{', '.join(tags)}]\n"
    )
    if event is not None:
        start = EVENT_STARTS[event]
        text += f"    event:\n      start: {start}\n      end: {start}\n"
    return text


def orders(catalog: Catalog) -> tuple[object, ...]:
    lines = [[e.line for e in order] for order in (catalog.publications, catalog.events)]
    return catalog, catalog.publications, catalog.events, catalog.tags, lines


ENTRY = st.tuples(
    st.integers(0, len(WHEN) - 1),
    st.sampled_from(["a", "b"]),
    st.lists(st.sampled_from(["x", "y", "z"]), unique=True, max_size=2),
    st.none() | st.integers(0, len(EVENT_STARTS) - 1),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    first=st.lists(ENTRY, min_size=1, max_size=8),
    edits=st.lists(st.tuples(st.integers(0, 100), ENTRY), min_size=1, max_size=6),
)
def test_carried_orders_are_the_sorted_orders(
    first: list[tuple[int, str, list[str], int | None]],
    edits: list[tuple[int, tuple[int, str, list[str], int | None]]],
) -> None:
    parser = CatalogParser()
    entries = list(first)
    for at, replacement in [(0, entries[0]), *edits]:
        entries[at % len(entries)] = replacement
        data = (HEAD + "".join(entry(n, *fields) for n, fields in enumerate(entries))).encode()
        parsed = parser.parse(data)
        assert orders(parsed) == orders(parse_catalog(data))


def test_a_retitle_carries_the_orders_with_the_new_entry_in_them() -> None:
    parser = CatalogParser()
    text = HEAD + "".join(entry(n, n % len(WHEN), f"T{n}", ["x"], n % 3) for n in range(12))
    first = parser.parse(text.encode())
    assert first.publications and first.events and first.tags  # computed: can be carried
    edited = text.replace('"T7"', '"Seven"')
    second = parser.parse(edited.encode())
    # Carried: set on the new catalog before anything asked for it.
    assert {"publications", "events", "tags"} <= set(vars(second))
    assert orders(second) == orders(parse_catalog(edited.encode()))
    assert "Seven" in [e.title for e in second.publications]


def test_an_equal_instant_in_another_zone_is_sorted_again() -> None:
    parser = CatalogParser()
    text = HEAD + entry(0, 1, "a", [], None) + entry(1, 4, "b", [], None)
    parser.parse(text.encode()).publications  # noqa: B018 - computes the order to carry
    # 03:30+02:00 is 03:30 in Brussels, the same instant written with the zone's object.
    edited = text.replace(WHEN[4], "2019-03-31T03:30:00")
    second = parser.parse(edited.encode())
    assert "publications" not in vars(second)
    assert orders(second) == orders(parse_catalog(edited.encode()))
