"""Property: whatever an editor does to a valid catalog, the validator answers with a
Catalog or with CatalogErrors that each carry a line, never with another exception."""

from __future__ import annotations

import copy
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feeds.catalog import CatalogErrors, parse_catalog
from feeds.model import Catalog

ROOT = Path(__file__).resolve().parent.parent
SEEDS = [
    yaml.safe_load((ROOT / "entries.yaml").read_text("utf-8")),
    {
        "feed": {
            "title": "T",
            "link": "https://e.org/",
            "base_url": "https://e.org/",
            "id_authority": "e.org,2019",
        },
        "entries": [
            {
                "id": "timed",
                "title": "Timed",
                "updated": datetime(2019, 1, 1, 12, 0),
                "event": {
                    "start": "2019-05-21T09:00:00+02:00",
                    "end": "2019-05-21T17:00:00+02:00",
                    "timezone": "Europe/Brussels",
                    "rrule": "FREQ=WEEKLY;UNTIL=20190630T220000Z",
                    "status": "tentative",
                    "url": "https://e.org/x",
                },
            }
        ],
    },
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=30),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=30),  # controls, U+FFFE ...
    st.dates(),
    st.datetimes(),
    st.sampled_from(["2019-02-30", "Mars/Olympus", "/relative", "FREQ=DAILY", "yes", "~", ""]),
)
junk = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
OPERATIONS = ("delete", "retype", "duplicate", "insert", "unicode")
mutations = st.lists(
    st.tuples(st.sampled_from(OPERATIONS), st.integers(0, 10_000), st.text(max_size=10), junk),
    min_size=1,
    max_size=5,
)


def containers(node: Any) -> list[Any]:
    """Every dict and list in the document, parents before children."""
    found: list[Any] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, (dict, list)):
            found.append(current)
            stack.extend(current.values() if isinstance(current, dict) else current)
    return found


def mutate(doc: Any, operation: str, pick: int, key: str, value: Any) -> None:
    target = containers(doc)[pick % len(containers(doc))]
    if not target and operation != "insert":
        return
    slot: Any = list(target)[pick % len(target)] if isinstance(target, dict) and target else None
    if isinstance(target, list) and target:
        slot = pick % len(target)
    if operation == "delete" and slot is not None:
        del target[slot]
    elif operation == "retype" and slot is not None:
        target[slot] = value
    elif operation == "duplicate" and isinstance(target, list):
        target.append(copy.deepcopy(target[slot]))
    elif operation == "insert":
        if isinstance(target, dict):
            target[key] = value
        else:
            target.insert(pick % (len(target) + 1), value)
    elif operation == "unicode" and slot is not None:
        target[slot] = str(value) + key if not isinstance(target[slot], (dict, list)) else key


def check_outcome(data: bytes) -> None:
    try:
        catalog = parse_catalog(data, "c.yaml")
    except CatalogErrors as problems:
        assert problems.errors
        for error in problems.errors:
            assert error.line >= 1, error
            assert str(error).startswith(f"c.yaml:{error.line}: ")
            assert "\n" not in error.message
        return
    assert isinstance(catalog, Catalog)
    assert catalog.entries
    for entry in catalog.entries:
        for moment in (entry.published, entry.updated):
            assert moment is None or moment.tzinfo is not None
        if entry.event is not None:
            assert type(entry.event.start) is type(entry.event.end)
            if isinstance(entry.event.start, datetime):
                assert entry.event.start.tzinfo is not None
            else:
                assert isinstance(entry.event.start, date)
            assert entry.event.start <= entry.event.end


PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(seed=st.sampled_from(SEEDS), changes=mutations)
def test_structural_mutations_give_catalog_errors_with_lines(
    seed: Any, changes: list[tuple[str, int, str, Any]]
) -> None:
    doc = copy.deepcopy(seed)
    for operation, pick, key, value in changes:
        mutate(doc, operation, pick, key, value)
    check_outcome(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False).encode("utf-8"))


@settings(max_examples=100, deadline=None)
@given(
    seed=st.sampled_from(SEEDS),
    position=st.integers(0, 10_000),
    removed=st.integers(0, 20),
    inserted=st.text(max_size=20)
    | st.sampled_from(
        [
            "&a ",
            "*a",
            "!!python/name:os ",
            ": :",
            "- ",
            "\t",
            "---\n",
            "[",
            "{",
            '"\\x01"',
            "'",
            "\n  ",
            "#",
        ]
    ),
)
def test_text_edits_give_catalog_errors_with_lines(
    seed: Any, position: int, removed: int, inserted: str
) -> None:
    text = yaml.safe_dump(seed, allow_unicode=True, sort_keys=False)
    at = position % (len(text) + 1)
    check_outcome((text[:at] + inserted + text[at + removed :]).encode("utf-8", "surrogatepass"))


@settings(max_examples=50, deadline=None)
@given(data=st.binary(max_size=200))
def test_random_bytes_give_catalog_errors_with_lines(data: bytes) -> None:
    check_outcome(data)
