"""What search engines and social sites read in a page's head: schema.org JSON-LD and the
Open Graph locale.

- An event's page describes it as a schema.org `Event` with what Google's event rich
  results require and recommend; a publication's page as an `Article` (a `NewsArticle`
  when its type says news); the home and tag pages as a `CollectionPage` whose
  `ItemList` links the entries they show, /events/ as a `CollectionPage` alone.
- `script_element` is the one place JSON-LD becomes HTML, for the dicts (`entry_head`,
  the templates' way) and for `EntryJsonLd` (the entry pages' fast way, which must
  write the same bytes): catalog text stays data inside the script element, whatever
  it holds.

Pure functions of the catalog: the same catalog gives the same bytes.
"""

from __future__ import annotations

import json
import locale
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from json.encoder import encode_basestring as _string  # a JSON string, quoted (C)
from typing import Any

from markupsafe import Markup

from ..model import Entry, Event, EventStatus, Feed
from .text import summary_text

SCHEMA = "https://schema.org"

# schema.org's EventStatusType. "tentative" (planned, not yet confirmed: RFC 5545's
# TENTATIVE) is EventScheduled: the date stands as announced. EventPostponed would tell
# search engines the date no longer holds (postponed to a date not yet known), which a
# tentative event has not said; EventRescheduled needs a previousStartDate we lack.
EVENT_STATUS: Mapping[EventStatus, str] = {
    "confirmed": f"{SCHEMA}/EventScheduled",
    "tentative": f"{SCHEMA}/EventScheduled",
    "cancelled": f"{SCHEMA}/EventCancelled",
}
OFFLINE = f"{SCHEMA}/OfflineEventAttendanceMode"
ONLINE = f"{SCHEMA}/OnlineEventAttendanceMode"

# What could end the script element or start a comment in it (`</script`, `<!--`) and
# what a script reading the text as JavaScript would take for a line end: written as
# JSON escapes, which every JSON-LD reader decodes back to the same characters.
# (str.replace, in C: str.translate with a table looks up every character in Python.)
_SCRIPT_UNSAFE = (
    ("<", "\\u003c"),
    (">", "\\u003e"),
    ("&", "\\u0026"),
    ("\u2028", "\\u2028"),
    ("\u2029", "\\u2029"),
)
# json.dumps(..., ensure_ascii=False, separators=(",", ":")), without making an encoder
# for each of the 10,000 entry pages of a large catalog.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
# A location that is nothing but a web address: the event happens there, online.
_WEB_ADDRESS = re.compile(r"https?://\S+")
# An Open Graph locale: language_TERRITORY (ISO 639 and ISO 3166 alpha-2).
_OG_LOCALE = re.compile(r"[a-z]{2,3}_[A-Z]{2}")


def json_ld_script(data: Mapping[str, Any]) -> Markup:
    """`data` as a `<script type="application/ld+json">` element (and a line end).

    JSON with `<`, `>`, `&`, U+2028 and U+2029 escaped: no catalog text can close the
    element (`</script>`), open a comment that would hide its end (`<!--`), or be read
    as markup; the escapes are JSON's own, so `json.loads` of the element's text gives
    every string back exactly. Browsers run no data block, so the pages' CSP
    (`script-src 'self'`) has nothing to refuse."""
    return Markup(script_element(_ENCODER.encode(data)))


def script_element(text: str) -> str:
    """JSON text as the script element's HTML (see json_ld_script): the one place that
    makes it safe, for the dicts below and for `EntryJsonLd`'s text alike."""
    for unsafe, escaped in _SCRIPT_UNSAFE:
        if unsafe in text:  # a fast scan (memchr); most texts need one replace or none
            text = text.replace(unsafe, escaped)
    return f'<script type="application/ld+json">{text}</script>\n'


def og_locale(language: str) -> str | None:
    """The catalog's language (BCP 47: `en`, `pt-BR`, `sr-Latn-RS`) as Open Graph's
    `language_TERRITORY`, or None when it has no such form (no meta is then written).

    A tag with a region keeps it (`pt-BR` -> `pt_BR`); a bare language takes the region
    the C library's locale aliases give it (`en` -> `en_US`, `fr` -> `fr_FR`, `pt` ->
    `pt_PT`, `nl` -> `nl_NL`): the standard library's table (`locale.normalize`), the
    one glibc and X11 use, read without touching the process's locale."""
    parts = language.split("-")
    lang = parts[0].lower()
    region = next((p for p in parts[1:] if len(p) == 2 and p.isalpha()), None)
    if region is not None:
        found = f"{lang}_{region.upper()}"
    else:
        found = locale.normalize(lang).split(".", 1)[0]
    return found if _OG_LOCALE.fullmatch(found) else None


