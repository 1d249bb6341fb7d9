"""`feeds new [FOLDER]`: a starter catalog that passes `feeds check`, builds, shows its
events as upcoming, and never replaces anything."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import icalendar
import pytest
import yaml
from click.testing import CliRunner
from editor_yaml import LOADERS, editor_view
from jsonschema import Draft202012Validator
from test_ics_support import assert_structure, icaljs_many
from test_pages_support import elements, parse_html, text_of

from feeds.catalog import parse_catalog
from feeds.catalog.jsonschema import catalog_schema
from feeds.catalog.starter import first_tuesday_after, starter_text
from feeds.cli import main
from feeds.model import Catalog

FEED_KEYS = ("title", "link", "base_url", "id_authority", "author", "language", "timezone")
TITLES = ("Open days", "Evening talk in New York", "Repair workshop", "Monthly lunch talks")


def read_back(today: date) -> Catalog:
    return parse_catalog(starter_text(today).encode(), "entries.yaml")


def day_of(value: date) -> date:
    return value.date() if isinstance(value, datetime) else value


def test_the_starter_passes_the_reader_on_every_day_of_two_years() -> None:
    """Month ends, a leap day, New Year: the recurring event is always on its rule."""
    for offset in range(2 * 366):
        today = date(2027, 1, 1) + timedelta(days=offset)
        catalog = read_back(today)  # raises on any problem
        assert len(catalog.publications) == 1
        assert catalog.publications[0].published is not None
        assert catalog.publications[0].published.date() == today
        events = [entry.event for entry in catalog.events if entry.event is not None]
        assert len(events) == 4
        assert all(day_of(event.start) > today for event in events), today
        assert sum(event.all_day for event in events) == 2
        assert [event.timezone for event in events if not event.all_day and not event.rrule] == [
            "America/New_York"
        ]
        assert [event.status for event in events].count("cancelled") == 1
        (recurring,) = [event for event in events if event.rrule]
        assert day_of(recurring.start) == first_tuesday_after(today)


def test_first_tuesday_after() -> None:
    assert first_tuesday_after(date(2026, 12, 7)) == date(2027, 1, 5)
    assert first_tuesday_after(date(2027, 1, 31)) == date(2027, 2, 2)
    assert first_tuesday_after(date(2027, 8, 1)) == date(2027, 9, 7)  # 1 September: Wed


def test_every_feed_key_to_set_has_a_comment_above_it() -> None:
    text = starter_text(date(2026, 12, 7))
    lines = text.splitlines()
    feed = yaml.safe_load(text)["feed"]
    assert set(FEED_KEYS) <= set(feed)
    for key in FEED_KEYS:
        (index,) = [i for i, line in enumerate(lines) if line.startswith(f"  {key}:")]
        assert lines[index - 1].startswith("  # "), key
    authority_comment = lines[lines.index("  id_authority: example.org,2026") - 4 :]
    assert "NEVER change it" in "\n".join(authority_comment[:4])


# ------------------------------------------------------------------- the command


def feeds(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_new_writes_the_folder_and_says_what_to_do_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = feeds("new", "mysite")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "Wrote mysite/entries.yaml (made the folder mysite): a starter catalog, with "
        "entries.schema.json beside it for editors (docs/editors.md). Next:",
        "  1. Set feed.title, feed.base_url and feed.id_authority in mysite/entries.yaml "
        "(id_authority never changes once you publish).",
        "  2. Run `feeds check mysite/entries.yaml` after each edit.",
        "  3. Run `feeds serve mysite/entries.yaml` to see the pages, feeds and calendars locally.",
    ]
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == [
        "mysite",
        "mysite/entries.schema.json",
        "mysite/entries.yaml",
    ]
    assert (tmp_path / "mysite" / "entries.yaml").read_text() == starter_text(date.today())
    code, out, err = feeds("check", "mysite/entries.yaml")
    assert (code, err) == (0, "")
    assert out == "mysite/entries.yaml: 5 entries, 1 publication, 4 events, 3 tags\n"


def test_new_without_folder_writes_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = feeds("new")
    assert code == 0
    assert out.startswith("Wrote entries.yaml: a starter catalog, with entries.schema.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["entries.schema.json", "entries.yaml"]
    assert feeds("check")[0] == 0


def test_an_existing_catalog_is_never_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mysite").mkdir()
    mine = tmp_path / "mysite" / "entries.yaml"
    mine.write_bytes(b"feed:\n  title: my own work\n")
    before = os.stat(mine)
    code, out, err = feeds("new", "mysite")
    assert (code, out) == (1, "")
    assert err == (
        "feeds new: mysite/entries.yaml: already exists; nothing was written "
        "(edit it, or give another FOLDER)\n"
    )
    assert mine.read_bytes() == b"feed:\n  title: my own work\n"
    assert os.stat(mine).st_mtime_ns == before.st_mtime_ns


def test_a_symlink_in_the_way_is_not_followed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "elsewhere.yaml"
    target.write_bytes(b"precious\n")
    (tmp_path / "entries.yaml").symlink_to(target)
    dangling = tmp_path / "other"
    dangling.mkdir()
    (dangling / "entries.yaml").symlink_to(tmp_path / "not-there.yaml")
    assert feeds("new")[0] == 1
    assert feeds("new", "other")[0] == 1
    assert target.read_bytes() == b"precious\n"
    assert not (tmp_path / "not-there.yaml").exists()


def test_only_the_folder_itself_is_made(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = feeds("new", "a/b")
    assert (code, out) == (1, "")
    assert err == (
        "feeds new: a/b: its parent folder does not exist; make it first "
        "(only FOLDER itself is made)\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_file_as_folder_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes").write_bytes(b"mine")
    code, _, err = feeds("new", "notes")
    assert code == 1
    assert err == "feeds new: notes: is not a folder; give a folder for the catalog\n"
    assert (tmp_path / "notes").read_bytes() == b"mine"


# ------------------------------------------------------- end to end, real processes


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = Path(sys.executable).with_name("feeds")
    done = subprocess.run(
        [str(command), *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return done


@pytest.mark.slow
def test_a_new_catalog_checks_builds_and_shows_its_events_as_upcoming(tmp_path: Path) -> None:
    today = date.today()
    run("new", "mysite", cwd=tmp_path)
    site = tmp_path / "mysite"
    assert run("check", cwd=site).stdout == (
        "entries.yaml: 5 entries, 1 publication, 4 events, 3 tags\n"
    )
    run("build", "--no-cache", "--out", str(tmp_path / "out"), cwd=site)
    out = tmp_path / "out"

    calendars = {p: p.read_bytes() for p in sorted(out.rglob("*.ics"))}
    assert out / "events.ics" in calendars
    for path, body in calendars.items():
        assert_structure(body)  # RFC 5545's grammar, and icalendar reads it back
        (calendar,) = icalendar.Calendar.from_ical(body, multiple=True)
        assert calendar.subcomponents, path
    seen = icaljs_many(calendars.values(), expand=10)
    assert all(one["roots"] == 1 for one in seen)
    (everything,) = [one for path, one in zip(calendars, seen, strict=True) if path.parent == out]
    assert sorted(event["summary"] for event in everything["events"]) == sorted(TITLES)
    (lunch,) = [event for event in everything["events"] if event["rrule"]]
    # six months by its rule, the third left out (`exdate`)
    months = [
        date.fromisoformat(occurrence["start"]["value"][:10]).replace(day=1)
        for occurrence in lunch["occurrences"]
    ]
    first = months[0]
    assert months == [
        date(first.year + (first.month - 1 + n) // 12, (first.month - 1 + n) % 12 + 1, 1)
        for n in (0, 1, 3, 4, 5)
    ]

    home = parse_html((out / "index.html").read_bytes())
    (upcoming,) = [ol for ol in elements(home, "ol") if ol.get("data-upcoming") is not None]  # type: ignore[attr-defined]
    items = [li for li in elements(upcoming, "li") if li.get("data-last-day")]  # type: ignore[attr-defined]
    assert len(items) == 4
    assert sorted(title for title in TITLES if any(title in text_of(li) for li in items)) == (
        sorted(TITLES)
    )
    for item in items:  # site.js shows as upcoming what ends on or after today
        assert date.fromisoformat(item.get("data-last-day")) > today  # type: ignore[attr-defined]
        when = next(elements(item, "time"))
        starts = re.match(r"\d{4}-\d\d-\d\d", when.get("datetime"))  # type: ignore[attr-defined]
        assert starts is not None and date.fromisoformat(starts[0]) > today


def test_the_new_catalog_names_its_schema_and_the_schema_accepts_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An editor opening the new catalog checks it as it is typed: the first line names
    the schema written beside it, and that schema accepts the catalog as written."""
    monkeypatch.chdir(tmp_path)
    assert feeds("new", "mysite")[0] == 0
    catalog = (tmp_path / "mysite" / "entries.yaml").read_text()
    assert catalog.splitlines()[0] == "# yaml-language-server: $schema=entries.schema.json"
    schema = json.loads((tmp_path / "mysite" / "entries.schema.json").read_text())
    assert schema == catalog_schema()
    for version in LOADERS:
        errors = list(Draft202012Validator(schema).iter_errors(editor_view(catalog, version)))
        assert errors == [], [error.message for error in errors]


