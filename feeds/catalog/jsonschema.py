"""The catalog's JSON Schema (draft 2020-12), generated from schema.py's tables.

Editors check `entries.yaml` while it is typed through yaml-language-server (VS Code,
Neovim, JetBrains) with this schema: completion of keys, hover text from the
reference docs, and the mistakes a schema can see (unknown keys, wrong types, bad
enum values, ids and tags that are not slugs, missing required keys).

The schema is a lenient twin of `feeds check`: it must never refuse a catalog the
check accepts, so what it cannot say exactly it leaves to the check (zones known to
the installed database, real calendar dates, end after start, unique ids, RRULE
rules, the characters feeds cannot carry). Two differences in how values arrive:

- `feeds check` reads every scalar as the text written, but an editor's YAML parser
  types plain scalars: `title: 2019` is a number, `id: yes` a boolean (YAML 1.1). So
  where such text can be valid, the schema allows the number or boolean too.
- YAML dates and times (`published: 2019-03-14`) reach the schema as strings
  (yaml-language-server does not make timestamps): they are matched by pattern.

Patterns are written for both ECMA-262 (editors) and Python's `re` (tests): ASCII
digits, and Python's whitespace spelt out (ECMA's `\\s` differs from Python's).
"""

from __future__ import annotations

import inspect
import json
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from . import schema, values
from .schema import ENTRY, TOP, Field
from .written import temporary_beside

SCHEMA_ID = "urn:feeds:catalog:entries.schema.json"
DRAFT = "https://json-schema.org/draft/2020-12/schema"
FILE_NAME = "entries.schema.json"
#: The first line `feeds new` writes into a catalog: yaml-language-server then finds
#: the schema beside it (a path relative to the catalog) without any editor setting.
MODELINE = f"# yaml-language-server: $schema={FILE_NAME}"

Schema = dict[str, Any]

#: The characters Python's `str.strip()`, `\\s` and `str.isspace()` treat as space
#: (tests/test_jsonschema.py checks every code point), for a character class.
PY_SPACE = r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_NOT_BLANK = f"[^{PY_SPACE}]"
# text(one_line=True): not blank, and no line break once stripped of space at both ends.
_ONE_LINE = f"^[{PY_SPACE}]*{_NOT_BLANK}(?:[^\\n\\r]*{_NOT_BLANK})?[{PY_SPACE}]*$"
# url(): urlsplit lowercases the scheme; no space anywhere; a host follows `//`.
_URL = f"^[Hh][Tt][Tt][Pp][Ss]?://[^{PY_SPACE}]+$"
# date_or_datetime(): a date, or a date and time with optional seconds, fraction and
# offset. Months, days, hours, minutes, seconds and offsets beyond what Python's
# datetime accepts are refused here; a day past the month's end (02-30) is the check's.
_DAY = r"[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
_TIME = r"(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]+)?)?"
_OFFSET = r"(?:[Zz]|[+-](?:[01][0-9]|2[0-3])(?::?[0-5][0-9])?)"
_DATE = f"^{_DAY}(?:[Tt ]{_TIME}[ \\t]*{_OFFSET}?)?$"
# zone_name(): names come from the installed tz database, which differs between
# machines, so no enum (a newer zone would be refused); IANA names use these characters.
_ZONE = r"^[A-Za-z0-9._+-]+(?:/[A-Za-z0-9._+-]+)*$"

#: JSON types an editor may give a plain scalar that `feeds check` reads as text.
_ANY_SCALAR = ["boolean", "number", "string"]


def catalog_schema() -> Schema:
    """The JSON Schema of `entries.yaml`, from the same tables `feeds check` uses."""
    root = _mapping(TOP)
    root.update(
        {
            "$schema": DRAFT,
            "$id": SCHEMA_ID,
            "title": "feeds catalog (entries.yaml)",
            "description": "One YAML catalog of publications and events: a `feed:` block and "
            "an `entries:` list. `feeds check` checks everything; this schema what an editor "
            "can check while you type.",
        }
    )
    _title_keys(root, "")
    return root


def _title_keys(block: Schema, path: str) -> None:
    """Title each key with its path as the reference docs write it (`entries[].event.end`):
    editors show it at the top of the hover text."""
    for name, prop in block["properties"].items():
        inner = f"{path}.{name}" if path else name
        prop["title"] = inner
        if "properties" in prop:
            _title_keys(prop, inner)
        elif "properties" in prop.get("items", {}):
            _title_keys(prop["items"], f"{inner}[]")


