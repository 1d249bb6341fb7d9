"""Moving from another site: ids kept (`legacy_id`, `event.uid`) and `feeds import`.

Published ids are read back by the parsers readers and calendars use (feedparser,
icalendar); imported catalogs are checked by the real reader and built.
"""

from __future__ import annotations

import functools
import http.server
import io
import json
import os
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import feedparser
import html5lib
import icalendar
import pytest
from click.testing import CliRunner
from conftest import BUNDLED_CATALOG
from dateutil.rrule import rrulestr

from feeds.catalog import CatalogErrors, load_catalog, parse_catalog
from feeds.catalog.incremental import CatalogParser
from feeds.cli import main
from feeds.importer import ImportFailed, Report, import_catalog, write_new
from feeds.importer.markdown import html_to_markdown
from feeds.model import Catalog
from feeds.site import Site, build_site

FEEDS = [str(Path(sys.executable).parent / "feeds")]  # the console script
CALENDARS = Path(icalendar.__file__).parent / "tests" / "calendars"

HEAD = """\
feed:
  title: Moved
  link: https://old.example.org/
  base_url: https://feeds.example.org/
  id_authority: example.org,2019
  timezone: Europe/Brussels
entries:
"""


def catalog_of(entries: str) -> Catalog:
    return parse_catalog((HEAD + entries).encode(), "entries.yaml")


KEPT = """\
  - id: kept
    title: Kept post
    published: 2019-03-14
    tags: [moved]
    legacy_id: "https://old.example.org/?p=12"
    event:
      start: 2019-05-21T09:30
      end: 2019-05-21T12:00
      uid: 0a1b2c3d@google.com
  - id: fresh
    title: Fresh post
    published: 2019-03-15
    tags: [moved]
    event:
      start: 2019-06-01
"""


# --- legacy_id and event.uid in what is published ---


def test_legacy_id_is_the_id_readers_see_in_atom_rss_and_json_feed() -> None:
    site = build_site(catalog_of(KEPT))
    for path in ("/feed.atom", "/feed.rss", "/tags/moved/feed.atom", "/tags/moved/feed.rss"):
        ids = {entry.title: entry.id for entry in feedparser.parse(site[path].body).entries}
        assert ids == {
            "Kept post": "https://old.example.org/?p=12",
            "Fresh post": "tag:example.org,2019:entry/fresh",
        }, path
    rss_guid = feedparser.parse(site["/feed.rss"].body).entries[0]
    assert rss_guid.guidislink is False  # isPermaLink="false": an id, not a link
    # the widget's JSON Feeds of events too: one id per entry in every JSON Feed we publish
    for path in ("/feed.json", "/tags/moved/feed.json", "/events.json", "/tags/moved/events.json"):
        items = json.loads(site[path].body)["items"]
        assert {item["title"]: item["id"] for item in items} == {
            "Kept post": "https://old.example.org/?p=12",
            "Fresh post": "tag:example.org,2019:entry/fresh",
        }, path


def uids(body: bytes) -> dict[str, str]:
    calendar = icalendar.Calendar.from_ical(body)
    return {str(event["SUMMARY"]): str(event["UID"]) for event in calendar.walk("VEVENT")}


def test_event_uid_is_the_uid_in_every_calendar_it_is_in() -> None:
    site = build_site(catalog_of(KEPT))
    calendars = [path for path in site if path.endswith(".ics")]
    assert set(calendars) >= {"/events.ics", "/tags/moved/events.ics", "/entries/kept.ics"}
    for path in calendars:
        seen = uids(site[path].body)
        if "Kept post" in seen:
            assert seen["Kept post"] == "0a1b2c3d@google.com", path
        if "Fresh post" in seen:
            assert seen["Fresh post"] == "tag:example.org,2019:entry/fresh", path
    assert "Kept post" in uids(site["/entries/kept.ics"].body)


DUPLICATES = """\
  - id: one
    title: One
    published: 2019-03-14
    legacy_id: "https://old.example.org/?p=12"
    event: {start: 2019-05-21, uid: same@example.org}
  - id: two
    title: Two
    published: 2019-03-15
    legacy_id: "https://old.example.org/?p=12"
    event: {start: 2019-05-22, uid: same@example.org}
"""


