"""One reader: `feeds check`, `feeds build` and the server accept exactly the same files
and report the same problems in the same words (issue 17, findings 3 and 8).

The build and the server read through caches in front of the full reader
(`CatalogParser`, re-reading only the entries an edit changed, and `Parts`, a cold
build's catalog read half by each of two processes); whatever the file, those must give
what `feeds check` gives: the same Catalog (entries at the same lines, the same orders)
or the same error lines. A differential property test reads mutated catalogs (YAML
directives, tags, anchors, merge keys, BOMs, line endings, duplicate keys, entries
removed or repeated, broken indentation) by every path; then the real commands, for
the %TAG file of the finding and for special files in place of the catalog.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import suppress
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feeds.catalog import CatalogErrors, load_catalog, read_catalog
from feeds.catalog.incremental import CatalogParser
from feeds.catalog.parts import Parts, join_parts, read_part
from feeds.model import Catalog
from feeds.serve.reload import CatalogWatcher, incremental_parser
from feeds.site import Site

ROOT = Path(__file__).resolve().parent.parent
FEEDS = Path(sys.executable).with_name("feeds")
# Far above what any of these commands needs; only a hang gets near it.
HANG_GUARD = 10.0

Read = Callable[[bytes], object]


def generated(entries: int, seed: int) -> bytes:
    """The benchmarks' deterministic catalog (events in several zones, quoted text)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from gen_catalog import generate  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    text: str = generate(entries, seed)
    return text.encode()


def items_at_column_0(data: bytes) -> bytes:
    """The same catalog with its entries' lines two spaces to the left (`- id:` first)."""
    feed, entries = data.split(b"\nentries:\n")
    lines = entries.split(b"\n")
    return feed + b"\nentries:\n" + b"\n".join(line.removeprefix(b"  ") for line in lines)


# A series with days left out (`exdate`), as a block list for the mutations to cut.
SERIES = b"""\
  - id: lunch-series
    title: Lunch talks
    event:
      start: 2027-01-05T12:30:00+01:00
      end: 2027-01-05T13:30:00+01:00
      rrule: FREQ=MONTHLY;BYDAY=1TU;COUNT=6
      exdate:
        - 2027-03-02
        - 2027-05-04
"""

BASES = [
    (ROOT / "entries.yaml").read_bytes(),
    generated(3, 7),
    generated(12, 2019),
    items_at_column_0(generated(5, 3)),
    generated(4, 11).rstrip(b"\n") + b"\n" + SERIES,
]

# --- the three readers ----------------------------------------------------------------


def outcome(read: Callable[[], Catalog]) -> tuple[str, object]:
    """("catalog", the catalog, its orders and every entry's line) or ("errors", the
    error lines as printed): comparable, and what an editor or a reader would see."""
    try:
        catalog = read()
    except CatalogErrors as exc:
        return "errors", tuple(str(error) for error in exc.errors)
    orders = (catalog.entries, catalog.publications, catalog.events)
    lines = tuple(tuple(entry.line for entry in order) for order in orders)
    return "catalog", (catalog, catalog.publications, catalog.events, catalog.tags, lines)