def organization(feed: Feed) -> dict[str, Any]:
    """Who publishes: `feed.author` (else the feed's title), linked to its `uri` (else
    the publisher's site, `feed.link`). An Organization: a catalog is a network's or a
    company's, and schema.org and Google accept one wherever a Person would do."""
    author = feed.author
    name = author.name if author is not None else feed.title
    url = author.uri if author is not None and author.uri else feed.link
    return {"@type": "Organization", "name": name, "url": url}


def entry_head(feed: Feed, entry: Entry, page_url: str) -> Markup:
    """What an entry page adds to its head: the entry as JSON-LD, and for a publication
    its Open Graph article times. The specification, from the dicts below: the Site's
    entry pages are written by `EntryJsonLd.head`, which must give the same text
    (tests/test_pages_speed_entry.py renders the pages both ways)."""
    if entry.event is not None:
        return json_ld_script(event_data(feed, entry, entry.event, page_url))
    data = article_data(feed, entry, page_url)
    meta = _article_times(data.get("datePublished"), data.get("dateModified"))
    return Markup(meta) + json_ld_script(data)  # Markup + Markup: neither escaped


def _article_times(published: str | None, modified: str | None) -> str:
    """Open Graph's article times (ISO 8601 dates: nothing to escape)."""
    meta = ""
    if published is not None:
        meta += f'<meta property="article:published_time" content="{published}">\n'
    if modified is not None:
        meta += f'<meta property="article:modified_time" content="{modified}">\n'
    return meta


def event_data(feed: Feed, entry: Entry, event: Event, page_url: str) -> dict[str, Any]:
    """schema.org Event. A recurring event is described by its first occurrence, as its
    page's "When" shows it (Google reads one Event per date; its calendar file has them
    all)."""
    data: dict[str, Any] = {
        "@context": SCHEMA,
        "@type": "Event",
        "name": entry.title,
        "startDate": _when(event.start),
        # All-day: the catalog's end is the last day, inclusive, as schema.org's is.
        "endDate": _when(event.end),
        "eventStatus": EVENT_STATUS[event.status],
    }
    data.update(_where(event))
    description = summary_text(entry.summary)
    if description:
        data["description"] = description
    data["url"] = page_url
    data["inLanguage"] = feed.language
    data["organizer"] = organization(feed)
    return data


def _when(value: date | datetime) -> str:
    """A date (all-day), or a date and time with its UTC offset (timed)."""
    return value.isoformat()


def _where(event: Event) -> dict[str, Any]:
    """`location` and `eventAttendanceMode`. A location that is only a web address is a
    VirtualLocation (online); any other location or coordinates are a Place (offline).
    Neither: nothing is said, rather than guessed."""
    if event.location is not None and _WEB_ADDRESS.fullmatch(event.location):
        return {
            "eventAttendanceMode": ONLINE,
            "location": {"@type": "VirtualLocation", "url": event.location},
        }
    if event.location is None and event.geo is None:
        return {}
    place: dict[str, Any] = {"@type": "Place"}
    if event.location is not None:
        # Free text ("Antwerp, Belgium"): schema.org takes a text address as it is.
        place["name"] = event.location
        place["address"] = event.location
    if event.geo is not None:
        latitude, longitude = event.geo
        place["geo"] = {"@type": "GeoCoordinates", "latitude": latitude, "longitude": longitude}
    return {"eventAttendanceMode": OFFLINE, "location": place}


def article_type(entry: Entry) -> str:
    """NewsArticle when the entry's type has the word "news" in it, else Article."""
    return "NewsArticle" if "news" in (entry.type or "").casefold().split() else "Article"


def article_data(feed: Feed, entry: Entry, page_url: str) -> dict[str, Any]:
    publisher = organization(feed)
    data: dict[str, Any] = {
        "@context": SCHEMA,
        "@type": article_type(entry),
        "headline": entry.title,
    }
    description = summary_text(entry.summary)
    if description:
        data["description"] = description
    published, modified = entry.published, entry.modified
    if published is not None:
        data["datePublished"] = published.isoformat()
    if modified is not None:  # usually the published date itself: written once
        data["dateModified"] = (
            data["datePublished"] if modified is published else modified.isoformat()
        )
    data["author"] = publisher
    data["publisher"] = publisher
    data["url"] = page_url
    data["mainEntityOfPage"] = page_url
    data["inLanguage"] = feed.language
    return data