def problems_of(text: str) -> list[str]:
    with pytest.raises(CatalogErrors) as caught:
        parse_catalog(text.encode(), "entries.yaml")
    return [str(error) for error in caught.value.errors]


def test_duplicate_legacy_ids_and_uids_are_refused_naming_both_lines() -> None:
    found = problems_of(HEAD + DUPLICATES)
    assert found == [
        "entries.yaml:16: entries[1].legacy_id: duplicate legacy_id "
        "'https://old.example.org/?p=12': entries[0] on line 11 has it too; "
        "each legacy_id must be unique",
        "entries.yaml:17: entries[1].event.uid: duplicate uid 'same@example.org': "
        "entries[0] on line 12 has it too; each uid must be unique",
    ]


def test_an_edit_that_duplicates_a_kept_id_is_refused_by_the_incremental_reader() -> None:
    parser = CatalogParser()
    good = HEAD + DUPLICATES.replace(
        '?p=12"\n    event: {start: 2019-05-22, uid: same',
        '?p=13"\n    event: {start: 2019-05-22, uid: other',
    )
    assert len(parser.parse(good.encode()).entries) == 2
    with pytest.raises(CatalogErrors) as caught:
        parser.parse((HEAD + DUPLICATES).encode())
    assert [error.line for error in caught.value.errors] == [16, 17]


def test_a_kept_id_with_a_control_character_is_refused() -> None:
    found = problems_of(HEAD + '  - id: one\n    title: One\n    legacy_id: "a\\tb"\n')
    assert found == [
        "entries.yaml:10: entries[0].legacy_id: contains the control character U+0009; an "
        "id is one line of visible text (copy it exactly as the old feed published it)"
    ]


# --- feeds import: the round trip through our own export ---


def write_export(site: Site, folder: Path) -> list[str]:
    names = []
    for path in ("/feed.atom", "/feed.rss", "/feed.json", "/events.ics"):
        target = folder / path.strip("/")
        target.write_bytes(site[path].body)
        names.append(str(target))
    return names


def published_ids(site: Site) -> dict[str, Any]:
    """What readers and calendars recognise an item by, and what they show of it."""
    atom = feedparser.parse(site["/feed.atom"].body).entries
    rss = feedparser.parse(site["/feed.rss"].body).entries
    items = json.loads(site["/feed.json"].body)["items"]
    events = icalendar.Calendar.from_ical(site["/events.ics"].body).walk("VEVENT")
    return {
        "atom": sorted(
            (e.id, e.title, e.published, e.updated, sorted(t.term for t in e.get("tags", [])))
            for e in atom
        ),
        "rss": sorted((e.id, e.title, e.published) for e in rss),
        "json": sorted((i["id"], i["title"], i["date_published"]) for i in items),
        "ics": sorted(
            (
                str(e["UID"]),
                str(e["SUMMARY"]),
                e["DTSTART"].dt,
                e["DTEND"].dt,
                str(e["DTSTART"].params.get("TZID")),
                str(e.get("RRULE").to_ical() if e.get("RRULE") else ""),
                str(e["STATUS"]),
            )
            for e in events
        ),
    }


def test_our_own_export_imported_back_publishes_the_same_ids_dates_and_times(
    tmp_path: Path,
) -> None:
    original = build_site(load_catalog(BUNDLED_CATALOG))
    report = Report(stream=io.StringIO())
    imported = import_catalog(write_export(original, tmp_path), report)
    catalog = parse_catalog(imported.text.encode(), "imported.yaml")
    assert len(catalog.entries) == len(load_catalog(BUNDLED_CATALOG).entries)
    assert published_ids(build_site(catalog)) == published_ids(original)
    assert report.lines == []


# --- feeds import: the calendars icalendar's tests hold (Google, Outlook, Thunderbird ...) ---


