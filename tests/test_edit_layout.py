"""`edit_layout.edited` splits an edited file by its difference from the version before:
whenever it gives a layout, that layout is exactly `split` of the edited file (chunk
texts, lines and offsets), through any sequence of edits, including the ones that
change what a chunk boundary is (the first item's indentation, a dash alone on a line,
CR, document markers, a second `entries:` line)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_catalog_incremental import ENTRY_TEMPLATES, TRICKY_LINES, apply, catalog_text, edits

from feeds.catalog.edit_layout import Split, edited
from feeds.catalog.layout import split


def split_of(data: bytes) -> Split | None:
    layout = split(data)
    return Split.of(data, layout) if layout is not None else None


def check_edit(previous: Split, data: bytes) -> Split | None:
    """`edited` against `split`; the Split to diff the next version against."""
    edit = edited(previous, data)
    expected = split_of(data)
    if edit is None:
        return expected
    assert expected is not None, "edited() gave a layout where split() gives none"
    assert edit.split == expected
    old, new = previous.layout.chunks, expected.layout.chunks
    # The chunks outside the edit are the previous ones, moved by the lines it added.
    assert new[: edit.first] == old[: edit.first]
    after = [(chunk.text, chunk.line - edit.lines) for chunk in new[edit.first + edit.count :]]
    assert after == [(chunk.text, chunk.line) for chunk in old[edit.end :]]
    return edit.split


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kinds=st.lists(st.integers(0, len(ENTRY_TEMPLATES) - 1), min_size=1, max_size=8),
    indent=st.sampled_from([0, 2]),
    steps=st.lists(edits, min_size=1, max_size=4),
)
def test_an_edited_layout_is_the_layout_of_the_edited_file(
    kinds: list[int], indent: int, steps: list[list[tuple[str, int, int, str]]]
) -> None:
    text = catalog_text(kinds, indent)
    previous = split_of(text.encode())
    for step in steps:
        for edit in step:
            text = apply(text, edit)
        if previous is not None:
            previous = check_edit(previous, text.encode()) or previous
        else:
            previous = split_of(text.encode())


def test_an_edit_inside_one_entry_splits_only_the_entries_around_it() -> None:
    text = catalog_text([0, 1, 4] * 20, 2)
    previous = split_of(text.encode())
    assert previous is not None
    edited_text = text.replace("Publication 30", "Publication thirty")
    edit = edited(previous, edited_text.encode())
    assert edit is not None and edit.count <= 3 and edit.end - edit.first == edit.count
    assert edit.lines == 0
    assert check_edit(previous, edited_text.encode()) == edit.split


def test_lines_added_move_the_chunks_after_the_edit() -> None:
    text = catalog_text([0, 1, 4] * 5, 2)
    previous = split_of(text.encode())
    assert previous is not None
    grown = text.replace("    title: Event 4\n", "    title: Event 4\n    type: talk\n    # note\n")
    edit = edited(previous, grown.encode())
    assert edit is not None and edit.lines == 2
    check_edit(previous, grown.encode())


def test_the_first_items_indentation_is_the_files() -> None:
    text = catalog_text([0, 1, 0], 2)
    previous = split_of(text.encode())
    assert previous is not None
    # Indenting the first item changes the marker of every chunk: not an edit of one.
    reindented = text.replace("  - id: pub-0", "   - id: pub-0", 1)
    assert edited(previous, reindented.encode()) is None
    for line in TRICKY_LINES:  # any line put before the first item: edited() or None
        check_edit(previous, text.replace("entries:\n", f"entries:\n{line}\n").encode())


def test_a_change_to_the_feed_block_is_not_an_edit_of_chunks() -> None:
    text = catalog_text([0, 1], 2)
    previous = split_of(text.encode())
    assert previous is not None
    assert edited(previous, text.replace("Feed:", "Fed:").encode()) is None
