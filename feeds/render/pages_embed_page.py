"""`/embed/`, the frame page other sites embed, and the snippets the home page offers
for it and for the widget. Which entries the page holds is the renderer's choice
(pages.py); here they are drawn, each item cached by content (`_EMBED_ITEMS`).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from functools import cached_property
from typing import Any

from markupsafe import Markup

from ..model import Entry
from .entry_key import EntryKey
from .pages_context import Formats, Links
from .pages_embed import EMBED_DEFAULTS, EMBED_LIMIT_MAX
from .pages_env import render_template, template_module
from .pages_items import PageItems

# Each entry's item on /embed/ (publication or event; a publication's item is hidden past
# the default limit): the page lists ~750 entries, an edit re-renders the items it changed.
_EMBED_ITEMS: PageItems[tuple[str, EntryKey, bool], Markup] = PageItems("pages.embed_item")


class EmbedPage:
    """The frame page of one build: `site`, `links`, `fmt` and `words` as every page's."""

    def __init__(
        self, site: dict[str, Any], links: Links, fmt: Formats, words: dict[str, Callable[..., str]]
    ) -> None:
        self.site = site
        self.links = links
        self.fmt = fmt
        self.words = words

    def render(self, publications: tuple[Entry, ...], events: tuple[Entry, ...]) -> bytes:
        return render_template(
            "embed.html",
            site=self.site,
            links=self.links,
            fmt=self.fmt,
            **self.words,
            publications=publications,
            events=events,
            defaults=EMBED_DEFAULTS,
            limit_max=EMBED_LIMIT_MAX,
            publication_item=self._publication,
            event_item=self._event,
        )

    def _publication(self, entry: Entry, hidden: bool) -> Markup:
        """A publication's item on the embed page, cached (see _EMBED_ITEMS)."""
        key = ("publication", EntryKey(self.links.feed, entry), hidden)
        return _EMBED_ITEMS.get(key, lambda: self._macros.publication(entry, hidden))

    def _event(self, entry: Entry) -> Markup:
        """An event's item on the embed page, cached (see _EMBED_ITEMS)."""
        key = ("event", EntryKey(self.links.feed, entry), False)
        return _EMBED_ITEMS.get(key, lambda: self._macros.event(entry))

    @cached_property
    def _macros(self) -> Any:
        return template_module("_embed_items.html", links=self.links, fmt=self.fmt, **self.words)


def snippets(links: Links) -> dict[str, str]:
    """The home page's snippets to copy: the frame and the widget, linking here."""
    url = links.absolute
    title = links.feed.title
    iframe = (
        f'<iframe src="{url("/embed/")}?kind=events&amp;limit=5" title="{html.escape(title)}"'
        ' width="100%" height="420" loading="lazy"></iframe>'
    )
    widget = (
        f'<script src="{url("/embed.js")}" defer></script>\n'
        f'<feeds-widget src="{url("/feed.json")}" kind="publications" limit="5" theme="auto">\n'
        f'  <a href="{url("/")}">{html.escape(title)}</a>\n'
        "</feeds-widget>"
    )
    return {"iframe": iframe, "widget": widget}
