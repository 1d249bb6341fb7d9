"""The add-to-calendar links are built with a faster percent-encoding than `urllib.parse`
(feeds/render/pages_calendar.py); they must be the very URLs `urlencode` writes.

The reference below is the straightforward construction; how calendar apps read the
links is tested in test_pages.py (the query parsed back with `parse_qs`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from urllib.parse import quote, urlencode

from hypothesis import given
from hypothesis import strategies as st
from test_pages_speed_entry import entries, events, texts

from feeds.model import Entry, Event
from feeds.render.pages_calendar import add_event_urls, percent_encode
from feeds.render.text import summary_text


@given(st.text())
def test_percent_encode_is_quote_with_nothing_safe(text: str) -> None:
    assert percent_encode(text) == quote(text, safe="")


def test_percent_encode_of_every_character_class() -> None:
    text = "".join(chr(c) for c in range(1, 0x800)) + "\U0001f389 \uffff /%2F%"
    assert percent_encode(text) == quote(text, safe="")


def reference_details(entry: Entry, page_url: str) -> str:
    text = summary_text(entry.summary)
    if len(text) > 1000:
        text = text[:999].rstrip() + "…"
    return f"{text}\n\n{page_url}" if text else page_url


def exclusive_end(event: Event) -> date:
    assert not isinstance(event.end, datetime)
    return event.end + timedelta(days=1)


def reference_google(entry: Entry, page_url: str) -> str:
    event = entry.event
    assert event is not None
    if isinstance(event.start, datetime):
        assert isinstance(event.end, datetime)
        stamp = "%Y%m%dT%H%M%SZ"
        dates = f"{event.start.astimezone(UTC):{stamp}}/{event.end.astimezone(UTC):{stamp}}"
    else:
        dates = f"{event.start:%Y%m%d}/{exclusive_end(event):%Y%m%d}"
    params = {"action": "TEMPLATE", "text": entry.title, "dates": dates}
    params["details"] = reference_details(entry, page_url)
    if event.location:
        params["location"] = event.location
    if event.timezone and not event.all_day:
        params["ctz"] = event.timezone
    if event.rrule:
        params["recur"] = "RRULE:" + event.rrule
    query = urlencode(params, safe="/", quote_via=quote)
    return "https://calendar.google.com/calendar/render?" + query


def reference_outlook(entry: Entry, page_url: str) -> str:
    event = entry.event
    assert event is not None
    if isinstance(event.start, datetime):
        assert isinstance(event.end, datetime)
        stamp = "%Y-%m-%dT%H:%M:%SZ"
        start = f"{event.start.astimezone(UTC):{stamp}}"
        end = f"{event.end.astimezone(UTC):{stamp}}"
    else:
        start, end = event.start.isoformat(), exclusive_end(event).isoformat()
    params = {
        "path": "/calendar/action/compose",
        "rru": "addevent",
        "subject": entry.title,
        "startdt": start,
        "enddt": end,
        "allday": "true" if event.all_day else "false",
        "body": reference_details(entry, page_url),
    }
    if event.location:
        params["location"] = event.location
    query = urlencode(params, quote_via=quote)
    return "https://outlook.live.com/calendar/0/action/compose?" + query


@given(
    entry=entries(),
    event=events(),
    summary=texts | st.just("x" * 990 + " /a%2Fb " * 5),  # over the 1,000-character cut
    page_url=st.sampled_from(["https://feeds.example.org/entries/a/", "https://x.net/a%2F/"]),
)
def test_links_are_what_urlencode_writes(
    entry: Entry, event: Event, summary: str, page_url: str
) -> None:
    entry = Entry(id=entry.id, title=entry.title, summary=summary, event=event)
    google, outlook = add_event_urls(entry, page_url)
    assert google == reference_google(entry, page_url)
    assert outlook == reference_outlook(entry, page_url)
