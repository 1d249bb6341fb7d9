"""What the page templates are given beside the entries: the Site's links (`Links`),
date and place formats (`Formats`), and the addresses of the subscribe blocks and the
`<link rel="alternate">` of each page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from .. import ids
from ..model import Entry, Event, Feed
from . import pages_calendar as cal
from .ics_rrule import is_unbounded
from .pages_dates import Dates
from .pages_env import base_path


@dataclass(frozen=True)
class Links:
    """URLs as pages write them: root-relative under the Site's mount path, or absolute."""

    feed: Feed

    @cached_property
    def base(self) -> str:  # every page asks a dozen times: parse the URL once
        return base_path(self.feed.base_url)

    def page(self, path: str) -> str:
        return self.base + path.lstrip("/")

    def absolute(self, path: str) -> str:
        return self.feed.url(path)

    def entry(self, entry: Entry) -> str:
        return self.page(ids.entry_page_path(entry.id))

    def tag(self, tag: str) -> str:
        return self.page(ids.tag_path(tag))


class Formats:
    """Date and place formatting in the catalog's language, exposed to templates as `fmt`."""

    def __init__(self, dates: Dates) -> None:
        self.day = dates.day
        self.when = dates.when
        self.span = dates.span

    iso = staticmethod(cal.iso)
    map = staticmethod(cal.map_url)

    @staticmethod
    def last_day(event: Event) -> str:
        """`data-last-day` for the upcoming/past split; empty for a rule that never ends."""
        return "" if is_unbounded(event) else cal.last_day(event).isoformat()


@dataclass(frozen=True)
class Subscribe:
    """The feed and calendar addresses of one subscribe block (site-wide or one tag)."""

    id: str
    atom_path: str
    rss_path: str
    json_path: str
    atom_url: str
    rss_url: str
    json_url: str
    ics_url: str
    webcal_url: str
    google_url: str
    outlook_url: str
    feeds_help: str  # where /subscribe/ says what to do with the feed address
    calendars_help: str  # ... and with the calendar's


SUBSCRIBE_PATH = "/subscribe/"


def subscribe_links(links: Links, tag: str | None) -> Subscribe:
    folder = "/" if tag is None else ids.tag_path(tag)
    ics_path = "/events.ics" if tag is None else f"{folder}events.ics"
    ics_url = links.absolute(ics_path)
    name = links.feed.title if tag is None else f"{links.feed.title}: {tag}"
    help_page = links.page(SUBSCRIBE_PATH)
    return Subscribe(
        id="site" if tag is None else "tag",
        atom_path=links.page(f"{folder}feed.atom"),
        rss_path=links.page(f"{folder}feed.rss"),
        json_path=links.page(f"{folder}feed.json"),
        atom_url=links.absolute(f"{folder}feed.atom"),
        rss_url=links.absolute(f"{folder}feed.rss"),
        json_url=links.absolute(f"{folder}feed.json"),
        ics_url=ics_url,
        webcal_url=cal.webcal_url(ics_url),
        google_url=cal.google_subscribe_url(ics_url),
        outlook_url=cal.outlook_subscribe_url(ics_url, name),
        feeds_help=f"{help_page}#feeds" if tag is None else f"{help_page}#tag-{tag}",
        calendars_help=f"{help_page}#calendars" if tag is None else f"{help_page}#tag-{tag}",
    )


def alternates(
    links: Links, tag: str | None, gettext: Callable[[str], str]
) -> list[dict[str, str]]:
    """`<link rel="alternate">` for feed autodiscovery: the site's feeds, then the tag's
    (titles a reader shows when it finds them; "calendar" in the catalog's language)."""
    found = []
    for folder, label in [("/", links.feed.title)] + (
        [(ids.tag_path(tag), f"{links.feed.title}: {tag}")] if tag else []
    ):
        for extension, media, kind in (
            ("feed.atom", "application/atom+xml", "Atom"),
            ("feed.rss", "application/rss+xml", "RSS"),
            ("feed.json", "application/feed+json", "JSON Feed"),
            ("events.ics", "text/calendar", gettext("calendar")),
        ):
            found.append(
                {
                    "type": media,
                    "href": links.page(folder + extension),
                    "title": f"{label} ({kind})",
                }
            )
    return found
