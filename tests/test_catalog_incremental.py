"""The incremental reader (`CatalogParser`) gives exactly what the full reader gives:
the same Catalog (entry lines included) for a good file, the same errors for a bad one,
through any sequence of edits, including the ones that defeat cutting a file into
entries (text that looks like an item inside a quoted string, document markers, a
block scalar that keeps its trailing lines, mixed indentation, comments)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feeds.catalog import CatalogErrors, parse_catalog
from feeds.catalog.incremental import CatalogParser
from feeds.catalog.layout import split
from feeds.model import Catalog

ROOT = Path(__file__).resolve().parent.parent

FEED = """\
# comment before the feed
feed:
  title: "Feed: news & events"
  link: https://e.org/
  base_url: https://e.org/
  id_authority: e.org,2019
  timezone: Europe/Brussels
"""

ENTRY_TEMPLATES = [
    """\
  - id: pub-{n}
    title: "Publication {n}"
    published: 2019-03-{day:02d}
    tags: [a, b]
    summary: |
      Some *markdown* & text {n}.
""",
    """\
  - id: event-{n}
    title: Event {n}
    updated: 2019-01-{day:02d}T10:00:00
    event:
      start: 2019-05-{day:02d}T09:00:00
      end: 2019-05-{day:02d}T17:00:00
      location: Antwerp, Belgium
""",
    """\
  # a comment between entries

  - id: keep-{n}
    title: 'Keeps its trailing lines {n}'
    published: 2019-04-{day:02d}T10:00:00+02:00
    summary: |+
      kept


""",
    """\
  - id: quoted-{n}
    title: "A title over
  - id: looks-like-an-item
      two lines {n}"
    published: 2019-02-{day:02d}
""",
    """\
  - id: tags-{n}
    title: Tags {n}
    published: 2019-05-{day:02d}
    tags:
    - x
    - y
    event:
      start: 2019-06-{day:02d}
      end: 2019-06-{day:02d}
      rrule: FREQ=WEEKLY;COUNT=3
