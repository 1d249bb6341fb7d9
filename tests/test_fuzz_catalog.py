"""Fuzzing the loader: whatever bytes `feeds check` is given, it answers with a Catalog or
with located problems, never with another exception; and any catalog it accepts renders.

Three sources of input (about 300 examples in all, a few seconds):
- random bytes;
- catalogs from a small grammar: the schema's keys (and near misses) with values of every
  kind (valid, impossible, hostile), sometimes mis-indented, with YAML's own syntax;
- the bundled `entries.yaml` with byte flips, lines dropped or repeated, and `&a`, `*a`,
  `!!tag`, NUL, tab and quote insertions.
Every accepted catalog is built into a Site (every renderer), and some are exported.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from feeds.catalog import BLOCKS, CatalogErrors, parse_catalog
from feeds.catalog.errors import MAX_PROBLEMS
from feeds.model import Catalog
from feeds.publish.export import export_site
from feeds.site import build_site

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = (ROOT / "entries.yaml").read_bytes()
FILE_PROBLEMS = ("cannot read the catalog", "the file is too large", "there is not enough memory")


def fuzz(examples: int) -> settings:
    return settings(
        max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )


def check_outcome(data: bytes) -> Catalog | None:
    """The property: a Catalog, or CatalogErrors that each name a line and say something."""
    try:
        catalog = parse_catalog(data, "c.yaml")
    except CatalogErrors as problems:
        assert 1 <= len(problems.errors) <= MAX_PROBLEMS + 1
        for error in problems.errors:
            assert error.file == "c.yaml"
            assert error.line >= 1 or error.message.startswith(FILE_PROBLEMS), error
            assert error.message.strip(), error
            text = str(error)
            assert text.startswith(f"c.yaml:{error.line}: ") and text.isprintable(), text
            if error.field:
                assert text.startswith(f"c.yaml:{error.line}: {error.field}: ") or (
                    not error.field.isprintable()
                )
        event("refused")
        return None
    assert isinstance(catalog, Catalog) and catalog.entries
    event("accepted, with events" if catalog.events else "accepted")
    return catalog


def assert_renders(catalog: Catalog) -> None:
    """Every renderer accepts what the validator accepted."""
    site = build_site(catalog)
    assert {"/feed.atom", "/feed.rss", "/feed.json", "/events.ics", "/"} <= set(site.outputs)
    for path in site:
        assert site[path].body, path


# --- random bytes ------------------------------------------------------------------------------


@fuzz(50)
@given(st.binary(max_size=400))
def test_random_bytes(data: bytes) -> None:
    check_outcome(data)


# --- a grammar of catalogs ------------------------------------------------------------------

KEYS = sorted({key for block in BLOCKS.values() for key in block})
NEAR_MISSES = ["titel", "sumary", "Title", "start ", "tags:", "event.start", "<<", "1", "~"]
HOSTILE_TEXT = [
    "<script>alert(1)</script>",
    "]]><!ENTITY x SYSTEM 'file:///etc/passwd'>&x;",
    'x"}, {"id": "evil',
    "END:VEVENT\\r\\nBEGIN:VEVENT",
    "{{ 7*7 }} {% for x in y %}",
    "\u202eevil\u200b\u2028\U0001f389",
    "[x](javascript:alert(1))",
]
DATES = [
    "2019-03-14",
    "2019-03-14T10:00:00",
    "2019-03-14T10:00:00+01:00",
    "2019-03-31T02:30:00",  # skipped by summer time in Brussels
    "2019-10-27T02:30:00",  # happens twice
    "1900-01-01T00:00:00+14:00",
    "2999-12-31T23:59:59-12:00",
    "2019-02-30",
    "2019-13-01",
    "0001-01-01",
    "9999-12-31",
    "14/03/2019",
]
ZONES = ["Europe/Brussels", "UTC", "America/St_Johns", "Asia/Kathmandu", "Pacific/Kiritimati"]
ZONES += ["Mars/Olympus", "europe/brussels", "../etc/passwd", ""]
RULES = ["FREQ=WEEKLY;COUNT=3", "FREQ=MONTHLY;BYDAY=-1FR", "FREQ=YEARLY", "FREQ=DAILY;INTERVAL=2"]
URLS = ["https://example.org/", "http://example.org/a?b=1&c='\"<>", "javascript:alert(1)"]
URLS += ["/relative", "https://[::1/", "https://exa mple.org/"]
NUMBERS = ["0", "1", "-1", "50", "1.5", "1e999", ".nan", "999999999999999999999", "0x10"]


@st.composite
def rrules(draw: st.DrawFn) -> str:
    parts = [f"FREQ={draw(st.sampled_from(['DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY', 'HOURLY']))}"]
    optional = {
        "COUNT": st.sampled_from(["1", "3", "100", "0", "1000000"]),
        "UNTIL": st.sampled_from(["20190601", "20190601T000000Z", "20000101T000000Z"]),
        "INTERVAL": st.sampled_from(["1", "2", "0", "1000000"]),
        "BYDAY": st.sampled_from(["MO", "TU,TH", "1TU", "-1FR", "5FR", "6TU", "99TU", "XX"]),
        "BYMONTH": st.sampled_from(["1", "2", "2,4", "13"]),
        "BYMONTHDAY": st.sampled_from(["1", "29", "30", "31", "-1", "0"]),
        "BYSETPOS": st.sampled_from(["1", "-1", "40"]),
        "BYHOUR": st.sampled_from(["9", "9,17", "24"]),
    }
    for name in draw(st.lists(st.sampled_from(sorted(optional)), max_size=3, unique=True)):
        parts.append(f"{name}={draw(optional[name])}")
    return ";".join(parts)


def yaml_scalar(text: str) -> str:
    """`text` as a double-quoted YAML scalar (escapes YAML understands)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + escaped.replace("\r", "\\r").replace("\t", "\\t") + '"'