@pytest.mark.parametrize("path", sorted(CALENDARS.glob("*.ics")), ids=lambda p: p.name)
def test_each_real_world_calendar_imports_or_is_reported_item_by_item(path: Path) -> None:
    report = Report(stream=io.StringIO())
    try:
        imported = import_catalog([str(path)], report)
    except ImportFailed as failed:
        assert "\n" not in str(failed) and str(failed).startswith(str(path))
        return
    catalog = parse_catalog(imported.text.encode(), "imported.yaml")
    events = icalendar.Calendar.from_ical(path.read_bytes(), multiple=True)
    total = sum(len(calendar.walk("VEVENT")) for calendar in events)
    skipped = [line for line in report.lines if line.endswith(": skipped")]
    assert all(line.startswith(f"{path}: item ") for line in skipped)
    # Every event is an entry (merged by UID) or reported.
    assert len(catalog.events) + len(skipped) <= total
    assert len(catalog.events) >= 1


def test_added_dates_and_undated_events_are_reported_and_skipped(
    tmp_path: Path,
) -> None:
    source = tmp_path / "old.ics"
    source.write_bytes(
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//y//EN\r\n"
        b"BEGIN:VEVENT\r\nUID:weekly@old\r\nSUMMARY:Weekly\r\nDTSTART:20190604T080000Z\r\n"
        b"DTEND:20190604T090000Z\r\nRRULE:FREQ=WEEKLY;COUNT=5\r\nRDATE:20190613T080000Z\r\n"
        b"END:VEVENT\r\n"
        b"BEGIN:VEVENT\r\nUID:nodate@old\r\nSUMMARY:Someday\r\nEND:VEVENT\r\n"
        b"BEGIN:VEVENT\r\nUID:ok@old\r\nSUMMARY:Meeting\r\nDTSTART;TZID=Europe/Brussels:"
        b"20190604T100000\r\nDTEND;TZID=Europe/Brussels:20190604T120000\r\n"
        b"RRULE:FREQ=MONTHLY;BYDAY=1TU;COUNT=3\r\nEND:VEVENT\r\n"
        b"END:VCALENDAR\r\n"
    )
    report = Report(stream=io.StringIO())
    catalog = parse_catalog(import_catalog([str(source)], report).text.encode())
    assert report.lines == [
        f"{source}: item 1: RDATE (dates added to its repetition) is not supported by the "
        "catalog: skipped",
        f"{source}: item 2: no DTSTART (date): skipped",
    ]
    (event,) = [entry.event for entry in catalog.entries if entry.event]
    assert (event.uid, event.rrule, event.timezone) == (
        "ok@old",
        "FREQ=MONTHLY;COUNT=3;BYDAY=1TU",
        "Europe/Brussels",
    )
    assert isinstance(event.start, datetime)
    assert event.start.replace(tzinfo=None) == datetime(2019, 6, 4, 10, 0)


# --- zones a calendar file defines itself (Outlook, Exchange) ---


def vtimezone(tzid: str, standard: str = "+0100", daylight: str = "+0200") -> bytes:
    """A VTIMEZONE as Outlook writes it: rules from 1601, changes on last Sundays."""
    return (
        f"BEGIN:VTIMEZONE\r\nTZID:{tzid}\r\n"
        "BEGIN:STANDARD\r\nDTSTART:16011028T030000\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\n"
        f"TZOFFSETFROM:{daylight}\r\nTZOFFSETTO:{standard}\r\nEND:STANDARD\r\n"
        "BEGIN:DAYLIGHT\r\nDTSTART:16010325T020000\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\r\n"
        f"TZOFFSETFROM:{standard}\r\nTZOFFSETTO:{daylight}\r\nEND:DAYLIGHT\r\n"
        "END:VTIMEZONE\r\n"
    ).encode()


def meeting(uid: str, tzid: str, rule: str | None, left_out: str = "") -> bytes:
    repeat = f"RRULE:{rule}\r\n" if rule else ""
    repeat += f"EXDATE;TZID={tzid}:{left_out}\r\n" if left_out else ""
    return (
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nSUMMARY:Board {uid}\r\nDTSTAMP:20261201T120000Z\r\n"
        f"DTSTART;TZID={tzid}:20270104T170000\r\nDTEND;TZID={tzid}:20270104T180000\r\n"
        f"{repeat}END:VEVENT\r\n"
    ).encode()


