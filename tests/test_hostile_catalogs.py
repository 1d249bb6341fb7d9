"""The hostile corpus (`tests/hostile/`, indexed by `cases.toml`) through `feeds check` and
`feeds build`, the big generated cases (`hostile_gen.py`) in a memory-limited subprocess,
odd but valid files, and regression tests for what the corpus found.

Every broken catalog must give exit 1, only `FILE:LINE: [field: ]message` lines on stderr
(line 0 only for whole-file problems), no traceback, and leave the export untouched.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tracemalloc
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hostile_gen import (
    BASE,
    BIG_TIMEOUT_SECONDS,
    GENERATED,
    HOSTILE,
    MEMORY_LIMIT,
    corpus,
    over_the_size_limit,
    run_feeds,
    write_generated,
)

from feeds.catalog import CatalogErrors, load_catalog, parse_catalog
from feeds.catalog.errors import MAX_PROBLEMS
from feeds.catalog.yamlnodes import MAX_ITEMS
from feeds.cli import main
from feeds.model import Catalog, Entry, Event, Feed
from feeds.render.ics_rrule import UNBOUNDED_YEARS, last_day
from feeds.site import build_site

ROOT = Path(__file__).resolve().parent.parent
CASES = corpus()
#: Whole-file problems, the only ones reported on line 0.
FILE_PROBLEMS = ("cannot read the catalog", "the file is too large", "there is not enough memory")


def assert_problem_lines(stderr: str, path: Path | str) -> list[str]:
    """Every line `FILE:LINE: text`, printable, line 0 only for whole-file problems."""
    lines = stderr.splitlines()
    assert lines, "no problem reported"
    assert "Traceback" not in stderr and "internal error" not in stderr
    pattern = re.compile(re.escape(str(path)) + r":(\d+): (\S.*)")
    for line in lines:
        match = pattern.fullmatch(line)
        assert match is not None, line
        assert line.isprintable(), line
        assert int(match[1]) >= 1 or match[2].startswith(FILE_PROBLEMS), line
    return lines


# --- the corpus ----------------------------------------------------------------------------


def test_the_corpus_has_over_100_cases_and_indexes_every_file() -> None:
    files = {path.name for path in HOSTILE.glob("*.yaml")}
    assert len(CASES) >= 100
    assert {case["file"] for case in CASES} == files
    assert all(case["what"] and case["first"] for case in CASES)


def tree_state(folder: Path) -> dict[str, str]:
    """Every name under `folder` with its content hash or symlink target."""
    state: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        name = str(path.relative_to(folder))
        if path.is_symlink():
            state[name] = "-> " + str(path.readlink())
        elif path.is_file():
            state[name] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            state[name] = "dir"
    return state


@pytest.fixture(scope="module")
def live_export(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A folder with a good export of the bundled catalog in `site`."""
    folder = tmp_path_factory.mktemp("live")
    result = CliRunner().invoke(
        main,
        ["build", str(ROOT / "entries.yaml"), "--out", str(folder / "site"), "-q"]
        + ["--cache-dir", str(folder / "cache")],  # not next to the checkout's catalog
    )
    assert result.exit_code == 0, result.output
    yield folder
    shutil.rmtree(folder)


def feeds(*arguments: str) -> Result:
    return CliRunner().invoke(main, list(arguments))


@pytest.mark.parametrize("case", CASES, ids=[case["file"][:-5] for case in CASES])
def test_check_reports_file_line_problems_and_build_writes_nothing(
    case: dict[str, str], tmp_path: Path, live_export: Path
) -> None:
    path = HOSTILE / case["file"]
    checked = feeds("check", str(path))
    assert checked.exit_code == 1, checked.output
    assert checked.stdout == ""
    lines = assert_problem_lines(checked.stderr, path)
    assert lines[0].startswith(f"{path}:{case['first']}"), (lines[0], case["first"])
    assert len(lines) <= MAX_PROBLEMS + 1

    fresh = tmp_path / "out"
    built = feeds("build", str(path), "--out", str(fresh))
    assert built.exit_code == 1
    *problems, summary = built.stderr.splitlines()
    assert problems == lines
    assert summary.endswith(f"nothing was built, {fresh} was not created")
    assert not fresh.exists() and list(tmp_path.iterdir()) == []

    before = tree_state(live_export)
    assert feeds("build", str(path), "--out", str(live_export / "site")).exit_code == 1
    assert tree_state(live_export) == before


SUBPROCESS_SAMPLE = [
    case
    for case in CASES
    if any(
        word in case["file"]
        for word in (
            "billion-laughs",
            "python-apply-system",
            "utf16le",
            "latin1",
            "nul-at-start",
            "syntax-tab-indent",
            "rrule-never-feb-30",
            "newline-in-key",
            "deep-flow-nesting",
            "many-entries-one-bad",
            "quadratic",
        )
    )
]


def test_the_subprocess_sample_is_the_intended_one() -> None:
    assert len(SUBPROCESS_SAMPLE) >= 10


