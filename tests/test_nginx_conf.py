"""deploy/nginx.conf read as data: its types and header maps agree with the app's policy.

A quick check that needs no nginx: it evaluates the file's `types` and `map $uri`
blocks the way nginx does for the file each Site path is exported to, and compares
the result with `feeds.headers.headers_for`. tests/test_nginx.py then checks the same
against real nginx answers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from sample_site import sample_site
from servers import NGINX_CONF

from feeds.catalog import load_catalog
from feeds.headers import REFERRER_POLICY, headers_for
from feeds.site import CONTENT_TYPES, Output, Site, build_site

CONF = NGINX_CONF.read_text()
_COMMENT = re.compile(r"(^|\s)#.*$", re.MULTILINE)  # no value of ours contains "#"


@dataclass(frozen=True)
class UriMap:
    """An nginx `map $uri $var {}`: exact strings first, then regexes in order, else default."""

    exact: dict[str, str]
    regexes: list[tuple[re.Pattern[str], str]]
    default: str

    def __call__(self, uri: str) -> str:
        if uri in self.exact:
            return self.exact[uri]
        for pattern, value in self.regexes:
            if pattern.search(uri):
                return value
        return self.default


def _block(header: str) -> str:
    match = re.search(re.escape(header) + r"\s*\{(.*?)\n\s*\}", _COMMENT.sub("", CONF), re.DOTALL)
    assert match, f"{NGINX_CONF} has no `{header} {{...}}` block"
    return match.group(1)


def _uri_map(variable: str) -> UriMap:
    exact: dict[str, str] = {}
    regexes: list[tuple[re.Pattern[str], str]] = []
    default = ""
    for line in _block(f"map $uri ${variable}").splitlines():
        match = re.fullmatch(r'\s*(\S+)\s+(?:"([^"]*)"|(\S+));\s*', line)
        if not match:
            assert not line.strip(), f"cannot read map line {line!r}"
            continue
        key, value = (
            match.group(1),
            match.group(2) if match.group(2) is not None else match.group(3),
        )
        if key == "default":
            default = value
        elif key.startswith("~"):
            regexes.append((re.compile(key[1:]), value))
        else:
            exact[key] = value
    return UriMap(exact, regexes, default)


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


def nginx_headers(output: Output) -> dict[str, str]:
    """The headers deploy/nginx.conf gives the file `output` is exported to."""
    uri = "/" + output.file_name
    extension = uri.rsplit(".", 1)[-1]
    media = _types().get(extension, "application/octet-stream")
    headers = {
        "Content-Type": media + ("; charset=utf-8" if media in _charset_types() else ""),
        "Cache-Control": f"public, max-age={_uri_map('feeds_max_age')(uri)}",
        "Access-Control-Allow-Origin": _uri_map("feeds_cors")(uri),
        "Content-Security-Policy": _uri_map("feeds_csp")(uri),
        "X-Frame-Options": _uri_map("feeds_frame_options")(uri),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": REFERRER_POLICY,
    }
    return {name: value for name, value in headers.items() if value}  # "" sends nothing


def policy_headers(output: Output) -> dict[str, str]:
    """The same headers as the app's policy gives them."""
    names = set(nginx_headers(output)) | {"Access-Control-Allow-Origin", "X-Frame-Options"}
    return {name: value for name, value in headers_for(output) if name in names}


def bundled_site() -> Site:
    return build_site(load_catalog(Path(__file__).resolve().parent.parent / "entries.yaml"))


@pytest.mark.parametrize("site_factory", [sample_site, bundled_site], ids=["sample", "bundled"])
def test_every_path_gets_the_policy_headers(site_factory: object) -> None:
    site: Site = site_factory()  # type: ignore[operator]
    assert len(site) > 0
    for path in site:
        output = site[path]
        assert nginx_headers(output) == policy_headers(output), path


def test_every_content_type_the_site_knows_is_in_the_types_block() -> None:
    for extension, content_type in CONTENT_TYPES.items():
        media = _types().get(extension.lstrip("."))
        assert media is not None, f"{extension} missing from the types block"
        with_charset = media + ("; charset=utf-8" if media in _charset_types() else "")
        assert with_charset == content_type, extension


def test_header_values_come_from_the_policy_constants() -> None:
    assert f"add_header Referrer-Policy {REFERRER_POLICY} always;" in CONF
    assert CONF.count("add_header Referrer-Policy") == CONF.count("add_header X-Content-Type")
