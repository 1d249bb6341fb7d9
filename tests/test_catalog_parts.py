"""A catalog read in parts (`Parts`, `read_part`, `join_parts`: what the two processes of
`feeds build` each read) gives exactly what the full reader gives, entry lines
included; a part with anything off says so (None), and the caller reads the whole
file, which reports the problems."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_catalog_incremental import (
    ENTRY_TEMPLATES,
    ROOT,
    TRICKY_LINES,
    catalog_text,
    generated_catalog,
    outcome,
)

from feeds.catalog import CatalogErrors, parse_catalog
from feeds.catalog.incremental import CatalogParser
from feeds.catalog.parts import Parts, join_parts, part_feed, read_part
from feeds.model import Catalog


def read_in_parts(data: bytes, count: int) -> Catalog | None:
    """What the processes of a build make of `data`: None where they fall back."""
    parts = Parts.of(data, count)
    if parts is None or part_feed(parts) is None:
        return None
    runs = [read_part(parts, index) for index in range(count)]
    if any(run is None for run in runs):
        return None
    return join_parts(CatalogParser(), parts, [run for run in runs if run is not None], "x.yaml")


def lines(catalog: Catalog) -> list[int]:
    return [entry.line for entry in catalog.entries]


@pytest.mark.parametrize("name", ["entries.yaml", "generated-1000"])
@pytest.mark.parametrize("count", [2, 3, 7])
def test_real_catalogs_read_in_parts_as_a_whole(name: str, count: int) -> None:
    data = generated_catalog(1000) if name == "generated-1000" else (ROOT / name).read_bytes()
    whole = parse_catalog(data, "x.yaml")
    joined = read_in_parts(data, count)
    assert joined is not None  # these files are for the shortcut: it must be taken
    assert joined == whole and lines(joined) == lines(whole)
    assert joined.version == whole.version and joined.source == whole.source


def test_the_parts_are_runs_of_about_equal_size() -> None:
    parts = Parts.of(generated_catalog(1000), 2)
    assert parts is not None and parts.bounds == (0, 500, 1000)
    assert Parts.of(generated_catalog(3), 4) is None  # fewer entries than parts


def test_the_parser_that_joined_the_parts_reads_the_next_edit_alone() -> None:
    data = generated_catalog(300)
    parts = Parts.of(data, 2)
    assert parts is not None
    runs = [read_part(parts, 0), read_part(parts, 1)]
    parser = CatalogParser()
    assert join_parts(parser, parts, [run for run in runs if run is not None], "x.yaml")
    head, body = data.split(b"\nentries:\n")
    edited = head + b"\nentries:\n" + body.replace(b'title: "', b'title: "Edited ', 1)
    catalog = parser.parse(edited, "x.yaml")
    assert catalog == parse_catalog(edited, "x.yaml")
    assert (parser.parsed, parser.reused) == (1, 299)


def test_a_problem_in_one_part_makes_that_part_fall_back() -> None:
    text = catalog_text([0, 1, 0, 1, 0, 1], 2).replace("2019-05-04", "2019-05-34")
    parts = Parts.of(text.encode(), 2)
    assert parts is not None
    assert read_part(parts, 0) is not None and read_part(parts, 1) is None
    with pytest.raises(CatalogErrors):
        parse_catalog(text.encode())


def test_duplicate_ids_in_two_parts_fall_back() -> None:
    text = catalog_text([0, 1, 0, 1], 2).replace("id: event-3", "id: pub-0")
    parts = Parts.of(text.encode(), 2)
    assert parts is not None
    runs = [read_part(parts, 0), read_part(parts, 1)]
    assert all(run is not None for run in runs)  # each part alone is fine
    assert join_parts(CatalogParser(), parts, [r for r in runs if r is not None], "x") is None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kinds=st.lists(st.integers(0, len(ENTRY_TEMPLATES) - 1), min_size=2, max_size=10),
    indent=st.sampled_from([0, 2]),
    count=st.integers(2, 4),
    tricky=st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from(TRICKY_LINES)), max_size=3),
)
def test_any_file_read_in_parts_is_read_as_the_full_reader_reads_it_or_falls_back(
    kinds: list[int], indent: int, count: int, tricky: list[tuple[int, str]]
) -> None:
    lines_of_text = catalog_text(kinds, indent).split("\n")
    for at, line in tricky:
        lines_of_text.insert(at % len(lines_of_text), line)
    data = "\n".join(lines_of_text).encode()
    joined = read_in_parts(data, count)
    if not tricky and 3 not in kinds and len(kinds) >= count:
        # Plain files (no item-like line inside a quoted title) must take the shortcut.
        assert joined is not None
    if joined is None:
        return  # the build reads the whole file then: the full reader's result, by definition
    expected = outcome(lambda: parse_catalog(data, "x.yaml"))
    assert outcome(lambda: joined) == expected