""",
]

# Lines an editor (or a bad merge) might put anywhere.
TRICKY_LINES = [
    "  - id: dup-1",
    "  - id: pub-0",
    "    title: Another",
    "  -",
    "  - ",
    "- id: top-level-item",
    "entries:",
    "feed:",
    "...",
    "---",
    "# a comment",
    "  # an indented comment",
    "",
    "   ",
    '    summary: "unterminated',
    "    tags: [a,",
    "    published: 2019-02-30",
    "    event: {start: 2019-05-01}",
    "    link: /relative",
    "  - &anchor",
    "    title: *anchor",
    "\tid: tab",
    " - id: one-space",
    "    - id: four-spaces",
    "    summary: |+",
    "      text",
    "    timezone: Mars/Olympus",
    "other: 1",
    "  - id: Bad_Id",
    "%YAML 1.1",
    "\ufeff",
    "\x85",
    "  - id: x\u2028  - id: y",
    "    title: crlf\r",
]
# Characters that change how YAML reads a line, put anywhere.
TRICKY_CHARS = "\"':#[]{}|>&*!-? \t\r\x85\u2028\ufeff\n"


def catalog_text(kinds: list[int], indent: int) -> str:
    entries = "".join(
        ENTRY_TEMPLATES[kind].format(n=n, day=n % 28 + 1) for n, kind in enumerate(kinds)
    )
    if indent == 0:
        entries = "\n".join(
            line[2:] if line.startswith("  ") else line for line in entries.split("\n")
        )
    return FEED + "\nentries:\n" + entries


def outcome(read: object) -> tuple[str, object]:
    """("catalog", catalog, its orders and their entries' lines) or ("errors", the
    errors), comparable. The orders may be carried over from the parser's last catalog:
    they must hold the new entries (lines included), in the order sorting gives."""
    try:
        catalog = read()  # type: ignore[operator]
    except CatalogErrors as exc:
        return "errors", exc.errors
    assert isinstance(catalog, Catalog)
    orders = (catalog.entries, catalog.publications, catalog.events)
    lines = [[entry.line for entry in order] for order in orders]
    return "catalog", (catalog, catalog.publications, catalog.events, catalog.tags, lines)


def same_as_full(parser: CatalogParser, text: str | bytes) -> None:
    data = text.encode("utf-8") if isinstance(text, str) else text
    expected = outcome(lambda: parse_catalog(data, "entries.yaml"))
    assert outcome(lambda: parser.parse(data, "entries.yaml")) == expected


edits = st.lists(
    st.tuples(
        st.sampled_from(["replace", "insert", "delete", "duplicate", "retitle", "swap", "char"]),
        st.integers(0, 10_000),
        st.integers(0, 10_000),
        st.sampled_from(TRICKY_LINES),
    ),
    min_size=1,
    max_size=6,
)


def apply(text: str, edit: tuple[str, int, int, str]) -> str:
    operation, at, other, line = edit
    lines = text.split("\n")
    i, j = at % len(lines), other % len(lines)
    if operation == "replace":
        lines[i] = line
    elif operation == "insert":
        lines.insert(i, line)
    elif operation == "delete":
        del lines[i]
    elif operation == "duplicate":
        lines[i:i] = lines[min(i, j) : max(i, j) + 1][:12]
    elif operation == "retitle":
        titles = [k for k, text_line in enumerate(lines) if "title:" in text_line]
        if titles:
            k = titles[at % len(titles)]
            lines[k] = lines[k].split("title:")[0] + f"title: Retitled {other}"
    elif operation == "swap":
        lines[i], lines[j] = lines[j], lines[i]
    else:
        column = other % (len(lines[i]) + 1)
        lines[i] = lines[i][:column] + TRICKY_CHARS[at % len(TRICKY_CHARS)] + lines[i][column:]
    return "\n".join(lines)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kinds=st.lists(st.integers(0, len(ENTRY_TEMPLATES) - 1), min_size=1, max_size=8),
    indent=st.sampled_from([0, 2]),
    steps=st.lists(edits, min_size=1, max_size=4),
)
def test_every_edit_reads_as_the_full_reader_reads_it(
    kinds: list[int], indent: int, steps: list[list[tuple[str, int, int, str]]]
) -> None:
    parser = CatalogParser()
    text = catalog_text(kinds, indent)
    same_as_full(parser, text)
    for step in steps:  # the parser keeps what it learnt from one version to the next
        for edit in step:
            text = apply(text, edit)
        same_as_full(parser, text)


def test_the_templates_are_good_catalogs_of_the_usual_shape() -> None:
    """The property above starts from files the shortcut takes (else it tests little)."""
    for indent in (0, 2):
        text = catalog_text(list(range(len(ENTRY_TEMPLATES))), indent).encode()
        layout = split(text)
        assert layout is not None
        catalog = parse_catalog(text)
        # The quoted title holding a line that looks like an item makes one chunk too many;
        # the shortcut notices (its chunk does not read alone) and the result is still right.
        assert len(layout.chunks) == len(catalog.entries) + 1
        parser = CatalogParser()
        same_as_full(parser, text)


def test_an_edit_of_one_entry_parses_only_that_entry() -> None:
    kinds = [0, 1, 2, 4] * 5
    text = catalog_text(kinds, 2)
    parser = CatalogParser()
    first = parser.parse(text.encode())
    edited = text.replace("Publication 4", "Publication four")
    second = parser.parse(edited.encode())
    assert (parser.parsed, parser.reused) == (1, len(kinds) - 1)
    assert second == parse_catalog(edited.encode())
    assert [e.title for e in second.entries if e.id == "pub-4"] == ["Publication four"]
    # Entries not edited are the very objects of the first parse (renderers' caches hit).
    assert second.entries[0] is first.entries[0]


def test_inserted_lines_move_the_entries_below() -> None:
    text = catalog_text([0, 1, 0], 2)
    parser = CatalogParser()
    parser.parse(text.encode())
    moved = text.replace("    tags: [a, b]\n", "    tags: [a, b]\n    type: news\n", 1)
    catalog = parser.parse(moved.encode())
    full = parse_catalog(moved.encode())
    assert [e.line for e in catalog.entries] == [e.line for e in full.entries]
    assert catalog.entries[1].line == full.entries[1].line
    assert catalog.entries[0].type == "news"


def test_duplicate_ids_are_reported_by_the_full_reader() -> None:
    text = catalog_text([0, 1], 2)
    parser = CatalogParser()
    parser.parse(text.encode())
    duplicated = text.replace("id: event-1", "id: pub-0")
    with pytest.raises(CatalogErrors) as raised:
        parser.parse(duplicated.encode())
    assert "duplicate id 'pub-0'" in str(raised.value)
    assert outcome(lambda: parser.parse(duplicated.encode())) == ("errors", raised.value.errors)
    same_as_full(parser, duplicated)


def generated_catalog(entries: int) -> bytes:
    """The benchmarks' deterministic catalog (events in several zones, markup in text)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from gen_catalog import generate
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    return generate(entries).encode()


@pytest.mark.parametrize("name", ["entries.yaml", "generated-1000"])
def test_real_catalogs_read_alike_after_edits(name: str) -> None:
    data = generated_catalog(1000) if name == "generated-1000" else (ROOT / name).read_bytes()
    parser = CatalogParser()
    same_as_full(parser, data)
    assert split(data) is not None
    edited = data.replace(b'title: "', b'title: "Edited ', 3)
    same_as_full(parser, edited)
    assert 0 < parser.parsed <= 3
