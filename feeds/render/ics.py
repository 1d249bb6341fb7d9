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
and the events' VEVENT bytes, each rendered once per entry (`ics_event.event_pieces`),
concatenated: every component is whole content lines ending in CRLF, folded line by
line, so concatenating components is what writing the whole calendar at once gives.
`render` makes each event's key once (it hashes the whole entry); headers are memoised
by (feed, tag), whole calendars by header and events, so an unchanged calendar is the
bytes object of the last build.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence
from datetime import timedelta

from icalendar import Calendar, vUri

from .. import ids
from ..memo import Memo
from ..model import Catalog, Entry, Feed
from .entry_key import EntryKey
from .ics_event import EventPieces, pieces_of
from .ics_text import Text
from .ics_timezone import vtimezones

PRODID = "-//feeds//feeds iCalendar publisher//EN"
# How often clients should reload: an hour. RFC 7986 REFRESH-INTERVAL takes a duration;
# the X- property gets the string, as icalendar writes a timedelta there wrongly.
REFRESH = timedelta(hours=1)
REFRESH_TEXT = "PT1H"
_END = b"END:VCALENDAR\r\n"

_SUBSCRIPTION_HEADS: Memo[tuple[Feed, str | None], bytes] = Memo("ics.subscription_head")
_SINGLE_EVENT_HEADS: Memo[Feed, bytes] = Memo("ics.single_event_head")
# Whole calendars by (header key, the events' keys): a calendar whose header and events
# are those of the last build is that build's bytes object (so later stages can tell
# an unchanged output by identity).
_CALENDARS: Memo[tuple[Hashable, tuple[EntryKey, ...]], bytes] = Memo("ics.calendar")


def render(catalog: Catalog) -> dict[str, bytes]:
    """Every calendar: the subscription, one per tag, one file per event."""
    feed = catalog.feed
    events = [(entry, EntryKey(feed, entry)) for entry in catalog.events]
    for _, key in events:
        pieces_of(key)  # looked up every build, so that the memo keeps every event
    by_tag: defaultdict[str, list[EntryKey]] = defaultdict(list)
    for entry, key in events:
        for tag in entry.tags:
            by_tag[tag].append(key)
    outputs = {"/events.ics": _subscription(feed, [key for _, key in events], None)}
    for tag in catalog.tags:  # every tag, also those without events
        outputs[f"{ids.tag_path(tag)}events.ics"] = _subscription(feed, by_tag[tag], tag)
    for entry, key in events:
        outputs[ids.entry_ics_path(entry.id)] = _single_event(key)
    return outputs


def subscription(feed: Feed, events: Sequence[Entry], tag: str | None = None) -> bytes:
    """A calendar to subscribe to: name, description, refresh hints, and `events` in order."""
    return _subscription(feed, [EntryKey(feed, entry) for entry in events], tag)


def single_event(feed: Feed, entry: Entry) -> bytes:
    """One event to add to a calendar the member already has."""
    return _single_event(EntryKey(feed, entry))


def _subscription(feed: Feed, keys: Sequence[EntryKey], tag: str | None) -> bytes:
    head_key = (feed, tag)
    head = _SUBSCRIPTION_HEADS.get(head_key, lambda: _subscription_head(feed, tag))
    return _calendar(head_key, head, keys)


def _single_event(key: EntryKey) -> bytes:
    head = _SINGLE_EVENT_HEADS.get(key.feed, lambda: _head(_header(key.feed)))
    return _calendar(key.feed, head, (key,))


def _calendar(head_key: Hashable, head: bytes, keys: Sequence[EntryKey]) -> bytes:
    return _CALENDARS.get(
        (head_key, tuple(keys)), lambda: _assemble(head, [pieces_of(key) for key in keys])
    )


def _subscription_head(feed: Feed, tag: str | None) -> bytes:
    """The calendar's properties: name, description, refresh hints, its page and itself."""
    page_path = "/events/" if tag is None else ids.tag_path(tag)
    path = "/events.ics" if tag is None else f"{page_path}events.ics"
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
    return _head(header)


def _header(feed: Feed) -> Calendar:
    header = Calendar()
    header.add("PRODID", PRODID)
    header.add("VERSION", "2.0")
    header.add("CALSCALE", "GREGORIAN")
    return header


def _description(feed: Feed, tag: str | None) -> str:
    about = feed.subtitle or feed.title
    return about if tag is None else f"{about} (events tagged {tag})"


def _head(header: Calendar) -> bytes:
    """BEGIN:VCALENDAR and the calendar's properties, without END:VCALENDAR."""
    whole = bytes(header.to_ical(sorted=False))
    assert whole.endswith(_END)
    return whole[: -len(_END)]


def _assemble(head: bytes, pieces: Sequence[EventPieces]) -> bytes:
    """Header properties, then VTIMEZONEs, then VEVENTs, inside one VCALENDAR."""
    timezones = vtimezones(piece.zone_span for piece in pieces)
    return b"".join((head, timezones, *(piece.vevent for piece in pieces), _END))


__all__ = ["render", "single_event", "subscription"]
