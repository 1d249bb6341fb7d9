"""Text in calendars: what the editor wrote is what every parser returns, and nothing more."""

from __future__ import annotations

import re
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_ics_support import (
    FEED,
    assert_structure,
    assert_wire_format,
    calendars,
    catalog_of,
    event_entry,
    icalendar_calendar,
    icalendar_events,
    icaljs,
    icaljs_many,
)

from feeds import ids
from feeds.model import Catalog, Feed
from feeds.render.ics_lines import fold
from feeds.render.ics_text import escape_text
from feeds.render.text import summary_text

HOSTILE_TITLES = (
    "Commas, semicolons; and a backslash \\ in one title",
    "C:\\News\\Network share \\n is not a newline, \\N neither",
    "Two lines\nin a title",
    "Windows line\r\nbreak and a lone\rCR",
    "BEGIN:VEVENT",
    "x\nEND:VEVENT\nBEGIN:VEVENT\nUID:evil\nSUMMARY:injected",
    "End it all\nEND:VCALENDAR\nBEGIN:VCALENDAR",
    "Property;TZID=Fake/Zone:20190101T000000 and DTSTART:20190101",
    "Kraków, Zürich, 北京 and Évora: " + "ÄÖÜ àéî ł ß 北京市 🎉🇪🇺👩‍👩‍👧 " * 6,
    "🎉" * 40,
    "北" * 60,
    "a" * 74 + "é" + "b" * 73 + "\\",
    "Quotes \"double\" and 'single', colon: and caret ^ and tab\there",
)


def hostile_catalog(feed: Feed = FEED) -> Catalog:
    entries = [
        event_entry(
            f"hostile-{number}",
            date(2019, 6, number + 1),
            title=title,
            location=title[:90],
            summary=title,  # Markdown; DESCRIPTION is its plain text
        )
        for number, title in enumerate(HOSTILE_TITLES)
    ]
    return catalog_of(*entries, feed=feed)


def unescape_text(raw: str) -> str:
    """RFC 5545 TEXT unescaping, written independently of the code under test."""
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m[1] in "nN" else m[1], raw)


