"""What an entry page shows beyond the entry itself (`EntryView`): its summary as HTML
and as a description, the host its full text is on, a recurring event's first dates,
the add-to-calendar links and the head's JSON-LD. Both ways of writing the page (the
fast path of pages_entry.py and entry.html) are given the same view.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable
from urllib.parse import urlsplit

from markupsafe import Markup

from .. import ids
from ..model import Entry
from . import pages_calendar as cal
from . import seo
from .pages_context import Links
from .pages_dates import Dates
from .pages_entry import (
    CHROME_SLOTS,
    CalendarLinks,
    EntryChrome,
    EntryPageWriter,
    EntryView,
    marker,
)
from .pages_fragments import Fragments
from .pages_grid import MAX_OCCURRENCES, occurrences
from .rule_words import rule_in_words
from .text import summary_html, summary_text

_DESCRIPTION_CHARS = 200
# The occurrences of a recurring event an entry page lists (the .ics has them all).
_LISTED_OCCURRENCES = 10


def entry_view(
    entry: Entry,
    links: Links,
    dates: Dates,
    words: gettext.NullTranslations,
    json_ld: seo.EntryJsonLd | None,
) -> EntryView:
    """The view of `entry`'s page; its head from `json_ld` (the fast path's writer) or,
    if None, from seo.entry_head's dicts (what the template is given)."""
    feed = links.feed
    summary = Markup(summary_html(entry.summary, feed.base_url))  # sanitised
    text = summary_text(entry.summary)
    description = _description(entry, text, dates)
    # The catalog accepts only links with a host, so "or" never applies to its entries
    link_host = (urlsplit(entry.link).hostname or "") if entry.link else ""
    page_url = links.absolute(ids.entry_page_path(entry.id))
    if json_ld is not None:
        head = json_ld.head(entry, page_url, text)
    else:
        head = seo.entry_head(feed, entry, page_url)
    if entry.event is None:
        return EntryView(entry, summary, description, link_host, head=head)
    found = occurrences(entry) if entry.event.rrule else []
    return EntryView(
        entry,
        summary,
        description,
        link_host,
        occurrences=tuple(found[:_LISTED_OCCURRENCES]),
        occurrences_truncated=len(found) > _LISTED_OCCURRENCES or len(found) == MAX_OCCURRENCES,
        repeats=rule_in_words(entry.event, words.gettext, words.ngettext, dates),
        calendar=_add_to_calendar(entry, links),
        head=head,
    )


def entry_writer(page: Callable[..., bytes], fragments: Fragments) -> EntryPageWriter:
    """The writer of a build's entry pages, with the chrome they share rendered by
    `page` (the renderer's, as every page) with a marker in each page's own slot."""
    slots = {slot: marker(slot) for slot in CHROME_SLOTS}
    chrome = page(
        "entry_chrome.html",
        ids.entry_page_path(slots["id"]),
        entry=Entry(id=slots["id"], title=slots["title"]),
        description=slots["description"],
        head=slots["head"],
        main=slots["main"],
    )
    return EntryPageWriter(EntryChrome(chrome.decode("utf-8")), fragments)


def _add_to_calendar(entry: Entry, links: Links) -> CalendarLinks:
    page_url = links.absolute(ids.entry_page_path(entry.id))
    google_url, outlook_url = cal.add_event_urls(entry, page_url)
    assert entry.event is not None
    return CalendarLinks(
        ics_path=links.page(ids.entry_ics_path(entry.id)),
        # Google's add-event link has no documented way to leave days out (its `recur`
        # takes an RRULE): the .ics, which does, is the way in then.
        google_url=None if entry.event.exdate else google_url,
        outlook_url=None if entry.event.rrule else outlook_url,
    )


def _description(entry: Entry, summary: str, dates: Dates) -> str:
    """The page's meta and Open Graph description: its summary's text (`summary`), else
    (an event without a summary) when and where, so that a shared link still says
    something."""
    text = summary.replace("\n\n", " ")
    if not text and entry.event is not None:
        text = ", ".join(filter(None, (dates.when(entry.event), entry.event.location)))
    return text if len(text) <= _DESCRIPTION_CHARS else text[: _DESCRIPTION_CHARS - 1] + "…"
