"""Permanent identifiers (RFC 4151 `tag:` URIs) and URL paths, shared by every format.

Ids are built from `feed.id_authority` and the entry id only, never from URLs or
dates, so moving the site or editing an entry never makes readers see a "new" item.
An entry moved here from another site keeps the id it had there (`legacy_id`,
`event.uid`), for the same reason.
"""

from __future__ import annotations

from .model import Entry, Feed


def entry_uri(feed: Feed, entry_id: str) -> str:
    """Our id of an entry: Atom <id>, RSS <guid>, JSON Feed id, iCalendar UID."""
    return f"tag:{feed.id_authority}:entry/{entry_id}"


def entry_feed_id(feed: Feed, entry: Entry) -> str:
    """The Atom <id>, RSS <guid> and JSON Feed id of an entry: the id an earlier site
    published it under (`legacy_id`, kept by `feeds import` so readers do not see the
    item as new), else ours."""
    return entry.legacy_id if entry.legacy_id is not None else entry_uri(feed, entry.id)


def entry_uid(feed: Feed, entry: Entry) -> str:
    """The iCalendar UID of an event entry: the UID an earlier calendar gave it
    (`event.uid`), else ours."""
    event = entry.event
    if event is not None and event.uid is not None:
        return event.uid
    return entry_uri(feed, entry.id)


def feed_uri(feed: Feed, tag: str | None = None) -> str:
    """The id of the publications feed, or of one tag's feed."""
    return f"tag:{feed.id_authority}:feed" if tag is None else f"tag:{feed.id_authority}:tag/{tag}"


def archive_uri(feed: Feed, period: str, tag: str | None = None) -> str:
    return f"{feed_uri(feed, tag)}/archive/{period}"


def entry_page_path(entry_id: str) -> str:
    return f"/entries/{entry_id}/"


def entry_ics_path(entry_id: str) -> str:
    return f"/entries/{entry_id}.ics"


def tag_path(tag: str) -> str:
    return f"/tags/{tag}/"