values = st.one_of(
    st.sampled_from(DATES + ZONES + URLS + NUMBERS),
    st.sampled_from(HOSTILE_TEXT).map(yaml_scalar),
    st.text(st.characters(codec="utf-8"), max_size=20).map(yaml_scalar),
    st.text("abc :-#&*!|>'\"[]{},?%@`", max_size=12),  # YAML's indicators, raw
    rrules(),
    st.sampled_from(["[a, b]", "{a: 1}", "[]", "{}", "~", "", "&a x", "*a", "!!str x"]),
    st.sampled_from(["!!python/object/apply:os.system ['true']", "!!binary aGk=", "!!set {a}"]),
)


hostile_text = st.sampled_from(HOSTILE_TEXT).map(yaml_scalar)
#: Values each key accepts, so that many generated catalogs are valid and get rendered.
GOOD: dict[str, st.SearchStrategy[str]] = {
    "summary": hostile_text | st.text(st.characters(codec="utf-8"), max_size=40).map(yaml_scalar),
    "type": hostile_text,
    "location": hostile_text,
    "subtitle": hostile_text,
    "tags": st.sampled_from(["[a]", "[a, b-c, 2019]", "[culture]"]),
    "published": st.sampled_from(DATES[:7]),
    "updated": st.sampled_from(["2999-01-01", "2999-01-01T00:00:00Z"]),
    "link": st.sampled_from(URLS[:2]),
    "url": st.sampled_from(URLS[:2]),
    "uri": st.sampled_from(URLS[:2]),
    "hub": st.sampled_from(URLS[:2]),
    "status": st.sampled_from(["confirmed", "tentative", "cancelled"]),
    "geo": st.sampled_from(["[50.85, 4.35]", "[-90, 180]", "[0, -0.0]"]),
    "language": st.sampled_from(["en", "pt-BR", "ar"]),
    "feed_size": st.sampled_from(["1", "2", "10000"]),
}


def value_for(draw: st.DrawFn, key: str) -> str:
    """Mostly a value the key accepts; sometimes anything."""
    if key in GOOD and draw(st.integers(0, 7)):
        return draw(GOOD[key])
    return draw(values)