def collection_page(
    feed: Feed,
    page_url: str,
    name: str,
    description: str,
    items: Iterable[tuple[str, str]] | None,
) -> Markup:
    """A list page as a CollectionPage; with `items` ((url, name) of each entry shown, in
    page order), its ItemList."""
    data: dict[str, Any] = {
        "@context": SCHEMA,
        "@type": "CollectionPage",
        "name": name,
        "description": description,
        "url": page_url,
        "inLanguage": feed.language,
        "isPartOf": {"@type": "WebSite", "name": feed.title, "url": feed.url("/")},
        "publisher": organization(feed),
    }
    if items is not None:
        elements = [
            {"@type": "ListItem", "position": position, "url": url, "name": item_name}
            for position, (url, item_name) in enumerate(items, 1)
        ]
        data["mainEntity"] = {
            "@type": "ItemList",
            "numberOfItems": len(elements),
            "itemListElement": elements,
        }
    return json_ld_script(data)


class EntryJsonLd:
    """`entry_head` for one catalog's entry pages, written as JSON text from the entry's
    encoded strings and the parts every page shares (encoded once): at 10k entries the
    dicts and their encoding took 270 ms of CPU, this 116 ms (entry pages 1.0-1.2 s).
    Follows `event_data` and `article_data` key by key, with `json.dumps`'s rules
    (`encode_basestring` for strings, `repr` for numbers); the entry pages written with
    it must equal entry.html's, whose head is `entry_head`'s (test_pages_speed_entry)."""

    def __init__(self, feed: Feed) -> None:
        publisher = _ENCODER.encode(organization(feed))
        language = _string(feed.language)
        self._event_tail = f',"inLanguage":{language},"organizer":{publisher}}}'
        self._article_tail = f',"author":{publisher},"publisher":{publisher}'
        self._language = f',"inLanguage":{language}}}'

    def head(self, entry: Entry, page_url: str, description: str) -> Markup:
        """`entry_head(feed, entry, page_url)`; `description`: the summary's text (the
        page has it already: `summary_text(entry.summary)`)."""
        if entry.event is not None:
            return Markup(script_element(self._event(entry, entry.event, page_url, description)))
        published = entry.published.isoformat() if entry.published is not None else None
        modified = entry.modified
        if modified is None or modified is entry.published:
            modified_text = published  # usually the published date itself: written once
        else:
            modified_text = modified.isoformat()
        script = script_element(
            self._article(entry, page_url, description, published, modified_text)
        )
        return Markup(_article_times(published, modified_text) + script)

    def _event(self, entry: Entry, event: Event, page_url: str, description: str) -> str:
        text = (
            f'{{"@context":"{SCHEMA}","@type":"Event","name":{_string(entry.title)},'
            f'"startDate":"{_when(event.start)}","endDate":"{_when(event.end)}",'
            f'"eventStatus":"{EVENT_STATUS[event.status]}"'
            f"{_where_text(event)}"
        )
        if description:
            text += f',"description":{_string(description)}'
        return f'{text},"url":{_string(page_url)}{self._event_tail}'

    def _article(
        self,
        entry: Entry,
        page_url: str,
        description: str,
        published: str | None,
        modified: str | None,
    ) -> str:
        text = (
            f'{{"@context":"{SCHEMA}","@type":"{article_type(entry)}",'
            f'"headline":{_string(entry.title)}'
        )
        if description:
            text += f',"description":{_string(description)}'
        if published is not None:
            text += f',"datePublished":"{published}"'
        if modified is not None:
            text += f',"dateModified":"{modified}"'
        url = _string(page_url)
        return f'{text}{self._article_tail},"url":{url},"mainEntityOfPage":{url}{self._language}'


def _where_text(event: Event) -> str:
    """`_where` as JSON members (with their leading comma), or nothing."""
    location = event.location
    if location is not None and _WEB_ADDRESS.fullmatch(location):
        return (
            f',"eventAttendanceMode":"{ONLINE}",'
            f'"location":{{"@type":"VirtualLocation","url":{_string(location)}}}'
        )
    if location is None and event.geo is None:
        return ""
    place = '{"@type":"Place"'
    if location is not None:
        name = _string(location)
        place += f',"name":{name},"address":{name}'
    if event.geo is not None:
        latitude, longitude = event.geo
        place += (
            f',"geo":{{"@type":"GeoCoordinates","latitude":{latitude!r},"longitude":{longitude!r}}}'
        )
    return f',"eventAttendanceMode":"{OFFLINE}","location":{place}}}'
