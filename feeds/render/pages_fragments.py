"""The macros of `_macros.html` that every entry is drawn with, written in Python.

`entry_item` (an entry in the lists of `/`, `/events/` and the tag pages: 3,300 items on
`/events/` alone at 10k entries) and `entry_meta` and `tag_list` (also on each entry
page) cost ~100 µs a call through Jinja's macro machinery and a few µs here. The
templates stay the specification: `tests/test_pages_speed_entry.py` renders every
item both ways and requires the same bytes, whitespace included (what `trim_blocks`
and `lstrip_blocks` leave of the template's lines). Change the two together.

Text from the catalog is escaped by `escape` below, as Jinja's autoescaping does. Every
word comes from the message catalog (feeds.i18n) through the build's `gettext`, as the
templates' `_()` and `{% trans %}` take them: escaped where the template writes
`{{ _(...) }}`, as it is where it writes `{% trans %}` (which marks its text safe).
Dates come from the language's formats (pages_dates.py); ISO dates are not escaped:
escaping would leave them as they are.
"""

from __future__ import annotations

from collections.abc import Callable

from markupsafe import Markup

from ..model import Entry, Event
from . import pages_calendar as cal
from .ics_rrule import is_unbounded
from .pages_dates import Dates


def escape(text: str) -> str:
    """What Jinja's autoescaping (markupsafe's `escape`) writes for `text`.

    The same five replacements, without making a Markup object of each result: on the
    short texts of a catalog this takes a quarter of the time, and a 10k build escapes
    ~100,000 of them (tests/test_pages_speed_entry.py compares the two).
    """
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&#34;")
        .replace("'", "&#39;")
    )


class Fragments:
    """The fragments of one build's pages (links depend on the Site's base URL, words
    and dates on its language)."""

    def __init__(
        self,
        entry_url: Callable[[Entry], str],
        tag_url: Callable[[str], str],
        gettext: Callable[[str], str],
        dates: Dates,
    ) -> None:
        self.entry_url = entry_url
        self.tag_url = tag_url
        self.gettext = gettext
        self.dates = dates
        # Each tag's line of a tag list, written once per build: 30 tags, 20,000 uses.
        self._tag_lines: dict[str, str] = {}
        _ = gettext
        # The words of the lists' items, looked up once per build, escaped as the
        # templates' `{{ _(...) }}` are.
        self._tags_list = f'<ul class="tags" aria-label="{escape(_("Tags"))}">\n'
        self._event = f'<span class="type type-event">{escape(_("Event"))}</span>'
        self._published = escape(_("Published"))
        self._cancelled = escape(_("Cancelled"))
        self._tentative = escape(_("Tentative"))
        self._repeats = escape(_(", repeats"))

    def entry_item(self, entry: Entry, heading: str) -> Markup:
        """The `entry_item` macro."""
        event = entry.event
        cancelled = " is-cancelled" if event and event.status == "cancelled" else ""
        last_day = f' data-last-day="{_last_day(event)}"' if event else ""
        heading = escape(heading)
        url = escape(self.entry_url(entry))
        lang = f' lang="{escape(entry.language)}"' if entry.language else ""
        return Markup(
            f'<li class="item{cancelled}"{last_day}>\n'
            f'  <{heading} class="item-title"><a href="{url}"{lang}>{escape(entry.title)}</a>'
            f"</{heading}>\n"
            # `{% if %}` at the start of its line: lstrip_blocks drops the indentation,
            # trim_blocks the newline after `{% endif %}`.
            f"{self.event_line(event) if event else ''}"
            f"  {self.entry_meta(entry)}\n"
            f"  {self.tag_list(entry.tags)}\n"
            "</li>\n"
        )

    def tag_list(self, tags: tuple[str, ...]) -> str:
        """The `tag_list` macro."""
        if not tags:
            return ""
        lines = "".join([self._tag_line(tag) for tag in tags])
        return f"{self._tags_list}{lines}</ul>\n"

    def _tag_line(self, tag: str) -> str:
        line = self._tag_lines.get(tag)
        if line is None:
            line = f'  <li><a href="{escape(self.tag_url(tag))}">{escape(tag)}</a></li>\n'
            self._tag_lines[tag] = line
        return line

    def entry_meta(self, entry: Entry) -> str:
        """The `entry_meta` macro."""
        out = ['<p class="meta">\n']
        if entry.type:
            out.append(f'<span class="type">{escape(entry.type)}</span>')
        if entry.is_event:
            out.append(self._event)
        if entry.published:
            out.append(
                f'<span>{self._published} <time datetime="{entry.published.isoformat()}">'
                f"{escape(self.dates.day(entry.published.date()))}</time></span>"
            )
        out.append("</p>\n")
        return "".join(out)

    def event_line(self, event: Event) -> str:
        """The `event_line` macro."""
        out = ['<p class="when">\n']
        if event.status == "cancelled":
            out.append(f'<strong class="status status-cancelled">{self._cancelled}</strong>')
        elif event.status == "tentative":
            out.append(f'<strong class="status status-tentative">{self._tentative}</strong>')
        when = escape(self.dates.when(event))
        out.append(f'<time datetime="{cal.iso(event.start)}">{when}</time>')
        if event.rrule:
            out.append(self._repeats)
        if event.location:
            out.append(f'<span class="where"> · {escape(event.location)}</span>')
        out.append("</p>\n")
        return "".join(out)


def _last_day(event: Event) -> str:
    """`Formats.last_day`: empty for a rule that never ends."""
    return "" if is_unbounded(event) else cal.last_day(event).isoformat()
