"""The header policy (feeds/serve/headers.py) on its own: negotiation, validators, dates."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feeds import gzip_resume, memo
from feeds.serve.headers import (
    EMBED_CSP,
    OTHER_CSP,
    PAGE_CSP,
    XML_CSP,
    accepts_gzip,
    choose_encoding,
    etag_matches,
    headers_for,
    is_not_modified,
    not_modified_headers_for,
    parse_http_date,
)
from feeds.site import Output, make_output

MODIFIED = datetime(2019, 3, 14, 9, 30, tzinfo=UTC)
BIG = b"<feed>" + b"entry " * 200 + b"</feed>"


def output(path: str, body: bytes = BIG) -> Output:
    return make_output(path, body, MODIFIED)


def as_dict(headers: list[tuple[str, str]]) -> dict[str, str]:
    names = [name.lower() for name, _ in headers]
    assert len(names) == len(set(names)), f"a header sent twice: {names}"
    return {name: value for name, value in headers}


# --- headers_for -------------------------------------------------------------------------


def test_a_feed_has_its_type_validators_cache_cors_and_security_headers() -> None:
    feed = output("/feed.atom")
    headers = as_dict(headers_for(feed))
    assert headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    assert headers["ETag"] == feed.etag
    assert headers["Last-Modified"] == "Thu, 14 Mar 2019 09:30:00 GMT"
    assert headers["Cache-Control"] == f"public, max-age={feed.max_age}"
    assert headers["Vary"] == "Accept-Encoding"
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Security-Policy"] == XML_CSP
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"]
    assert "Content-Encoding" not in headers
    assert "Content-Length" not in headers  # the transport's business


def test_the_gzip_variant_names_its_coding_and_has_its_own_etag() -> None:
    feed = output("/feed.atom")
    headers = as_dict(headers_for(feed, "gzip"))
    assert headers["Content-Encoding"] == "gzip"
    assert headers["ETag"] == feed.gzip_etag != feed.etag
    assert headers["Vary"] == "Accept-Encoding"
    assert gzip.decompress(feed.gzip_body or b"") == feed.body


@pytest.mark.usefixtures("cold_memo")
def test_other_gzip_bytes_of_one_body_never_share_a_strong_etag(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # One body, compressed at two levels (as another compressor or version would): a
    # strong ETag promises the same bytes, so the gzip variants must not share one.
    first = output("/feed.atom")
    monkeypatch.setattr(gzip_resume, "SMALL_LEVEL", 1)
    memo.clear_all()  # as a new process: nothing compressed yet
    second = output("/feed.atom")
    assert first.body == second.body and first.etag == second.etag
    assert first.gzip_body != second.gzip_body
    assert first.gzip_etag != second.gzip_etag
    again = output("/feed.atom")
    assert (again.gzip_body, again.gzip_etag) == (second.gzip_body, second.gzip_etag)


def test_a_body_too_small_to_compress_has_no_vary_and_no_gzip_variant() -> None:
    small = output("/feed.json", b"{}")
    assert small.gzip_body is None
    assert "Vary" not in as_dict(headers_for(small))
    with pytest.raises(ValueError, match="no gzip variant"):
        headers_for(small, "gzip")


@pytest.mark.parametrize(
    ("path", "csp", "frame_options"),
    [
        ("/", PAGE_CSP, "DENY"),
        ("/entries/x/", PAGE_CSP, "DENY"),
        ("/embed/", EMBED_CSP, None),
        ("/feed.atom", XML_CSP, "DENY"),
        ("/feed.rss", XML_CSP, "DENY"),
        ("/feed.xsl", XML_CSP, "DENY"),
        ("/feed.json", OTHER_CSP, "DENY"),
        ("/events.ics", OTHER_CSP, "DENY"),
        ("/style.css", OTHER_CSP, "DENY"),
        ("/embed.js", OTHER_CSP, "DENY"),
    ],
)
def test_csp_and_framing_by_kind(path: str, csp: str, frame_options: str | None) -> None:
    headers = as_dict(headers_for(output(path)))
    assert headers["Content-Security-Policy"] == csp
    assert headers.get("X-Frame-Options") == frame_options


def test_only_the_embed_page_may_be_framed_and_by_anyone() -> None:
    assert "frame-ancestors *" in EMBED_CSP
    for csp in (PAGE_CSP, XML_CSP, OTHER_CSP):
        assert "frame-ancestors 'none'" in csp
    # Pages and the embed differ in nothing else.
    assert PAGE_CSP.rsplit(";", 1)[0] == EMBED_CSP.rsplit(";", 1)[0]


def test_policies_allow_no_inline_code_or_other_origins_for_scripts() -> None:
    for csp in (PAGE_CSP, EMBED_CSP, XML_CSP, OTHER_CSP):
        directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
        assert directives["default-src"] == "'none'"
        assert "unsafe" not in csp
        assert directives.get("script-src", "'self'") == "'self'"


def test_xml_documents_may_load_their_xslt_and_stylesheet_from_self() -> None:
    # An XSLT fetch is "script-like" for CSP (script-src-elem), its result links CSS.
    directives = dict(d.strip().split(" ", 1) for d in XML_CSP.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"


def test_cors_on_feeds_calendars_and_scripts_not_on_pages() -> None:
    for path in ("/feed.atom", "/feed.rss", "/feed.json", "/events.ics", "/embed.js"):
        assert as_dict(headers_for(output(path)))["Access-Control-Allow-Origin"] == "*"
    for path in ("/", "/embed/", "/entries/x/"):
        assert "Access-Control-Allow-Origin" not in as_dict(headers_for(output(path)))


def test_a_304_carries_only_what_refreshes_a_cache() -> None:
    feed = output("/feed.atom")
    for encoding in ("identity", "gzip"):
        headers = as_dict(not_modified_headers_for(feed, encoding))
        full = as_dict(headers_for(feed, encoding))
        assert set(headers) == {"ETag", "Cache-Control", "Vary", "Access-Control-Allow-Origin"}
        assert all(full[name] == value for name, value in headers.items())


# --- Accept-Encoding -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "gzip_wanted"),
    [
        (None, False),  # no header: plain (curl without --compressed)
        ("", False),  # empty: identity only
        ("gzip", True),
        ("GZIP", True),
        ("gzip, deflate, br", True),
        ("br;q=1.0, gzip;q=0.8, *;q=0.1", True),
        ("x-gzip", True),
        ("*", True),
        ("gzip;q=0", False),
        ("gzip;q=0.000", False),
        ("gzip; q=0 , deflate", False),
        ("*;q=0", False),
        ("*, gzip;q=0", False),
        ("deflate, br", False),
        ("identity", False),
        ("gzip;q=0.5, identity;q=1", False),  # the client prefers identity
        ("gzip;q=1, identity;q=0.5", True),
        ("gzip, identity;q=0", True),
        ("identity;q=0", False),  # nothing acceptable: plain beats a 406
        ("gzip;q=abc", False),  # garbage member ignored
        ("gzip;q=2", False),  # out of range
        ("\x00\xff;;;,,,", False),
        ("gzip;level=9", False),  # unknown parameter: not a valid member
        ("deflate;q=0.5, gzip;q=0.5", True),  # identity unnamed: a fallback only
        ("gzip;q=0.3, *;q=0.5", False),  # identity rated 0.5 through *
    ],
)
def test_gzip_negotiation(accept: str | None, gzip_wanted: bool) -> None:
    assert accepts_gzip(accept) is gzip_wanted
    assert choose_encoding(output("/feed.atom"), accept) == ("gzip" if gzip_wanted else "identity")


def test_no_gzip_variant_means_identity_whatever_the_client_says() -> None:
    assert choose_encoding(output("/feed.json", b"{}"), "gzip") == "identity"


@given(st.text(max_size=60))
def test_negotiation_never_fails_on_any_header(header: str) -> None:
    assert accepts_gzip(header) in (True, False)


# --- If-None-Match ------------------------------------------------------------------------

ETAG = '"0123abcd"'


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        ('"0123abcd"', True),
        ('W/"0123abcd"', True),  # weak comparison for GET/HEAD
        ('"other", "0123abcd"', True),
        ('"other",W/"0123abcd"  ,"more"', True),
        ("*", True),
        (" * ", True),
        ('"other"', False),
        ('"0123abcd-gz"', False),
        ("0123abcd", False),  # not quoted: malformed
        ('"0123abcd', False),
        ('"a,b", "0123abcd"', True),  # a comma inside an entity-tag
        ('"other" garbage "0123abcd"', False),
        ("", False),
        (",", False),
    ],
)
def test_if_none_match(header: str, matches: bool) -> None:
    assert etag_matches(header, ETAG) is matches


def test_weak_comparison_ignores_w_on_our_side_too() -> None:
    assert etag_matches('"0123abcd"', 'W/"0123abcd"')


# --- dates -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Sun, 06 Nov 1994 08:49:37 GMT",  # IMF-fixdate
        "Sunday, 06-Nov-94 08:49:37 GMT",  # obsolete RFC 850
        "Sun Nov  6 08:49:37 1994",  # asctime
        "  Sun, 06 Nov 1994 08:49:37 GMT ",
    ],
)
def test_all_three_http_date_forms(text: str) -> None:
    assert parse_http_date(text) == int(datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC).timestamp())


@pytest.mark.parametrize(
    "text",
    [
        "",
        "yesterday",
        "Sun, 06 Nov 1994 08:49:37 CET",
        "Sun, 31 Feb 1994 08:49:37 GMT",
        "Sun, 06 Foo 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 25:49:37 GMT",
        "1994-11-06T08:49:37Z",
        "Sun, 06 Nov 1994 08:49:37 GMT, Mon, 07 Nov 1994 08:49:37 GMT",
    ],
)
def test_malformed_dates_are_none(text: str) -> None:
    assert parse_http_date(text) is None


@given(st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(9999, 1, 1)))
def test_dates_we_send_parse_back(moment: datetime) -> None:
    moment = moment.replace(tzinfo=UTC, microsecond=0)
    assert parse_http_date(format_datetime(moment, usegmt=True)) == int(moment.timestamp())


# --- is_not_modified --------------------------------------------------------------------------

LAST = datetime(2019, 3, 14, 9, 30, tzinfo=UTC)
AT = "Thu, 14 Mar 2019 09:30:00 GMT"
BEFORE = "Thu, 14 Mar 2019 09:29:59 GMT"
AFTER = "Fri, 15 Mar 2019 00:00:00 GMT"


def not_modified(inm: str | None, ims: str | None) -> bool:
    return is_not_modified(etag=ETAG, last_modified=LAST, if_none_match=inm, if_modified_since=ims)


def test_no_validators_means_a_full_answer() -> None:
    assert not not_modified(None, None)


def test_if_modified_since_at_or_after_last_modified_is_304() -> None:
    assert not_modified(None, AT)
    assert not_modified(None, AFTER)
    assert not not_modified(None, BEFORE)


def test_if_none_match_wins_over_if_modified_since() -> None:
    assert not not_modified('"changed"', AFTER)  # the ETag says changed: date ignored
    assert not_modified(ETAG, BEFORE)  # the ETag says same: date ignored


def test_a_malformed_date_is_ignored() -> None:
    assert not not_modified(None, "not a date")
    assert not not_modified(None, "Thu, 14 Mar 2019 09:30:00 GMT, garbage")


def test_last_modified_as_seconds() -> None:
    seconds = int(LAST.timestamp())
    assert is_not_modified(
        etag=ETAG, last_modified=seconds, if_none_match=None, if_modified_since=AT
    )
    assert not is_not_modified(
        etag=ETAG, last_modified=seconds + 1, if_none_match=None, if_modified_since=AT
    )