class Readers:
    """Every way the project reads a catalog file, each fed the same versions in turn."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "entries.yaml"
        self.warm_build = CatalogParser()  # `feeds build` with the last build's parse
        self.server = incremental_parser()  # the server's watcher

    def read_all(self, data: bytes) -> dict[str, tuple[str, object]]:
        self.path.write_bytes(data)
        source = str(self.path)
        return {
            "feeds check": outcome(lambda: load_catalog(self.path)),
            "feeds build --no-cache": outcome(
                lambda: CatalogParser().parse(read_catalog(self.path), source)
            ),
            "feeds build, two processes": outcome(lambda: read_in_two(self.path)),
            "feeds build, rebuild": outcome(
                lambda: self.warm_build.parse(read_catalog(self.path), source)
            ),
            "server": outcome(lambda: self.server(read_catalog(self.path), self.path)),
        }


def read_in_two(path: Path) -> Catalog:
    """What a cold `feeds build -j 2` reads (`processes.read_catalog_in_two`), in one process: each
    half as its process reads it, joined; the whole file by one reader if that fails."""
    data = read_catalog(path)
    parts = Parts.of(data, 2)
    if parts is not None:
        runs = [read_part(parts, 0), read_part(parts, 1)]
        if runs[0] is not None and runs[1] is not None:
            joined = join_parts(CatalogParser(), parts, [runs[0], runs[1]], str(path))
            if joined is not None:
                return joined
    return CatalogParser().parse(data, str(path))


def assert_one_answer(answers: dict[str, tuple[str, object]]) -> None:
    expected = answers["feeds check"]
    for name, answer in answers.items():
        assert answer == expected, f"{name} differs from feeds check"


# --- mutations ----------------------------------------------------------------------------

DIRECTIVES = (
    "%YAML 1.1\n---\n",
    "%YAML 1.2\n---\n",
    "%TAG !! tag:evil.example,2000:\n---\n",
    "%TAG !e! tag:yaml.org,2002:\n---\n",
    "%TAG ! tag:evil.example,2000:\n---\n",
    "---\n",
    "--- # a document start\n",
)
HANDLE_TAGS = {
    "%TAG !! tag:evil.example,2000:\n---\n": "!!str ",
    "%TAG !e! tag:yaml.org,2002:\n---\n": "!e!str ",
    "%TAG ! tag:evil.example,2000:\n---\n": "!local ",
}
TAGS = (
    "!!str ",
    "!!python/object/apply:os.system ",
    "!custom ",
    "!e!str ",
    "!<tag:yaml.org,2002:str> ",
    "! ",
    "!!binary ",
    "!!timestamp ",
)
LINES = (
    "    <<: {type: news}",
    "    <<: *base",
    "  <<: *base",
    "%TAG !! tag:evil.example,2000:",
    "---",
    "...",
    "  - id: added-entry",
    "    title: !!str Added",
    "    title: &base Anchored",
    "    title: *base",
    "entries:",
    "feed:",
    "# a comment",
    "",
)


def lines_with_values(lines: list[str]) -> list[int]:
    return [k for k, line in enumerate(lines) if ": " in line and not line.lstrip().startswith("#")]


def item_starts(lines: list[str]) -> list[int]:
    return [k for k, line in enumerate(lines) if line.lstrip().startswith("- id:")]


def mutate(text: str, operation: str, at: int, other: int) -> str:  # noqa: C901, PLR0912
    """`text` with one editor's (or attacker's) change; `at` and `other` pick where."""
    lines = text.split("\n")
    i = at % len(lines)
    valued, items = lines_with_values(lines), item_starts(lines)
    if operation == "directive":
        directive = DIRECTIVES[at % len(DIRECTIVES)]
        if other % 2 and valued:  # and a tag that uses the handle it defines
            k = valued[other // 2 % len(valued)]
            key, _, value = lines[k].partition(": ")
            lines[k] = f"{key}: {HANDLE_TAGS.get(directive, '!!str ')}{value}"
        return directive + "\n".join(lines)
    if operation == "top level":
        return top_level(text, other % 4)
    if operation == "tag" and valued:
        k = valued[at % len(valued)]
        key, _, value = lines[k].partition(": ")
        lines[k] = f"{key}: {TAGS[other % len(TAGS)]}{value}"
    elif operation == "anchor and alias" and len(valued) > 1:
        k, m = valued[at % len(valued)], valued[other % len(valued)]
        lines[k] = lines[k].replace(": ", ": &a ", 1)
        if m != k:
            lines[m] = lines[m].partition(": ")[0] + ": *a"
    elif operation == "merge key" and items:
        k = items[at % len(items)]
        indent = " " * (len(lines[k]) - len(lines[k].lstrip()) + 2)
        merge = ("<<: {type: news}", "<<: *a", "<<: [*a]")[other % 3]
        lines.insert(k + 1, indent + merge)
    elif operation == "line":
        lines.insert(i, LINES[other % len(LINES)])
    elif operation == "duplicate key":
        lines.insert(i, lines[i])
    elif operation == "delete line":
        del lines[i]
    elif operation in ("remove entry", "repeat entry") and items:
        k = at % len(items)
        end = items[k + 1] if k + 1 < len(items) else len(lines)
        block = lines[items[k] : end]
        lines[items[k] : end] = [] if operation == "remove entry" else block + block
    elif operation == "indent":
        shift = (-2, -1, 1, 2)[other % 4]
        for k in range(i, min(len(lines), i + 1 + other % 5)):
            lines[k] = " " * shift + lines[k] if shift > 0 else lines[k][-shift:]
    elif operation == "retitle" and valued:
        titles = [k for k in valued if lines[k].lstrip().startswith("title:")] or valued
        k = titles[at % len(titles)]
        lines[k] = lines[k].partition(": ")[0] + f": Retitled {other}"
    elif operation == "character":
        column = other % (len(lines[i]) + 1)
        lines[i] = lines[i][:column] + "\"'#&*!%|>-{}[]\t\ufeff"[at % 16] + lines[i][column:]
    return "\n".join(lines)


def top_level(text: str, variant: int) -> str:
    """The text with its top level written otherwise: the feed block (or the entries:
    line) indented, the feed as a flow mapping, or as an explicit key."""
    head, entries = text.split("\nentries:\n", 1) if "\nentries:\n" in text else (text, "")
    tail = "\nentries:\n" + entries
    if variant == 0:  # `feed:` and its block two columns to the right
        start = head.find("feed:")
        return head[:start] + "  " + head[start:].replace("\n", "\n  ") + tail
    if variant == 1:  # `{feed: {...}}` on one line
        try:
            feed = yaml.safe_load(head)
        except yaml.YAMLError:
            return text
        return yaml.safe_dump(feed, default_flow_style=True, width=10**6) + tail[1:]
    if variant == 2:
        return head + "\n entries:\n" + entries
    return head.replace("feed:", "? feed\n:", 1) + tail


OPERATIONS = (
    "directive",
    "directive",
    "top level",
    "top level",
    "tag",
    "anchor and alias",
    "merge key",
    "line",
    "duplicate key",
    "delete line",
    "remove entry",
    "repeat entry",
    "indent",
    "retitle",
    "character",
)
ENCODINGS = ("utf-8",) * 6 + ("utf-8 BOM", "utf-16", "utf-16-be BOM", "CRLF", "CR")


def encode(text: str, encoding: str) -> bytes:
    if encoding == "utf-8 BOM":
        return b"\xef\xbb\xbf" + text.encode()
    if encoding == "utf-16":  # Python writes the BOM (little-endian here)
        return text.encode("utf-16")
    if encoding == "utf-16-be BOM":
        return b"\xfe\xff" + text.encode("utf-16-be")
    if encoding == "CRLF":
        return text.replace("\n", "\r\n").encode()
    if encoding == "CR":
        return text.replace("\n", "\r").encode()
    return text.encode()


changes = st.lists(
    st.tuples(st.sampled_from(OPERATIONS), st.integers(0, 10**6), st.integers(0, 10**6)),
    min_size=1,
    max_size=3,
)


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="one-reader-") as name:
        yield Path(name)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    base=st.sampled_from(range(len(BASES))),
    versions=st.lists(st.tuples(changes, st.sampled_from(ENCODINGS)), min_size=1, max_size=3),
)
def test_every_reader_gives_the_same_answer(
    folder: Path, base: int, versions: list[tuple[list[tuple[str, int, int]], str]]
) -> None:
    """Each version is a mutation of the one before (of the text: an encoding is applied
    to that version only), read by a rebuild and a server that read the ones before."""
    readers = Readers(folder)
    text = BASES[base].decode()
    answers = readers.read_all(BASES[base])
    assert answers["feeds check"][0] == "catalog"
    assert_one_answer(answers)
    for operations, encoding in versions:
        for operation, at, other in operations:
            text = mutate(text, operation, at, other)
        assert_one_answer(readers.read_all(encode(text, encoding)))


FEED_BLOCK = (
    b"feed:\n  title: T\n  link: https://e.org/\n  base_url: https://e.org/\n"
    b"  id_authority: e.org,2019\n"
)
ENTRIES = (
    b"entries:\n"
    b"  - id: a\n    title: Bologna\n    published: 2019-01-01\n"
    b"  - id: b\n    title: Barcelona\n    published: 2019-01-02\n"
)
# Files the incremental reader read otherwise than the full reader: each entry read
# alone, without the file's directives, or the feed block read alone, without what
# follows it (the first is the issue's; the property test found the others).
MISREAD = {
    "%TAG !! redefined": b"%TAG !! tag:evil.example,2000:\n---\n"
    + FEED_BLOCK
    + ENTRIES.replace(b"title: Bologna", b"title: !!str Bologna"),
    "a flow mapping at the top": b"{feed: {title: T, link: 'https://e.org/', "
    b"base_url: 'https://e.org/', id_authority: 'e.org,2019'}}\n" + ENTRIES,
    "an indented feed block": b"".join(b"  " + line for line in FEED_BLOCK.splitlines(True))
    + ENTRIES,
}


@pytest.mark.parametrize("case", MISREAD)
def test_files_the_shortcut_misread(folder: Path, case: str) -> None:
    answers = Readers(folder).read_all(MISREAD[case])
    assert answers["feeds check"][0] == "errors"
    assert_one_answer(answers)


# --- the real commands --------------------------------------------------------------------


def feeds(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the installed `feeds`; a hang fails the test (TimeoutExpired) instead of
    blocking the suite."""
    return subprocess.run(
        [str(FEEDS), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
        check=False,
    )


def problem_lines(stderr: str, name: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith(f"{name}:")]


def test_a_redefined_tag_handle_is_refused_by_check_and_build_alike(tmp_path: Path) -> None:
    bundled = (ROOT / "entries.yaml").read_text("utf-8")
    evil = "%TAG !! tag:evil.example,2000:\n---\n" + bundled.replace(
        'title: "Bologna', 'title: !!str "Bologna', 1
    )
    (tmp_path / "entries.yaml").write_text(evil, "utf-8")
    checked = feeds("check", "entries.yaml", cwd=tmp_path)
    assert checked.returncode == 1, checked.stderr
    expected = problem_lines(checked.stderr, "entries.yaml")
    assert expected and "YAML tag tag:evil.example,2000:str is not allowed" in expected[0]
    for options in ([], ["--no-cache"], ["--jobs", "2"], ["--jobs", "1"]):
        built = feeds("build", "entries.yaml", "--out", "site", *options, cwd=tmp_path)
        assert built.returncode == 1, (options, built.stderr)
        assert problem_lines(built.stderr, "entries.yaml") == expected, options
        assert not (tmp_path / "site").exists()


def test_a_rebuild_refuses_a_redefined_tag_handle_after_a_good_build(tmp_path: Path) -> None:
    """The rebuild's parser knows every entry from the last build: the directive alone
    changes what they mean."""
    catalog = tmp_path / "entries.yaml"
    bundled = (ROOT / "entries.yaml").read_text("utf-8")
    catalog.write_text(bundled.replace('title: "Bologna', 'title: !!str "Bologna', 1), "utf-8")
    first = feeds("build", "entries.yaml", "--out", "site", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    catalog.write_text("%TAG !! tag:evil.example,2000:\n---\n" + catalog.read_text(), "utf-8")
    checked = feeds("check", "entries.yaml", cwd=tmp_path)
    rebuilt = feeds("build", "entries.yaml", "--out", "site", cwd=tmp_path)
    assert (checked.returncode, rebuilt.returncode) == (1, 1), rebuilt.stderr
    assert problem_lines(rebuilt.stderr, "entries.yaml") == problem_lines(
        checked.stderr, "entries.yaml"
    )


def special_file(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / "entries.yaml"
    if kind == "fifo":
        os.mkfifo(path)  # no writer: opening it to read waits for one, unless told not to
    elif kind == "folder":
        path.mkdir()
    elif kind == "unreadable":
        path.write_bytes((ROOT / "entries.yaml").read_bytes())
        path.chmod(0)
    elif kind != "missing":
        return Path(kind)  # a device
    return path


def watcher_problems(path: Path) -> list[str]:
    """What the server's watcher reports for `path` after one look, or a hang guard's
    note if that look does not return."""
    watcher: CatalogWatcher[Site] = CatalogWatcher(path, lambda site, problems: site)
    looking = threading.Thread(target=watcher.check_now, daemon=True)
    looking.start()
    looking.join(HANG_GUARD)
    if looking.is_alive():  # blocked in open(): give it a writer, so that it returns
        with suppress(OSError):
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
        return ["the watcher blocked"]
    watcher.stop()
    return list(watcher.live.problems)


@pytest.mark.parametrize(
    "kind", ["fifo", "/dev/zero", "/dev/null", "folder", "missing", "unreadable"]
)
def test_check_build_and_server_refuse_special_files_in_the_same_words(
    tmp_path: Path, kind: str
) -> None:
    """Each refuses it at once with one `FILE:0:` line (exit 1, no traceback) and
    creates nothing; the server shows the same line."""
    if kind == "unreadable" and os.geteuid() == 0:
        pytest.skip("root reads a file whatever its mode")
    path = special_file(tmp_path, kind)
    out = tmp_path / "site"
    checked = feeds("check", str(path), cwd=tmp_path)
    built = feeds("build", str(path), "--out", str(out), cwd=tmp_path)
    for result in (checked, built):
        assert result.returncode == 1, result.stderr
        assert "Traceback" not in result.stderr
    expected = problem_lines(checked.stderr, str(path))
    assert len(expected) == 1, checked.stderr
    assert expected[0].startswith(f"{path}:0: cannot read the catalog: ")
    assert problem_lines(built.stderr, str(path)) == expected
    assert watcher_problems(path) == expected
    assert sorted(tmp_path.iterdir()) == (
        [] if kind in ("missing", "/dev/zero", "/dev/null") else [path]
    )
    if kind == "fifo":
        assert "FIFO" in expected[0]
