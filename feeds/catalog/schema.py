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
    day_list,
    email,
    entry_id,
    entry_language,
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
#: An id or UID an earlier publisher gave (`legacy_id`, `event.uid`): WordPress guids
#: and Google Calendar UIDs are far shorter; the bound keeps every feed item small.
LEGACY_ID_MAX = 1_000
SUMMARY_MAX = 100_000
LABEL_MAX = 1_000


@dataclass(frozen=True)
class Field:
    convert: Convert[Any]
    required: bool = False
    #: The "meaning" column of the key's row in docs/catalog.md's tables
    #: (Markdown); editors show it on hover through the JSON Schema (jsonschema.py).
    #: tests/test_catalog_docs.py checks the two agree.
    description: str = ""
    #: Values `feeds check` accepts here (a tuple for a list), for the JSON Schema's
    #: `examples`. Each is in the key's docs/catalog.md row and passes the check.
    examples: tuple[Any, ...] = ()


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
    "name": Field(
        text(LABEL_MAX, one_line=True),
        required=True,
        description="`EUROCITIES`",
        examples=("EUROCITIES",),
    ),
    "email": Field(email, description="`press@example.org`", examples=("press@example.org",)),
    "uri": Field(
        url, description="`https://www.eurocities.eu/`", examples=("https://www.eurocities.eu/",)
    ),
}

FEED: dict[str, Field] = {
    "title": Field(
        text(TITLE_MAX, one_line=True),
        required=True,
        description="name of the feeds and calendar: `EUROCITIES news and events`",
        examples=("EUROCITIES news and events",),
    ),
    "subtitle": Field(text(LABEL_MAX, one_line=True), description="a line under the title"),
    "link": Field(
        url,
        required=True,
        description="the publisher's own web site: `https://www.eurocities.eu/`",
        examples=("https://www.eurocities.eu/",),
    ),
    "base_url": Field(
        url,
        required=True,
        description="where this publisher is served: `https://feeds.example.org/` "
        "(a final `/` is added if missing)",
        examples=("https://feeds.example.org/",),
    ),
    "id_authority": Field(
        id_authority,
        required=True,
        description="the [RFC 4151](https://www.rfc-editor.org/rfc/rfc4151) authority of "
        "every id: a domain (or e-mail address) you owned on that date, `eurocities.eu,2019`. "
        "**Never change it**: every feed item and calendar event id is built from it, so "
        "changing it makes readers and calendars see everything as new",
        examples=("eurocities.eu,2019",),
    ),
    "author": Field(
        nested(AUTHOR), description="`{name: EUROCITIES, email: ..., uri: ...}` (below)"
    ),
    "language": Field(
        language,
        description="`en`, `fr`, `pt-BR`: the language of the feeds and of the pages' words "
        "(translations ship for en, fr, de, es, it, nl, pl) and dates (any CLDR language)",
        examples=("en", "fr", "pt-BR"),
    ),
    "timezone": Field(
        zone_name,
        description="the zone of dates and times written without one: `Europe/Brussels`",
        examples=("Europe/Brussels",),
    ),
    "feed_size": Field(
        integer(1, 10_000),
        description="how many publications the live feeds carry; older ones go to the archive",
        examples=(50,),
    ),
    "hub": Field(
        url,
        description="a WebSub hub to ping on changes: `https://hub.example.org/`",
        examples=("https://hub.example.org/",),
    ),
}

EVENT_STATUSES = ("confirmed", "tentative", "cancelled")

