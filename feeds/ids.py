"""Permanent identifiers (RFC 4151 `tag:` URIs) and URL paths, shared by every format.

Ids are built from `feed.id_authority` and the entry id only, never from URLs or
dates, so moving the site or editing an entry never makes readers see a "new" item.
"""

from __future__ import annotations

from .model import Feed


def entry_uri(feed: Feed, entry_id: str) -> str:
    """The id of an entry: Atom <id>, RSS <guid>, JSON Feed id, iCalendar UID."""
    return f"tag:{feed.id_authority}:entry/{entry_id}"


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
