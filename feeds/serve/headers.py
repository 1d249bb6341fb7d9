"""The HTTP header policy of an Output, and conditional requests (RFC 9110).

Pure functions, no web framework: the app precomputes its header lists with them,
and the static export generates (or checks) nginx's headers from the same rules, so
both shells answer alike.

What an Output is sent with:
- `Content-Type` with charset, a strong `ETag` per encoding (the gzip variant has its
  own), `Last-Modified` from the catalog, `Cache-Control: public, max-age=N`;
- `Vary: Accept-Encoding` whenever a gzip variant exists (on both variants, so a
  shared cache never hands gzip to a client that did not ask for it);
- `Access-Control-Allow-Origin: *` on feeds and data other sites read from scripts;
- `X-Content-Type-Options: nosniff`, a restrictive `Content-Security-Policy`,
  `Referrer-Policy`, and `X-Frame-Options: DENY` on all but the embed page.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import format_datetime
from functools import lru_cache
from typing import Literal, Protocol

from ..site import Output

Encoding = Literal["identity", "gzip"]
Headers = list[tuple[str, str]]

_PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
    "connect-src 'self'; form-action 'none'; base-uri 'none'"
)
# HTML pages may not be framed; the embed page exists to be framed by any site.
PAGE_CSP = _PAGE_CSP + "; frame-ancestors 'none'"
EMBED_CSP = _PAGE_CSP + "; frame-ancestors *"
# Browsers show feeds through the XSLT stylesheet they link (/feed.xsl), which pulls in
# /style.css and may show images. CSP treats an XSLT fetch as script-like (CSP3: the
# "xslt" destination is governed by script-src-elem, in Chromium and Firefox alike), so
# `script-src 'self'` is what lets the stylesheet load; nothing else may run or load.
XML_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
    "frame-ancestors 'none'"
)
OTHER_CSP = "default-src 'none'; frame-ancestors 'none'"
REFERRER_POLICY = "strict-origin-when-cross-origin"

# Media types a browser renders as XML documents (and so through an XSLT stylesheet).
_XML_TYPES = (
    "application/atom+xml",
    "application/rss+xml",
    "application/xml",
    "text/xml",
    "text/xsl",
)


class Representation(Protocol):
    """What the header policy reads of an Output: an Output itself, or a row of the
    shared pack (`feeds.serve.pack.Row`) that has no body in memory."""

    @property
    def path(self) -> str: ...
    @property
    def content_type(self) -> str: ...
    @property
    def etag(self) -> str: ...
    @property
    def gzip_etag(self) -> str | None: ...  # None: no gzip variant
    @property
    def last_modified(self) -> datetime: ...
    @property
    def cors(self) -> bool: ...
    @property
    def frameable(self) -> bool: ...
    @property
    def max_age(self) -> int: ...


def media_type(content_type: str) -> str:
    """`text/html; charset=utf-8` -> `text/html`."""
    return content_type.split(";", 1)[0].strip().lower()


def csp_for(output: Representation) -> str:
    kind = media_type(output.content_type)
    if kind == "text/html":
        return EMBED_CSP if output.frameable else PAGE_CSP
    if kind in _XML_TYPES:
        return XML_CSP
    return OTHER_CSP


@lru_cache(maxsize=64)  # every output of a Site shares its Last-Modified
def http_date(moment: datetime) -> str:
    """IMF-fixdate, the only form RFC 9110 lets a sender generate."""
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def etag_for(output: Representation, encoding: Encoding) -> str:
    if encoding == "gzip":
        if output.gzip_etag is None:
            raise ValueError(f"{output.path} has no gzip variant")
        return output.gzip_etag
    return output.etag


def _vary_and_cors(output: Representation) -> Headers:
    headers: Headers = []
    if output.gzip_etag is not None:  # an Output has both gzip_body and gzip_etag, or neither
        headers.append(("Vary", "Accept-Encoding"))
    if output.cors:
        headers.append(("Access-Control-Allow-Origin", "*"))
    return headers


def _cache_control(output: Representation) -> tuple[str, str]:
    return ("Cache-Control", f"public, max-age={output.max_age}")


def headers_for(output: Representation, encoding: Encoding = "identity") -> Headers:
    """Every header of a 200 answer for `output` in `encoding`, except Content-Length.

    (Content-Length belongs to the transport: the app adds the body's length, nginx its
    own.)
    """
    headers: Headers = [("Content-Type", output.content_type)]
    if encoding == "gzip":
        headers.append(("Content-Encoding", "gzip"))
    headers += [
        ("ETag", etag_for(output, encoding)),
        ("Last-Modified", http_date(output.last_modified)),
        _cache_control(output),
        *_vary_and_cors(output),
        ("X-Content-Type-Options", "nosniff"),
        ("Content-Security-Policy", csp_for(output)),
        ("Referrer-Policy", REFERRER_POLICY),
    ]
    if not output.frameable:
        headers.append(("X-Frame-Options", "DENY"))
    return headers


def not_modified_headers_for(output: Representation, encoding: Encoding = "identity") -> Headers:
    """Headers of a 304: those a cache needs to refresh its copy, and nothing more.

    RFC 9110 15.4.5: ETag, Cache-Control and Vary as the 200 would have them; other
    representation metadata only adds to what a poll that finds nothing new costs.
    CORS stays so that a browser revalidating a cross-origin fetch keeps accepting it.
    """
    return [("ETag", etag_for(output, encoding)), _cache_control(output), *_vary_and_cors(output)]


# --- content negotiation --------------------------------------------------------------

_CODING = re.compile(r"^\s*([A-Za-z0-9!#$%&'*+.^_`|~-]+)\s*(?:;\s*q\s*=\s*([0-9.]+)\s*)?$")


@lru_cache(maxsize=512)
def _coding_qualities(accept_encoding: str) -> dict[str, float]:
    """`gzip, br;q=0.5` -> {"gzip": 1.0, "br": 0.5}; malformed members are skipped.

    Cached: clients send a handful of distinct headers, and this runs on every request.
    """
    qualities: dict[str, float] = {}
    for member in accept_encoding.split(","):
        match = _CODING.match(member)
        if match is None:
            continue
        coding, q = match.group(1).lower(), match.group(2)
        try:
            quality = 1.0 if q is None else float(q)
        except ValueError:
            continue
        if 0.0 <= quality <= 1.0:
            qualities[coding] = quality
    return qualities


def _quality(qualities: dict[str, float], coding: str, default: float) -> float:
    if coding in qualities:
        return qualities[coding]
    if coding == "gzip" and "x-gzip" in qualities:
        return qualities["x-gzip"]
    return qualities.get("*", default)


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether the client prefers gzip to no coding at all (RFC 9110 12.5.3).

    No header: identity (clients that never asked, like plain curl, cannot be assumed to
    decode gzip). `gzip;q=0` or `*;q=0` refuse it. Only when the client rates identity
    (by name or through `*`) above gzip does identity win: unnamed, identity is the
    fallback, not a preference. Unparsable members are ignored.
    """
    if not accept_encoding:
        return False
    qualities = _coding_qualities(accept_encoding)
    gzip_q = _quality(qualities, "gzip", 0.0)
    return gzip_q > 0.0 and gzip_q >= _quality(qualities, "identity", 0.0)


