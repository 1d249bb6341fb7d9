"""HTML pages, the embed page and the static files of the Site (Jinja, no web framework).

Paths: `/` (home), `/entries/<id>/` (every entry), `/events/`, `/tags/<tag>/` (every
tag), `/subscribe/` (the addresses to copy and what to do with them), `/embed/` (the
iframe page), `/404.html`, `/events.json` and `/tags/<tag>/events.json` (JSON Feed
of events, for the widget), the static files
`/style.css`, `/site.js`, `/embed.js`, `/embed-page.js`, `/icon.svg`, `/feed.xsl`, and
`/sitemap.xml` and `/robots.txt` (sitemap.py) that list the pages for search engines.

Pages need no script to be read; scripts only add to them (copy buttons, the
upcoming/past split by the reader's date, the embed page's query). Every page is
rendered from the catalog alone, so the same catalog gives the same bytes; its words
and dates are in the catalog's language (feeds.i18n, pages_dates.py).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from functools import cached_property
from typing import Any

from markupsafe import Markup

from .. import i18n, ids
from ..body import Body
from ..memo import ByIdentity, Memo
from ..model import Catalog, Entry
from . import seo, sitemap
from .entry_key import EntryKey
from .pages_context import SUBSCRIBE_PATH, Formats, Links, alternates, subscribe_links
from .pages_dates import Dates, dates_for
from .pages_embed import EMBED_LIMIT_MAX, validate_embed_query
from .pages_embed_page import EmbedPage, snippets
from .pages_entry import EntryPageWriter
from .pages_entry_view import entry_view, entry_writer
from .pages_env import STATIC_FILES, render_template, static_file, template_module
from .pages_events_json import events_json, events_json_path
from .pages_fragments import Fragments
from .pages_grid import month_grid
from .pages_items import PageItems
from .pages_select import (
    EVENT_WINDOW,
    HOME_EVENTS,
    HOME_PUBLICATIONS,
    TAG_PUBLICATIONS,
    anchor_day,
    by_tag,
    current_events,
    event_window,
)

__all__ = ["render", "render_entries", "render_lists", "validate_embed_query"]

# Every page, keyed by what it shows (the Feed and the very entries listed, compared by
# content): a rebuild renders only the pages whose entries changed. See feeds.memo.
_PAGES: Memo[Hashable, Body] = Memo("pages.page")
# The chrome of /events/ (see PageRenderer._events), keyed alike.
_CHROMES: Memo[Hashable, bytes] = Memo("pages.chrome")
# Each entry's item in the lists of /, /events/ and the tag pages, keyed by the heading
# it is drawn with and the entry: /events/ lists every event (3,300 at 10k), so an edit
# re-renders one item and joins the others instead of re-rendering the whole list.
_ITEMS: Memo[tuple[str, EntryKey], Markup] = Memo("pages.item")
# Each event's item on /events/, kept while the page is reused (see pages_items.py).
_EVENTS_ITEMS: PageItems[tuple[str, EntryKey], Markup] = PageItems("pages.events_item")


class PageRenderer:
    """Renders every page of one catalog; holds what all pages share."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.feed = catalog.feed
        self.links = Links(catalog.feed)
        self.anchor = anchor_day(catalog)
        author = self.feed.author.name if self.feed.author else self.feed.title
        self.site = {
            "title": self.feed.title,
            "subtitle": self.feed.subtitle or self.feed.title,
            "subtitle_given": self.feed.subtitle is not None,
            "language": self.feed.language,
            "link": self.feed.link,
            "author": author,
            "og_locale": seo.og_locale(self.feed.language),
        }
        # Each tag's publications (newest first) and events (in start order), sorted once:
        # filtering the whole catalog for each of 30 tags cost more than a page render.
        self.tag_publications = by_tag(catalog.tags, catalog.publications)
        self.current_ids = current_events(catalog.events, self.anchor)
        self.tag_events = {
            tag: event_window(tuple(events), self.anchor, EVENT_WINDOW, self.current_ids)
            for tag, events in by_tag(catalog.tags, catalog.events).items()
        }
        # The catalog language's words (feeds.i18n) and dates (pages_dates.py), given to
        # every template render and to the fast paths alike.
        self.ui = i18n.translations(self.feed.language)
        self.dates: Dates = dates_for(self.feed.language)
        self.fmt = Formats(self.dates)
        self.words: dict[str, Callable[..., str]] = {
            "gettext": self.ui.gettext,
            "ngettext": self.ui.ngettext,
        }
        self.fragments = Fragments(self.links.entry, self.links.tag, self.ui.gettext, self.dates)

    def _keys(self, entries: tuple[Entry, ...]) -> tuple[EntryKey, ...]:
        """A memo key's part for `entries`: their EntryKeys, hashed once per entry object
        and compared by identity, where the entries would be hashed field by field."""
        return tuple(EntryKey(self.feed, entry) for entry in entries)

    def page(self, template: str, path: str, tag: str | None = None, **context: Any) -> bytes:
        context.setdefault("item", self.item)
        return render_template(
            template,
            site=self.site,
            links=self.links,
            fmt=self.fmt,
            path=path,
            alternates=alternates(self.links, tag, self.ui.gettext),
            tag=tag,
            **self.words,
            **context,
        )

    def item(self, entry: Entry, heading: str) -> Markup:
        """The `entry_item` macro's output for `entry` (written by pages_fragments.py),
        memoised (see _ITEMS)."""
        return _ITEMS.get(
            (heading, EntryKey(self.feed, entry)),
            lambda: self.fragments.entry_item(entry, heading),
        )

    def item_from_template(self, entry: Entry, heading: str) -> Markup:
        """The `entry_item` macro through Jinja: what `item` must equal (tested)."""
        item: Markup = self._macros.entry_item(entry, heading)
        return item

    @cached_property
    def _macros(self) -> Any:
        return template_module("_macros.html", links=self.links, fmt=self.fmt, **self.words)

    def home(self) -> Body:
        publications = self.catalog.publications[: HOME_PUBLICATIONS + 1]
        events = event_window(self.catalog.events, self.anchor, HOME_EVENTS, self.current_ids)
        key = ("home", self.feed, self._keys(publications), self._keys(events), self.catalog.tags)
        return _PAGES.get(key, lambda: Body.of("/", self._home(publications, events)))

    def _home(self, publications: tuple[Entry, ...], events: tuple[Entry, ...]) -> bytes:
        shown = publications[:HOME_PUBLICATIONS]
        return self.page(
            "home.html",
            "/",
            head=self._collection("/", self.feed.title, None, shown + events),
            publications=shown,
            more_publications=len(publications) > HOME_PUBLICATIONS,
            events=events,
            tags=self.catalog.tags,
            subscribe=subscribe_links(self.links, None),
            snippets=snippets(self.links),
        )

    def entry(self, entry: Entry) -> bytes:
        """The entry page's bytes."""
        return bytes(self.entry_body(entry))

    def entry_body(self, entry: Entry) -> Body:
        # EntryKey: the entry's hash is computed once, not at each of the table's lookups
        key = ("entry", EntryKey(self.feed, entry))
        return _PAGES.get(
            key,
            lambda: Body.of(
                ids.entry_page_path(entry.id),
                self.entry_writer.page(
                    entry_view(entry, self.links, self.dates, self.ui, self.entry_json_ld)
                ),
            ),
        )

    def entry_from_template(self, entry: Entry) -> bytes:
        """The entry page as entry.html renders it, its JSON-LD from the dicts of
        seo.entry_head: what `entry` must equal (tested)."""
        view = entry_view(entry, self.links, self.dates, self.ui, None)
        return self.page("entry.html", ids.entry_page_path(entry.id), **view.template_context())

    @cached_property
    def entry_writer(self) -> EntryPageWriter:
        """The writer of entry pages, with the chrome they share rendered for this build
        (only when an entry page is rendered: a rebuild may reuse them all)."""
        return entry_writer(self.page, self.fragments)

    @cached_property
    def entry_json_ld(self) -> seo.EntryJsonLd:
        return seo.EntryJsonLd(self.feed)

    def events(self) -> Body:
        # Keyed by EntryKeys (hashed once per entry object, compared by identity), not by
        # the 3,300 events themselves, which a lookup would hash field by field.
        keys = tuple(EntryKey(self.feed, entry) for entry in self.catalog.events)
        key = ("events", self.feed, self.anchor, keys)
        return _PAGES.get(key, lambda: Body.of("/events/", self._events(keys)))

    def _events(self, keys: tuple[EntryKey, ...]) -> bytes:
        """The page as its chrome (all but the list's items, cached) with the items
        (each cached, see _ITEMS) joined into it: an edit renders one item, not 3,300
        macro calls."""
        if not keys:  # the template's "No events." branch: nothing to join
            return self._events_page(self.catalog.events)
        window = self.event_window
        chrome_key = ("events.chrome", self.feed, self.anchor, len(keys) > EVENT_WINDOW)
        chrome = _CHROMES.get(
            (*chrome_key, tuple(EntryKey(self.feed, entry) for entry in window)),
            lambda: self._events_page((None,), item=_item_marker),
        )
        head, heading, tail = chrome.split(_MARKER_DELIMITER)
        heading_text = heading.decode()
        items = "\n  ".join(
            _EVENTS_ITEMS.get((heading_text, key), lambda: self.item(key.entry, heading_text))  # noqa: B023 - called at once
            for key in keys
        )
        return b"".join((head, items.encode("utf-8"), tail))

    def _events_page(self, listed: tuple[Entry | None, ...], **context: Any) -> bytes:
        return self.page(
            "events.html",
            "/events/",
            # No ItemList: the page lists every event (3,300 at 10k), which would double
            # its size; the sitemap links each event's page.
            head=self._collection(
                "/events/", f"{self.ui.gettext('Events')} · {self.feed.title}", None, None
            ),
            events=listed,
            # The list holds every event; the grid only the window's months, so that a
            # catalog of fifteen years does not make a page of 180 tables.
            months=month_grid(self.event_window, self.dates),
            grid_is_partial=len(self.catalog.events) > EVENT_WINDOW,
            weekdays=self.dates.weekdays(),
            subscribe=subscribe_links(self.links, None),
            **context,
        )

    @cached_property
    def event_window(self) -> tuple[Entry, ...]:
        """The site-wide event window, computed once per build (several outputs ask)."""
        return event_window(self.catalog.events, self.anchor, EVENT_WINDOW, self.current_ids)

    def tag(self, tag: str) -> Body:
        shown = tuple(self.tag_publications[tag][: TAG_PUBLICATIONS + 1])
        events = self.tag_events[tag]
        key = ("tag", self.feed, tag, self._keys(shown), self._keys(events))
        return _PAGES.get(key, lambda: Body.of(ids.tag_path(tag), self._tag(tag, shown, events)))

    def _tag(self, tag: str, publications: tuple[Entry, ...], events: tuple[Entry, ...]) -> bytes:
        shown = publications[:TAG_PUBLICATIONS]
        return self.page(
            "tag.html",
            ids.tag_path(tag),
            tag,
            head=self._collection(
                ids.tag_path(tag),
                f"{tag} · {self.feed.title}",
                self.ui.gettext("Publications and events tagged %(tag)s") % {"tag": tag},
                shown + events,
            ),
            publications=shown,
            more_publications=len(publications) > TAG_PUBLICATIONS,
            events=events,
            subscribe=subscribe_links(self.links, tag),
        )

    def _collection(
        self, path: str, name: str, description: str | None, entries: tuple[Entry, ...] | None
    ) -> Markup:
        """A list page's JSON-LD (see seo.collection_page); `entries`: those it shows."""
        items = None
        if entries is not None:
            # An event with a publication date is in both of a page's lists: once here.
            unique = {e.id: e for e in entries}.values()
            items = [(self.links.absolute(ids.entry_page_path(e.id)), e.title) for e in unique]
        return seo.collection_page(
            self.feed,
            self.links.absolute(path),
            name,
            self.feed.subtitle or self.feed.title if description is None else description,
            items,
        )

    def subscribe(self) -> Body:
        """/subscribe/: every feed and calendar address, and what to do with them."""
        key = ("subscribe", self.feed, self.catalog.tags)
        return _PAGES.get(key, lambda: Body.of(SUBSCRIBE_PATH, self._subscribe_page()))

    def _subscribe_page(self) -> bytes:
        return self.page(
            "subscribe.html",
            SUBSCRIBE_PATH,
            site_sub=subscribe_links(self.links, None),
            tag_subs=[(tag, subscribe_links(self.links, tag)) for tag in self.catalog.tags],
        )

    def embed(self) -> Body:
        """Every item any valid query can show: the newest 50 publications and the event
        window, site-wide and for each tag (the script picks from them)."""
        publication_ids = {e.id for e in self.catalog.publications[:EMBED_LIMIT_MAX]}
        event_ids = {e.id for e in self.event_window}
        for tag in self.catalog.tags:
            publication_ids.update(e.id for e in self.tag_publications[tag][:EMBED_LIMIT_MAX])
            event_ids.update(e.id for e in self.tag_events[tag])
        publications = tuple(e for e in self.catalog.publications if e.id in publication_ids)
        events = tuple(e for e in self.catalog.events if e.id in event_ids)
        # Keyed by EntryKeys: hashed once per entry object, compared by identity.
        key = (
            "embed",
            self.feed,
            tuple(EntryKey(self.feed, e) for e in publications),
            tuple(EntryKey(self.feed, e) for e in events),
        )
        return _PAGES.get(
            key, lambda: Body.of("/embed/", self._embed_page.render(publications, events))
        )

    @cached_property
    def _embed_page(self) -> EmbedPage:
        return EmbedPage(self.site, self.links, self.fmt, self.words)

    def events_json(self) -> dict[str, Body]:
        items: dict[str, dict[str, Any]] = {}
        windows: dict[str | None, tuple[Entry, ...]] = {None: self.event_window}
        windows.update(self.tag_events)
        return {
            events_json_path(tag): _PAGES.get(
                ("events.json", self.feed, tag, self._keys(events)),
                lambda: Body.of(events_json_path(tag), events_json(self.feed, events, tag, items)),  # noqa: B023 - called at once
            )
            for tag, events in windows.items()
        }

    def feed_xsl(self) -> Body:
        return _PAGES.get(
            ("feed.xsl", self.feed),
            lambda: Body.of(
                "/feed.xsl",
                render_template("feed.xsl", links=self.links, site=self.site, **self.words),
            ),
        )

    def not_found(self) -> Body:
        return _PAGES.get(
            ("404", self.feed), lambda: Body.of("/404.html", self.page("404.html", "/404.html"))
        )


