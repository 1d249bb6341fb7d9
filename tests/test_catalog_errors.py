"""One broken catalog per validation rule: the exact message, its line, and exit code 1.

Each case is the valid BASE catalog with one edit. The same table runs through
`parse_catalog` and through `feeds check` (CliRunner), so editors see exactly
these lines on stderr.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from feeds.catalog import CatalogErrors, load_catalog, parse_catalog, yamlnodes
from feeds.cli import main

BASE = """\
feed:
  title: Test feed
  link: https://example.org/
  base_url: https://feeds.example.org
  id_authority: example.org,2019
  timezone: Europe/Brussels
entries:
  - id: first
    title: First entry
    published: 2019-03-14
    summary: Some *Markdown*.
  - id: meeting
    title: A meeting
    event:
      start: 2019-05-21T09:00:00
      end: 2019-05-21T17:00:00
      location: Antwerp
"""
FEED_BLOCK = BASE[: BASE.index("entries:")]


def edit(old: str, new: str) -> bytes:
    """BASE with `old` (which must occur exactly once) replaced by `new`."""
    assert BASE.count(old) == 1, old
    return BASE.replace(old, new).encode()


def add_to_event(lines: str) -> bytes:
    return edit("      location: Antwerp\n", "      location: Antwerp\n" + lines)


@dataclass(frozen=True)
class Case:
    rule: str
    data: bytes
    errors: tuple[str, ...]  # "LINE: rest", as printed after the file name


CASES = [
    Case(
        "yaml syntax error",
        edit("    summary: Some *Markdown*.\n", "   bad: [\n"),
        (
            "11: YAML syntax error: did not find expected '-' indicator "
            "(while parsing a block collection started on line 8)",
        ),
    ),
    Case(
        "unknown key",
        edit("    summary:", "    sumary:"),
        (
            "11: entries[0].sumary: unknown key 'sumary'; did you mean 'summary'? "
            "(allowed here: id, title, type, tags, published, updated, summary, link, event, "
            "legacy_id, language)",
        ),
    ),
    Case(
        "missing required field",
        edit("    title: First entry\n", ""),
        ("8: entries[0].title: is required but missing; add 'title: ...'",),
    ),
    Case(
        "required field empty",
        edit("  link: https://example.org/", "  link:"),
        ("3: feed.link: is required but empty; give it a value",),
    ),
    Case(
        "wrong type: list for text",
        edit("    title: First entry", "    title: [a, b]"),
        ("9: entries[0].title: must be text, not a list",),
    ),
    Case(
        "wrong type: text for number",
        edit("  timezone: Europe/Brussels\n", "  timezone: Europe/Brussels\n  feed_size: many\n"),
        ("7: feed.feed_size: must be a whole number, not 'many'",),
    ),
    Case(
        "wrong type: text for mapping",
        edit("  - id: first\n", "  - just text\n  - id: first\n"),
        (
            "8: entries[0]: must be a mapping of keys (id, title, type, tags, published, "
            "updated, summary, link, event, legacy_id, language), not text",
        ),
    ),
    Case(
        "duplicate id",
        edit("  - id: meeting", "  - id: first"),
        (
            "12: entries[1].id: duplicate id 'first': entries[0] on line 8 has it too; ids must "
            "be unique",
        ),
    ),
    Case(
        "id not [a-z0-9-]+",
        edit("  - id: first", "  - id: First Entry"),
        (
            "8: entries[0].id: 'First Entry' is not a valid id: use only a-z, 0-9 and '-', e.g. "
            "'first-entry'",
        ),
    ),
    Case(
        "tag not a slug",
        edit(
            "    published: 2019-03-14\n",
            "    published: 2019-03-14\n    tags: [ok, Social Inclusion]\n",
        ),
        (
            "11: entries[0].tags[1]: 'Social Inclusion' is not a valid tag: use a-z, 0-9 and '-' "
            "and start with a letter or digit, e.g. 'social-inclusion' (here 'social-inclusion')",
        ),
    ),
    Case(
        "unparseable date",
        edit("2019-03-14", "14/03/2019"),
        (
            "10: entries[0].published: must be a date like 2019-03-14 or a date and time like "
            "2019-03-14T10:00:00+01:00, not '14/03/2019'",
        ),
    ),
    Case(
        "digits of another script",
        edit("2019-03-14", "\u0662\u0660\u0661\u0669-03-14"),
        (
            "10: entries[0].published: must be a date like 2019-03-14 or a date and time like "
            "2019-03-14T10:00:00+01:00, not '\u0662\u0660\u0661\u0669-03-14'",
        ),
    ),
    Case(
        "impossible date",
        edit("2019-03-14", "2019-02-30"),
        (
            "10: entries[0].published: 2019-02-30 is not a real date or time (day is out of range "
            "for month)",
        ),
    ),
    Case(
        "impossible time",
        edit("start: 2019-05-21T09:00:00", "start: 2019-05-21T25:00:00"),
        (
            "15: entries[1].event.start: 2019-05-21T25:00:00 is not a real date or time (hour "
            "must be in 0..23)",
        ),
    ),
    Case(
        "timed event without a zone",
        edit("  timezone: Europe/Brussels\n", ""),
        (
            "14: entries[1].event.start: has no time zone: set event.timezone or feed.timezone, "
            "or write the offset, e.g. 2019-03-14T10:00:00+01:00",
        ),
    ),
    Case(
        "unknown IANA zone",
        edit("Europe/Brussels", "Mars/Olympus"),
        (
            "6: feed.timezone: unknown time zone 'Mars/Olympus'; use an IANA name like "
            "Europe/Brussels",
        ),
    ),
    Case(
        "misspelt zone",
        add_to_event("      timezone: Europe/Brusels\n"),
        (
            "18: entries[1].event.timezone: unknown time zone 'Europe/Brusels'; did you mean "
            "Europe/Brussels?",
        ),
    ),
    Case(
        "end before start (all-day)",
        edit(
            "      start: 2019-05-21T09:00:00\n      end: 2019-05-21T17:00:00",
            "      start: 2019-05-21\n      end: 2019-05-20",
        ),
        ("16: entries[1].event.end: ends before it starts (2019-05-20 < 2019-05-21)",),
    ),
    Case(
        "end before start (timed)",
        edit("end: 2019-05-21T17:00:00", "end: 2019-05-21T08:00:00"),
        (
            "16: entries[1].event.end: ends before it starts "
            "(2019-05-21T08:00:00+02:00 < 2019-05-21T09:00:00+02:00)",
        ),
    ),
    Case(
        "timed event without end",
        edit("      end: 2019-05-21T17:00:00\n", ""),
        (
            "15: entries[1].event.end: is required for a timed event (when does it end?); "
            "or write start as a date for an all-day event",
        ),
    ),
    Case(
        "start and end of different kinds",
        edit("end: 2019-05-21T17:00:00", "end: 2019-05-22"),
        (
            "16: entries[1].event.end: must be a date and time like start (timed event), "
            "or write start as a date",
        ),
    ),
    Case(
        "wall time the zone skips",
        edit("2019-05-21T09:00:00", "2019-03-31T02:30:00"),
        (
            "15: entries[1].event.start: 2019-03-31T02:30:00 does not exist in Europe/Brussels "
            "(the clocks skip it when summer time starts); pick another time",
        ),
    ),
    Case(
        "relative URL",
        edit("  link: https://example.org/", "  link: /about"),
        (
            "3: feed.link: '/about' is not an absolute http(s) URL; write it in full, e.g. "
            "https://www.example.org/page",
        ),
    ),
    Case(
        "non-http URL",
        add_to_event("      url: javascript:alert(1)\n"),
        (
            "18: entries[1].event.url: 'javascript:alert(1)' is not an absolute http(s) URL; "
            "write it in full, e.g. https://www.example.org/page",
        ),
    ),
    Case(
        "C0 control character",
        edit("    title: First entry", '    title: "First\\x01entry"'),
        (
            "9: entries[0].title: contains the character U+0001 (position 6), which feeds and "
            "pages cannot carry; remove it",
        ),
    ),
    Case(
        "raw control character in the file",
        edit("Some *Markdown*.", "Some\x1b[31m red"),
        (
            "11: contains the character U+001B (column 18), which YAML does not allow in a "
            "file; remove it",
        ),
    ),
    Case(
        "U+FFFE",
        edit("Some *Markdown*.", '"Some \\uFFFE"'),
        (
            "11: entries[0].summary: contains the character U+FFFE (position 6), which feeds and "
            "pages cannot carry; remove it",
        ),
    ),
    Case(
        "empty file",
        b"",
        ("1: the catalog is empty; it needs a feed: block and an entries: list",),
    ),
    Case(
        "no entries",
        (FEED_BLOCK + "entries: []\n").encode(),
        ("7: entries: is empty; add at least one entry",),
    ),
    Case(
        "not a mapping",
        b"- a\n- b\n",
        ("1: the catalog must be a mapping with feed: and entries: at the top",),
    ),
    Case(
        "several documents",
        BASE.encode() + b"---\nfeed: {}\n",
        (
            "18: a second YAML document starts here; a catalog is one document "
            "(remove the '---' line and everything after it, or merge them)",
        ),
    ),
    Case(
        "alias",
        edit("    title: A meeting", "    title: *t"),
        ("13: aliases are not allowed (*t); write the value out in full",),
    ),
    Case(
        "anchor",
        edit("    title: First entry", "    title: &t First entry"),
        (
            "9: anchors are not allowed (&t); aliases are not allowed either, write each value "
            "out in full",
        ),
    ),
    Case(
        "duplicate key",
        edit("    summary: Some *Markdown*.", "    summary: Some *Markdown*.\n    title: Again"),
        (
            "12: duplicate key 'title' (first on line 9); keep one, YAML would silently use the "
            "last",
        ),
    ),
    Case(
        "python tag",
        edit("    title: First entry", "    title: !!python/object/apply:os.system [ls]"),
        (
            "9: YAML tag !!python/object/apply:os.system is not allowed; "
            "remove it (plain values need no tag)",
        ),
    ),
    Case(
        "local tag",
        edit("    title: First entry", "    title: !foo x"),
        ("9: YAML tag !foo is not allowed; remove it (plain values need no tag)",),
    ),
    Case(
        "title too long",
        edit("    title: First entry", "    title: " + "x" * 1001),
        ("9: entries[0].title: is too long (1,001 characters; at most 1,000)",),
    ),
    Case(
        "10 MB summary",
        edit("Some *Markdown*.", "x" * 10_000_000),
        ("11: entries[0].summary: is too long (10,000,000 characters; at most 100,000)",),
    ),
    Case(
        "deep nesting",
        edit("Some *Markdown*.", "[" * 40 + "]" * 40),
        (
            "11: nested more than 16 levels deep; no catalog needs that",
            "11: entries[0].summary: must be text, not a list",
        ),
    ),
    Case(
        "not UTF-8",
        edit("Antwerp", "Antwerp").replace(b"Antwerp", b"Antw\xe9rp"),
        ("17: is not UTF-8 text (byte 0xe9 in column 21); save the file as UTF-8",),
    ),
    Case(
        "geo out of range",
        add_to_event("      geo: [91, 4.4]\n"),
        (
            "18: entries[1].event.geo: must be [latitude, longitude] in degrees, e.g. "
            "[51.2194, 4.4025]; latitude -90..90, longitude -180..180",
        ),
    ),
    Case(
        "unknown status",
        add_to_event("      status: postponed\n"),
        (
            "18: entries[1].event.status: 'postponed' is not one of: confirmed, tentative, "
            "cancelled",
        ),
    ),
    Case(
        "rrule without FREQ",
        add_to_event("      rrule: BYDAY=TU\n"),
        (
            "18: entries[1].event.rrule: needs FREQ (DAILY, WEEKLY, MONTHLY or YEARLY); e.g. "
            "FREQ=WEEKLY;BYDAY=TU;COUNT=6",
        ),
    ),
    Case(
        "rrule with COUNT and UNTIL",
        add_to_event("      rrule: FREQ=WEEKLY;COUNT=3;UNTIL=20190601T000000Z\n"),
        ("18: entries[1].event.rrule: has both COUNT and UNTIL; keep one",),
    ),
    Case(
        "rrule UNTIL not UTC for a timed event",
        add_to_event("      rrule: FREQ=WEEKLY;UNTIL=20190601\n"),
        (
            "18: entries[1].event.rrule: UNTIL must be a UTC time like 20190630T220000Z for a "
            "timed event, not 20190601",
        ),
    ),
    Case(
        "rrule with a bad value",
        add_to_event("      rrule: FREQ=SOMETIMES\n"),
        (
            "18: entries[1].event.rrule: is not a valid recurrence rule (Expected frequency, got: "
            "SOMETIMES); e.g. FREQ=WEEKLY;BYDAY=TU;COUNT=6",
        ),
    ),
    Case(
        "rrule number out of range",
        add_to_event("      rrule: FREQ=YEARLY;BYMONTH=3,13\n"),
        ("18: entries[1].event.rrule: BYMONTH=3,13: each value must be in 1..12",),
    ),
    Case(
        "rrule whose all-day start is not an occurrence (a Saturday, the first Tuesdays)",
        edit(
            "      start: 2019-05-21T09:00:00\n      end: 2019-05-21T17:00:00\n",
            "      start: 2019-05-18\n      end: 2019-05-18\n      rrule: FREQ=MONTHLY;BYDAY=1TU\n",
        ),
        (
            "17: entries[1].event.rrule: the start 2019-05-18 (Sat) is not an occurrence of "
            "this rule; its first occurrence after it is 2019-06-04 (Tue): start the event "
            "there, or change the rule",
        ),
    ),
    Case(
        "rrule whose timed start is not an occurrence (a Thursday, four Tuesdays)",
        edit(
            "      start: 2019-05-21T09:00:00\n      end: 2019-05-21T17:00:00\n",
            "      start: 2019-05-23T09:00:00\n      end: 2019-05-23T17:00:00\n"
            "      rrule: FREQ=WEEKLY;COUNT=4;BYDAY=TU\n",
        ),
        (
            "17: entries[1].event.rrule: the start 2019-05-23 09:00 (Thu) is not an occurrence "
            "of this rule; its first occurrence after it is 2019-05-28 09:00 (Tue): start the "
            "event there, or change the rule",
        ),
    ),
    Case(
        "rrule with times of day on an all-day event",
        edit(
            "      start: 2019-05-21T09:00:00\n      end: 2019-05-21T17:00:00\n",
            "      start: 2019-05-21\n      rrule: FREQ=WEEKLY;BYHOUR=9\n",
        ),
        (
            "16: entries[1].event.rrule: BYHOUR picks times of day, and an all-day event has "
            "none; remove it, or give start and end a time",
        ),
    ),
    Case(
        "zone on an all-day event",
        edit(
            "      start: 2019-05-21T09:00:00\n      end: 2019-05-21T17:00:00",
            "      start: 2019-05-21\n      timezone: Europe/Brussels",
        ),
        (
            "16: entries[1].event.timezone: applies only to timed events; remove it, or give "
            "start and end a time",
        ),
    ),
    Case(
        "updated before published",
        edit("    published: 2019-03-14\n", "    published: 2019-03-14\n    updated: 2019-03-13\n"),
        (
            "11: entries[0].updated: is before published (2019-03-13 < 2019-03-14); "
            "updated is when the entry last changed",
        ),
    ),
    Case(
        "updated before published, both times",
        edit(
            "    published: 2019-03-14\n",
            "    published: 2019-03-14T10:00:00\n    updated: 2019-03-14T08:59:00Z\n",
        ),
        (
            "11: entries[0].updated: is before published "
            "(2019-03-14T08:59:00+00:00 < 2019-03-14T10:00:00+01:00); "
            "updated is when the entry last changed",
        ),
    ),
    Case(
        "unknown top-level key",
        BASE.encode() + b"entires: []\n",
        (
            "18: entires: unknown key 'entires'; did you mean 'entries'? "
            "(allowed here: feed, entries)",
        ),
    ),
    Case(
        "no feed block",
        BASE[len(FEED_BLOCK) :].encode(),
        ("1: feed: is required but missing; add 'feed:'",),
    ),
    Case(
        "entries not a list",
        (FEED_BLOCK + "entries:\n  id: first\n  title: First\n").encode(),
        ("8: entries: must be a list of entries, not a mapping",),
    ),
    Case(
        "entries given twice",
        BASE.encode() + b"entries: []\n",
        (
            "18: duplicate key 'entries' (first on line 7); "
            "keep one, YAML would silently use the last",
        ),
    ),
    Case(
        "several problems, all reported in line order",
        edit("  - id: meeting\n    title: A meeting", "  - id: first\n    titel: A meeting"),
        (
            "12: entries[1].title: is required but missing; add 'title: ...'",
            "12: entries[1].id: duplicate id 'first': entries[0] on line 8 has it too; ids must "
            "be unique",
            "13: entries[1].titel: unknown key 'titel'; did you mean 'title'? "
            "(allowed here: id, title, type, tags, published, updated, summary, link, event, "
            "legacy_id, language)",
        ),
    ),
]


def expected_lines(case: Case, source: str) -> list[str]:
    return [f"{source}:{error}" for error in case.errors]


@pytest.mark.parametrize("case", CASES, ids=[case.rule for case in CASES])
def test_parse_catalog_reports_exactly(case: Case) -> None:
    with pytest.raises(CatalogErrors) as caught:
        parse_catalog(case.data, "entries.yaml")
    assert [str(error) for error in caught.value.errors] == expected_lines(case, "entries.yaml")
    assert str(caught.value) == "\n".join(expected_lines(case, "entries.yaml"))
    first = caught.value.errors[0]
    assert first.line == int(case.errors[0].split(":")[0])


@pytest.mark.parametrize("case", CASES, ids=[case.rule for case in CASES])
def test_feeds_check_prints_problems_and_exits_1(
    case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "entries.yaml").write_bytes(case.data)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == expected_lines(case, "entries.yaml")


# What the tree builder itself checks; libyaml and PyYAML word syntax errors differently.
BUILDER_RULES = {"alias", "anchor", "duplicate key", "python tag", "deep nesting", "unknown key"}


@pytest.mark.parametrize(
    "case", [c for c in CASES if c.rule in BUILDER_RULES], ids=lambda case: case.rule
)
def test_pure_python_parser_reports_the_same(case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without libyaml, PyYAML's own parser gives the same problems on the same lines."""
    monkeypatch.setattr(yamlnodes, "_Loader", yaml.SafeLoader)
    with pytest.raises(CatalogErrors) as caught:
        parse_catalog(case.data, "entries.yaml")
    assert [str(error) for error in caught.value.errors] == expected_lines(case, "entries.yaml")


