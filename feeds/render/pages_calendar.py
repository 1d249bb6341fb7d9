"""Dates as people read them, and the links that put feeds and events into calendar apps.

Everything here is text for the pages: English day and month names from fixed tables
(never the process locale, so output is the same on every machine), times shown in the
event's own zone with the zone named, and URLs for Google Calendar and Outlook built
with `urlencode` (every value percent-encoded).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from ..model import Entry, Event, Feed
from ..text import summary_text

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
    """The last calendar day an event touches, in its own zone."""
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


def _details(entry: Entry, feed: Feed, page_url: str) -> str:
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


def google_template_url(entry: Entry, feed: Feed, page_url: str) -> str:
    event = entry.event
    assert event is not None
    if event.all_day:
        assert not isinstance(event.start, datetime)
        dates = f"{event.start:%Y%m%d}/{_exclusive_end(event):%Y%m%d}"
    else:
        assert isinstance(event.start, datetime) and isinstance(event.end, datetime)
        dates = f"{_utc_stamp(event.start)}/{_utc_stamp(event.end)}"
    params = {"action": "TEMPLATE", "text": entry.title, "dates": dates}
    params["details"] = _details(entry, feed, page_url)
    if event.location:
        params["location"] = event.location
    if event.timezone and not event.all_day:
        params["ctz"] = event.timezone
    if event.rrule:
        params["recur"] = "RRULE:" + event.rrule
    query = urlencode(params, safe="/", quote_via=quote)
    return "https://calendar.google.com/calendar/render?" + query


def outlook_compose_url(entry: Entry, feed: Feed, page_url: str) -> str:
    event = entry.event
    assert event is not None
    if event.all_day:
        assert not isinstance(event.start, datetime)
        start, end = event.start.isoformat(), _exclusive_end(event).isoformat()
    else:
        assert isinstance(event.start, datetime) and isinstance(event.end, datetime)
        start = event.start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        end = event.end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    params = {
        "path": "/calendar/action/compose",
        "rru": "addevent",
        "subject": entry.title,
        "startdt": start,
        "enddt": end,
        "allday": "true" if event.all_day else "false",
        "body": _details(entry, feed, page_url),
    }
    if event.location:
        params["location"] = event.location
    return "https://outlook.live.com/calendar/0/action/compose?" + urlencode(
        params, quote_via=quote
    )