# Delimits the one marker item a chrome is rendered with (see marker() in pages_entry.py:
# no template and no catalog text holds a NUL).
_MARKER_DELIMITER = b"\x00"


def _item_marker(entry: None, heading: str) -> Markup:
    """Stands for the list's items in a chrome: the heading they are drawn with, between
    delimiters (the page's bytes are split there and the items joined in)."""
    return Markup(f"\x00{heading}\x00")


def render(catalog: Catalog) -> dict[str, bytes | Body]:
    pages = PageRenderer(catalog)
    outputs = _front_pages(pages)
    outputs.update(_entry_pages(pages, catalog.entries))
    outputs.update(_back_pages(pages))
    return outputs


# `render` in parts, for the two processes of `feeds build`: one renders the lists, and
# the entry pages are cut in runs that either process may render (see build.py).


def render_lists(catalog: Catalog) -> dict[str, bytes | Body]:
    """Every page `render` gives but the entries' own."""
    pages = _renderer(catalog)
    outputs = _front_pages(pages)
    outputs.update(_back_pages(pages))
    return outputs


def render_entries(catalog: Catalog, start: int, stop: int) -> dict[str, Body]:
    """The pages of `catalog.entries[start:stop]`, as `render` gives them."""
    return _entry_pages(_renderer(catalog), catalog.entries[start:stop])