def test_file_over_the_size_limit_is_refused_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "entries.yaml"
    with path.open("wb") as sparse:  # 65 MiB that take no disk space
        sparse.truncate(65 * 1024 * 1024)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == 1
    assert result.stderr == (
        "entries.yaml:0: the file is too large (68,157,440 bytes; the limit is 67,108,864); "
        "split it or raise the limit\n"
    )


def test_size_limit_is_a_parameter(tmp_path: Path) -> None:
    path = tmp_path / "entries.yaml"
    path.write_text(BASE)
    assert len(load_catalog(path).entries) == 2
    with pytest.raises(CatalogErrors) as caught:
        load_catalog(path, max_bytes=100)
    assert caught.value.errors[0].message.startswith("the file is too large (391 bytes;")
    with pytest.raises(CatalogErrors):
        parse_catalog(BASE.encode(), max_bytes=100)


def test_missing_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", "nowhere.yaml"])
    assert result.exit_code == 1
    assert result.stderr == "nowhere.yaml:0: cannot read the catalog: No such file or directory\n"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "entries.yaml"
    path.write_text(BASE)
    path.chmod(0)
    with pytest.raises(CatalogErrors) as caught:
        load_catalog(path)
    assert caught.value.errors[0].message == "cannot read the catalog: Permission denied"


