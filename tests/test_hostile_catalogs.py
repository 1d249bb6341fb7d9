"""The hostile corpus (`tests/hostile/`, indexed by `cases.toml`) through `feeds check` and
`feeds build`, plus regression tests for what the corpus found.

Every broken catalog must give exit 1, only `FILE:LINE: [field: ]message` lines on stderr
(line 0 only for whole-file problems), no traceback, and leave the export untouched.
"""

from __future__ import annotations

import pytest

from feeds.catalog import CatalogErrors, parse_catalog
from feeds.catalog.errors import MAX_PROBLEMS
from feeds.catalog.yamlnodes import MAX_ITEMS

FEED_TEXT = """\
feed:
  title: T
  link: https://example.org/
  base_url: https://feeds.example.org/
  id_authority: example.org,2019
  timezone: Europe/Brussels
"""


def problems_of(text: str | bytes) -> list[str]:
    data = text.encode("utf-8") if isinstance(text, str) else text
    with pytest.raises(CatalogErrors) as caught:
        parse_catalog(data, "c.yaml")
    return [str(error) for error in caught.value.errors]


# --- regressions: floods of problems ---------------------------------------------------------


def test_a_flood_of_problems_stops_after_the_limit_with_a_note() -> None:
    lines = problems_of(FEED_TEXT + "entries:\n" + "  - x\n" * (MAX_PROBLEMS * 50))
    assert len(lines) == MAX_PROBLEMS + 1
    assert lines[-1] == (
        f"c.yaml:{7 + MAX_PROBLEMS + 1}: stopped reading here after {MAX_PROBLEMS} problems; "
        "fix those and run again"
    )


def test_a_mapping_with_too_many_keys_stops_reading() -> None:
    keys = "".join(f"  k{i}: 1\n" for i in range(MAX_ITEMS + 1))
    assert problems_of(FEED_TEXT.replace("feed:\n", "feed:\n" + keys)) == [
        f"c.yaml:2: this mapping has more than {MAX_ITEMS:,} keys; no catalog needs that "
        "(is an indentation wrong?)"
    ]


def test_a_long_list_below_the_top_stops_reading() -> None:
    tags = ", ".join(f"t{i}" for i in range(MAX_ITEMS + 1))
    text = FEED_TEXT + f"entries:\n  - id: e\n    title: E\n    tags: [{tags}]\n"
    assert problems_of(text) == [
        f"c.yaml:10: this list has more than {MAX_ITEMS:,} items; no catalog needs that "
        "(is an indentation wrong?)"
    ]


def test_running_out_of_memory_is_a_problem_of_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    import feeds.catalog as catalog_module

    def exhausted(*args: object) -> None:
        raise MemoryError

    monkeypatch.setattr(catalog_module, "compose", exhausted)
    assert problems_of(FEED_TEXT) == [
        f"c.yaml:0: there is not enough memory to check this file ({len(FEED_TEXT):,} bytes); "
        "write feed: before entries: (entries are then checked one at a time) or split it"
    ]


# --- regressions: one problem, one line --------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "shown"),
    [
        ('"a\\nb"', "a\\nb"),
        ('"a\\u2028b"', "a\\u2028b"),
        ('"a\\x85b"', "a\\x85b"),
        ('"\\u202Eevil"', "\\u202eevil"),
        ("k" * 100, "'" + "k" * 60 + "...'"),
    ],
)
def test_a_key_with_line_breaks_or_of_any_length_stays_on_one_short_line(
    key: str, shown: str
) -> None:
    (line,) = problems_of(FEED_TEXT + f"{key}: 1\nentries: [{{id: a, title: b}}]\n")
    assert line.startswith(f"c.yaml:7: {shown}: unknown key ")
    assert line.isprintable()
    assert len(line) < 300