def schema_text() -> str:
    """The schema as `feeds schema` prints it and `entries.schema.json` holds it."""
    return json.dumps(catalog_schema(), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def write_schema_beside(catalog_path: Path) -> Path:
    """Write `entries.schema.json` in the catalog's directory; the path written.

    An older schema of ours there is replaced (atomically: an editor may be reading
    it); any other file of that name is left alone: FileExistsError, whose message
    says what to do.
    """
    target = catalog_path.parent / FILE_NAME
    if target.exists() and not _ours(target):
        raise FileExistsError(
            f"{target}: exists and is not a feeds schema; move it away, "
            f"or write the schema elsewhere with `feeds schema > FILE`"
        )
    os.replace(temporary_beside(target, schema_text()), target)
    return target


def _ours(path: Path) -> bool:
    """Whether the file starts as every schema `schema_text` writes (`$id` sorts first);
    only that prefix is read, nothing is parsed."""
    prefix = schema_text().split("\n", 2)
    head = "\n".join(prefix[:2]).encode()
    if not path.is_file():
        return False
    with path.open("rb") as existing:
        return existing.read(len(head)) == head


def _mapping(fields: Mapping[str, Field]) -> Schema:
    """A block: its keys, which are required, and no others (check reports unknown keys)."""
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {name: _property(spec) for name, spec in fields.items()},
        "required": [name for name, spec in fields.items() if spec.required],
    }


def _property(spec: Field) -> Schema:
    result = _value(spec.convert, spec.required)
    if spec.description:
        result["description"] = plain_text(spec.description)
        result["markdownDescription"] = spec.description  # VS Code renders it
    if spec.examples:
        result["examples"] = [_json_value(example) for example in spec.examples]
    return result


def _value(convert: Callable[..., Any], required: bool) -> Schema:
    """The schema of one converter's values; optional keys may also be empty (null)."""
    result = _converter_schema(convert)
    if not required and "type" in result:
        types = result["type"] if isinstance(result["type"], list) else [result["type"]]
        result["type"] = sorted({*types, "null"})
    if not required and "enum" in result:
        result["enum"] = [*result["enum"], None]
    return result


def _converter_schema(convert: Callable[..., Any]) -> Schema:
    plain = _PLAIN.get(convert)
    if plain is not None:
        return plain()
    factory = convert.__qualname__.split(".<locals>.")[0]
    made = _MADE.get(factory)
    if made is None:
        raise TypeError(
            f"no JSON Schema for the converter {convert.__qualname__}; "
            "add one in feeds/catalog/jsonschema.py"
        )
    # Converters made by a factory (text(1000, one_line=True)) keep its arguments in
    # their closure: read them there, so the schema follows any change of a limit.
    return made(inspect.getclosurevars(convert).nonlocals)


def _matching(pattern: str, help_text: str) -> Schema:
    """A pattern, and what editors say instead of showing it when a value fails it
    (`patternErrorMessage`: yaml-language-server and VS Code read it)."""
    return {"pattern": pattern, "patternErrorMessage": help_text}


def _text(bound: Mapping[str, Any]) -> Schema:
    one_line = bool(bound["one_line"])
    rule = (
        _matching(_ONE_LINE, "must be one line, not blank; put longer text in the summary")
        if one_line
        else _matching(_NOT_BLANK, "is empty; write some text or remove the key")
    )
    return {"type": list(_ANY_SCALAR), "maxLength": bound["max_length"], **rule}


def _summary_text(bound: Mapping[str, Any]) -> Schema:
    return {"type": list(_ANY_SCALAR), "maxLength": bound["max_length"]}


def _integer(bound: Mapping[str, Any]) -> Schema:
    # A quoted "50" is text the check reads as 50: its range is the check's to test.
    low, high = bound["low"], bound["high"]
    return {
        "type": ["integer", "string"],
        "minimum": low,
        "maximum": high,
        "maxLength": 12,
        **_matching(r"^[+-]?[0-9]+$", f"must be a whole number, {low} to {high}"),
    }


def _one_of(bound: Mapping[str, Any]) -> Schema:
    return {"type": "string", "enum": list(bound["choices"])}


def _nested(bound: Mapping[str, Any]) -> Schema:
    return _mapping(bound["fields"])


def _entries() -> Schema:
    # assemble.py reads `entries` itself: a non-empty list of ENTRY mappings.
    return {"type": "array", "minItems": 1, "items": _mapping(ENTRY)}