def imported_calendar(source: Path, calendar: bytes) -> tuple[Catalog | None, list[str]]:
    """`calendar` saved as `source` and imported: the catalog (None when nothing could be
    imported) and the report's lines, without the file name they start with."""
    source.write_bytes(calendar)
    report = Report(stream=io.StringIO())
    try:
        catalog = parse_catalog(import_catalog([str(source)], report).text.encode())
    except ImportFailed:
        catalog = None
    return catalog, [line.removeprefix(f"{source}: ") for line in report.lines]


def imported_from(tmp_path: Path, *parts: bytes) -> tuple[Catalog, list[str]]:
    head = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Microsoft Corporation//Outlook 16.0//EN\r\n"
    )
    calendar = head + b"".join(parts) + b"END:VCALENDAR\r\n"
    catalog, report = imported_calendar(tmp_path / "outlook.ics", calendar)
    assert catalog is not None, report
    return catalog, report


def test_a_windows_zone_name_is_read_as_its_iana_zone_and_a_rule_stays_in_local_time(
    tmp_path: Path,
) -> None:
    catalog, report = imported_from(
        tmp_path,
        vtimezone("W. Europe Standard Time"),
        meeting(
            "board",
            "W. Europe Standard Time",
            "FREQ=MONTHLY;BYDAY=1MO;COUNT=12",
            left_out="20270802T170000",  # summer time: 15:00 UTC
        ),
    )
    (event,) = [entry.event for entry in catalog.entries if entry.event]
    assert report == []
    assert event.exdate == (date(2027, 8, 2),)
    assert (event.timezone, event.rrule) == ("Europe/Berlin", "FREQ=MONTHLY;COUNT=12;BYDAY=1MO")
    assert isinstance(event.start, datetime)
    assert event.start.replace(tzinfo=None) == datetime(2027, 1, 4, 17, 0)
    # In summer too a calendar shows it at 17:00 where it takes place (in UTC, 18:00)
    published = build_site(catalog)["/events.ics"].body
    (vevent,) = icalendar.Calendar.from_ical(published).walk("VEVENT")
    start = vevent["DTSTART"].dt
    assert str(vevent["DTSTART"].params["TZID"]) == "Europe/Berlin"
    rule = rrulestr(vevent["RRULE"].to_ical().decode(), dtstart=start)
    july = [moment for moment in rule if moment.month == 7]
    assert [(moment.hour, moment.utcoffset()) for moment in july] == [(17, timedelta(hours=2))]


def test_a_zone_only_the_file_defines_keeps_the_instant_and_refuses_a_rule(
    tmp_path: Path,
) -> None:
    """Repeated in UTC, a rule's times would move by an hour at each change of daylight
    saving time: the event is reported and skipped, never approximated. A Windows name
    whose rules differ from its IANA zone's is such a zone too."""
    catalog, report = imported_from(
        tmp_path,
        vtimezone("Our office time"),
        vtimezone("W. Europe Standard Time", standard="+0300", daylight="+0400"),
        meeting("once", "Our office time", None),
        meeting("monthly", "Our office time", "FREQ=MONTHLY;BYDAY=1MO;COUNT=12"),
        meeting("moved", "W. Europe Standard Time", "FREQ=MONTHLY;BYDAY=1MO;COUNT=12"),
    )
    refused = (
        "RRULE in a time zone that only the file defines (no IANA zone with the same "
        "offsets): its repetitions cannot be kept in local time: skipped"
    )
    assert report == [f"item 2: {refused}", f"item 3: {refused}"]
    (event,) = [entry.event for entry in catalog.entries if entry.event]
    assert event.timezone is None and event.rrule is None
    assert event.start == datetime(2027, 1, 4, 16, 0, tzinfo=UTC)


