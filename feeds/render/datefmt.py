"""Date formats of the feeds: RFC 3339 (Atom, JSON Feed) and RFC 822 (RSS 2.0).

Both keep the offset the catalog gave (a day is midnight in the feed's zone, so readers
show the editor's date), except offsets with seconds (local mean time before ~1900),
which neither format can write: those become UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime


def _whole_minute_offset(moment: datetime) -> datetime:
    offset = moment.utcoffset()
    if offset is None:
        raise ValueError(f"naive datetime {moment!r}: the catalog must give every date a zone")
    if offset.total_seconds() % 60:
        return moment.astimezone(UTC)
    return moment


def rfc3339(moment: datetime) -> str:
    """`2019-03-14T00:00:00+01:00`: seconds precision, numeric offset, `Z` for UTC."""
    text = _whole_minute_offset(moment).isoformat(timespec="seconds")
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def rfc822(moment: datetime) -> str:
    """`Thu, 14 Mar 2019 00:00:00 +0100`: English names whatever the process locale."""
    return format_datetime(_whole_minute_offset(moment))