def as_read(text: str) -> str:
    """What a parser must return for `text`: line breaks as \\n (iCalendar has one kind)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def test_hostile_text_comes_back_unchanged_from_both_parsers() -> None:
    catalog = hostile_catalog()
    outputs = calendars(catalog)
    paths = ["/events.ics", *(ids.entry_ics_path(entry.id) for entry in catalog.events)]
    for path, read_by_js in zip(paths, icaljs_many(outputs[path] for path in paths), strict=True):
        body = outputs[path]
        assert_structure(body)  # one VCALENDAR, CRLF, <= 75 octets, UTF-8 per line
        by_icalendar = icalendar_events(body)
        wanted = [
            entry
            for entry in catalog.events
            if path in ("/events.ics", ids.entry_ics_path(entry.id))
        ]
        assert [event["uid"] for event in read_by_js["events"]] == list(by_icalendar)
        assert len(read_by_js["events"]) == len(wanted)  # nothing injected, nothing lost
        for entry, seen in zip(wanted, read_by_js["events"], strict=True):
            assert entry.event is not None
            event = by_icalendar[seen["uid"]]
            assert seen["summary"] == str(event["SUMMARY"]) == as_read(entry.title)
            assert seen["location"] == str(event["LOCATION"]) == as_read(entry.event.location or "")
            description = summary_text(entry.summary)
            assert seen["description"] == str(event["DESCRIPTION"]) == description


def test_calendar_names_with_hostile_text_come_back_unchanged() -> None:
    title = "Kraków; Zürich, 北京 \\ 🎉\nBEGIN:VEVENT"
    feed = Feed(**{**FEED.__dict__, "title": title, "subtitle": "a,b;c\\d"})
    body = calendars(hostile_catalog(feed))["/events.ics"]
    calendar = icalendar_calendar(body)
    seen = icaljs(body)["calendar"]
    # icalendar 7.3 reads NAME and X-WR-* as unknown values, raw: they are TEXT (RFC 7986,
    # and for the clients that show them), so the raw value must unescape to the title.
    for prop in ("NAME", "X-WR-CALNAME"):
        assert seen[prop] == [title] == [unescape_text(str(calendar[prop]))]
    assert seen["X-WR-CALDESC"] == ["a,b;c\\d"]


def test_long_lines_fold_between_characters_not_inside_them() -> None:
    body = calendars(hostile_catalog())["/events.ics"]
    assert_wire_format(body)
    continuation = [line for line in body.split(b"\r\n") if line.startswith(b" ")]
    assert len(continuation) > 20  # the long titles really were folded
    assert max(len(line) for line in body.split(b"\r\n")) > 70  # and lines are used fully


def test_escaping_follows_rfc_5545() -> None:
    assert escape_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    assert escape_text("C:\\News") == "C:\\\\News"  # icalendar's vText turns \N into a break
    assert escape_text("x\r\ny\rz") == "x\\ny\\nz"
    assert escape_text("bell\x07 and line\u2028separator") == "bell  and line separator"


# The catalog carries text XML can carry; YAML turns every line break into \n, and the
# Unicode line separators into line breaks too, so those never reach a renderer.
_characters = st.characters(
    blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="\x85"
) | st.sampled_from(["\n", "\t", ",", ";", "\\", ":", '"', "N", "n"])
_pieces = _characters | st.sampled_from(["\\N", "\\n", "BEGIN:VEVENT", "END:VCALENDAR"])
catalog_text = (
    st.lists(_pieces, min_size=1, max_size=60).map("".join).filter(lambda text: text.strip() != "")
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=catalog_text, location=catalog_text)
def test_any_catalog_text_survives_icalendar(title: str, location: str) -> None:
    entry = event_entry("any", date(2019, 5, 21), title=title, location=location)
    body = calendars(catalog_of(entry))["/events.ics"]
    assert_wire_format(body)
    (event,) = icalendar_events(body).values()
    assert str(event["SUMMARY"]) == title and str(event["LOCATION"]) == location


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(titles=st.lists(catalog_text, min_size=1, max_size=8))
def test_any_catalog_text_survives_icaljs(titles: list[str]) -> None:
    entries = [
        event_entry(f"any-{number}", date(2019, 5, number + 1), title=title, location=title)
        for number, title in enumerate(titles)
    ]
    body = calendars(catalog_of(*entries))["/events.ics"]
    read = icaljs(body)
    assert [event["summary"] for event in read["events"]] == titles
    assert [event["location"] for event in read["events"]] == titles


@settings(max_examples=300, deadline=None)
@given(
    name=st.sampled_from(["SUMMARY", "X-A-VERY-LONG-PROPERTY-NAME"]),
    value=st.text(alphabet=st.sampled_from(["a", "\\", ",", "é", "北", "🎉", " "]), max_size=400),
)
def test_folding_keeps_lines_short_and_characters_and_escapes_whole(name: str, value: str) -> None:
    line = f"{name}:{value}"
    folded = fold(line)
    assert_wire_format(folded)
    physical = folded[:-2].split(b"\r\n")
    assert b"".join([physical[0], *(part[1:] for part in physical[1:])]).decode() == line
    for part in physical[:-1]:
        backslashes = len(part) - len(part.rstrip(b"\\"))
        assert backslashes % 2 == 0, "an escape split across lines"


def test_folding_boundaries() -> None:
    assert fold("X" * 75) == b"X" * 75 + b"\r\n"  # 75 octets fit
    assert fold("X" * 76) == b"X" * 75 + b"\r\n X\r\n"
    assert fold("X" * 74 + "é") == b"X" * 74 + b"\r\n \xc3\xa9\r\n"  # not split inside é
    assert fold("X" * 74 + "\\,") == b"X" * 74 + b"\r\n \\,\r\n"  # escape kept whole


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab \\;,\n\r\t\x07\u2028é北"), max_size=40) | st.text())
def test_escaping_maps_each_character_once(text: str) -> None:
    """The escapes are applied one after another; the result must be what mapping each
    character once gives (no backslash added by one escape doubled by another)."""
    once = str.maketrans({"\\": "\\\\", ";": "\\;", ",": "\\,", "\n": "\\n"})
    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    plain = re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x85\u2028\u2029]", " ", normalised)
    assert escape_text(text) == plain.translate(once)