def test_each_file_is_read_with_its_own_zones(tmp_path: Path) -> None:
    # icalendar keeps the first definition of a TZID for the whole process
    head = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//y//EN\r\n"
    sources = []
    for name, offsets in (("berlin", ("+0100", "+0200")), ("moscow", ("+0300", "+0400"))):
        source = tmp_path / f"{name}.ics"
        zone = vtimezone("W. Europe Standard Time", *offsets)
        event = meeting(name, "W. Europe Standard Time", None)
        source.write_bytes(head + zone + event + b"END:VCALENDAR\r\n")
        sources.append(str(source))
    imported = import_catalog(sources, Report(stream=io.StringIO()))
    events = {
        entry.event.uid: entry.event for entry in parse_catalog(imported.text.encode()).events
    }
    assert events["berlin"].timezone == "Europe/Berlin"
    assert events["moscow"].timezone is None
    assert events["moscow"].start == datetime(2027, 1, 4, 14, 0, tzinfo=UTC)


def test_an_imported_catalogs_authority_date_is_never_in_the_future(tmp_path: Path) -> None:
    # RFC 4151: a date when the domain was the publisher's; next year's events imported
    # today give this year
    source = tmp_path / "next.ics"
    source.write_bytes(
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//y//EN\r\nBEGIN:VEVENT\r\n"
        b"UID:far@old\r\nSUMMARY:Far\r\nDTSTART;VALUE=DATE:29990101\r\nEND:VEVENT\r\n"
        b"END:VCALENDAR\r\n"
    )
    imported = import_catalog([str(source)], Report(stream=io.StringIO()))
    year = parse_catalog(imported.text.encode()).feed.id_authority.rpartition(",")[2]
    assert int(year) == datetime.now(UTC).year


# --- summaries: Markdown where exact, and every loss named ---


def test_html_summaries_become_markdown_that_renders_the_same_and_losses_are_named() -> None:
    exact = html_to_markdown(
        "<p>A <b>bold</b> <i>idea</i> with <code>x*y</code> and "
        '<a href="/more">a link</a>.</p><ul><li>one</li><li>two</li></ul><p>5 * 3 [sic]</p>',
        "https://old.example.org/post/",
    )
    assert exact.losses == []
    assert exact.markdown == (
        "A **bold** *idea* with `x*y` and [a link](https://old.example.org/more).\n\n"
        "- one\n- two\n\n5 \\* 3 \\[sic\\]"
    )
    lossy = html_to_markdown(
        '<p>Hi<script>alert(1)</script></p><iframe src="https://x"></iframe>'
        '<table><tr><td>a</td><td>b</td></tr></table><a href="javascript:alert(1)">x</a>',
        None,
    )
    assert lossy.losses == [
        "<script> removed",
        "<iframe> removed",
        "a table flattened to lines of text",
        "a link that is not http(s) or mailto (kept as text)",
    ]
    assert "alert" not in lossy.markdown and "javascript" not in lossy.markdown


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE feed [
<!ENTITY lol "lol">
<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
<!ENTITY ext SYSTEM "file:///etc/passwd">
]>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Hostile &lol9;</title>
  <link href="https://old.example.org/"/>
  <id>urn:hostile</id>
  <updated>2019-03-14T10:00:00Z</updated>
  <entry>
    <id>urn:hostile:1</id>
    <title>&lt;script&gt;alert(1)&lt;/script&gt; &lol9; &ext;</title>
    <link href="javascript:alert(1)"/>
    <updated>2019-03-14T10:00:00Z</updated>
    <summary type="html">&lt;p onclick="alert(1)"&gt;Hi&lt;script&gt;alert(2)&lt;/script&gt;
    &lt;a href="javascript:alert(3)"&gt;click&lt;/a&gt; &lt;img src=x onerror=alert(4)&gt;
    &lt;/p&gt;&lt;svg onload=alert(5)&gt;&lt;/svg&gt; HUGE</summary>
  </entry>
