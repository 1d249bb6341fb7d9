"""iCalendar (RFC 5545, RFC 7986): the calendars members subscribe to, and one file per event.

Paths:
- `/events.ics`: every event, past and future, cancelled ones as STATUS:CANCELLED;
- `/tags/<tag>/events.ics`: the same for each tag (a tag without events gets a valid,
  empty calendar: its page links to it and a subscription must not break later);
- `/entries/<id>.ics`: one event to add once. It has no calendar name, refresh
  interval or source: with a name, Outlook would create a new calendar for it.

No METHOD: RFC 5546 would then require an ORGANIZER on every event, and a published
calendar has no organizer to reply to.

A calendar is its header (icalendar), the VTIMEZONEs its events use (`ics_timezone`),
and the events' VEVENT bytes, each rendered once per entry (`ics_event.vevent_bytes`),
concatenated: every component is whole content lines ending in CRLF, folded line by
line, so concatenating components is what writing the whole calendar at once gives.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from functools import lru_cache

from icalendar import Calendar, vUri

from .. import ids
from ..model import Catalog, Entry, Feed
from .ics_event import vevent_bytes
from .ics_text import Text
from .ics_timezone import vtimezones

PRODID = "-//feeds//feeds iCalendar publisher//EN"
# How often clients should reload: an hour. RFC 7986 REFRESH-INTERVAL takes a duration;
# the X- property gets the string, as icalendar writes a timedelta there wrongly.
REFRESH = timedelta(hours=1)
REFRESH_TEXT = "PT1H"
_END = b"END:VCALENDAR\r\n"


def render(catalog: Catalog) -> dict[str, bytes]:
    feed = catalog.feed
    events = catalog.events
    outputs = {"/events.ics": subscription(feed, events, "/events.ics", "/events/")}
    for tag in catalog.tags:
        tagged = tuple(entry for entry in events if tag in entry.tags)
        path = ids.tag_path(tag)
        outputs[f"{path}events.ics"] = subscription(
            feed, tagged, f"{path}events.ics", path, tag=tag
        )
    for entry in events:
        outputs[ids.entry_ics_path(entry.id)] = single_event(feed, entry)
    return outputs


def subscription(
    feed: Feed, events: Sequence[Entry], path: str, page_path: str, tag: str | None = None
) -> bytes:
    """A calendar to subscribe to: name, description, refresh hints, and `events` in order."""
    name = feed.title if tag is None else f"{feed.title}: {tag}"
    header = _header(feed)
    header.add("NAME", Text(name))
    header.add("X-WR-CALNAME", Text(name))
    header.add("X-WR-CALDESC", Text(_description(feed, tag)))
    if feed.timezone:
        header.add("X-WR-TIMEZONE", feed.timezone)
    header.add("REFRESH-INTERVAL", REFRESH, parameters={"VALUE": "DURATION"})
    header.add("X-PUBLISHED-TTL", REFRESH_TEXT)
    header.add("URL", vUri(feed.url(page_path)))
    header.add("SOURCE", vUri(feed.url(path)))
    return _calendar(header, feed, events)


def single_event(feed: Feed, entry: Entry) -> bytes:
    """One event to add to a calendar the member already has."""
    return _assemble(_single_event_head(feed), feed, (entry,))


@lru_cache(maxsize=64)
def _single_event_head(feed: Feed) -> bytes:
    """The header every per-event file shares (built once, not once per event)."""
    return _head(_header(feed))


def _header(feed: Feed) -> Calendar:
    header = Calendar()
    header.add("PRODID", PRODID)
    header.add("VERSION", "2.0")
    header.add("CALSCALE", "GREGORIAN")
    return header


def _description(feed: Feed, tag: str | None) -> str:
    about = feed.subtitle or feed.title
    return about if tag is None else f"{about} (events tagged {tag})"


def _calendar(header: Calendar, feed: Feed, events: Sequence[Entry]) -> bytes:
    return _assemble(_head(header), feed, events)


def _head(header: Calendar) -> bytes:
    """BEGIN:VCALENDAR and the calendar's properties, without END:VCALENDAR."""
    whole = bytes(header.to_ical(sorted=False))
    assert whole.endswith(_END)
    return whole[: -len(_END)]


def _assemble(head: bytes, feed: Feed, events: Sequence[Entry]) -> bytes:
    """Header properties, then VTIMEZONEs, then VEVENTs, inside one VCALENDAR."""
    timezones = vtimezones(entry.event for entry in events if entry.event is not None)
    body = b"".join(vevent_bytes(feed, entry) for entry in events)
    return b"".join((head, timezones, body, _END))


__all__ = ["render", "single_event", "subscription"]
