"""deploy/nginx.conf read as data: its types and header maps agree with the app's policy.

A quick check that needs no nginx: it evaluates the file's `types` and `map $uri`
blocks the way nginx does for the file each Site path is exported to, and compares
the result with `feeds.serve.headers.headers_for`. tests/test_nginx.py then checks the same
against real nginx answers.
"""

from __future__ import annotations

import itertools
import re
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sample_site import sample_site
from servers import NGINX_CONF

from feeds.catalog import load_catalog
from feeds.serve import responder
from feeds.serve.headers import headers_for, not_modified_headers_for
from feeds.site import CONTENT_TYPES, Output, Site, build_site

CONF = NGINX_CONF.read_text()
_COMMENT = re.compile(r"(^|\s)#.*$", re.MULTILINE)  # no value of ours contains "#"


@dataclass(frozen=True)
class Map:
    """An nginx `map $source $var {}`: exact strings first, then regexes in order, else default."""

    source: str
    exact: dict[str, str]
    regexes: list[tuple[re.Pattern[str], str]]
    default: str

    def value(self, key: str) -> str:
        if key in self.exact:
            return self.exact[key]
        for pattern, value in self.regexes:
            if pattern.search(key):
                return value
        return self.default


def _block(header: str, text: str | None = None) -> str:
    text = _COMMENT.sub("", CONF) if text is None else text
    match = re.search(re.escape(header) + r"\s*\{(.*?)\n\s*\}", text, re.DOTALL)
    assert match, f"{NGINX_CONF} has no `{header} {{...}}` block"
    return match.group(1)


def _maps() -> dict[str, Map]:
    maps: dict[str, Map] = {}
    text = _COMMENT.sub("", CONF)
    for source, variable in re.findall(r"^map \$(\w+) \$(\w+) \{", text, re.MULTILINE):
        exact: dict[str, str] = {}
        regexes: list[tuple[re.Pattern[str], str]] = []
        default = ""
        for line in _block(f"map ${source} ${variable}", text).splitlines():
            match = re.fullmatch(r'\s*(\S+)\s+(?:"([^"]*)"|(\S+));\s*', line)
            if not match:
                assert not line.strip(), f"cannot read map line {line!r}"
                continue
            key = match.group(1)
            value = match.group(2) if match.group(2) is not None else match.group(3)
            if key == "default":
                default = value
            elif key.startswith("~"):
                regexes.append((re.compile(key[1:]), value))
            else:
                exact[key] = value
        maps[variable] = Map(source, exact, regexes, default)
    return maps


MAPS = _maps()