def _renderer(catalog: Catalog) -> PageRenderer:
    """One PageRenderer per catalog and build, shared by the parts (its setup sorts the
    entries by tag). `render`, in one piece, makes its own and keeps none."""
    return _RENDERERS.get(catalog, lambda: PageRenderer(catalog))


_RENDERERS: ByIdentity[Catalog, PageRenderer] = ByIdentity("pages.renderer")


def _front_pages(pages: PageRenderer) -> dict[str, bytes | Body]:
    outputs: dict[str, bytes | Body] = {f"/{name}": static_file(name) for name in STATIC_FILES}
    outputs["/feed.xsl"] = pages.feed_xsl()
    outputs["/"] = pages.home()
    outputs["/events/"] = pages.events()
    outputs[SUBSCRIBE_PATH] = pages.subscribe()
    outputs["/embed/"] = pages.embed()
    outputs["/404.html"] = pages.not_found()
    return outputs


def _entry_pages(pages: PageRenderer, entries: tuple[Entry, ...]) -> dict[str, Body]:
    return {ids.entry_page_path(entry.id): pages.entry_body(entry) for entry in entries}


def _back_pages(pages: PageRenderer) -> dict[str, bytes | Body]:
    outputs: dict[str, bytes | Body] = {
        ids.tag_path(tag): pages.tag(tag) for tag in pages.catalog.tags
    }
    outputs.update(pages.events_json())
    outputs.update(sitemap.render(pages.catalog))
    return outputs
