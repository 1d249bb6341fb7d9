"""JSON Feed 1.1 (https://jsonfeed.org/version/1.1), written by hand.

Paths: `/feed.json`, `/archive/<year>/feed.json`, `/tags/<tag>/feed.json`,
`/tags/<tag>/archive/<year>/feed.json`: the same documents, entries and ids as the Atom
and RSS feeds (`feeds.render.documents`). JSON Feed has no archive links; its
`next_url` (the next, older, part of the feed) points from the live feed to the newest
archive and from each archive to the next older one, which is the same chain as RFC
5005's `prev-archive`.

`authors` and `language` are given once at the top: JSON Feed applies them to every
item. Items carry `id` (tag: URI, or `legacy_id`), `url` (the entry's `link`, else its page here),
`title`, `content_html` (sanitised summary), `date_published`, `date_modified`
(RFC 3339), `tags` (tags, then the type label) and, for events, an `_event` extension:

    "_event": {"start": "2019-05-21", "end": "2019-05-22", "all_day": true,
               "timezone": null, "location": "...", "geo": [51.2, 4.4],
               "url": null, "status": "confirmed", "rrule": null}

A recurring event whose rule ends (COUNT or UNTIL) also has `last_day`, the local day
its last occurrence ends ("2019-04-23"), and one with days left out of its rule has
`exdate`, those days in order (["2019-04-09"], as the catalog's `exdate`). All-day
events give `start`/`end` as dates with `end` the last day, inclusive (as in the
catalog); timed events give RFC 3339 datetimes and the IANA `timezone` they are in.
Keys keep this fixed order (no sort) so the output reads like the spec; non-ASCII text
is written as UTF-8.

Each item is written once per distinct entry, as the indented lines it has inside
`"items": [...]` (JSON strings never hold a raw newline, so indenting every line of
`json.dumps(item, indent=2)` is exact), and each document joins those bytes between its
frame's head and tail (`feeds.render.documents.assemble`): the same bytes as
`json.dumps` of the whole document.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from .. import i18n, ids
from ..body import Body
from ..memo import ByIdentity, Memo
from ..model import Catalog, Entry, Event, Feed
from .datefmt import rfc3339
from .documents import FeedDocument, Format, Frame, categories, entry_url
from .documents import assemble as assemble_documents
from .ics_rrule import is_unbounded, last_day
from .text import summary_html

VERSION = "https://jsonfeed.org/version/1.1"

JsonObject = dict[str, Any]

_INDENT = 2
_ITEM_INDENT = " " * (2 * _INDENT)  # items sit two levels deep: top object, "items" list
_NO_ITEMS = '"items": []\n}'


def render(catalog: Catalog) -> dict[str, Body]:
    return assemble_documents(catalog, JSON)


def frame_bytes(document: FeedDocument) -> Frame:
    """The document with `"items": []`, cut open where the items go when it has some."""
    text = _dumps(_feed_object(document, [])) + "\n"
    if not document.entries:
        return Frame(head=text.encode("utf-8"), tail=b"")
    assert text.endswith(_NO_ITEMS + "\n")
    head = text[: -len(_NO_ITEMS) - 1] + '"items": [\n'
    tail = "\n" + " " * _INDENT + "]\n}\n"
    return Frame(head=head.encode("utf-8"), tail=tail.encode("utf-8"), separator=b",\n")


def item_bytes(feed: Feed, entry: Entry) -> bytes:
    """The item as written inside `"items": [...]`, without the separating comma."""
    lines = _dumps(json_item(feed, entry)).split("\n")
    return "\n".join(_ITEM_INDENT + line for line in lines).encode("utf-8")


def _dumps(value: JsonObject) -> str:
    return json.dumps(value, ensure_ascii=False, indent=_INDENT)


JSON = Format(
    extension="json",
    frame=frame_bytes,
    entry=item_bytes,
    frames=Memo("json.frame"),
    entries=Memo("json.item"),
    documents=ByIdentity("json.document"),
)


def _feed_object(document: FeedDocument, items: list[JsonObject]) -> JsonObject:
    feed = document.feed
    top: JsonObject = {
        "version": VERSION,
        "title": document.title,
        "home_page_url": document.page_url,
        "feed_url": document.url("json"),
        "description": document.subtitle,
    }
    if document.prev_archive is not None:
        top["next_url"] = feed.url(f"{document.prev_archive}feed.json")
    top["language"] = feed.language
    author = _author(feed)
    if author is not None:
        top["authors"] = [author]
    if feed.hub:
        top["hubs"] = [{"type": "WebSub", "url": feed.hub}]
    top[WIDGET_EXTENSION] = widget_labels(feed.language)
    top["items"] = items
    return top


# The widget's words, in the catalog's language, sent with the data it shows (embed.js
# reads them; JSON Feed readers ignore an extension they do not know).
WIDGET_EXTENSION = "_feeds_widget"


def widget_labels(language: str) -> JsonObject:
    _ = i18n.translations(language).gettext
    return {
        "labels": {
            "cancelled": _("Cancelled"),
            "past": _("Past"),
            "nothing": _("Nothing to show yet."),
            "untitled": _("(untitled)"),
        }
    }


def _author(feed: Feed) -> JsonObject | None:
    author = feed.author
    if author is None:
        return None
    url = author.uri or (f"mailto:{author.email}" if author.email else None)
    return {"name": author.name, "url": url} if url else {"name": author.name}


def json_item(feed: Feed, entry: Entry) -> JsonObject:
    assert entry.published is not None and entry.modified is not None, "publications only"
    item: JsonObject = {
        "id": ids.entry_feed_id(feed, entry),
        "url": entry_url(feed, entry),
        "title": entry.title,
        "content_html": summary_html(entry.summary, feed.base_url),
        "date_published": rfc3339(entry.published),
        "date_modified": rfc3339(entry.modified),
        "tags": [category.term for category in categories(feed, entry)],
    }
    if entry.language is not None:  # JSON Feed 1.1: the item's own language
        item["language"] = entry.language
    if entry.event is not None:
        item["_event"] = _event_object(feed, entry.event)
    return item


def _event_object(feed: Feed, event: Event) -> JsonObject:
    event_object: JsonObject = {
        "start": _when(event.start),
        "end": _when(event.end),
        "all_day": event.all_day,
        # The zone the times are in, as the pages name it; None for all-day events and
        # for times the catalog gave at a fixed offset (the offset is in start/end):
        # the feed's zone would make the widget show them at another wall-clock time.
        "timezone": None if event.all_day else event.timezone,
        "location": event.location,
        "geo": list(event.geo) if event.geo is not None else None,
        "url": event.url,
        "status": event.status,
        "rrule": event.rrule,
    }
    if event.rrule is not None and not is_unbounded(event):
        # The local day its last occurrence ends: a widget cannot expand the rule, and
        # without it would call the series past after its first date.
        event_object["last_day"] = last_day(event).isoformat()
    if event.exdate:
        event_object["exdate"] = [day.isoformat() for day in event.exdate]
    return event_object


def _when(value: date | datetime) -> str:
    return rfc3339(value) if isinstance(value, datetime) else value.isoformat()