def evaluate(value: str, request: dict[str, str]) -> str:
    """A value with $variables, as nginx computes it for `request` ({"uri":…, "status":…})."""

    def variable(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in request:
            return request[name]
        mapping = MAPS[name]
        return evaluate(mapping.value(evaluate("$" + mapping.source, request)), request)

    return re.sub(r"\$(\w+)", variable, value)


def _added_headers() -> list[tuple[str, str]]:
    """The server's `add_header NAME VALUE always;` lines (the only ones it has)."""
    found = re.findall(r'^    add_header (\S+) (?:"([^"]*)"|(\S+)) always;', CONF, re.MULTILINE)
    return [(name, quoted or bare) for name, quoted, bare in found]


def _types() -> dict[str, str]:
    found: dict[str, str] = {}
    for line in _block("types").splitlines():
        words = line.strip().rstrip(";").split()
        if words:
            found.update({ext: words[0] for ext in words[1:]})
    return found


def _charset_types() -> set[str]:
    match = re.search(r"charset_types\s+([^;]*);", _COMMENT.sub("", CONF))
    assert match
    return {*match.group(1).split(), "text/html"}  # nginx always adds text/html


def nginx_headers(output: Output, status: int = 200) -> dict[str, str]:
    """The headers deploy/nginx.conf adds to the file `output` is exported to."""
    request = {"uri": "/" + output.file_name, "status": str(status)}
    headers = {name: evaluate(value, request) for name, value in _added_headers()}
    if status == 200:
        media = _types().get(request["uri"].rsplit(".", 1)[-1], "application/octet-stream")
        headers["Content-Type"] = media + ("; charset=utf-8" if media in _charset_types() else "")
    return {name: value for name, value in headers.items() if value}  # "" sends nothing


def policy(headers: list[tuple[str, str]]) -> dict[str, str]:
    """The app's headers, less those nginx makes itself (validators, Vary from gzip_static)."""
    return {n: v for n, v in headers if n not in {"ETag", "Last-Modified", "Vary"}}


def bundled_site() -> Site:
    return build_site(load_catalog(Path(__file__).resolve().parent.parent / "entries.yaml"))


SITES = pytest.mark.parametrize(
    "site_factory", [sample_site, bundled_site], ids=["sample", "bundled"]
)


@SITES
def test_every_path_gets_the_policy_headers(site_factory: Callable[[], Site]) -> None:
    site = site_factory()
    assert len(site) > 0
    for path in site:
        output = site[path]
        assert nginx_headers(output) == policy(headers_for(output)), path


@SITES
def test_a_304_carries_what_the_app_sends_with_one(site_factory: Callable[[], Site]) -> None:
    site = site_factory()
    for path in site:
        output = site[path]
        assert nginx_headers(output, 304) == policy(not_modified_headers_for(output)), path


def test_short_answers_are_never_cached_or_framed() -> None:
    output = sample_site()["/feed.atom"]
    for status in (301, 404, 405):
        headers = nginx_headers(output, status)
        assert headers["Cache-Control"] == "no-store"
        assert headers["X-Frame-Options"] == "DENY"
        assert "Access-Control-Allow-Origin" not in headers
    assert nginx_headers(output, 405)["Allow"] == "GET, HEAD"
    assert "Allow" not in nginx_headers(output, 404)


def test_every_content_type_the_site_knows_is_in_the_types_block() -> None:
    for extension, content_type in CONTENT_TYPES.items():
        media = _types().get(extension.lstrip("."))
        assert media is not None, f"{extension} missing from the types block"
        with_charset = media + ("; charset=utf-8" if media in _charset_types() else "")
        assert with_charset == content_type, extension


def test_every_add_header_is_read() -> None:
    # The evaluation above sees only `add_header … always;` lines of the server block: any
    # other form would be a header this test does not check.
    assert len(_added_headers()) == CONF.count("add_header ") >= 6


# --- paths spelled with dot segments or empty ones ----------------------------------------


def _odd_spelling_rule() -> re.Pattern[str]:
    """The server-level `if ($request_uri ~* "...") { return 404; }` of deploy/nginx.conf."""
    found = re.findall(r'if \(\$request_uri ~\* "([^"]+)"\) \{\s*return 404;', CONF)
    assert len(found) == 1, "deploy/nginx.conf must 404 odd spellings of a path, once"
    return re.compile(found[0], re.IGNORECASE)  # `~*`; no PCRE-only syntax in it


def _spellings() -> Iterator[str]:
    """Request targets of up to three segments: every mix of dots, empty segments, names
    and their percent-encodings, with `/` or `%2f` between them, and a query or none."""
    segments = ["", ".", "..", "%2e", "%2E%2e", ".%2e", "...", ".hidden", "feed.atom", "x%2e"]
    separators = ["/", "%2f", "%2F"]
    for count in (1, 2, 3):
        for parts in itertools.product(segments, repeat=count):
            for between in itertools.product(separators, repeat=count - 1):
                path = (
                    "/" + parts[0] + "".join(s + p for s, p in zip(between, parts[1:], strict=True))
                )
                for query in ("", "?a=/../", "?b=//"):
                    yield path + query


def test_nginx_refuses_exactly_the_spellings_the_app_refuses() -> None:
    """The app decides on the decoded path (PATH_INFO), nginx on the raw request target:
    the two rules must pick out the same targets. (Which of them climb above the root,
    a 400 from both, real nginx decides: tests/test_http_paths.py.)"""
    rule = _odd_spelling_rule()
    checked = 0
    for target in _spellings():
        path = urllib.parse.unquote_to_bytes(target.partition("?")[0]).decode("latin-1")
        app = responder.odd_spelling_answer(path)
        app_refuses = app is not None and app[0][:3] in ("400", "404")
        assert app_refuses == bool(rule.search(target)), (target, app and app[0])
        checked += 1
    assert checked > 10_000