def test_a_foreign_schema_file_in_the_way_is_never_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "mysite"
    folder.mkdir()
    theirs = folder / "entries.schema.json"
    theirs.write_text('{"mine": true}\n')
    code, out, err = feeds("new", "mysite")
    assert code == 1 and out == ""
    assert "entries.schema.json" in err and "nothing was written" in err
    assert theirs.read_text() == '{"mine": true}\n'
    assert sorted(p.name for p in folder.iterdir()) == ["entries.schema.json"]


@pytest.fixture
def umask_027() -> Iterator[None]:
    """A umask that lets the group read (a web server's group, say), not others."""
    before = os.umask(0o027)
    try:
        yield
    finally:
        os.umask(before)


@pytest.mark.usefixtures("umask_027")
def test_the_new_files_are_made_as_any_file_of_the_user(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both files as the umask says (0644 less it), not private to their owner: a server
    running as another user must read the catalog, the editor's tools the schema."""
    monkeypatch.chdir(tmp_path)
    assert feeds("new", "mysite")[0] == 0
    for name in ("entries.yaml", "entries.schema.json"):
        assert stat.S_IMODE((tmp_path / "mysite" / name).stat().st_mode) == 0o640, name
    assert sorted(p.name for p in (tmp_path / "mysite").iterdir()) == [
        "entries.schema.json",
        "entries.yaml",
    ]  # no temporary file left
