"""A rebuild after an edit, as the watcher does it (incremental parse, every render cache
warm from the build before), gives exactly the Site a cold build of the edited file
gives: every body, ETag and gzip body, for every kind of edit, including those that
let the caches hand over documents, calendars and orders from the last build, and
those that must not (an entry moved to another year, tag or position, added, removed).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from test_catalog_incremental import generated_catalog

from feeds import memo
from feeds.catalog import parse_catalog
from feeds.catalog.incremental import CatalogParser
from feeds.site import Site, build_site

pytestmark = pytest.mark.usefixtures("cold_memo")  # tables as a new process finds them


def short_feed_catalog(entries: int) -> str:
    """The benchmarks' catalog (events in several zones, recurrences, markup in text),
    with a short live feed so that every tag has archives."""
    return generated_catalog(entries).decode().replace("feed_size: 50", "feed_size: 8")


def entry_blocks(text: str) -> list[str]:
    return re.findall(r"  - id: .*?(?=\n  - id: |\Z)", text, flags=re.S)


def in_entry(
    entry_id: str,
    pattern: str,
    replacement: str | Callable[[re.Match[str]], str],
    count: int = 1,
) -> Callable[[str], str]:
    """An edit of the one entry with this id: `re.sub` in its lines, `count` times."""

    def edit(text: str) -> str:
        block = next(b for b in entry_blocks(text) if b.startswith(f"  - id: {entry_id}\n"))
        changed = re.sub(pattern, replacement, block, count=count)
        assert changed != block, f"{pattern!r} is not in {entry_id}"
        return text.replace(block, changed)

    return edit


def years(delta: int) -> Callable[[re.Match[str]], str]:
    """For a pattern `(...): (year)`: the year moved by `delta`."""
    return lambda match: f"{match[1]}: {int(match[2]) + delta}"


NEW_ENTRY = """\
  - id: zz-new
    title: "A new one"
    tags: [sport]
    published: 2030-01-01
    event:
      start: 2030-02-01
      end: 2030-02-02
"""


def edits(text: str) -> list[tuple[str, Callable[[str], str]]]:
    catalog = parse_catalog(text.encode())
    newest, archived, oldest = (catalog.publications[i].id for i in (0, -3, -1))
    event = next(e for e in catalog.events if e.event and not e.event.all_day).id
    tagged = next(e for e in catalog.publications[20:] if len(e.tags) >= 2).id
    return [
        ("retitle the newest", in_entry(newest, 'title: "', 'title: "Re ')),
        ("retitle it again", in_entry(newest, 'title: "Re ', 'title: "Ro ')),
        ("an archived summary", in_entry(archived, "summary: [|]-\n", "summary: |-\n      Ed.\n")),
        ("a type label", in_entry(archived, "type: .*", "type: memo")),
        ("updated", in_entry(newest, "(published: .*)", r"\1\n    updated: 2031-01-01T10:00:00Z")),
        ("an event a year later", in_entry(event, r"(start|end): (\d{4})", years(1), 2)),
        ("a tag dropped", in_entry(tagged, r"tags: \[[^,\]]+, ", "tags: [")),
        ("a year later", in_entry(archived, r"(published|updated): (\d{4})", years(1), 2)),
        ("the oldest a year older", in_entry(oldest, r"(published): (\d{4})", years(-1))),
        ("an entry added first", lambda t: t.replace("\nentries:\n", "\nentries:\n" + NEW_ENTRY)),
        ("an entry removed", lambda t: t.replace(entry_blocks(t)[5] + "\n", "", 1)),
        ("a line added", in_entry(newest, "\n    tags:", "\n    # a comment\n    tags:")),
        ("the site moved", lambda t: re.sub(r"base_url: \S+", "base_url: https://m.example/", t)),
    ]  # fmt: skip


def differences(warm: Site, cold: Site) -> list[str]:
    paths = set(warm.outputs) | set(cold.outputs)
    return sorted(p for p in paths if warm.get(p) != cold.get(p))


def test_every_rebuild_equals_a_cold_build_of_the_same_file() -> None:
    text = short_feed_catalog(160)
    versions = [("the first", text)]
    for name, edit in edits(text):
        text = edit(text)
        versions.append((name, text))
    # The cold builds first, each from empty caches; then the warm chain, each build warm
    # from the one before, compared with them.
    cold: list[Site] = []
    for _, version in versions:
        memo.clear_all()
        cold.append(build_site(parse_catalog(version.encode())))
    memo.clear_all()
    parser = CatalogParser()
    warm = [build_site(parser.parse(version.encode())) for _, version in versions]
    for (name, _), warm_site, cold_site in zip(versions, warm, cold, strict=True):
        assert differences(warm_site, cold_site) == [], name
    # The edits did change feeds, calendars and pages (else this compares little).
    changed = set(differences(warm[0], warm[1]))
    assert {"/feed.atom", "/feed.rss", "/feed.json", "/events.ics", "/events/"} <= changed
