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
`render` looks each event up once and builds every calendar from those pieces; headers
are memoised by (feed, tag), and whole calendars by their header and the very pieces
they join (pieces are one object per distinct event, compared by identity), so a
rebuild after an edit joins only the calendars holding the edited event.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta

from icalendar import Calendar, vUri

from .. import ids
from ..memo import Memo
from ..model import Catalog, Entry, Feed
from .ics_event import EventPieces, event_pieces
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
# Whole calendars by (head, pieces): not saved, pieces are compared by identity.
_CALENDARS: Memo[tuple[bytes, tuple[EventPieces, ...]], bytes] = Memo("ics.calendar", saved=False)


def render(catalog: Catalog) -> dict[str, bytes]:
    """Every calendar: the subscription, one per tag, one file per event."""
    feed = catalog.feed
    pieces = [event_pieces(feed, entry) for entry in catalog.events]
    by_tag: defaultdict[str, list[EventPieces]] = defaultdict(list)
    for entry, piece in zip(catalog.events, pieces, strict=True):
        for tag in entry.tags:
            by_tag[tag].append(piece)
    outputs = {"/events.ics": _subscription(feed, pieces, None)}
    for tag in catalog.tags:  # every tag, also those without events
        outputs[f"{ids.tag_path(tag)}events.ics"] = _subscription(feed, by_tag[tag], tag)
    single_head = _single_event_head(feed)
    for entry, piece in zip(catalog.events, pieces, strict=True):
        outputs[ids.entry_ics_path(entry.id)] = _assemble(single_head, (piece,))
    return outputs


def subscription(feed: Feed, events: Sequence[Entry], tag: str | None = None) -> bytes:
    """A calendar to subscribe to: name, description, refresh hints, and `events` in order."""
    return _subscription(feed, [event_pieces(feed, entry) for entry in events], tag)


def single_event(feed: Feed, entry: Entry) -> bytes:
    """One event to add to a calendar the member already has."""
    return _assemble(_single_event_head(feed), (event_pieces(feed, entry),))


def _subscription(feed: Feed, pieces: Sequence[EventPieces], tag: str | None) -> bytes:
    head = _SUBSCRIPTION_HEADS.get((feed, tag), lambda: _subscription_head(feed, tag))
    return _assemble(head, pieces)


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


def _single_event_head(feed: Feed) -> bytes:
    """The header every per-event file shares (built once, not once per event)."""
    return _SINGLE_EVENT_HEADS.get(feed, lambda: _head(_header(feed)))


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
    key = (head, tuple(pieces))
    return _CALENDARS.get(key, lambda: _joined(*key))


def _joined(head: bytes, pieces: tuple[EventPieces, ...]) -> bytes:
    timezones = vtimezones(piece.zone_span for piece in pieces)
    return b"".join((head, timezones, *(piece.vevent for piece in pieces), _END))


__all__ = ["render", "single_event", "subscription"]
