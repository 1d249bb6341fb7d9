"""Entry pages (`/entries/<id>/`) written by Python code that follows `entry.html`.

A catalog has one entry page per entry: at 10,000 entries they are nearly all of the
pages' work in a cold build. Through Jinja each cost ~250 µs: a new context, base.html's
head, header and footer rendered again, and each helper and macro call going through
`Context.call`. Here:

- What every entry page shares is rendered from the templates once per build:
  `entry_chrome.html` is entry.html with its main block replaced, rendered with a
  marker in place of each page's own text (its id, title, description and head: the
  JSON-LD that `seo.entry_head` writes for both ways), then split at the markers
  (`EntryChrome`).
- The main block is written by `EntryPageWriter.main`, which mirrors entry.html's
  `main` block line by line, including the whitespace `trim_blocks` and
  `lstrip_blocks` leave (the macros it calls are in pages_fragments.py).

entry.html stays the specification: `tests/test_pages_speed_entry.py` renders entry
pages both ways (the test catalogs, a generated catalog, random entries) and requires
the same bytes. Change the template and this module together.

Escaping and words as in pages_fragments.py: catalog text and the words the template
writes with `{{ _(...) }}` through its `escape`; the words of `{% trans %}` blocks as
they are, their catalog values escaped; ISO dates and counts as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from ..model import Entry, Event
from . import pages_calendar as cal
from .pages_fragments import Fragments, escape
from .pages_grid import Occurrence

# The slots of the chrome: each page's own text, filled in by EntryChrome.fill.
CHROME_SLOTS = ("id", "title", "description", "head", "main")


def marker(slot: str) -> str:
    """What stands for `slot` when the chrome is rendered. NUL delimits it: no template
    and no catalog text holds one (the catalog refuses characters XML cannot carry), and
    escaping leaves it as it is."""
    return f"\x00{slot}\x00"


@dataclass(frozen=True)
class CalendarLinks:
    """An event page's add-to-calendar links."""

    ics_path: str
    google_url: str | None  # None: its link would keep the days left out (`exdate`)
    # None for a recurring event: Outlook.com's add-event link has no recurrence, so it
    # would add the first date only; the page sends Outlook users to the .ics instead.
    outlook_url: str | None


@dataclass(frozen=True)
class EntryView:
    """What an entry page shows: the entry and what the page derives from it."""

    entry: Entry
    summary: Markup  # sanitised HTML
    description: str  # plain text for <meta name="description">
    link_host: str  # host of `entry.link`, named on the "full text" link
    occurrences: tuple[Occurrence, ...] = ()  # the first ones of a recurring event
    occurrences_truncated: bool = False
    repeats: str = ""  # a recurring event's rule in words (rule_words.py)
    calendar: CalendarLinks | None = None  # for an event
    head: Markup = Markup("")  # the head's JSON-LD and meta (seo.entry_head)

    def template_context(self) -> dict[str, Any]:
        """The names entry.html reads."""
        return {
            "entry": self.entry,
            "event": self.entry.event,
            "summary": self.summary,
            "description": self.description,
            "link_host": self.link_host,
            "occurrences": self.occurrences,
            "occurrences_truncated": self.occurrences_truncated,
            "repeats": self.repeats,
            "calendar": self.calendar,
            "head": self.head,
        }


class EntryChrome:
    """The page around the main block, as literal text with slots between."""

    def __init__(self, rendered: str) -> None:
        """`rendered`: entry_chrome.html rendered with `marker(slot)` for each slot."""
        texts = rendered.split("\x00")
        literals, slots = texts[0::2], texts[1::2]
        unknown = sorted(set(slots) - set(CHROME_SLOTS))
        if unknown or len(texts) % 2 == 0:
            # A template changed how it writes a slot (a filter, say): the split
            # would not be the template's output any more.
            raise ValueError(f"entry_chrome.html: markers not as expected: {unknown}")
        # Kept encoded: the chrome is half of each page, encoded once instead of per page.
        encoded = [literal.encode("utf-8") for literal in literals]
        self._pieces = list(zip(encoded, [*slots, None], strict=True))

    def fill(self, values: dict[str, str]) -> bytes:
        """The page in UTF-8, with `values[slot]` in each slot."""
        parts = []
        for literal, slot in self._pieces:
            parts.append(literal)
            if slot is not None:
                parts.append(values[slot].encode("utf-8"))
        return b"".join(parts)