def test_a_directory_is_not_a_catalog(tmp_path: Path) -> None:
    with pytest.raises(CatalogErrors) as caught:
        load_catalog(tmp_path)
    assert caught.value.errors[0].message == (
        "cannot read the catalog: it is a folder, not a file; "
        "give the path of the catalog file (entries.yaml)"
    )


def test_entries_before_feed_give_the_same_catalog() -> None:
    """Entries are checked as they are read once the feed is known; before it, at the end."""
    entries_first = BASE[len(FEED_BLOCK) :] + FEED_BLOCK
    normal, reordered = parse_catalog(BASE.encode()), parse_catalog(entries_first.encode())
    assert [e.id for e in reordered.entries] == [e.id for e in normal.entries]
    assert reordered.feed == normal.feed
    meeting = reordered.entry("meeting")
    assert meeting is not None and meeting.event is not None
    assert meeting.event.timezone == "Europe/Brussels"  # the feed's zone, read after it
    with pytest.raises(CatalogErrors) as caught:
        parse_catalog(entries_first.replace("  - id: meeting", "  - id: first").encode())
    assert [str(e) for e in caught.value.errors] == [
        "entries.yaml:6: entries[1].id: duplicate id 'first': entries[0] on line 2 has it too; "
        "ids must be unique"
    ]


def test_updated_a_day_later_is_not_before_a_late_published_time() -> None:
    """A day means that day, even if its midnight in the feed's zone is the earlier instant."""
    text = BASE.replace(
        "    published: 2019-03-14\n",
        "    published: 2019-03-14T20:15:00-05:00\n    updated: 2019-03-15\n",
    )
    entry = parse_catalog(text.encode()).entry("first")
    assert entry is not None and entry.updated is not None and entry.published is not None
    assert entry.updated.isoformat() == "2019-03-15T00:00:00+01:00"
    assert entry.published.isoformat() == "2019-03-14T20:15:00-05:00"


def test_utf8_bom_is_accepted() -> None:
    catalog = parse_catalog(b"\xef\xbb\xbf" + BASE.encode())
    assert [entry.id for entry in catalog.entries] == ["first", "meeting"]
