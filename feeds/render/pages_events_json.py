"""`/events.json` and `/tags/<tag>/events.json`: JSON Feed 1.1 documents of events.

`/feed.json` holds publications only, so an event that was never published as news
(the Antwerp academy) is not in it; the widget (`/embed.js`, kind="events") reads these
documents instead. Items are the same as in `/feed.json` (same ids, so a reader that
follows both sees one item) with the same `_event` extension, written by
`feeds.render.jsonfeed`; `date_published` is present only for entries that have it.
Events are chosen by `pages_select.event_window`, in start order.
"""

from __future__ import annotations

import json
from typing import Any

from .. import i18n, ids
from ..model import Entry, Feed
from .datefmt import rfc3339
from .documents import categories, entry_url
from .jsonfeed import VERSION, WIDGET_EXTENSION, widget_labels
from .jsonfeed import _event_object as event_object  # the one definition of `_event`
from .text import summary_html


def events_json_path(tag: str | None) -> str:
    return "/events.json" if tag is None else f"{ids.tag_path(tag)}events.json"


def event_item(feed: Feed, entry: Entry) -> dict[str, Any]:
    assert entry.event is not None
    item: dict[str, Any] = {
        "id": ids.entry_feed_id(feed, entry),
        "url": entry_url(feed, entry),
        "title": entry.title,
        "content_html": summary_html(entry.summary, feed.base_url),
    }
    if entry.published is not None:
        item["date_published"] = rfc3339(entry.published)
    if entry.modified is not None:
        item["date_modified"] = rfc3339(entry.modified)
    item["tags"] = [category.term for category in categories(feed, entry)]
    if entry.language is not None:
        item["language"] = entry.language
    item["_event"] = event_object(feed, entry.event)
    return item


def events_json(
    feed: Feed, events: tuple[Entry, ...], tag: str | None, items: dict[str, dict[str, Any]]
) -> bytes:
    """One document; `items` caches each entry's item across documents of one render."""
    listed = []
    for entry in events:
        if entry.id not in items:
            items[entry.id] = event_item(feed, entry)
        listed.append(items[entry.id])
    # The widget shows the title: in the catalog's language
    _ = i18n.translations(feed.language).gettext
    if tag is None:
        title = _("%(title)s: events") % {"title": feed.title}
    else:
        title = _("%(title)s: events tagged %(tag)s") % {"title": feed.title, "tag": tag}
    page = "/events/" if tag is None else ids.tag_path(tag)
    document = {
        "version": VERSION,
        "title": title,
        "home_page_url": feed.url(page),
        "feed_url": feed.url(events_json_path(tag)),
        "language": feed.language,
        WIDGET_EXTENSION: widget_labels(feed.language),
        "items": listed,
    }
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