class EntryPageWriter:
    """Writes the entry pages of one build."""

    def __init__(self, chrome: EntryChrome, fragments: Fragments) -> None:
        self.chrome = chrome
        self.fragments = fragments

    def page(self, view: EntryView) -> bytes:
        title = escape(view.entry.title)
        values = {
            "id": escape(view.entry.id),
            "title": title,
            "description": escape(view.description),
            "head": str(view.head),
            "main": self.main(view, title),
        }
        return self.chrome.fill(values)

    def main(self, view: EntryView, title: str) -> str:
        """entry.html's `main` block; `title` is the entry's, escaped."""
        entry, event = view.entry, view.entry.event
        fragments = self.fragments
        _ = fragments.gettext
        cancelled = " is-cancelled" if event and event.status == "cancelled" else ""
        out = [
            f'<article class="entry{cancelled}">\n',
            "  <header>\n",
            f"    <h1{_lang(entry)}>{title}</h1>\n",
            f"    {fragments.entry_meta(entry)}\n",
        ]
        if entry.updated and entry.updated != entry.published:
            # A whole `{% if %}` line: no indentation, no newline (lstrip/trim_blocks)
            out.append(
                f'<p class="meta">{escape(_("Updated"))} '
                f'<time datetime="{entry.updated.isoformat()}">'
                f"{escape(fragments.dates.day(entry.updated.date()))}</time></p>"
            )
        out.append(f"    {fragments.tag_list(entry.tags)}\n")
        out.append("  </header>\n")
        if event:
            assert view.calendar is not None
            out.extend(_event_facts(event, view, view.calendar, fragments))
        if view.summary:
            label = escape(_("Summary"))
            out.append(
                f'  <section class="summary" aria-label="{label}"{_lang(entry)}>\n'
                f"  {view.summary}\n"
            )
            out.append("  </section>\n")
        if entry.link:
            more = _("Read the full text on %(host)s") % {"host": escape(view.link_host)}
            out.append(f'  <p class="more"><a href="{escape(entry.link)}">{more}</a></p>\n')
        out.append("</article>\n")
        return "".join(out)


def _lang(entry: Entry) -> str:
    """The ` lang` attribute of the entry's own text (title, summary) if it has its own
    language: the words around it stay in the catalog's."""
    return f' lang="{escape(entry.language)}"' if entry.language else ""


def _event_facts(
    event: Event, view: EntryView, calendar: CalendarLinks, fragments: Fragments
) -> list[str]:
    """entry.html's `event-facts` section."""
    _ = fragments.gettext
    out = [
        '  <section class="event-facts" aria-labelledby="event-h">\n',
        f'    <h2 id="event-h">{escape(_("Event"))}</h2>\n',
    ]
    if event.status == "cancelled":
        notice = _("<strong>Cancelled.</strong> This event will not take place.")
        out.append(f'    <p class="notice notice-cancelled">{notice}</p>\n')
    elif event.status == "tentative":
        notice = _("<strong>Tentative.</strong> This event is planned but not yet confirmed.")
        out.append(f'    <p class="notice notice-tentative">{notice}</p>\n')
    all_day = escape(_(" (all day)")) if event.all_day else ""
    out += [
        '    <dl class="facts">\n',
        f"      <dt>{escape(_('When'))}</dt>\n",
        f'      <dd><time datetime="{cal.iso(event.start)}">'
        f"{escape(fragments.dates.when(event))}</time>{all_day}</dd>\n",
    ]
    if event.rrule:
        out += _repeats(event, view, fragments)
    if event.location or event.geo:
        out.append(f"      <dt>{escape(_('Where'))}</dt>\n      <dd>{_where(event, _)}</dd>\n")
    out.append(f"      <dt>{escape(_('Status'))}</dt>\n      <dd>{_status(event, _)}</dd>\n")
    if event.url:
        out.append(
            f"      <dt>{escape(_('Details'))}</dt>\n"
            f'      <dd><a href="{escape(event.url)}">'
            f"{escape(_('Registration and details'))}</a></dd>\n"
        )
    out.append("    </dl>\n")
    if event.status != "cancelled":  # nothing to add: the notice says why
        out += _add_to_calendar(calendar, _)
    out.append("  </section>\n")
    return out