</feed>
"""


def inert(site: Site) -> None:
    """No page runs anything of the feed's: scripts are ours (by src) or JSON data."""
    for path in site:
        output = site[path]
        if not output.content_type.startswith("text/html"):
            continue
        document = html5lib.parse(output.body, namespaceHTMLElements=False)
        for element in document.iter():
            if not isinstance(element.tag, str):
                continue
            for name, value in element.attrib.items():
                assert not name.lower().startswith("on"), (path, name)
                assert not value.strip().lower().startswith("javascript:"), (path, value)
            assert element.tag not in ("iframe", "object", "embed", "svg"), path
            if element.tag == "script":
                if element.get("type") == "application/ld+json":
                    json.loads(element.text or "")
                else:
                    assert element.get("src", "").startswith("/") and not element.text, path


def test_a_hostile_feed_imports_into_a_catalog_that_builds_inert(tmp_path: Path) -> None:
    source = tmp_path / "hostile.atom"
    source.write_bytes(BOMB.replace(b"HUGE", b"x" * 150_000))
    report = Report(stream=io.StringIO())
    text = import_catalog([str(source)], report).text
    assert "lollol" not in text and "root:" not in text  # no entity was expanded
    catalog = parse_catalog(text.encode())
    (entry,) = catalog.entries
    assert entry.legacy_id == "urn:hostile:1" and entry.link is None
    assert len(entry.summary) <= 100_000
    where = f"{source}: item 1"
    assert report.lines == [
        f"{source}: XML entities removed, not expanded: ext, lol9",
        f"{where}: summary: <script> removed",
        f"{where}: summary: a link that is not http(s) or mailto (kept as text)",
        f"{where}: summary: an image that is not http(s) (its alt text kept)",
        f"{where}: summary: <svg> removed",
        f"{where}: summary: 150,011 characters, cut to 100,000 (the catalog's limit)",
        f"{where}: link 'javascript:alert(1)' is not http(s): left out",
    ]
    inert(build_site(catalog))


# --- the command: files, URLs, exit codes, never over a file ---


def run_import(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*FEEDS, "import", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    handler = functools.partial(_Quiet, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.slow
def test_the_command_imports_urls_checks_and_never_overwrites(tmp_path: Path, served: str) -> None:
    names = [
        Path(name).name
        for name in write_export(build_site(load_catalog(BUNDLED_CATALOG)), tmp_path)
    ]
    work = tmp_path / "work"
    work.mkdir()
    done = run_import(*(served + name for name in names), cwd=work)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    check = subprocess.run([*FEEDS, "check"], cwd=work, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    before = (work / "entries.yaml").read_bytes()
    again = run_import(served + names[0], cwd=work)
    assert again.returncode == 1
    assert again.stderr == "entries.yaml: exists; not replaced. Move it away or choose another -o\n"
    assert (work / "entries.yaml").read_bytes() == before
    missing = run_import(served + "missing.atom", "-o", "other.yaml", cwd=work)
    assert missing.returncode == 1
    assert missing.stderr == f"{served}missing.atom: cannot fetch it: HTTP 404 File not found\n"
    assert not (work / "other.yaml").exists()
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    bad = run_import(str(garbage), "-o", "other.yaml", cwd=work)
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr
    assert not (work / "other.yaml").exists()


def test_the_imported_catalog_is_made_as_any_file_of_the_user(tmp_path: Path) -> None:
    """As the umask says (0644 less it), not 0600: a server running as another user
    must read the catalog; and no temporary file is left beside it."""
    before = os.umask(0o027)
    try:
        write_new(tmp_path / "entries.yaml", "feed: {}\n")
    finally:
        os.umask(before)
    assert stat.S_IMODE((tmp_path / "entries.yaml").stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["entries.yaml"]


def test_an_output_in_a_missing_folder_is_refused_before_any_source_is_read(
    tmp_path: Path,
) -> None:
    source = tmp_path / "missing-too.atom"  # not read: the refusal comes first
    done = CliRunner().invoke(main, ["import", str(source), "-o", str(tmp_path / "new" / "x.yaml")])
    assert done.exit_code == 1
    assert done.stderr == (
        f"{tmp_path / 'new' / 'x.yaml'}: the folder {tmp_path / 'new'} does not exist; "
        "make it or choose another -o\n"
    )
    assert list(tmp_path.iterdir()) == []