def _whole(pattern: re.Pattern[str]) -> str:
    """A pattern the check applies with fullmatch, anchored, for ECMA-262 and Python.

    Python's `\\s` is spelt out, and `\\"` unescaped: ECMA's Unicode mode (which some
    editors use) refuses escapes of characters that need none.
    """
    body = pattern.pattern.replace(r"\s", PY_SPACE).replace('\\"', '"')
    return f"^(?:{body})$"


def _entry_id() -> Schema:
    # `id: 2019` or `id: yes` are numbers and booleans to an editor, text to the check.
    rule = _matching(
        _whole(values.ID_PATTERN), "is not a valid id: use only a-z, 0-9 and '-', e.g. my-entry"
    )
    return {"type": list(_ANY_SCALAR), "maxLength": 200, **rule}


def _tag_list() -> Schema:
    # No uniqueItems: YAML 1.1 reads `[yes, true]` as two equal booleans, two tags to
    # the check; duplicate tags are left to it.
    rule = _matching(
        _whole(values.TAG_PATTERN),
        "is not a valid tag: use a-z, 0-9 and '-' and start with a letter or digit, "
        "e.g. social-inclusion",
    )
    return {"type": "array", "items": {"type": list(_ANY_SCALAR), "maxLength": 100, **rule}}


def _url() -> Schema:
    rule = _matching(
        _URL, "is not an absolute http(s) URL; write it in full, e.g. https://www.example.org/"
    )
    return {"type": "string", "maxLength": 2000, **rule}


def _email() -> Schema:
    rule = _matching(_whole(values._EMAIL_RE), "is not an e-mail address like news@example.org")
    return {"type": "string", "maxLength": 254, **rule}


def _language() -> Schema:
    # YAML 1.1 reads `no` (Norwegian) and `yes` as booleans.
    rule = _matching(_whole(values._LANGUAGE_RE), "is not a language tag like en, fr or pt-BR")
    return {"type": ["boolean", "string"], "maxLength": 35, **rule}


def _id_authority() -> Schema:
    rule = _matching(
        _whole(values._AUTHORITY_RE),
        "is not a tag: URI authority (RFC 4151): a domain you owned and a date then, "
        "e.g. example.org,2019",
    )
    return {"type": "string", "maxLength": 200, **rule}


def _zone_name() -> Schema:
    return {"type": "string", **_matching(_ZONE, "use an IANA name like Europe/Brussels")}


def _date_or_datetime() -> Schema:
    return {"type": "string", "maxLength": 64, **_matching(_DATE, f"must be {values._DATE_HELP}")}


def _day_list() -> Schema:
    # No uniqueItems, as for tags: a day listed twice is the check's, with its line.
    day = {
        "type": "string",
        "maxLength": 64,
        **_matching(f"^{_DAY}$", "must be a day like 2027-08-03"),
    }
    return {"type": "array", "items": day}


def _geo() -> Schema:
    def degrees(limit: int) -> Schema:
        # A quoted "51.2" is a number to the check.
        return {
            "type": ["number", "string"],
            "minimum": -limit,
            "maximum": limit,
            "maxLength": 40,
            **_matching(_whole(values._FLOAT_RE), "must be a number of degrees, e.g. 51.2194"),
        }

    # `items` checks both numbers for draft 7 validators (older yaml-language-server
    # releases), which ignore prefixItems; under 2020-12 it applies past the two: to none.
    return {
        "type": "array",
        "minItems": 2,
        "maxItems": 2,
        "prefixItems": [degrees(90), degrees(180)],
        "items": degrees(180),
    }


_PLAIN: dict[Callable[..., Any], Callable[[], Schema]] = {
    values.entry_id: _entry_id,
    values.tag_list: _tag_list,
    values.url: _url,
    values.email: _email,
    values.language: _language,
    values.entry_language: _language,
    values.id_authority: _id_authority,
    values.zone_name: _zone_name,
    values.date_or_datetime: _date_or_datetime,
    values.day_list: _day_list,
    values.geo: _geo,
    schema._as_node: _entries,  # TOP's `entries`: a node assemble.py reads itself
}
_MADE: dict[str, Callable[[Mapping[str, Any]], Schema]] = {
    "text": _text,
    "summary_text": _summary_text,
    "integer": _integer,
    "one_of": _one_of,
    "nested": _nested,
}


def plain_text(markdown: str) -> str:
    """The reference docs' Markdown as plain text, for editors that show descriptions raw."""
    linked = re.sub(r"\[([^\]]+)\]\(([^)]+)\)", r"\1 (\2)", markdown)
    return linked.replace("**", "").replace("`", "")


def _json_value(example: Any) -> Any:
    return list(example) if isinstance(example, tuple) else example
