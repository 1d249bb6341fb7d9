"""Converters from one YAML node to one checked Python value.

Each converter takes the node, its field path and the problem collector. It
returns the value, or raises `Invalid(message)` (recorded by the caller at the
node's line and path), or records several problems itself and raises a bare
`Invalid()`. Scalars are converted from the text as written, never from
PyYAML's implicit types, so a title `yes` stays "yes" and 2019-02-30 is an
error rather than a string.
"""

from __future__ import annotations

import difflib
import math
import re
import zoneinfo
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from functools import cache
from typing import TypeVar
from urllib.parse import urlsplit

from .. import i18n
from .errors import Invalid, Problems
from .yamlnodes import Node, Rejected, Scalar, Seq, kind

T = TypeVar("T")
Convert = Callable[[Node, str, Problems], T]

# XML 1.0 allows tab, LF, CR, U+0020-U+D7FF, U+E000-U+FFFD and U+10000 up; feeds
# and pages are XML or HTML, so anything else would make them invalid. HTML also makes
# DEL, the C1 controls (U+0085 included) and the noncharacters parse errors.
_NOT_XML_BMP_CHARS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff"
_NONCHARACTERS_BEYOND_BMP = "".join(
    f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(1, 17)
)
_NOT_XML = re.compile(f"[{_NOT_XML_BMP_CHARS}{_NONCHARACTERS_BEYOND_BMP}]")
# The same class without the characters beyond U+FFFF, for text that has none (nearly
# all): `re` tests a class of BMP characters with one table lookup a character, but the
# 32 single characters beyond make it walk a list for every character, several times
# slower on the summaries. Both give the same first match on such text.
_NOT_XML_BMP = re.compile(f"[{_NOT_XML_BMP_CHARS}]")
_BEYOND_BMP = re.compile("[\U00010000-\U0010ffff]")
_SPACE = re.compile(r"\s")
# A URL that `url` accepts without asking urlsplit (most of them): http(s), a host of
# letters, digits, dots and dashes, an optional port, then anything printable in ASCII
# after the first / ? or #. urlsplit takes the scheme as written (lowercase already), the
# host up to that first / ? or # (so no brackets, no @, no non-ASCII in it, nothing it
# could refuse), removes nothing (no tab, newline or leading space), and the hostname is
# not empty; no space nor any character _NOT_XML finds is printable ASCII.
# tests/test_catalog_fast_paths.py checks it against the general path.
_PLAIN_URL = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]*)?(?:[/?#][!-~]*)?")
ID_PATTERN = re.compile(r"[a-z0-9-]+")
TAG_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]*")
# [0-9], not \d: \d also matches other scripts' digits ("٢٠١٩"), which int() reads as 2019
# but YAML, the JSON Schema and every client read as text.
_DATE = r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
_DATE_RE = re.compile(_DATE)
_DATETIME_RE = re.compile(
    _DATE
    + r"[Tt ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,6})[0-9]*)?)?[ \t]*"
    + r"(Z|z|[+-][0-9]{2}(?::?[0-9]{2})?)?"
)
_INT_RE = re.compile(r"[+-]?[0-9]+")
_FLOAT_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_EMAIL_RE = re.compile(r"[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+")
_LANGUAGE_RE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")
# RFC 4151: taggingEntity = authorityName "," date, the name a domain or an e-mail address.
_AUTHORITY_RE = re.compile(
    r"(?:[^@\s,]+@)?[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
    r",[0-9]{4}(?:-[0-9]{2}(?:-[0-9]{2})?)?"
)
#: Years a date may have. Renderers step past a date (UTC, the day after an all-day
#: event, years of time zone data), which fails near the ends of Python's 1..9999.
YEARS = (1900, 2999)
_DATE_HELP = "a date like 2019-03-14 or a date and time like 2019-03-14T10:00:00+01:00"


def shown(value: str, limit: int = 60) -> str:
    """A value quoted for a message: escaped, and cut short if long."""
    cut = value if len(value) <= limit else value[:limit] + "..."
    return repr(cut)


def scalar_text(node: Node, what: str = "text") -> str:
    """The text of a scalar node; Invalid for a list, a mapping or a rejected node."""
    if type(node) is Scalar:  # nearly always: one test (no class derives from Scalar)
        return node.value
    if isinstance(node, Rejected):
        raise Invalid()
    if not isinstance(node, Scalar):
        raise Invalid(f"must be {what}, not {kind(node)}")
    return node.value


def first_not_xml(value: str) -> re.Match[str] | None:
    """The first character XML 1.0 or HTML cannot carry, if any."""
    if value.isascii() or _BEYOND_BMP.search(value) is None:  # isascii() costs nothing
        return _NOT_XML_BMP.search(value)
    return _NOT_XML.search(value)


def check_xml_chars(value: str) -> None:
    # Every character it refuses is one str.isprintable() refuses (a control, a
    # surrogate or a noncharacter): tests/test_catalog_fast_paths.py checks them all.
    bad = first_not_xml(value)
    if bad:
        char = ord(bad.group())
        raise Invalid(
            f"contains the character U+{char:04X} (position {bad.start() + 1}), "
            "which feeds and pages cannot carry; remove it"
        )


def text(max_length: int, one_line: bool = False) -> Convert[str]:
    """Non-blank text of at most `max_length` characters, with only XML-safe characters."""

    def convert(node: Node, path: str, problems: Problems) -> str:
        value = scalar_text(node)
        if len(value) > max_length:
            raise Invalid(f"is too long ({len(value):,} characters; at most {max_length:,})")
        if not value.strip():
            raise Invalid("is empty; write some text or remove the key")
        if value.isprintable():
            return value  # no line break, nor any character check_xml_chars refuses
        check_xml_chars(value)
        if one_line and ("\n" in value.strip() or "\r" in value.strip()):
            raise Invalid("must be one line; put longer text in the summary")
        return value

    return convert


def summary_text(max_length: int) -> Convert[str]:
    """Like `text`, but may be empty (an entry without a summary)."""

    def convert(node: Node, path: str, problems: Problems) -> str:
        value = scalar_text(node)
        if len(value) > max_length:
            raise Invalid(f"is too long ({len(value):,} characters; at most {max_length:,})")
        check_xml_chars(value)
        return value

    return convert


def slugify(value: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-") or "my-entry"


def entry_id(node: Node, path: str, problems: Problems) -> str:
    value = scalar_text(node)
    if len(value) > 200:
        raise Invalid(f"is too long ({len(value):,} characters; at most 200)")
    if not ID_PATTERN.fullmatch(value):
        raise Invalid(
            f"{shown(value)} is not a valid id: use only a-z, 0-9 and '-', "
            f"e.g. {slugify(value[:60])!r}"
        )
    return value


def tag(node: Node, path: str, problems: Problems) -> str:
    value = scalar_text(node, "a tag")
    if len(value) > 100:
        raise Invalid(f"is too long ({len(value):,} characters; at most 100)")
    if not TAG_PATTERN.fullmatch(value):
        raise Invalid(
            f"{shown(value)} is not a valid tag: use a-z, 0-9 and '-' and start with a "
            f"letter or digit, e.g. 'social-inclusion' (here {slugify(value[:60])!r})"
        )
    return value


def tag_list(node: Node, path: str, problems: Problems) -> tuple[str, ...]:
    if isinstance(node, Rejected):
        raise Invalid()
    if not isinstance(node, Seq):
        raise Invalid("must be a list of tags, e.g. [cooperation, social-inclusion]")
    tags: list[str] = []
    failed = False
    for index, item in enumerate(node.items):
        try:
            value = tag(item, f"{path}[{index}]", problems)
        except Invalid as exc:
            failed = True
            if exc.message:
                problems.add(item.line, f"{path}[{index}]", exc.message)
            continue
        if value in tags:
            failed = True
            problems.add(item.line, f"{path}[{index}]", f"tag {value!r} is listed twice")
        tags.append(value)
    if failed:
        raise Invalid()
    return tuple(tags)


def url(node: Node, path: str, problems: Problems) -> str:
    value = scalar_text(node, "a URL")
    if len(value) > 2000:
        raise Invalid(f"is too long ({len(value):,} characters; at most 2,000)")
    if _PLAIN_URL.fullmatch(value):
        return value  # what the checks below accept, without urlsplit (see _PLAIN_URL)
    return _checked_url(value)


def _checked_url(value: str) -> str:
    """The general URL check: urlsplit, then an http(s) scheme, a host, no space."""
    try:
        parts = urlsplit(value)
    except ValueError as exc:
        raise Invalid(f"{shown(value)} is not a valid URL ({exc})") from None
    absolute = parts.scheme in ("http", "https") and bool(parts.hostname)
    if not absolute or _SPACE.search(value) or first_not_xml(value):
        raise Invalid(
            f"{shown(value)} is not an absolute http(s) URL; write it in full, "
            "e.g. https://www.example.org/page"
        )
    return value


def email(node: Node, path: str, problems: Problems) -> str:
    value = scalar_text(node, "an e-mail address")
    if len(value) > 254 or not _EMAIL_RE.fullmatch(value):
        raise Invalid(f"{shown(value)} is not an e-mail address like news@example.org")
    return value


def language(node: Node, path: str, problems: Problems) -> str:
    value = scalar_text(node, "a language tag")
    if len(value) > 35 or not _LANGUAGE_RE.fullmatch(value):
        raise Invalid(f"{shown(value)} is not a language tag like en, fr or pt-BR")
    return value


def entry_language(node: Node, path: str, problems: Problems) -> str:
    """An entry's own language: a language tag CLDR knows, since its page, its Atom entry
    and its JSON Feed item declare it to readers, screen readers and search engines."""
    value = language(node, path, problems)
    if i18n.locale_of(value) is None:
        raise Invalid(
            f"{shown(value)} is not a language CLDR knows: write a tag like fr, de-CH or "
            "pt-BR (a language, then a region or script if needed)"
        )
    return value


def id_authority(node: Node, path: str, problems: Problems) -> str:
    value = scalar_text(node)
    if len(value) > 200 or not _AUTHORITY_RE.fullmatch(value):
        raise Invalid(
            f"{shown(value)} is not a tag: URI authority (RFC 4151): a domain you owned "
            "and a date then, e.g. example.org,2019"
        )
    return value


def integer(low: int, high: int) -> Convert[int]:
    def convert(node: Node, path: str, problems: Problems) -> int:
        value = scalar_text(node, "a whole number")
        if not _INT_RE.fullmatch(value) or len(value) > 12:
            raise Invalid(f"must be a whole number, not {shown(value)}")
        number = int(value)
        if not low <= number <= high:
            raise Invalid(f"must be between {low} and {high}, not {number}")
        return number

    return convert


def number(node: Node) -> float:
    value = scalar_text(node, "a number")
    if len(value) > 40 or not _FLOAT_RE.fullmatch(value) or not math.isfinite(float(value)):
        raise Invalid(f"must be a number, not {shown(value)}")
    return float(value)


def geo(node: Node, path: str, problems: Problems) -> tuple[float, float]:
    help_text = "must be [latitude, longitude] in degrees, e.g. [51.2194, 4.4025]"
    if isinstance(node, Rejected):
        raise Invalid()
    if not isinstance(node, Seq) or len(node.items) != 2:
        raise Invalid(help_text)
    latitude, longitude = number(node.items[0]), number(node.items[1])
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise Invalid(f"{help_text}; latitude -90..90, longitude -180..180")
    return (latitude, longitude)


def one_of(*choices: str) -> Convert[str]:
    def convert(node: Node, path: str, problems: Problems) -> str:
        value = scalar_text(node)
        if value not in choices:
            raise Invalid(f"{shown(value)} is not one of: {', '.join(choices)}")
        return value

    return convert


@cache
def known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def zone_name(node: Node, path: str, problems: Problems) -> str:
    """An IANA time zone name (Europe/Brussels), checked against the installed database."""
    value = scalar_text(node, "a time zone name")
    if value not in known_zones():
        # difflib indexes every character of the word: a 10 MB value would cost 400 MB.
        close = (
            difflib.get_close_matches(value, sorted(known_zones()), n=1)
            if len(value) <= 100
            else []
        )
        hint = f"did you mean {close[0]}?" if close else "use an IANA name like Europe/Brussels"
        raise Invalid(f"unknown time zone {shown(value)}; {hint}")
    return value


def date_or_datetime(node: Node, path: str, problems: Problems) -> date | datetime:
    """A date, or a datetime (naive when written without an offset)."""
    value = scalar_text(node, _DATE_HELP)
    if len(value) > 64:
        raise Invalid(f"must be {_DATE_HELP}")
    day = _DATE_RE.fullmatch(value) if len(value) == 10 else None  # a date is 10 characters
    moment = _DATETIME_RE.fullmatch(value) if day is None else None
    try:
        if day is not None:
            result: date | datetime = date(int(day[1]), int(day[2]), int(day[3]))
        elif moment is not None:
            result = _datetime_from(moment)
        else:
            raise Invalid(f"must be {_DATE_HELP}, not {shown(value)}")
    except ValueError as exc:  # Invalid is not one
        raise Invalid(f"{value} is not a real date or time ({exc})") from None
    if not YEARS[0] <= result.year <= YEARS[1]:
        raise Invalid(f"{value}: the year must be in {YEARS[0]}..{YEARS[1]}")
    return result


def day_list(node: Node, path: str, problems: Problems) -> tuple[date, ...]:
    """A list of dates (days, never times), each once, in the order written."""
    help_text = "must be a list of days, e.g. [2027-08-03, 2027-12-28]"
    if isinstance(node, Rejected):
        raise Invalid()
    if not isinstance(node, Seq):
        raise Invalid(help_text)
    days: list[date] = []
    failed = False
    for index, item in enumerate(node.items):
        where = f"{path}[{index}]"
        try:
            day = date_or_datetime(item, where, problems)
            if isinstance(day, datetime):
                raise Invalid("must be a day like 2027-08-03, without a time")
        except Invalid as exc:
            failed = True
            problems.add(item.line, where, exc.message or help_text)
            continue
        if day in days:
            failed = True
            problems.add(item.line, where, f"{day.isoformat()} is listed twice")
        days.append(day)
    if failed:
        raise Invalid()
    return tuple(days)


def _datetime_from(match: re.Match[str]) -> datetime:
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    micro = int((fraction or "0").ljust(6, "0"))
    zone = _offset(offset) if offset else None
    return datetime(
        int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro, zone
    )


@cache  # few offsets recur (at most 40,000 can be written, and they are small)
def _offset(text: str) -> timezone:
    if text in ("Z", "z"):
        return UTC
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if minutes >= 60:
        raise ValueError(f"offset {text} has minutes over 59")
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if text[0] == "-" else delta)  # ValueError beyond 24 hours