@pytest.mark.parametrize(
    "case", SUBPROCESS_SAMPLE, ids=[case["file"][:-5] for case in SUBPROCESS_SAMPLE]
)
def test_the_real_command_under_a_memory_limit(case: dict[str, str], tmp_path: Path) -> None:
    path = HOSTILE / case["file"]
    run = run_feeds(["check", str(path)], tmp_path / "rusage")
    assert run.returncode == 1, run.stderr
    assert run.stdout == ""
    assert assert_problem_lines(run.stderr, path)[0].startswith(f"{path}:{case['first']}")
    assert 0 < run.max_rss_mib < MEMORY_LIMIT / 2**20


# --- generated: too big to commit ------------------------------------------------------------

QUICK_GENERATED = ["summary-10mb", "entries-20k-one-bad"]


def check_generated(name: str, tmp_path: Path) -> None:
    path = write_generated(tmp_path, name)
    run = run_feeds(["check", str(path)], tmp_path / "rusage", BIG_TIMEOUT_SECONDS)
    path.unlink()
    assert run.returncode == 1, run.stderr[-2000:]
    first = assert_problem_lines(run.stderr, path)[0]
    assert first.startswith(f"{path}:{GENERATED[name].first}") or (
        GENERATED[name].first in first
    ), first


@pytest.mark.parametrize("name", QUICK_GENERATED)
def test_generated_case(name: str, tmp_path: Path) -> None:
    check_generated(name, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("name", [name for name in GENERATED if name not in QUICK_GENERATED])
def test_big_generated_case_under_a_memory_limit(name: str, tmp_path: Path) -> None:
    check_generated(name, tmp_path)


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    path = over_the_size_limit(tmp_path)
    run = run_feeds(["check", str(path)], tmp_path / "rusage")
    assert run.returncode == 1
    (line,) = assert_problem_lines(run.stderr, path)
    assert line.startswith(f"{path}:0: the file is too large (68,157,440 bytes")
    assert run.max_rss_mib < 64  # not read into memory: the file alone is 65 MiB


# --- odd but valid ---------------------------------------------------------------------------

VALID_ODDITIES = {
    "utf8-bom": b"\xef\xbb\xbf" + BASE.encode(),
    "crlf": BASE.replace("\n", "\r\n").encode(),
    "cr-only": BASE.replace("\n", "\r").encode(),
    "mixed-line-ends": BASE.replace("\n", "\r\n", 6).encode(),
    "no-final-newline": BASE.rstrip("\n").encode(),
    "comments-everywhere": BASE.replace("\n", "  # note: *not* &an alias\n").encode(),
    "long-line-summary": BASE.replace("Some *Markdown*.", "word " * 19_000).encode(),
    "explicit-document": ("%YAML 1.1\n---\n" + BASE + "...\n").encode(),
    "allowed-tags": BASE.replace("First entry", "!!str 2019").encode(),
    "flow-style": (
        b"{feed: {title: T, link: 'https://example.org/', base_url: 'https://e.org/', "
        b"id_authority: 'example.org,2019'}, entries: [{id: a, title: A}]}"
    ),
}


@pytest.mark.parametrize("name", VALID_ODDITIES)
def test_odd_but_valid_files_load_and_build(name: str, tmp_path: Path) -> None:
    path = tmp_path / "entries.yaml"
    path.write_bytes(VALID_ODDITIES[name])
    catalog = load_catalog(path)
    assert catalog.entries[0].title in ("First entry", "2019", "A")
    result = feeds("build", str(path), "--out", str(tmp_path / "site"), "-q")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "site" / "feed.atom").is_file()


def test_line_numbers_are_the_same_whatever_the_line_ends() -> None:
    broken = BASE.replace("2019-03-14", "2019-02-30")
    for ends in ("\n", "\r\n", "\r"):
        (line,) = problems_of(broken.replace("\n", ends))
        assert line.startswith("c.yaml:10: entries[0].published:"), (ends, line)


# --- regressions -----------------------------------------------------------------------------

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


def event_catalog(rrule: str, start: str = "2019-05-21T09:00:00", end: str = "") -> str:
    end = end or start.replace("09:00", "10:00")
    return FEED_TEXT + (
        "entries:\n  - id: e\n    title: E\n    event:\n"
        f"      start: {start}\n      end: {end}\n      rrule: {rrule}\n"
    )


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


# --- regressions: recurrence rules that renderers could not expand in bounded time ----------


