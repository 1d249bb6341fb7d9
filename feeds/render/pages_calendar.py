"""Dates as people read them, and the links that put feeds and events into calendar apps.

Everything here is text for the pages: English day and month names from fixed tables
(never the process locale, so output is the same on every machine), times shown in the
event's own zone with the zone named, and URLs for Google Calendar and Outlook with
every value percent-encoded.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from ..model import Entry, Event
from .ics_rrule import last_day as recurring_last_day
from .text import summary_text

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip

# Calendar apps put the description in a URL; keep it well inside what browsers and
# servers accept (Outlook answers 414 to very long URLs).
_DETAILS_MAX_CHARS = 1000


def month_name(month: int) -> str:
    return _MONTHS[month - 1]


def day_text(day: date) -> str:
    """ "Tue 21 May 2019"."""
    return f"{_WEEKDAYS[day.weekday()]} {day.day} {month_name(day.month)} {day.year}"


def days_text(first: date, last: date) -> str:
    """A span of days, the shared month and year said once: "Tue 21 – Wed 22 May 2019"."""
    if first == last:
        return day_text(first)
    if first.year != last.year:
        return f"{day_text(first)} – {day_text(last)}"
    head = f"{_WEEKDAYS[first.weekday()]} {first.day}"
    if first.month != last.month:
        head += f" {month_name(first.month)}"
    return f"{head} – {day_text(last)}"


def zone_label(event: Event, moment: datetime) -> str:
    """The zone a timed event is shown in: its name and UTC offset, "Europe/Brussels, UTC+02:00"."""
    offset = moment.strftime("%z")
    utc = "UTC" if offset in ("+0000", "") else f"UTC{offset[:3]}:{offset[3:]}"
    return f"{event.timezone}, {utc}" if event.timezone else utc


def span_text(event: Event, start: date | datetime, end: date | datetime) -> str:
    """One occurrence as text: all-day spans as days, timed spans in the event's zone."""
    if not isinstance(start, datetime) or not isinstance(end, datetime):
        return days_text(start, end)
    clock = f"{start:%H:%M}"
    if start.date() == end.date():
        text = f"{day_text(start.date())}, {clock} – {end:%H:%M}"
    else:
        text = f"{day_text(start.date())} {clock} – {day_text(end.date())} {end:%H:%M}"
    return f"{text} ({zone_label(event, start)})"


def when_text(event: Event) -> str:
    return span_text(event, event.start, event.end)


def iso(value: date | datetime) -> str:
    """Machine-readable form for `<time datetime>` and data attributes."""
    return value.isoformat()


def last_day(event: Event) -> date:
    """The last calendar day an event touches, in its own zone; for a recurring event,
    its last occurrence's (so it stays "upcoming" until then), as the calendars expand it."""
    if event.rrule:
        return recurring_last_day(event)
    end = event.end
    return end.date() if isinstance(end, datetime) else end


def map_url(geo: tuple[float, float]) -> str:
    lat, lon = geo
    return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=15/{lat}/{lon}"


# --- subscribing to a whole calendar -------------------------------------------------


def webcal_url(https_url: str) -> str:
    """The same calendar under the webcal: scheme, which opens the system calendar app."""
    parts = urlsplit(https_url)
    return urlunsplit(("webcal", *parts[1:]))


def google_subscribe_url(https_url: str) -> str:
    return "https://calendar.google.com/calendar/r?cid=" + quote(webcal_url(https_url), safe="")


def outlook_subscribe_url(https_url: str, name: str) -> str:
    query = urlencode({"url": https_url, "name": name}, quote_via=quote)
    return "https://outlook.live.com/calendar/0/addfromweb?" + query


# --- adding one event ----------------------------------------------------------------

# `quote(text, safe="")` as a table: every UTF-8 byte but RFC 3986's unreserved ones as
# %XX, indexed by byte value (see percent_encode).
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")
_PERCENT_ENCODED = [chr(b) if chr(b) in _UNRESERVED else f"%{b:02X}" for b in range(256)]


def percent_encode(text: str) -> str:
    """The same as `urllib.parse.quote(text, safe="")`, about twice as fast on long text.

    The add-to-calendar links carry the event's description, up to 1,000 characters per
    link for each of 3,000 events at 10k entries; `quote` looks every byte up with a
    Python-level call, `str.translate` does it in C. The UTF-8 bytes are seen as
    Latin-1 text so that each byte is one character of the table.
    """
    return text.encode("utf-8").decode("latin-1").translate(_PERCENT_ENCODED)


def _details(entry: Entry, page_url: str) -> str:
    text = summary_text(entry.summary)
    if len(text) > _DETAILS_MAX_CHARS:
        text = text[: _DETAILS_MAX_CHARS - 1].rstrip() + "…"
    return f"{text}\n\n{page_url}" if text else page_url


def _exclusive_end(event: Event) -> date:
    """Calendar apps end all-day events on the day after the last one (RFC 5545 DTEND)."""
    assert not isinstance(event.end, datetime)
    return event.end + timedelta(days=1)


def _utc_stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _query(params: list[tuple[str, str]]) -> str:
    """`urlencode(params, quote_via=quote)` for values already percent-encoded."""
    return "&".join(f"{name}={value}" for name, value in params)


def add_event_urls(entry: Entry, page_url: str) -> tuple[str, str]:
    """The Google Calendar and Outlook.com links that open a new event filled in from
    `entry`, with the description ending in the page's URL.

    Both carry the title, description and place: each is percent-encoded once here.
    """
    event = entry.event
    assert event is not None
    title = percent_encode(entry.title)
    details = percent_encode(_details(entry, page_url))
    location = percent_encode(event.location) if event.location else None
    return (
        _google_template_url(event, title, details, location),
        _outlook_compose_url(event, title, details, location),
    )


def _google_template_url(event: Event, title: str, details: str, location: str | None) -> str:
    if event.all_day:
        assert not isinstance(event.start, datetime)
        dates = f"{event.start:%Y%m%d}/{_exclusive_end(event):%Y%m%d}"
    else:
        assert isinstance(event.start, datetime) and isinstance(event.end, datetime)
        dates = f"{_utc_stamp(event.start)}/{_utc_stamp(event.end)}"
    params = [
        ("action", "TEMPLATE"),
        ("text", title),
        ("dates", percent_encode(dates)),
        ("details", details),
    ]
    if location:
        params.append(("location", location))
    if event.timezone and not event.all_day:
        params.append(("ctz", percent_encode(event.timezone)))
    if event.rrule:
        params.append(("recur", percent_encode("RRULE:" + event.rrule)))
    # Google's links keep "/" as it is (`quote(value, safe="/")`). Every value is encoded
    # with nothing safe, so each "%2F" in the query is an encoded "/" (a "%" of the text
    # itself is "%25"), and the names and separators hold none.
    return "https://calendar.google.com/calendar/render?" + _query(params).replace("%2F", "/")


def _outlook_compose_url(event: Event, title: str, details: str, location: str | None) -> str:
    if event.all_day:
        assert not isinstance(event.start, datetime)
        start, end = event.start.isoformat(), _exclusive_end(event).isoformat()
    else:
        assert isinstance(event.start, datetime) and isinstance(event.end, datetime)
        start = event.start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        end = event.end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    params = [
        ("path", percent_encode("/calendar/action/compose")),
        ("rru", "addevent"),
        ("subject", title),
        ("startdt", percent_encode(start)),
        ("enddt", percent_encode(end)),
        ("allday", "true" if event.all_day else "false"),
        ("body", details),
    ]
    if location:
        params.append(("location", location))
    return "https://outlook.live.com/calendar/0/action/compose?" + _query(params)
