"""The catalog's JSON Schema (`feeds schema`) for editors.

It is generated from schema.py's tables; these tests prove what a generator cannot:
it is a valid draft 2020-12 schema, it never refuses a catalog `feeds check` accepts
(read as an editor reads YAML, 1.1 and 1.2), it refuses every broken catalog of the
table-driven tests whose rule a schema can say, its patterns mean the same in an
editor's JavaScript, and the shipped copy is current.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
import yamlls
from click.testing import CliRunner
from editor_yaml import LOADERS, editor_view
from hostile_gen import HOSTILE, corpus
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft7Validator, Draft202012Validator
from jsonschema.protocols import Validator
from test_catalog_errors import CASES

from feeds.catalog import BLOCKS, CatalogErrors, parse_catalog, values
from feeds.catalog.errors import Invalid, Problems
from feeds.catalog.jsonschema import (
    MODELINE,
    PY_SPACE,
    catalog_schema,
    schema_text,
    write_schema_beside,
)
from feeds.catalog.schema import EVENT_STATUSES, Field
from feeds.catalog.yamlnodes import Map, Scalar, compose
from feeds.cli import main

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "feeds" / "catalog" / "entries.schema.json"
REGENERATE = "feeds schema > feeds/catalog/entries.schema.json"
VERSIONS = sorted(LOADERS)


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    return Draft202012Validator(catalog_schema())


@pytest.fixture(scope="module")
def readers() -> list[Validator]:
    """The schema as draft 2020-12 says, and as draft 7 reads it (yaml-language-server
    implements draft 7 today): both must accept what `feeds check` accepts."""
    return [Draft202012Validator(catalog_schema()), Draft7Validator(catalog_schema())]


#: Every key of the catalog by its path (`entries[].event.start`), and its Field.
KEYS: dict[str, Field] = {
    f"{block}.{key}" if block else key: spec
    for block, fields in BLOCKS.items()
    for key, spec in fields.items()
}


def problems_of(validator: Validator, document: Any) -> list[str]:
    return [f"{error.json_path}: {error.message}" for error in validator.iter_errors(document)]


def block_schemas(schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each mapping of the schema by its path in BLOCKS: "", feed, entries[] ..."""

    def walk(path: str, node: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
        yield path, node
        for key, prop in node["properties"].items():
            inner = f"{path}.{key}" if path else key
            if "properties" in prop:
                yield from walk(inner, prop)
            elif "properties" in prop.get("items", {}):
                yield from walk(inner + "[]", prop["items"])

    yield from walk("", schema)


def property_schema(path: str) -> dict[str, Any]:
    block, _, key = path.rpartition(".")
    result: dict[str, Any] = dict(block_schemas(catalog_schema()))[block]["properties"][key]
    return result


# -- the schema itself ---------------------------------------------------------------


def test_the_schema_is_valid_under_the_draft_2020_12_metaschema() -> None:
    schema = catalog_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"]
    Draft202012Validator.check_schema(schema)


def test_no_drift_every_key_required_key_and_enum_of_the_tables_and_no_other() -> None:
    """schema.py's tables and the schema name the same keys, required keys, enums, shapes."""
    blocks = dict(block_schemas(catalog_schema()))
    assert blocks.keys() == BLOCKS.keys()
    for path, fields in BLOCKS.items():
        block = blocks[path]
        assert block["additionalProperties"] is False, path
        assert block["properties"].keys() == fields.keys(), path
        assert block["required"] == [name for name, spec in fields.items() if spec.required]
    for path, spec in KEYS.items():
        assert_type_agrees(path, spec, property_schema(path))
        assert property_schema(path)["title"] == path  # the hover's heading
    # The tables' one enum, and no other in the schema.
    assert list(enums(catalog_schema())) == [[*EVENT_STATUSES, None]]


def assert_type_agrees(path: str, spec: Field, prop: dict[str, Any]) -> None:
    types = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
    # An optional key may be left empty (`subtitle:`): the check skips it; a required one not.
    assert ("null" in types) is (not spec.required), path
    if path in BLOCKS:
        assert "object" in types, path
    elif f"{path}[]" in BLOCKS or spec.convert in (values.tag_list, values.day_list, values.geo):
        assert "array" in types, path
    else:
        assert "string" in types and not {"object", "array"} & set(types), path


def enums(node: Any) -> Iterator[list[Any]]:
    if isinstance(node, dict):
        if "enum" in node:
            yield node["enum"]
        for value in node.values():
            yield from enums(value)


# -- never refuses what `feeds check` accepts ------------------------------------------


def generated_catalog(entries: int) -> str:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from gen_catalog import generate  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    text: str = generate(entries)
    return text


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("catalog", ["bundled", "generated-200", "generated-1k"])
def test_accepts_the_bundled_and_the_benchmark_catalogs(
    readers: list[Validator], catalog: str, version: str
) -> None:
    if catalog == "bundled":
        text = (ROOT / "entries.yaml").read_text("utf-8")
    else:
        text = generated_catalog({"generated-200": 200, "generated-1k": 1000}[catalog])
    parse_catalog(text.encode())  # `feeds check` accepts it
    document = editor_view(text, version)
    for reader in readers:
        assert problems_of(reader, document) == []


#: Every scalar key of the catalog with a value `feeds check` accepts (a timed event).
GOOD_VALUES = {
    "feed.title": "Test feed",
    "feed.subtitle": "A line",
    "feed.link": "https://example.org/",
    "feed.base_url": "https://feeds.example.org/",
    "feed.id_authority": "example.org,2019",
    "feed.language": "en",
    "feed.timezone": "Europe/Brussels",
    "feed.feed_size": "50",
    "feed.hub": "https://hub.example.org/",
    "feed.author.name": "Someone",
    "feed.author.email": "press@example.org",
    "feed.author.uri": "https://example.org/about",
    "entries[].id": "first",
    "entries[].title": "First entry",
    "entries[].type": "news",
    "entries[].tags": "[cooperation, social-inclusion]",
    "entries[].published": "2019-03-14",
    "entries[].updated": "2019-03-15",
    "entries[].summary": "Some *Markdown*.",
    "entries[].link": "https://example.org/first",
    "entries[].legacy_id": "https://old.example.org/?p=12",
    "entries[].language": "fr",
    "entries[].event.start": "2019-05-21T09:00",
    "entries[].event.end": "2019-05-21T17:00",
    "entries[].event.timezone": "Europe/Brussels",
    "entries[].event.location": "Antwerp",
    "entries[].event.geo": "[51.2194, 4.4025]",
    "entries[].event.url": "https://example.org/meeting",
    "entries[].event.status": "confirmed",
    "entries[].event.rrule": "FREQ=DAILY;COUNT=2",
    "entries[].event.exdate": "[2019-05-22]",
    "entries[].event.uid": "0a1b2c3d@google.com",
}
#: Plain scalars an editor types (1.1 or 1.2), quoted ones, dates, lists, and the
#: values each key takes: whatever the check accepts the schema must accept too.
SPELLINGS = [
    *("yes", "no", "on", "off", "y", "n", "Y", "NO", "true", "false", "True", "FALSE"),
    *("~", "null", "", "''", '""', "0", "1", "-1", "+5", "010", "08", "0o17", "0x1f", "0b11"),
    *("1_000", "1e3", "1e-3", "1.5", ".5", "1.", ".inf", "-.inf", ".nan", "10:30", "1:30:00"),
    *("2019", "10000", "10001", '"50"', "'0050'", "+50", '"+7"', "12345678901234"),
    *("2019-03-14", "2019-03-14T10:00", "2019-03-14 10:00:00", "2019-03-14t10:00:00z"),
    *("2019-03-14T10:00:00.123456789 +01", "'2019-03-14'", "2019-03-14T10:00:00+0100"),
    *("2019-05-21", "2019-05-22", "2019-05-21T09:00+02:00", "2019-05-21T17:00:00Z"),
    *("en", "pt-BR", "Europe/Brussels", "UTC", "Etc/GMT+5", "America/Port-au-Prince"),
    *("example.org,2019", "a@example.org,2019-03-01", "a@b.co", "HTTP://EXAMPLE.ORG"),
    *("https://example.org/a?b=c#d", "https://exämple.org/é", "confirmed", "cancelled"),
    *("FREQ=WEEKLY;COUNT=3", "a-b", "0-0", "x" * 200, "'  padded  '", '"a\\u00a0"', "\\ufeff"),
    *('"\\ufeff"', '"\\u0085x"', '"x\\n"', '"\\u2028x"', "|\n      two\n      lines"),
    *("[51.2, 4.4]", "['51.2', '4.4']", "[1e1, -1e2]", "[a, b]", "[yes, true]", "[010, 8]"),
    *("[2019, '2019']", "[1, 1.0]", "[]", "{}", "[~]", "[-90, 180]", "['+1.', '-.5e1']"),
]


def render(overrides: dict[str, str]) -> str:
    """A catalog of GOOD_VALUES with some values replaced, in BLOCKS' layout."""
    value_of = {**GOOD_VALUES, **overrides}

    def block(path: str, indent: str) -> Iterator[str]:
        for key in BLOCKS[path]:
            inner = f"{path}.{key}" if path else key
            if inner in BLOCKS:
                yield f"{indent}{key}:"
                yield from block(inner, indent + "  ")
            elif inner + "[]" in BLOCKS:
                lines = list(block(inner + "[]", indent + "    "))
                yield f"{indent}{key}:"
                yield f"{indent}  - {lines[0].lstrip()}"
                yield from lines[1:]
            else:
                yield f"{indent}{key}: {value_of[inner]}"

    return "\n".join(block("", "")) + "\n"


def test_good_values_name_every_scalar_key_and_make_a_good_catalog() -> None:
    scalar_keys = {path for path in KEYS if path not in BLOCKS and f"{path}[]" not in BLOCKS}
    assert GOOD_VALUES.keys() == scalar_keys
    parse_catalog(render({}).encode())


def test_never_refuses_a_value_feeds_check_accepts(readers: list[Validator]) -> None:
    accepted = 0
    for key in GOOD_VALUES:
        for spelling in SPELLINGS:
            text = render({key: spelling})
            try:
                parse_catalog(text.encode())
            except CatalogErrors:
                continue
            accepted += 1
            for version in VERSIONS:
                document = editor_view(text, version)
                for reader in readers:
                    found = problems_of(reader, document)
                    assert found == [], f"{key}: {spelling!r} ({version}): {found}"
    assert accepted > len(GOOD_VALUES) * 5  # the spellings reach the accepting paths


#: Characters where Python's and ECMA-262's ideas of space, line breaks and digits part.
TRICKY = " \t\n\r\x0b\x0c\x1c\x1f\x85\xa0\u1680\u2028\u3000\ufeff\u200baZ09-_.,:/@+é٣"


@pytest.mark.parametrize(
    "path",
    sorted(
        path
        for path in GOOD_VALUES
        if KEYS[path].convert not in (values.tag_list, values.day_list, values.geo)
    ),
)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_a_text_the_converter_accepts_the_schema_accepts(path: str, data: st.DataObject) -> None:
    """Quoted text of any characters: converter accepts -> the key's schema accepts."""
    spec = KEYS[path]
    good = GOOD_VALUES[path].strip("'\"")
    text = data.draw(
        st.one_of(
            st.text(st.sampled_from(TRICKY), max_size=12),
            st.text(st.sampled_from(TRICKY), max_size=6).map(lambda pad: pad + good + pad),
            st.text(max_size=12),
        )
    )
    try:
        spec.convert(Scalar(1, text, False), path, Problems("x"))
    except Invalid:
        return
    found = problems_of(Draft202012Validator(property_schema(path)), text)
    assert found == [], f"{path}: {text!r} is accepted by feeds check: {found}"


def test_py_space_is_pythons_whitespace() -> None:
    spaces = "".join(chr(c) for c in range(0x110000) if chr(c).isspace())
    pattern = re.compile(f"[{PY_SPACE}]")
    assert "".join(pattern.findall(spaces)) == spaces
    assert all(pattern.fullmatch(chr(c)) is None for c in range(0x3001) if not chr(c).isspace())


def test_every_known_zone_matches_the_zone_pattern_and_stays_a_string() -> None:
    zone = Draft202012Validator(property_schema("feed.timezone"))
    for name in sorted(values.known_zones()):
        assert zone.is_valid(name), name
        for loader in LOADERS.values():
            assert isinstance(yaml.load(name, Loader=loader), str), name  # noqa: S506


# -- refuses what it can say -------------------------------------------------------------

#: The kinds of problem, by `feeds check`'s message, whose rule a JSON Schema expresses.
EXPRESSIBLE = {
    "unknown key": r": unknown key ",
    "missing required key": r": is required but (missing|empty)",
    "wrong type": r": must be (text|a mapping of keys|a list|a tag|a whole number|\[latitude)",
    "bad enum": r" is not one of: ",
    "id pattern": r" is not a valid id: ",
    "tag pattern": r" is not a valid tag: ",
    "too long": r": is too long \(",
    "blank or several lines": r": (is empty; write some text|must be one line)",
    "out of range": r": must be between ",
    "not a URL": r" is not an absolute http\(s\) URL",
    "not a date": r": must be a date like ",
    "not an authority, e-mail or language": r" is not (a tag: URI authority|an e-mail|a language)",
    "catalog shape": r"the catalog (must be a mapping|is empty)|is empty; add at least one",
}


def uses_yaml_features(data: bytes) -> bool:
    """Anchors, aliases, tags or merge keys: an editor reads those otherwise than the check
    (which refuses them); the schema cannot say such rules."""
    try:
        for event in yaml.parse(data, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                return True
            if isinstance(event, yaml.NodeEvent) and event.anchor:
                return True
            if isinstance(event, yaml.ScalarEvent) and (
                event.value == "<<" or event.tag not in (None, "!")
            ):
                return True
            if isinstance(event, yaml.CollectionStartEvent) and event.tag is not None:
                return True
    except yaml.YAMLError:
        return True  # not YAML an editor can read at all
    return False


def broken_catalogs() -> Iterator[tuple[str, str, bytes]]:
    """(name, kind, data) of every table-driven broken catalog of an expressible kind."""
    table = [(case.rule, case.data, case.errors) for case in CASES]
    table += [(c["file"], (HOSTILE / c["file"]).read_bytes(), (c["first"],)) for c in corpus()]
    for name, data, errors in table:
        kinds = [kind for kind, rx in EXPRESSIBLE.items() if any(re.search(rx, e) for e in errors)]
        # Not the 10 MB summary: PyYAML takes seconds on it; the 1,001-character title and
        # the 3,020-character URL test "too long".
        if kinds and len(data) < 1 << 20 and not uses_yaml_features(data):
            yield name, kinds[0], data


BROKEN = list(broken_catalogs())


def test_each_expressible_kind_has_broken_catalogs() -> None:
    assert {kind for _name, kind, _data in BROKEN} == EXPRESSIBLE.keys()
    assert len(BROKEN) >= 60


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(("name", "kind", "data"), BROKEN, ids=[name for name, *_ in BROKEN])
def test_refuses_each_broken_catalog_of_an_expressible_kind(
    validator: Draft202012Validator, name: str, kind: str, data: bytes, version: str
) -> None:
    with pytest.raises(CatalogErrors):
        parse_catalog(data)
    assert problems_of(validator, editor_view(data, version)), f"{name} ({kind}) accepted"


# -- patterns mean the same to an editor ------------------------------------------------


def patterns(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("pattern"), str):
            yield node["pattern"]
        for value in node.values():
            yield from patterns(value)
    elif isinstance(node, list):
        for value in node:
            yield from patterns(value)


def test_patterns_match_the_same_texts_in_javascript_as_in_python() -> None:
    """Editors run the patterns as ECMA-262 regular expressions (VS Code with the `u`
    flag); they must compile there and agree with Python's `re` on these texts."""
    found = sorted(set(patterns(catalog_schema())))
    samples = sorted(
        {s.strip("'\"") for s in SPELLINGS if not s.endswith("\n")}
        | {s.strip("'\"") for s in GOOD_VALUES.values()}
        | {" a", "a ", " ", "a\nb", " a \r\n", "\ufeff", "\u3000x\u3000", "a\u2028b", "1\x1cx"}
        | {"example.org,2019\u00a0", "http://x/\ufeff", "x@y.z\u0085", "Etc/GMT-14", "+0050"}
    )
    script = """
const [patterns, samples] = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const out = patterns.map(p => [new RegExp(p, 'u'), new RegExp(p)]
  .map(r => samples.map(s => r.test(s))));
process.stdout.write(JSON.stringify(out));
"""
    result = subprocess.run(
        ["node", "-e", script],
        input=json.dumps([found, samples]),
        capture_output=True,
        text=True,
        check=True,
    )
    for pattern, (unicode_mode, plain_mode) in zip(found, json.loads(result.stdout), strict=True):
        python = [re.search(pattern, sample) is not None for sample in samples]
        for sample, py, js_u, js in zip(samples, python, unicode_mode, plain_mode, strict=True):
            assert py == js_u == js, f"{pattern!r} on {sample!r}: python {py}, js {js_u}/{js}"


# -- examples, the command, the shipped file ------------------------------------------


@pytest.mark.parametrize(
    "path",
    [path for path, spec in KEYS.items() if spec.examples],
)
def test_every_example_passes_the_check_and_the_schema(path: str) -> None:
    spec, key = KEYS[path], path.rpartition(".")[2]
    prop = property_schema(path)
    assert prop["examples"] == [list(e) if isinstance(e, tuple) else e for e in spec.examples]
    for example in spec.examples:
        as_yaml = list(example) if isinstance(example, tuple) else example
        written = yaml.safe_dump({key: as_yaml}, default_flow_style=True, width=1000)
        problems = Problems("example")
        root = compose(written.encode(), problems)
        assert isinstance(root, Map) and not problems
        spec.convert(root.fields[key][1], path, problems)  # Invalid if the check refuses it
        assert not problems, problems.errors
        assert Draft202012Validator(prop).is_valid(editor_view(written, "yaml-1.2")[key])


def test_feeds_schema_prints_the_shipped_schema_sorted_and_indented() -> None:
    result = CliRunner().invoke(main, ["schema"])
    assert result.exit_code == 0, result.output
    assert result.output == schema_text()
    printed = json.loads(result.output)
    assert printed == catalog_schema()
    assert result.output == json.dumps(printed, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert SHIPPED.read_text("utf-8") == result.output, f"regenerate it: {REGENERATE}"


def test_the_shipped_schema_is_current() -> None:
    assert SHIPPED.read_text("utf-8") == schema_text(), (
        f"{SHIPPED.name} is stale; regenerate it: {REGENERATE}"
    )


def test_the_console_command_writes_the_schema_to_a_pipe(tmp_path: Path) -> None:
    """The real `feeds` console script, its output redirected as REGENERATE does."""
    feeds = Path(sys.executable).parent / "feeds"
    target = tmp_path / "entries.schema.json"
    with target.open("w") as out:
        done = subprocess.run([str(feeds), "schema"], stdout=out, stderr=subprocess.PIPE)
    assert done.returncode == 0 and done.stderr == b""
    assert target.read_text("utf-8") == schema_text()


def test_write_schema_beside_a_catalog_and_the_modeline_finds_it(tmp_path: Path) -> None:
    catalog = tmp_path / "site" / "entries.yaml"
    catalog.parent.mkdir()
    catalog.write_text(MODELINE + "\n" + render({}), "utf-8")
    written = write_schema_beside(catalog)
    assert written == catalog.parent / "entries.schema.json"
    assert json.loads(written.read_text("utf-8")) == catalog_schema()
    modeline = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", MODELINE)
    assert modeline is not None
    assert (catalog.parent / modeline[1]).resolve() == written.resolve()  # relative to the file
    parse_catalog(catalog.read_bytes())  # the comment line changes nothing for the check
    validator = Draft202012Validator(json.loads(written.read_text("utf-8")))
    assert validator.is_valid(editor_view(catalog.read_text("utf-8"), "yaml-1.2"))


def test_write_schema_beside_replaces_an_older_schema_of_ours_only(tmp_path: Path) -> None:
    catalog = tmp_path / "entries.yaml"
    older = tmp_path / "entries.schema.json"
    older.write_text(schema_text().replace('"additionalProperties"', '"old"', 1), "utf-8")
    assert write_schema_beside(catalog) == older
    assert older.read_text("utf-8") == schema_text()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["entries.schema.json"]
    theirs = '{"$id": "https://example.org/their-own.json"}\n'
    older.write_text(theirs, "utf-8")
    with pytest.raises(FileExistsError, match="exists and is not a feeds schema"):
        write_schema_beside(catalog)
    assert older.read_text("utf-8") == theirs


def test_every_pattern_says_what_to_write_instead() -> None:
    """Editors show `patternErrorMessage` instead of the regular expression."""

    def nodes(node: Any) -> Iterator[dict[str, Any]]:
        if isinstance(node, dict):
            yield node
            for value in node.values():
                yield from nodes(value)
        elif isinstance(node, list):
            for value in node:
                yield from nodes(value)

    with_pattern = [node for node in nodes(catalog_schema()) if "pattern" in node]
    assert with_pattern
    assert all(node.get("patternErrorMessage") for node in with_pattern)


# -- in a real editor's language server ------------------------------------------------

EDITOR_BROKEN = """\
feed:
  title: Test
  link: /about
  base_url: https://feeds.example.org
  id_authority: example.org,2019
  feed_size: many
entries:
  - id: First Entry
    titel: A typo
    published: 14/03/2019
    event:
      start: 2019-05-21
      status: postponed
      geo: [91, 4.4]
"""


@pytest.mark.slow
@pytest.mark.skipif(
    yamlls.find_server() is None,
    reason="yaml-language-server is not installed (npm install yaml-language-server, "
    "or set YAML_LANGUAGE_SERVER)",
)
def test_yaml_language_server_checks_a_catalog_by_modeline_or_setting(tmp_path: Path) -> None:
    """What docs/editors.md promises: the modeline finds the schema beside the catalog,
    the `yaml.schemas` setting maps it, the bundled catalog has no problem."""
    good = tmp_path / "entries.yaml"
    good.write_text(MODELINE + "\n" + (ROOT / "entries.yaml").read_text("utf-8"), "utf-8")
    write_schema_beside(good)
    broken = tmp_path / "broken.yaml"
    broken.write_text(MODELINE + "\n" + EDITOR_BROKEN, "utf-8")
    mapped = tmp_path / "sub" / "entries.yaml"
    mapped.parent.mkdir()
    mapped.write_text(EDITOR_BROKEN, "utf-8")
    settings = {"yaml": {"validate": True, "schemas": {"./entries.schema.json": "**/entries.yaml"}}}
    server = yamlls.find_server()
    assert server is not None
    session = yamlls.Session(server, tmp_path, settings)
    try:
        assert session.diagnostics(good) == []
        by_modeline = session.diagnostics(broken)
        by_setting = session.diagnostics(mapped)
    finally:
        session.close()
    assert [(line - 1, message) for line, message in by_modeline] == by_setting
    lines = {line: message for line, message in by_setting}
    assert (
        lines[3]
        == "is not an absolute http(s) URL; write it in full, e.g. https://www.example.org/"
    )
    assert lines[6] == "must be a whole number, 1 to 10000"
    assert lines[8] == "is not a valid id: use only a-z, 0-9 and '-', e.g. my-entry"
    assert "titel" in lines[9]
    assert lines[10].startswith("must be a date like 2019-03-14")
    assert "confirmed" in lines[13] and "postponed" not in lines[13]
    assert "90" in lines[14]