def choose_encoding(output: Output, accept_encoding: str | None) -> Encoding:
    """gzip when the Output has a gzip variant and the client prefers it, else identity.

    A client that refuses identity (`identity;q=0`) but cannot take gzip still gets the
    plain body: RFC 9110 lets the server answer without a coding, which serves such a
    client better than a 406 would.
    """
    if output.gzip_body is not None and accepts_gzip(accept_encoding):
        return "gzip"
    return "identity"


# --- conditional requests --------------------------------------------------------------

_ENTITY_TAG = re.compile(r'\s*(?:W/)?("[\x21\x23-\x7e\x80-\xff]*")\s*(?:,|$)')


def etag_matches(if_none_match: str, etag: str) -> bool:
    """If-None-Match against our ETag with the weak comparison RFC 9110 13.1.2 requires.

    `*` matches any current representation; a list matches when one member does; the
    `W/` prefix is ignored on both sides. A malformed header matches nothing.
    """
    value = if_none_match.strip()
    if value == etag or value == "*":
        return True  # the usual poll: our own ETag sent back, no parsing needed
    ours = etag[2:] if etag.startswith("W/") else etag
    position = 0
    while position < len(value):
        match = _ENTITY_TAG.match(value, position)
        if match is None:
            return False
        if match.group(1) == ours:
            return True
        position = match.end()
    return False


_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
_TIME = r"(\d\d):(\d\d):(\d\d)"
_IMF_FIXDATE = re.compile(rf"[A-Za-z]{{3}}, (\d\d) ([A-Za-z]{{3}}) (\d{{4}}) {_TIME} GMT")
_RFC850_DATE = re.compile(rf"[A-Za-z]{{6,9}}, (\d\d)-([A-Za-z]{{3}})-(\d\d) {_TIME} GMT")
_ASCTIME_DATE = re.compile(rf"[A-Za-z]{{3}} ([A-Za-z]{{3}}) ([ \d]\d) {_TIME} (\d{{4}})")


@lru_cache(maxsize=512)
def parse_http_date(value: str) -> int | None:
    """An HTTP-date in any of RFC 9110's three forms -> POSIX seconds; None if invalid.

    Written out rather than with strptime, whose day and month names follow the locale.
    Cached: pollers send back the same few dates.
    """
    text = value.strip()
    if match := _IMF_FIXDATE.fullmatch(text):
        day, month, year, hh, mm, ss = match.groups()
    elif match := _RFC850_DATE.fullmatch(text):
        day, month, yy, hh, mm, ss = match.groups()
        # Two-digit years: the nearest century that does not put the date far ahead.
        year = str((2000 if int(yy) < 70 else 1900) + int(yy))
    elif match := _ASCTIME_DATE.fullmatch(text):
        month, day, hh, mm, ss, year = match.groups()
    else:
        return None
    month_number = _MONTHS.get(month.lower())
    if month_number is None:
        return None
    try:
        moment = datetime(int(year), month_number, int(day), int(hh), int(mm), int(ss), tzinfo=UTC)
    except ValueError:
        return None
    return int(moment.timestamp())


def is_not_modified(
    *,
    etag: str,
    last_modified: datetime | int,
    if_none_match: str | None,
    if_modified_since: str | None,
) -> bool:
    """Whether a GET/HEAD with these validators gets 304 (RFC 9110 13.2.2).

    If-None-Match decides when present (If-Modified-Since is then ignored, as the RFC
    requires); otherwise If-Modified-Since matches when the representation has not
    changed since that date. An invalid date is ignored, as is a list of dates.
    `last_modified` may be given as POSIX seconds, precomputed by a server.
    """
    if if_none_match is not None:
        return etag_matches(if_none_match, etag)
    if if_modified_since is None:
        return False
    since = parse_http_date(if_modified_since)
    if since is None:
        return False
    seconds = last_modified if isinstance(last_modified, int) else int(last_modified.timestamp())
    return seconds <= since