@st.composite
def entries(draw: st.DrawFn, number: int) -> str:
    indent = "  " if draw(st.integers(0, 9)) else draw(st.sampled_from([" ", "   ", "\t", ""]))
    title = draw(values) if not draw(st.integers(0, 5)) else draw(hostile_text)
    lines = [f"  - id: e{number}", f"    title: {title}"]
    optional = sorted(BLOCKS["entries[]"].keys() - {"id", "title", "event"})
    keys = draw(st.lists(st.sampled_from(optional), max_size=4, unique=True))
    if not draw(st.integers(0, 7)):
        keys.append(draw(st.sampled_from(KEYS + NEAR_MISSES)))
    for key in keys:
        lines.append(f"    {key}: {value_for(draw, key)}")
    if draw(st.booleans()):
        lines.append("    event:")
        start = draw(st.sampled_from(DATES[:7]))
        lines.append(f"      start: {start}")
        if draw(st.integers(0, 4)):
            lines.append(f"      end: {start if draw(st.integers(0, 3)) else draw(values)}")
        if draw(st.booleans()):
            rule = draw(rrules()) if not draw(st.integers(0, 2)) else draw(st.sampled_from(RULES))
            lines.append(f"      rrule: {rule}")
        extra = sorted(BLOCKS["entries[].event"].keys() - {"start", "end", "rrule", "timezone"})
        for key in draw(st.lists(st.sampled_from(extra), max_size=3, unique=True)):
            lines.append(f"      {key}: {value_for(draw, key)}")
    return "\n".join(line.replace("    ", "  " + indent, 1) for line in lines) + "\n"


@st.composite
def catalogs(draw: st.DrawFn) -> bytes:
    feed = [
        "feed:",
        f"  title: {draw(values) if draw(st.integers(0, 7)) == 0 else draw(hostile_text)}",
        "  link: https://example.org/",
        "  base_url: https://feeds.example.org/",
        "  id_authority: example.org,2019",
    ]
    extra = sorted(
        BLOCKS["feed"].keys() - {"title", "link", "base_url", "id_authority", "timezone"}
    )
    for key in draw(st.lists(st.sampled_from(extra), max_size=3, unique=True)):
        feed.append(f"  {key}: {value_for(draw, key)}")
    feed.append(f"  timezone: {draw(st.sampled_from(ZONES[:5]))}")
    count = draw(st.integers(1, 4))
    body = "\n".join(feed) + "\nentries:\n" + "".join(draw(entries(n)) for n in range(count))
    if draw(st.booleans()):
        body = body.replace("\n", draw(st.sampled_from(["\r\n", "\r"])))
    return body.encode("utf-8", "surrogatepass")


@fuzz(130)
@given(catalogs())
def test_catalogs_from_a_grammar(data: bytes) -> None:
    catalog = check_outcome(data)
    if catalog is not None:
        assert_renders(catalog)


# --- mutations of the bundled catalog ---------------------------------------------------------

INSERTIONS = [b"&a ", b"*a", b"!!python/object:x ", b"!!binary ", b"\x00", b"\t", b'"', b"'"]
INSERTIONS += [b": ", b"- ", b"[", b"{", b"---\n", b"\n  ", b"\xff", b"\xc3", b"\r", b"<<: "]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(BUNDLED)
    for _ in range(draw(st.integers(1, 4))):
        operation = draw(st.sampled_from(["flip", "drop-line", "repeat-line", "insert"]))
        at = draw(st.integers(0, len(data) - 1))
        if operation == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif operation == "insert":
            data[at:at] = draw(st.sampled_from(INSERTIONS))
        else:
            start = data.rfind(b"\n", 0, at) + 1
            end = data.find(b"\n", at) + 1 or len(data)
            line = bytes(data[start:end])
            data[start:end] = b"" if operation == "drop-line" else line * 2
    return bytes(data)


@fuzz(120)
@given(mutated())
def test_mutations_of_the_bundled_catalog(data: bytes) -> None:
    catalog = check_outcome(data)
    if catalog is not None:
        assert_renders(catalog)


def test_the_bundled_catalog_itself_renders_and_exports(tmp_path: Path) -> None:
    """The property's positive side holds where we know it must."""
    catalog = parse_catalog(BUNDLED)
    assert_renders(catalog)
    result = export_site(build_site(catalog), tmp_path / "site")
    assert result.files > 0 and (tmp_path / "site" / "feed.atom").is_file()
