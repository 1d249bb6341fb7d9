"""iCalendar (RFC 5545, RFC 7986): the calendars members subscribe to, and one file per event.

Paths:
- `/events.ics`: every event, past and future, cancelled ones as STATUS:CANCELLED;
- `/tags/<tag>/events.ics`: the same for each tag (a tag without events gets a valid
  calendar with no event: its page links to it and a subscription must not break
  later; see `_no_events`);
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
they join (pieces are one object per distinct event, compared by identity). After an
edit that moved no event (same place, tags and id), `render` hands the last build's
calendars over and joins only those holding an edited event, without looking up the
others' 3,300 events (at 10k entries) again.
"""

from __future__ import annotations

import weakref
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import compress
from operator import is_not

from .. import i18n, ids
from ..body import Body
from ..memo import Memo
from ..model import Catalog, Entry, Feed
from .ics_event import EventPieces, event_pieces, keep_pieces
from .ics_lines import raw_line, text_line
from .ics_timezone import keep_vtimezones, vtimezones

PRODID = "-//feeds//feeds iCalendar publisher//EN"
# How often clients should reload: an hour (RFC 7986 REFRESH-INTERVAL, a DURATION; and
# the X- property that Outlook and Apple read).
REFRESH = "PT1H"
_END = b"END:VCALENDAR\r\n"
# BEGIN:VCALENDAR and the properties every calendar has (a per-event file has no more).
_CALENDAR_HEAD = b"".join(
    (
        raw_line("BEGIN", "VCALENDAR"),
        raw_line("PRODID", PRODID),
        raw_line("VERSION", "2.0"),
        raw_line("CALSCALE", "GREGORIAN"),
    )
)

_SUBSCRIPTION_HEADS: Memo[tuple[Feed, str | None], bytes] = Memo("ics.subscription_head")
# Whole calendars by (head, pieces): not saved, pieces are compared by identity.
_CALENDARS: Memo[tuple[bytes, tuple[EventPieces, ...]], Body] = Memo("ics.calendar", saved=False)


def render(catalog: Catalog) -> dict[str, Body]:
    """Every calendar: the subscription, one per tag, one file per event."""
    last = _LAST.get(_SLOT, _no_calendars)
    if last is not None and last.catalog() is catalog:
        return dict(last.outputs)
    handed_over = _handed_over(last, catalog) if last is not None else None
    current = handed_over if handed_over is not None else _rendered(catalog)
    _LAST.put(_SLOT, current)
    return dict(current.outputs)  # a copy: the caller's to keep or change


@dataclass(frozen=True)
class _Calendars:
    """The calendars of the last catalog rendered, and what it takes to hand them over."""

    catalog: weakref.ref[Catalog]  # weak: never keeps an old catalog alive
    feed: Feed
    tags: tuple[str, ...]
    events: tuple[Entry, ...]  # the catalog's, in order
    pieces: tuple[EventPieces, ...]  # of each event
    holding: dict[str | None, tuple[int, ...]]  # calendar (None: all, else a tag) -> events
    outputs: dict[str, Body]


# One slot: the calendars of the last catalog (see feeds.render.documents._LAST).
_LAST: Memo[str, _Calendars | None] = Memo("ics.last", saved=False)
_SLOT = "last"


def _no_calendars() -> None:
    return None


def _rendered(catalog: Catalog) -> _Calendars:
    feed = catalog.feed
    pieces = tuple(event_pieces(feed, entry) for entry in catalog.events)
    positions: defaultdict[str, list[int]] = defaultdict(list)
    for position, entry in enumerate(catalog.events):
        for tag in entry.tags:
            positions[tag].append(position)
    holding: dict[str | None, tuple[int, ...]] = {None: tuple(range(len(pieces)))}
    holding.update((tag, tuple(positions[tag])) for tag in catalog.tags)
    outputs = {
        _calendar_path(tag): _subscription(feed, [pieces[i] for i in held], tag)
        for tag, held in holding.items()  # every tag, also those without events
    }
    single_head = _CALENDAR_HEAD
    for entry, piece in zip(catalog.events, pieces, strict=True):
        path = ids.entry_ics_path(entry.id)
        outputs[path] = _assemble(path, single_head, (piece,))
    return _Calendars(
        weakref.ref(catalog), feed, catalog.tags, catalog.events, pieces, holding, outputs
    )


def _handed_over(last: _Calendars, catalog: Catalog) -> _Calendars | None:
    """`last`'s calendars with those holding an event that changed made again, when no
    event changed its place, tags or id (what decides which calendars hold it and the
    path of its own file). None otherwise.

    The memo tables keep what the calendars handed over were made of (a build that
    makes them all again finds it), but what the edit replaced.
    """
    feed, old, new = catalog.feed, last.events, catalog.events
    if not (feed is last.feed or feed == last.feed) or catalog.tags != last.tags:
        return None
    if len(old) != len(new):
        return None
    changed = list(compress(range(len(new)), map(is_not, old, new)))
    if any(old[i].tags != new[i].tags or old[i].id != new[i].id for i in changed):
        return None
    pieces = list(last.pieces)
    for position in changed:
        pieces[position] = event_pieces(feed, new[position])
    affected = {None, *(tag for position in changed for tag in new[position].tags)}
    outputs = dict(last.outputs)
    for tag in affected:
        held = last.holding[tag]
        outputs[_calendar_path(tag)] = _subscription(feed, [pieces[i] for i in held], tag)
    single_head = _CALENDAR_HEAD
    for position in changed:
        path = ids.entry_ics_path(new[position].id)
        outputs[path] = _assemble(path, single_head, (pieces[position],))
    _keep_previous(last, affected, changed)
    return _Calendars(
        weakref.ref(catalog), feed, last.tags, new, tuple(pieces), last.holding, outputs
    )