def _status(event: Event, _: Callable[[str], str]) -> str:
    if event.status == "cancelled":
        return escape(_("Cancelled"))
    if event.status == "tentative":
        return escape(_("Tentative"))
    return escape(_("Confirmed"))


def _add_to_calendar(calendar: CalendarLinks, _: Callable[[str], str]) -> list[str]:
    download = escape(_("Download .ics (Apple Calendar, Outlook, Thunderbird)"))
    out = [
        f"    <h3>{escape(_('Add to your calendar'))}</h3>\n",
        '    <ul class="buttons">\n',
        f'      <li><a class="button" href="{escape(calendar.ics_path)}" type="text/calendar"'
        f" download>{download}</a></li>\n",
    ]
    if calendar.google_url:
        out.append(
            f'      <li><a class="button" href="{escape(calendar.google_url)}">'
            f"{escape(_('Google Calendar'))}</a></li>\n"
        )
    if calendar.outlook_url:
        out.append(
            f'      <li><a class="button" href="{escape(calendar.outlook_url)}">'
            "Outlook.com</a></li>\n"
        )
    out.append("    </ul>\n")
    if not calendar.outlook_url:
        advice = _(
            "Outlook.com: download the .ics and import it (Add calendar, Upload from file);"
            " its add-event link would keep only the first date."
        )
        out.append(f'    <p class="meta">{escape(advice)}</p>\n')
    if not calendar.google_url:
        advice = _(
            "Google Calendar: download the .ics and import it (Settings, Import & export);"
            " its add-event link would keep the days left out."
        )
        out.append(f'    <p class="meta">{escape(advice)}</p>\n')
    return out


def _repeats(event: Event, view: EntryView, fragments: Fragments) -> list[str]:
    out = [
        f"      <dt>{escape(fragments.gettext('Repeats'))}</dt>\n",
        "      <dd>\n",
        f"        <p>{escape(view.repeats)}</p>\n",
        '        <ul class="occurrences">\n',
    ]
    for occurrence in view.occurrences:
        span = fragments.dates.span(event, occurrence.start, occurrence.end)
        out.append(
            f'          <li><time datetime="{cal.iso(occurrence.start)}">'
            f"{escape(span)}</time></li>\n"
        )
    out.append("        </ul>\n")
    if view.occurrences_truncated:
        # lstrip_blocks drops the indentation before `{% if %}`, trim_blocks the newline
        # after `{% endif %}`: the paragraph runs into the next line.
        listed = fragments.gettext(
            "The first %(number)s dates are listed; the calendar file has them all."
        ) % {"number": len(view.occurrences)}
        out.append(f'<p class="meta">{listed}</p>')
    out.append("      </dd>\n")
    return out


def _where(event: Event, _: Callable[[str], str]) -> str:
    location = escape(event.location) if event.location else ""
    if not event.geo:
        return location
    place = escape(event.location or _("the place"))
    link = _('Map<span class="visually-hidden"> of %(place)s on OpenStreetMap</span>')
    return f'{location} <a href="{escape(cal.map_url(event.geo))}">{link % {"place": place}}</a>'