EVENT: dict[str, Field] = {
    "start": Field(
        date_or_datetime,
        required=True,
        description="a date makes an all-day event (`2019-05-21`); a date and time a timed "
        "one (`2019-05-21T09:30`)",
        examples=("2019-05-21", "2019-05-21T09:30"),
    ),
    "end": Field(
        date_or_datetime,
        description="all-day: the **last day, inclusive** (21-22 May is `start: 2019-05-21`, "
        "`end: 2019-05-22`); timed: the end time. Never before `start`",
        examples=("2019-05-22",),
    ),
    "timezone": Field(
        zone_name,
        description="the zone the times are in and shown in: `Europe/Brussels`",
        examples=("Europe/Brussels",),
    ),
    "location": Field(
        text(LABEL_MAX, one_line=True),
        description="`Antwerp, Belgium`",
        examples=("Antwerp, Belgium",),
    ),
    "geo": Field(geo, description="in degrees: `[51.2194, 4.4025]`", examples=((51.2194, 4.4025),)),
    "url": Field(url, description="registration or details"),
    "status": Field(
        one_of(*EVENT_STATUSES),
        description="a cancelled event stays in the calendars, marked cancelled, so "
        "subscribers see it is off",
        examples=("cancelled",),
    ),
    "rrule": Field(
        text(500, one_line=True),
        description="repeats the event: `FREQ=MONTHLY;BYDAY=1TU;COUNT=6`",
        examples=("FREQ=MONTHLY;BYDAY=1TU;COUNT=6",),
    ),
    "exdate": Field(
        day_list,
        description="days its `rrule` gives on which the event does not take place (RFC 5545 "
        "EXDATE): `[2027-08-03]`, each the day of one of its dates (in its own zone), not "
        "its start's. Calendars, pages and the widget leave them out",
        examples=(("2027-08-03",),),
    ),
    "uid": Field(
        text(LEGACY_ID_MAX, one_line=True),
        description="the iCalendar UID an earlier calendar gave the event, kept so "
        "subscribed calendars update it instead of adding it again (`feeds import` writes "
        "it): `0a1b2c3d@google.com`. Unique; leave it out for new events",
        examples=("0a1b2c3d@google.com",),
    ),
}

ENTRY: dict[str, Field] = {
    "id": Field(
        entry_id,
        required=True,
        description="unique and **permanent**: `bologna-lets-do-it-together`. It makes the "
        "entry's page URL (`/entries/<id>/`), its feed id and its calendar UID; renaming it "
        "makes a new item everywhere",
        examples=("bologna-lets-do-it-together",),
    ),
    "title": Field(
        text(TITLE_MAX, one_line=True),
        required=True,
        description="`Bologna - Let's do it together!`",
        examples=("Bologna - Let's do it together!",),
    ),
    "type": Field(
        text(100, one_line=True),
        description="a free label: `news`, `case study`, `event`",
        examples=("news", "case study", "event"),
    ),
    "tags": Field(
        tag_list,
        description="`[cooperation, social-inclusion]`: each `a-z`, `0-9` and `-`, starting "
        "with a letter or digit, each once; every tag gets its own feeds and calendar",
        examples=(("cooperation", "social-inclusion"),),
    ),
    "published": Field(
        date_or_datetime,
        description="`2019-03-14`. Entries with it are publications: they are in the feeds, "
        "newest first",
        examples=("2019-03-14",),
    ),
    "updated": Field(
        date_or_datetime,
        description="when the entry last changed: `2019-03-15T10:00:00+01:00`; not before "
        "`published`. **Bump it on every edit** (see below)",
        examples=("2019-03-15T10:00:00+01:00",),
    ),
    "summary": Field(
        summary_text(SUMMARY_MAX),
        description="the text; rendered to HTML and sanitised (no scripts)",
    ),
    "link": Field(url, description="the full article elsewhere"),
    "event": Field(nested(EVENT), description="makes the entry a calendar event (below)"),
    "legacy_id": Field(
        text(LEGACY_ID_MAX, one_line=True),
        description="the id an earlier site published for this item (its Atom id, RSS "
        "guid or JSON Feed id), published again instead of ours so readers do not see it "
        "as new (`feeds import` writes it): `https://old.example.org/?p=12`. Unique; "
        "leave it out for new entries",
        examples=("https://old.example.org/?p=12",),
    ),
    "language": Field(
        entry_language,
        description="the entry's own language when it is not the catalog's (a French event "
        "in an English catalog): `fr`, `de-CH`. Its title and summary on the pages, its Atom "
        "entry and its JSON Feed item say so; the words around them stay in `feed.language`",
        examples=("fr", "de-CH"),
    ),
}


def _as_node(node: Node, path: str, problems: Problems) -> Node:
    return node


#: The top level: which keys it allows. `assemble.CatalogAssembler` reads it itself
#: (the feed first, then `entries`, a list of ENTRY mappings, one at a time).
TOP: dict[str, Field] = {
    "feed": Field(nested(FEED), required=True, description="who publishes, and where (below)"),
    "entries": Field(_as_node, required=True, description="the publications and events (below)"),
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
