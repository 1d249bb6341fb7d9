"""Which entries a page or the widget shows, without knowing today's date.

Pages are precomputed and must be the same bytes whenever they are built, so nothing
here reads the clock. Events are chosen around the catalog's *anchor*: the day of its
newest publication or update, i.e. roughly when the catalog was last edited. Lists
hold the events that end on or after the anchor (soonest first) and, after them, the
latest ones before it; the browser then splits them into "upcoming" and "past" by the
reader's real date (`/site.js`, `/embed-page.js`, `/embed.js`), and without script
every event is shown with its dates, in order. `/events/` always lists every event.
"""

from __future__ import annotations

from datetime import date

from ..model import Catalog, Entry
from .ics_rrule import is_unbounded
from .pages_calendar import last_day

HOME_PUBLICATIONS = 20
TAG_PUBLICATIONS = 50
EVENT_WINDOW = 50  # events on home/tag pages, in /events.json and the embed page
HOME_EVENTS = 20


def anchor_day(catalog: Catalog) -> date | None:
    """The day of the newest `published`/`updated` in the catalog (None if there is none)."""
    stamps = [entry.modified for entry in catalog.entries if entry.modified is not None]
    return max(stamps).date() if stamps else None


def _ends_on_or_after(entry: Entry, day: date) -> bool:
    assert entry.event is not None
    return is_unbounded(entry.event) or last_day(entry.event) >= day


def current_events(events: tuple[Entry, ...], anchor: date | None) -> frozenset[str]:
    """The ids of `events` current at `anchor` (ending on or after it): computed once per
    build for the site-wide window and each tag's (~30 windows over the same events)."""
    if anchor is None:
        return frozenset()
    return frozenset(entry.id for entry in events if _ends_on_or_after(entry, anchor))


def event_window(
    events: tuple[Entry, ...],
    anchor: date | None,
    limit: int,
    current_ids: frozenset[str] | None = None,
) -> tuple[Entry, ...]:
    """At most `limit` events in start order: those current at `anchor`, then earlier ones.

    `events` is in start order (Catalog.events). Without an anchor (a catalog of events
    only, none dated) the latest-starting events are taken. `current_ids`: what
    `current_events(events or a superset, anchor)` gives, if known.
    """
    if anchor is None:
        return events[-limit:] if limit else ()
    if current_ids is None:
        current = [entry for entry in events if _ends_on_or_after(entry, anchor)][:limit]
    else:
        current = [entry for entry in events if entry.id in current_ids][:limit]
    chosen = {entry.id for entry in current}
    earlier = [entry for entry in events if entry.id not in chosen]
    room = limit - len(current)
    keep = {entry.id for entry in earlier[max(0, len(earlier) - room) :]} if room > 0 else set()
    return tuple(entry for entry in events if entry.id in chosen or entry.id in keep)


def tag_events(catalog: Catalog, tag: str) -> tuple[Entry, ...]:
    return tuple(entry for entry in catalog.events if tag in entry.tags)


def tag_publications(catalog: Catalog, tag: str) -> tuple[Entry, ...]:
    return tuple(entry for entry in catalog.publications if tag in entry.tags)


def by_tag(tags: tuple[str, ...], entries: tuple[Entry, ...]) -> dict[str, list[Entry]]:
    """`entries` with each tag, in the order given."""
    found: dict[str, list[Entry]] = {tag: [] for tag in tags}
    for entry in entries:
        for tag in entry.tags:
            found[tag].append(entry)
    return found
