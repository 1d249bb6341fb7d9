"""README's "Editing the catalog" documents exactly the keys the schema accepts."""

from __future__ import annotations

import re
from pathlib import Path

from feeds.catalog import BLOCKS

README = Path(__file__).resolve().parent.parent / "README.md"


def editing_section() -> str:
    text = README.read_text("utf-8")
    start = text.index("## Editing the catalog\n")
    following = text.find("\n## ", start + 1)
    return text[start : following if following != -1 else len(text)]


def schema_keys() -> set[str]:
    """Every key path the schema accepts, e.g. `entries[].event.start`, from the schema code."""
    return {
        f"{block}.{key}" if block else key for block, fields in BLOCKS.items() for key in fields
    }


def documented_keys() -> set[str]:
    """The keys in the first column of the section's tables: | `feed.title` | ..."""
    return set(re.findall(r"^\| `([a-z_.\[\]]+)` \|", editing_section(), re.MULTILINE))


def test_every_schema_key_is_documented() -> None:
    missing = schema_keys() - documented_keys()
    assert not missing, f"document these keys in README.md, Editing the catalog: {sorted(missing)}"


def test_no_documented_key_is_unknown_to_the_schema() -> None:
    stale = documented_keys() - schema_keys()
    assert not stale, f"README documents keys the schema refuses: {sorted(stale)}"


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
