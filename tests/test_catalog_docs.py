"""docs/catalog.md documents exactly the keys the schema accepts, in the words the
schema's fields carry (editors show them from `feeds schema`)."""

from __future__ import annotations

import re
from pathlib import Path

from feeds.catalog import BLOCKS
from feeds.catalog.schema import Field

CATALOG_DOC = Path(__file__).resolve().parent.parent / "docs" / "catalog.md"
WHERE = "docs/catalog.md"


def reference() -> str:
    """The catalog reference: its tables are the only ones whose first cell is a key."""
    return CATALOG_DOC.read_text("utf-8")


def schema_keys() -> set[str]:
    """Every key path the schema accepts, e.g. `entries[].event.start`, from the schema code."""
    return {
        f"{block}.{key}" if block else key for block, fields in BLOCKS.items() for key in fields
    }


def documented_keys() -> set[str]:
    """The keys in the first column of the reference's tables: | `feed.title` | ..."""
    return set(re.findall(r"^\| `([a-z_.\[\]]+)` \|", reference(), re.MULTILINE))


def test_every_schema_key_is_documented() -> None:
    missing = schema_keys() - documented_keys()
    assert not missing, f"document these keys in {WHERE}: {sorted(missing)}"


def test_no_documented_key_is_unknown_to_the_schema() -> None:
    stale = documented_keys() - schema_keys()
    assert not stale, f"{WHERE} documents keys the schema refuses: {sorted(stale)}"


def documented_rows() -> dict[str, list[str]]:
    """Each key's table row as its cells: | `feed.title` | type | required | ... | meaning |"""
    rows = re.findall(r"^\| `([a-z_.\[\]]+)` \|(.*)\|$", reference(), re.MULTILINE)
    return {key: [cell.strip() for cell in rest.split("|")] for key, rest in rows}


def fields_by_key() -> dict[str, Field]:
    return {
        f"{block}.{key}" if block else key: spec
        for block, fields in BLOCKS.items()
        for key, spec in fields.items()
    }


def test_each_keys_description_is_its_documented_meaning() -> None:
    """Field.description is the row's last cell: editors show the reference's words."""
    rows = documented_rows()
    differ = {
        key: (spec.description, rows[key][-1])
        for key, spec in fields_by_key().items()
        if key in rows and spec.description != rows[key][-1]
    }
    assert not differ, (
        f"feeds/catalog/schema.py's Field(description=...) and {WHERE}'s meaning column "
        f"differ (schema, {WHERE}): {differ}"
    )


def test_each_example_is_in_its_documented_row() -> None:
    """Field.examples, as written in YAML (`[51.2194, 4.4025]`), are in the row's code spans."""
    rows = documented_rows()
    missing = {
        key: example
        for key, spec in fields_by_key().items()
        for example in spec.examples
        if not any(written(example) in span for span in code_spans(rows.get(key, [])))
    }
    assert not missing, f"examples not in {WHERE}'s row of their key: {missing}"


def code_spans(cells: list[str]) -> list[str]:
    return re.findall(r"`([^`]+)`", " | ".join(cells))


def written(example: object) -> str:
    if isinstance(example, tuple):
        return "[" + ", ".join(str(item) for item in example) + "]"
    return str(example)


def test_schema_has_the_contract_keys() -> None:
    """The keys DESIGN.md promises editors (a rename would break their catalogs)."""
    assert {
        "feed.title",
        "feed.base_url",
        "feed.id_authority",
        "feed.timezone",
        "entries[].id",
        "entries[].published",
        "entries[].updated",
        "entries[].event.start",
        "entries[].event.end",
        "entries[].event.rrule",
        "entries[].event.status",
    } <= schema_keys()
