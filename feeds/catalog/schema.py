"""The catalog's schema as code: which keys each block accepts, and how each is checked.

Like mkdocs' config: every block is a table of `Field`s; a generic reader checks
unknown, missing and mistyped keys and collects problems as (line, path,
message); the `build_*` functions then apply the rules that span several
fields (zones, end after start, unique ids) and produce the model.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import Invalid, Problems
from .values import (
    Convert,
    date_or_datetime,
    email,
    entry_id,
    geo,
    id_authority,
    integer,
    language,
    one_of,
    shown,
    summary_text,
    tag_list,
    text,
    url,
    zone_name,
)
from .yamlnodes import Map, Node, Rejected, Scalar, kind

TITLE_MAX = 1_000
SUMMARY_MAX = 100_000
LABEL_MAX = 1_000


@dataclass(frozen=True)
class Field:
    convert: Convert[Any]
    required: bool = False


@dataclass
class Fields:
    """The checked values of one mapping, and where each was written."""

    line: int
    values: dict[str, Any] = field(default_factory=dict)
    nodes: dict[str, Node] = field(default_factory=dict)
    missing_required: bool = False

    def line_of(self, name: str) -> int:
        node = self.nodes.get(name)
        return node.line if node is not None else self.line

    def get(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)


def nested(fields: Mapping[str, Field]) -> Convert[Fields]:
    """A converter for a mapping inside a mapping (feed.author, entries[].event)."""

    def convert(node: Node, path: str, problems: Problems) -> Fields:
        return read_mapping(node, path, fields, problems)

    return convert


AUTHOR: dict[str, Field] = {
    "name": Field(text(LABEL_MAX, one_line=True), required=True),
    "email": Field(email),
    "uri": Field(url),
}

FEED: dict[str, Field] = {
    "title": Field(text(TITLE_MAX, one_line=True), required=True),
    "subtitle": Field(text(LABEL_MAX, one_line=True)),
    "link": Field(url, required=True),
    "base_url": Field(url, required=True),
    "id_authority": Field(id_authority, required=True),
    "author": Field(nested(AUTHOR)),
    "language": Field(language),
    "timezone": Field(zone_name),
    "feed_size": Field(integer(1, 10_000)),
    "hub": Field(url),
}

EVENT_STATUSES = ("confirmed", "tentative", "cancelled")

EVENT: dict[str, Field] = {
    "start": Field(date_or_datetime, required=True),
    "end": Field(date_or_datetime),
    "timezone": Field(zone_name),
    "location": Field(text(LABEL_MAX, one_line=True)),
    "geo": Field(geo),
    "url": Field(url),
    "status": Field(one_of(*EVENT_STATUSES)),
    "rrule": Field(text(500, one_line=True)),
}

ENTRY: dict[str, Field] = {
    "id": Field(entry_id, required=True),
    "title": Field(text(TITLE_MAX, one_line=True), required=True),
    "type": Field(text(100, one_line=True)),
    "tags": Field(tag_list),
    "published": Field(date_or_datetime),
    "updated": Field(date_or_datetime),
    "summary": Field(summary_text(SUMMARY_MAX)),
    "link": Field(url),
    "event": Field(nested(EVENT)),
}


def _as_node(node: Node, path: str, problems: Problems) -> Node:
    return node


#: The top level: which keys it allows. `assemble.CatalogAssembler` reads it itself
#: (the feed first, then `entries`, a list of ENTRY mappings, one at a time).
TOP: dict[str, Field] = {
    "feed": Field(nested(FEED), required=True),
    "entries": Field(_as_node, required=True),
}

#: Every block of the schema by its path, for documentation and its test.
BLOCKS: dict[str, dict[str, Field]] = {
    "": TOP,
    "feed": FEED,
    "feed.author": AUTHOR,
    "entries[]": ENTRY,
    "entries[].event": EVENT,
}


def read_mapping(node: Node, path: str, fields: Mapping[str, Field], problems: Problems) -> Fields:
    """Check one mapping against its fields: unknown keys, missing ones, each value.

    Problems are recorded in a fixed order (unknown keys in file order, then the
    fields in schema order), which is their order in the report for the same line.
    This runs for every entry: the common case (no unknown key, most fields absent
    or plain) takes as few steps as possible.
    """
    if isinstance(node, Rejected):
        raise Invalid()
    if not isinstance(node, Map):
        raise Invalid(f"must be a mapping of keys ({', '.join(fields)}), not {kind(node)}")
    written = node.fields
    if not written.keys() <= fields.keys():  # one set test instead of a loop
        for key, (key_line, _value) in written.items():
            if key not in fields:
                problems.add(key_line, join(path, key), unknown_key_message(key, fields))
    result = Fields(node.line)
    # join(path, name) for a schema name: they are all short (tests/test_catalog_fast_paths.py)
    prefix = f"{path}." if path else ""
    for name, spec in fields.items():
        found = written.get(name)
        if found is None:
            if spec.required:
                result.missing_required = True
                problems.add(
                    node.line, prefix + name, f"is required but missing; add '{name}: ...'"
                )
            continue
        key_line, value = found
        if type(value) is Scalar and value.null:
            if spec.required:
                result.missing_required = True
                problems.add(key_line, prefix + name, "is required but empty; give it a value")
            continue
        result.nodes[name] = value
        try:
            result.values[name] = spec.convert(value, prefix + name, problems)
        except Invalid as exc:
            if exc.message:
                problems.add(value.line, prefix + name, exc.message)
    return result


def unknown_key_message(key: str, fields: Mapping[str, Field]) -> str:
    # difflib indexes every character of the word: a 10 MB key would cost 400 MB.
    close = difflib.get_close_matches(key, list(fields), n=1) if len(key) <= 100 else []
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown key {shown(key)}{hint} (allowed here: {', '.join(fields)})"


def join(path: str, key: str) -> str:
    return f"{path}.{key_in_path(key)}" if path else key_in_path(key)


def key_in_path(key: str) -> str:
    """A key as a field path shows it: as written if short, else quoted and cut short."""
    return key if len(key) <= 60 else shown(key)
