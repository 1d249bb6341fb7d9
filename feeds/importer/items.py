"""What every imported source is read into, and how problems with it are told.

A source (a file or an http(s) URL) is read as bytes with a size limit; each format's
reader (`feeds.importer.feeds_in`, `feeds.importer.ics_in`) turns it into `Item`s, in
the catalog's terms but not yet checked, and reports what it leaves out as
`SOURCE: item N: ...` lines (`Report`).
"""

from __future__ import annotations

import re
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TextIO

#: A feed or calendar larger than this is refused: the catalog holds at most 100,000
#: characters a summary, and no publisher's feed comes near this.
MAX_SOURCE_BYTES = 50 * 1024 * 1024
#: Seconds to wait for an http(s) source to connect and for each read.
FETCH_TIMEOUT = 30
TITLE_MAX = 1_000  # as feeds/catalog/schema.py
SUMMARY_MAX = 100_000


class SourceError(Exception):
    """A source that cannot be read at all: its one-line reason (without the source)."""


@dataclass
class ImportedEvent:
    start: date | datetime  # an aware datetime (timed) or a date (all-day)
    end: date | datetime  # timed: the end; all-day: the last day, inclusive
    timezone: str | None = None  # an IANA name the times are in; None: UTC offsets
    location: str | None = None
    geo: tuple[float, float] | None = None
    url: str | None = None
    status: str | None = None
    rrule: str | None = None
    exdate: tuple[date, ...] = ()  # the days its rule leaves out (EXDATE), in order
    uid: str | None = None
    created: date | None = None  # when it was announced: to match a feed item by date


@dataclass
class Item:
    where: str  # "SOURCE: item N", for messages
    title: str | None = None
    link: str | None = None
    legacy_id: str | None = None
    published: datetime | None = None
    updated: datetime | None = None
    summary: str = ""
    type: str | None = None
    tags: list[str] = field(default_factory=list)
    event: ImportedEvent | None = None


@dataclass
class FeedInfo:
    """The first source's own metadata, for the catalog's `feed:` block."""

    title: str | None = None
    link: str | None = None
    language: str | None = None
    author: str | None = None


@dataclass
class Report:
    """Warnings and skipped items, printed as they come (`SOURCE: item N: ...`)."""

    stream: TextIO = field(default_factory=lambda: sys.stderr)
    lines: list[str] = field(default_factory=list)

    def say(self, line: str) -> None:
        line = re.sub(r"[\x00-\x1f\x7f]+", " ", line)  # one line, whatever a source holds
        self.lines.append(line)
        print(line, file=self.stream)


def is_url(source: str) -> bool:
    return re.match(r"(?i)https?://", source) is not None


def read_source(source: str, max_bytes: int = MAX_SOURCE_BYTES) -> bytes:
    """The bytes of a file or an http(s) URL, at most `max_bytes`; SourceError if not."""
    if is_url(source):
        return _fetch(source, max_bytes)
    try:
        with Path(source).open("rb") as stream:
            data = stream.read(max_bytes + 1)
    except OSError as exc:
        raise SourceError(f"cannot read it: {exc.strerror or exc}") from None
    if len(data) > max_bytes:
        raise SourceError(f"is larger than {max_bytes:,} bytes; not a feed or calendar")
    return data


def _fetch(url: str, max_bytes: int) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "feeds-import/1"})
    try:
        # Only http(s) reaches here (is_url); redirects to other schemes are refused by
        # urllib's own redirect handler (it follows http, https and ftp only).
        with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT) as response:  # noqa: S310
            if not response.geturl().lower().startswith(("http://", "https://")):
                raise SourceError("was redirected away from http(s)")
            data: bytes = response.read(max_bytes + 1)
    except urllib.error.HTTPError as exc:
        raise SourceError(f"cannot fetch it: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise SourceError(f"cannot fetch it: {reason}") from None
    if len(data) > max_bytes:
        raise SourceError(f"is larger than {max_bytes:,} bytes; not a feed or calendar")
    return data


def one_line(text: str, limit: int = TITLE_MAX) -> tuple[str, bool]:
    """Text as one line (runs of white space as one space), cut to `limit` characters;
    and whether it was cut."""
    line = re.sub(r"\s+", " ", text).strip()
    line = re.sub(r"[\x00-\x1f\x7f-\x9f]", "", line)
    if len(line) > limit:
        return line[: limit - 3].rstrip() + "...", True
    return line, False
