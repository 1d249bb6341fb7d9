"""iCalendar content lines (RFC 5545 section 3.1): values formatted, escaped and folded.

The VEVENTs are written with these instead of icalendar's Component.to_ical, which
costs about a millisecond an event (property objects, parameter objects, a per-character
fold); these do the same in a twentieth of that. What they write is checked by reading
it back with icalendar and ical.js in the tests, including random text.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from .ics_text import escape_text

CRLF = b"\r\n"
_FIRST_LINE = 75  # octets, excluding CRLF
_CONTINUATION = 74  # plus the leading space
_BACKSLASH = 0x5C


def fold(line: str) -> bytes:
    """One content line, folded at 75 octets, never inside a UTF-8 character or an escape.

    An escape (backslash + character) is kept on one line: unfolding would restore a
    split one, but some clients read physical lines before unfolding.
    """
    data = line.encode("utf-8")
    if len(data) <= _FIRST_LINE:
        return data + CRLF
    parts = []
    start, limit = 0, _FIRST_LINE
    while len(data) - start > limit:
        end = start + limit
        while data[end] & 0xC0 == 0x80:  # a continuation byte: the character began earlier
            end -= 1
        if _ends_inside_escape(data, start, end):
            end -= 1
        parts.append(data[start:end])
        start, limit = end, _CONTINUATION
    parts.append(data[start:])
    return b"\r\n ".join(parts) + CRLF


def _ends_inside_escape(data: bytes, start: int, end: int) -> bool:
    """Whether data[start:end] ends with the backslash of an escape (an odd run of them)."""
    run = 0
    while end - run - 1 >= start and data[end - run - 1] == _BACKSLASH:
        run += 1
    return run % 2 == 1


def text_line(name: str, value: str) -> bytes:
    """A TEXT property: SUMMARY, DESCRIPTION, LOCATION, UID."""
    return fold(f"{name}:{escape_text(value)}")


def texts_line(name: str, values: tuple[str, ...]) -> bytes:
    """A multi-valued TEXT property (CATEGORIES): escaped values joined by commas."""
    return fold(f"{name}:{','.join(escape_text(value) for value in values)}")


def raw_line(name: str, value: str) -> bytes:
    """A property whose value needs no escaping: URI, INTEGER, a status, a RECUR."""
    return fold(f"{name}:{value}")


def geo_line(latitude: float, longitude: float) -> bytes:
    """GEO: two FLOATs. Python's str() would write 1e-05, which FLOAT does not allow."""
    return fold(f"GEO:{_float(latitude)};{_float(longitude)}")


def _float(value: float) -> str:
    """Fixed notation, at most 6 decimals (11 cm of latitude), no trailing zeros."""
    return f"{value:.6f}".rstrip("0").rstrip(".")


def date_line(name: str, value: date) -> bytes:
    return fold(f"{name};VALUE=DATE:{value:%Y%m%d}")


def local_time_line(name: str, value: datetime, tzid: str) -> bytes:
    """A local time in a zone (its VTIMEZONE is in the calendar); `value` is that wall time."""
    return fold(f"{name};TZID={tzid}:{value:%Y%m%dT%H%M%S}")


def utc_time_line(name: str, value: datetime) -> bytes:
    return fold(f"{name}:{value.astimezone(UTC):%Y%m%dT%H%M%SZ}")