def _keep_previous(last: _Calendars, remade: set[str | None], changed: list[int]) -> None:
    """The memo tables keep what `last`'s calendars were made of, but the pieces of the
    events at the `changed` positions and the calendars made again (see
    `Memo.keep_previous`)."""
    feed = last.feed
    keep_pieces(feed, [last.events[position] for position in changed])
    calendars = [
        _subscription_key(feed, [last.pieces[i] for i in last.holding[tag]], tag) for tag in remade
    ]
    single_head = _CALENDAR_HEAD
    calendars += [(single_head, (last.pieces[position],)) for position in changed]
    _CALENDARS.keep_previous(dropping=calendars)
    _SUBSCRIPTION_HEADS.keep_previous()
    keep_vtimezones()


def _calendar_path(tag: str | None) -> str:
    return "/events.ics" if tag is None else f"{ids.tag_path(tag)}events.ics"


def _subscription(feed: Feed, pieces: Sequence[EventPieces], tag: str | None) -> Body:
    """A calendar to subscribe to: name, description, refresh hints, and its events."""
    return _assemble(_calendar_path(tag), *_subscription_key(feed, pieces, tag))


def _subscription_key(
    feed: Feed, pieces: Sequence[EventPieces], tag: str | None
) -> tuple[bytes, tuple[EventPieces, ...]]:
    head = _SUBSCRIPTION_HEADS.get((feed, tag), lambda: _subscription_head(feed, tag))
    return head, tuple(pieces) if pieces else (_no_events(feed.timezone, feed.id_authority),)


# The zone a calendar without events carries when the feed names none.
_NO_EVENTS_ZONE = "UTC"


@lru_cache(maxsize=64)
def _no_events(zone: str | None, id_authority: str) -> EventPieces:
    """What a calendar without any event holds: no VEVENT, the feed's VTIMEZONE.

    RFC 5545's grammar requires at least one component in a VCALENDAR (`icalbody =
    calprops component`, `component = 1*(...)`), and parsers that follow it refuse an
    empty one; a VTIMEZONE is a component, and the feed's own zone is what the
    calendar's future events will most likely use (X-WR-TIMEZONE names it too). It
    covers one year, that of `id_authority`'s date: any year would do, as no event
    refers to it, and that one never changes (RFC 4151), so neither do the calendar's
    bytes and ETag while the tag stays empty. One object per (zone, authority): pieces
    are compared by identity (see EventPieces).
    """
    year = min(max(int(id_authority.rsplit(",", 1)[1][:4]), 1970), 9000)
    return EventPieces(vevent=b"", zone_span=(zone or _NO_EVENTS_ZONE, year, year))


def _subscription_head(feed: Feed, tag: str | None) -> bytes:
    """The calendar's properties: name, description, refresh hints, its page and itself."""
    page_path = "/events/" if tag is None else ids.tag_path(tag)
    path = "/events.ics" if tag is None else f"{page_path}events.ics"
    name = feed.title if tag is None else f"{feed.title}: {tag}"
    lines = [
        _CALENDAR_HEAD,
        text_line("NAME", name),
        text_line("X-WR-CALNAME", name),
        text_line("X-WR-CALDESC", _description(feed, tag)),
    ]
    if feed.timezone:
        lines.append(raw_line("X-WR-TIMEZONE", feed.timezone))
    lines += [
        raw_line("REFRESH-INTERVAL;VALUE=DURATION", REFRESH),
        raw_line("X-PUBLISHED-TTL", REFRESH),
        raw_line("URL", feed.url(page_path)),
        raw_line("SOURCE", feed.url(path)),
    ]
    return b"".join(lines)


def _description(feed: Feed, tag: str | None) -> str:
    """The calendar's description, as calendar apps show it: in the catalog's language."""
    about = feed.subtitle or feed.title
    if tag is None:
        return about
    words = i18n.translations(feed.language).gettext("%(about)s (events tagged %(tag)s)")
    return words % {"about": about, "tag": tag}


def _assemble(path: str, head: bytes, pieces: Sequence[EventPieces]) -> Body:
    """Header properties, then VTIMEZONEs, then VEVENTs, inside one VCALENDAR (an
    event's own file holds one, to add to a calendar the member already has)."""
    key = (head, tuple(pieces))
    return _CALENDARS.get(key, lambda: Body.of(path, _joined(*key)))


def _joined(head: bytes, pieces: tuple[EventPieces, ...]) -> bytes:
    timezones = vtimezones(piece.zone_span for piece in pieces)
    return b"".join((head, timezones, *(piece.vevent for piece in pieces), _END))


__all__ = ["render"]