@pytest.mark.parametrize(
    ("rrule", "message"),
    [
        ("FREQ=SECONDLY", "FREQ=SECONDLY: an event repeats at most daily"),
        ("FREQ=HOURLY;COUNT=3", "FREQ=HOURLY: an event repeats at most daily"),
        ("FREQ=MONTHLY;BYDAY=99TU", "BYDAY=99TU: the number before a day must be in 1..53"),
        ("FREQ=WEEKLY;BYDAY=2TU", "BYDAY=2TU: a numbered day (2TU) needs FREQ=MONTHLY or"),
        ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "never happens: no date matches"),
        ("FREQ=YEARLY;BYMONTH=4;BYMONTHDAY=31;COUNT=2", "never happens: no date matches"),
        ("FREQ=MONTHLY;BYDAY=6TU", "never happens: no date matches"),
        ("FREQ=YEARLY;BYWEEKNO=1;BYMONTH=6", "never happens: no date matches"),
        ("FREQ=YEARLY;BYSETPOS=40;BYMONTH=1", "never happens: no date matches"),
        (
            "FREQ=DAILY;UNTIL=20000101T000000Z",
            "UNTIL=20000101T000000Z is before the first occurrence (20190521T070000Z)",
        ),
        (
            "FREQ=DAILY;UNTIL=20190521T065959Z",
            "UNTIL=20190521T065959Z is before the first occurrence (20190521T070000Z)",
        ),
    ],
)
def test_rules_that_never_end_expanding_are_refused(rrule: str, message: str) -> None:
    (line,) = problems_of(event_catalog(rrule))
    assert line.startswith(f"c.yaml:13: entries[0].event.rrule: {message}")


def test_an_until_at_the_first_occurrence_is_accepted() -> None:
    catalog = parse_catalog(event_catalog("FREQ=DAILY;UNTIL=20190521T070000Z").encode())
    assert catalog.entries[0].event is not None


def test_all_day_until_before_the_start_is_refused() -> None:
    text = event_catalog("FREQ=WEEKLY;UNTIL=20190520", "2019-05-21", "2019-05-21")
    assert problems_of(text) == [
        "c.yaml:13: entries[0].event.rrule: UNTIL=20190520 is before the first occurrence "
        "(20190521); the event would never happen"
    ]


@pytest.mark.parametrize(
    "value", ["0001-01-01", "1899-12-31", "3000-01-01", "9999-12-31T23:00:00-12:00"]
)
def test_years_renderers_cannot_step_past_are_refused(value: str) -> None:
    text = FEED_TEXT + f"entries:\n  - id: a\n    title: A\n    published: {value}\n"
    assert problems_of(text) == [
        f"c.yaml:10: entries[0].published: {value}: the year must be in 1900..2999"
    ]


def counted_event(rrule: str, start: date | datetime) -> Event:
    return Event(
        start=start,
        end=start,
        timezone=None,
        location=None,
        geo=None,
        url=None,
        status="confirmed",
        rrule=rrule,
    )


@pytest.mark.parametrize(
    "rrule",
    [
        "FREQ=DAILY;COUNT=1000000",  # 2,700 years of days
        "FREQ=DAILY;INTERVAL=1000000;COUNT=1000000",  # past the year 9999
        "FREQ=DAILY;UNTIL=29991231",
        "FREQ=DAILY;BYHOUR=" + ",".join(map(str, range(24))) + ";COUNT=1000000",
    ],
)
def test_calendar_time_zone_data_reaches_at_most_the_horizon(rrule: str) -> None:
    start = date(2019, 5, 21)
    assert last_day(counted_event(rrule, start)) == date(2019 + UNBOUNDED_YEARS, 5, 21)


def test_a_catalog_with_the_longest_rules_builds() -> None:
    feed = Feed(
        title="T",
        link="https://example.org/",
        base_url="https://feeds.example.org/",
        id_authority="example.org,2019",
    )
    entries = tuple(
        Entry(
            id=f"e{n}",
            title="E",
            summary="",
            type=None,
            tags=(),
            published=None,
            updated=None,
            link=None,
            line=1,
            event=counted_event(rule, date(2999, 12, 1)),
        )
        for n, rule in enumerate(
            ["FREQ=DAILY;COUNT=1000000", "FREQ=YEARLY", "FREQ=DAILY;UNTIL=29991231"]
        )
    )
    site = build_site(Catalog(feed=feed, entries=entries, source="c.yaml", version="v"))
    assert "/events.ics" in site.outputs


@pytest.mark.parametrize(
    ("escape", "code"),
    [("\\x7f", "007F"), ("\\x85", "0085"), ("\\x9f", "009F"), ("\\uFDD0", "FDD0")]
    + [("\\U0010FFFF", "10FFFF")],
)
def test_characters_html_refuses_are_refused_in_text(escape: str, code: str) -> None:
    """DEL, C1 controls and noncharacters are HTML parse errors (html5lib strict fails)."""
    text = FEED_TEXT + f'entries:\n  - id: a\n    title: "A{escape}B"\n'
    assert problems_of(text) == [
        f"c.yaml:9: entries[0].title: contains the character U+{code} (position 2), "
        "which feeds and pages cannot carry; remove it"
    ]


@pytest.mark.parametrize(
    "text",
    [
        FEED_TEXT + "? " + "k" * 2_000_000 + "\n: 1\nentries: [{id: a, title: b}]\n",
        FEED_TEXT.replace("Europe/Brussels", "Europe/" + "B" * 2_000_000)
        + "entries: [{id: a, title: b}]\n",
    ],
    ids=["key", "zone"],
)
def test_a_long_unknown_word_is_not_matched_against_the_known_ones(text: str) -> None:
    """difflib indexes each character of the word: 2 MB cost 80 MB, 10 MB 400 MB."""
    tracemalloc.start()
    try:
        (line,) = problems_of(text)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "did you mean" not in line
    assert peak < 40 * 2**20
