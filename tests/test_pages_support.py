"""Shared by the page, embed and browser tests: catalogs, HTML parsing, link extraction.

(Named test_* so it sits with the tests it serves; it defines no tests itself.)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import html5lib
from html5lib.constants import namespaces

from feeds.catalog import load_catalog, parse_catalog
from feeds.model import Catalog
from feeds.site import Site, build_site

ROOT = Path(__file__).resolve().parent.parent
XHTML = namespaces["html"]

SENTINEL_IMG = "<img src=x onerror=window.__pwned=1>"
SENTINEL_SCRIPT = "<script>window.__pwned=1</script>"
HOSTILE = f"{SENTINEL_IMG} {SENTINEL_SCRIPT}"

# Everything the pages must get right beyond the seed: timed events in a named zone and
# at a fixed offset, a recurrence without end, cancelled and tentative events, an event
# that was never published, and markup where only text belongs.
RICH_CATALOG = f"""
feed:
  title: "Test & <b>feeds</b>"
  link: https://example.org/
  base_url: {{base_url}}
  id_authority: example.org,2024
  language: en
  timezone: Europe/Brussels
entries:
  - id: hostile
    title: '{HOSTILE}'
    type: '{SENTINEL_SCRIPT}'
    tags: [culture]
    published: 2024-03-01
    summary: |
      {HOSTILE}

      [click](javascript:window.__pwned=1) and <a href="#" onclick="window.__pwned=1">x</a>
  - id: hostile-event
    title: '{SENTINEL_SCRIPT} meeting'
    tags: [culture]
    published: 2024-03-02
    summary: '{SENTINEL_IMG}'
    event:
      start: 2024-04-10T09:30:00
      end: 2024-04-10T17:00:00
      timezone: Europe/Brussels
      location: '{SENTINEL_IMG} Brussels'
      geo: [50.8503, 4.3517]
      url: https://example.org/register
  - id: offset-call
    title: Call at a fixed offset
    published: 2024-02-01
    event:
      start: 2024-04-11T15:00:00+05:30
      end: 2024-04-11T16:00:00+05:30
  - id: weekly
    title: Weekly open office
    tags: [culture]
    event:
      start: 2024-03-05T10:00:00
      end: 2024-03-05T11:00:00
      timezone: Europe/Brussels
      rrule: FREQ=WEEKLY;BYDAY=TU
  - id: cancelled-day
    title: Cancelled study day
    event:
      start: 2024-05-02
      end: 2024-05-02
      status: cancelled
  - id: maybe-trip
    title: Tentative trip
    event:
      start: 2024-06-30
      end: 2024-07-02
      status: tentative
"""


def bundled_catalog(base_url: str | None = None) -> Catalog:
    if base_url is None:
        return load_catalog(ROOT / "entries.yaml")
    text = (ROOT / "entries.yaml").read_text(encoding="utf-8")
    text = text.replace("base_url: https://feeds.example.org/", f"base_url: {base_url}")
    return parse_catalog(text.encode("utf-8"))


def rich_catalog(base_url: str = "https://feeds.example.org/") -> Catalog:
    return parse_catalog(RICH_CATALOG.replace("{base_url}", base_url).encode("utf-8"))


def html_paths(site: Site) -> list[str]:
    return [path for path in site if site[path].content_type.startswith("text/html")]


def parse_html(body: bytes) -> object:
    """Parse with html5lib in strict mode: any parse error raises."""
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=True)
    return parser.parse(body, transport_encoding="utf-8")


def elements(document: object, tag: str) -> Iterator[object]:
    yield from document.iter(f"{{{XHTML}}}{tag}")  # type: ignore[attr-defined]


def text_of(element: object) -> str:
    return "".join(element.itertext())  # type: ignore[attr-defined]


def internal_targets(page_path: str, document: object, base_url: str) -> Iterator[str]:
    """Site paths that the page's href/src attributes point to (fragments and queries dropped)."""
    page_url = urljoin(base_url, page_path.lstrip("/"))
    base = urlsplit(base_url)
    for element in document.iter():  # type: ignore[attr-defined]
        for attribute in ("href", "src"):
            value = element.get(attribute)
            if value is None:
                continue
            target = urlsplit(urljoin(page_url, value))
            if (target.scheme, target.netloc) != (base.scheme, base.netloc):
                continue
            assert target.path.startswith(base.path), f"{page_path}: {value} is outside the Site"
            yield "/" + target.path[len(base.path) :]


def site_of(catalog: Catalog) -> Site:
    return build_site(catalog)
