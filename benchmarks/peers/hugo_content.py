"""Write the Hugo peer's site from a catalog: one content file per entry.

    .venv/bin/python benchmarks/peers/hugo_content.py CATALOG SITE   # then: hugo --source SITE

Copies benchmarks/peers/hugo/ (config, layouts, the events, subscribe and embed pages)
to SITE, our static assets (feeds/static/, feeds/templates/feed.xsl) to SITE/static/,
the catalog's `feed:` header to SITE/data/feed.json and its title, language and time
zone to SITE/config/_default/config.toml, then writes for each entry
SITE/content/entries/<id>.md: YAML front matter from the entry (title, id, type, tags,
published as `date`, updated as `lastmod`, link, the event's fields), the summary's
Markdown as the body. Setup, not timed by the benchmarks.

Written for Hugo beside the entry's own fields: `linkTitle` (the id: Hugo orders pages
by date, then link title, so ties go by id as ours), `publication` (false for a
calendar-only event), `outputs` (events also get entries/<id>.ics), and the archive
terms: a Hugo template cannot file pages into taxonomy terms, so the generator does what
ours does at build time (feeds/render/archive.py, RFC 5005): every publication older than
a feed's `feed_size` newest (ties by id) goes to the archive of its year in the feed's
zone, `archive: [YEAR]` for the site's feed, `tagarchive: [TAG-YEAR]` for each tag's;
each such term gets an `_index.md` (its URL, feeds only: no HTML page, as ours).

The catalog is read with PyYAML (libyaml when available), timestamps kept as the
strings written in the catalog so that Hugo reads the same text ours does. Scalars are
written as JSON strings (a subset of YAML), so `title:` is one line a benchmark can
retitle.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

PEER = Path(__file__).resolve().parent / "hugo"
ROOT = PEER.parent.parent.parent
STATIC = ROOT / "feeds" / "static"
XSL = ROOT / "feeds" / "templates" / "feed.xsl"

_BaseLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    """SafeLoader without the timestamp resolver: dates stay the catalog's strings."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load(catalog: Path) -> dict[str, Any]:
    with catalog.open(encoding="utf-8") as file:
        data: dict[str, Any] = yaml.load(file, Loader=_Loader)  # noqa: S506 (a SafeLoader)
    return data


def _q(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def published_at(published: str, zone: ZoneInfo) -> datetime:
    """A `published` value as an instant: a bare date is midnight in the feed's zone,
    a datetime without an offset is in that zone too (as ours and Hugo's timeZone read
    them)."""
    if "T" not in published:
        return datetime.combine(date.fromisoformat(published), time(), zone)
    moment = datetime.fromisoformat(published.replace("Z", "+00:00"))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def archives(entries: list[dict[str, Any]], feed_size: int, zone: ZoneInfo) -> dict[str, Terms]:
    """Each publication's archive terms, as ours files them (feeds/render/archive.py, RFC
    5005): the `feed_size` newest of a feed (ties by id) are live; every older one is in
    the archive of its year (in the feed's zone), for the site and for each of its tags.
    """
    dated = [
        (published_at(str(e["published"]), zone), str(e["id"]), e)
        for e in entries
        if e.get("published") is not None
    ]
    dated.sort(key=lambda item: item[1])
    dated.sort(key=lambda item: item[0], reverse=True)  # stable: ties stay by id
    terms: dict[str, Terms] = {}
    tag_seen: dict[str, int] = {}
    for position, (moment, entry_id, entry) in enumerate(dated):
        year = str(moment.astimezone(zone).year)
        site_year = [year] if position >= feed_size else []
        tag_years = []
        for tag in entry.get("tags") or ():
            seen = tag_seen[str(tag)] = tag_seen.get(str(tag), 0) + 1
            if seen > feed_size:
                tag_years.append(f"{tag}-{year}")
        terms[entry_id] = Terms(site_year, tag_years)
    return terms


@dataclass(frozen=True)
class Terms:
    archive: list[str]  # [year] when the publication is in a site archive, else []
    tagarchive: list[str]  # "tag-year" for each tag feed whose archive holds it


def front_matter(entry: dict[str, Any], terms: Terms | None) -> Iterator[str]:
    yield "---"
    yield f"title: {_q(entry['title'])}"
    yield f"id: {_q(entry['id'])}"
    # Hugo orders pages by date, then link title: the id, so ties go as ours (by id).
    yield f"linkTitle: {_q(entry['id'])}"
    yield f"entry_type: {_q(entry.get('type', 'news'))}"  # Hugo's own `type` picks layouts
    tags = [str(t) for t in entry.get("tags") or ()]
    yield f"tags: {_q(tags)}"
    published = entry.get("published")
    if published is not None and terms is not None:
        yield "publication: true"
        yield f"date: {_q(str(published))}"
        yield f"lastmod: {_q(str(entry.get('updated') or published))}"
        if terms.archive:
            yield f"archive: {_q(terms.archive)}"
        if terms.tagarchive:
            yield f"tagarchive: {_q(terms.tagarchive)}"
    else:  # a calendar-only event: in the calendars and the events page, in no feed
        yield "publication: false"
    if entry.get("link"):
        yield f"link: {_q(entry['link'])}"
    event = entry.get("event")
    if event:
        yield "event:"
        for key in ("start", "end", "timezone", "location", "url", "status", "rrule"):
            if event.get(key) is not None:
                yield f"  {key}: {_q(str(event[key]))}"
        if event.get("geo"):
            yield f"  geo: {_q([float(x) for x in event['geo']])}"
        yield 'outputs: ["HTML", "EntryCalendar"]'
    yield "---"


def content_file(entry: dict[str, Any], terms: Terms | None) -> str:
    body = str(entry.get("summary") or "").rstrip("\n")
    return "\n".join([*front_matter(entry, terms), body, ""])


def term_files(terms: Iterable[Terms]) -> dict[str, str]:
    """content/-relative path -> text of each archive term's `_index.md` (feeds only)."""
    years = {year for t in terms for year in t.archive}
    tag_years = {pair for t in terms for pair in t.tagarchive}
    feeds = 'outputs: ["Atom", "RSSFeed", "JSONFeed"]'
    files = {
        f"archive/{year}/_index.md": f'---\ntitle: "{year}"\nyear: "{year}"\n{feeds}\n---\n'
        for year in years
    }
    for pair in tag_years:
        tag, year = pair.rsplit("-", 1)
        files[f"tagarchive/{pair}/_index.md"] = (
            f"---\ntitle: {_q(pair)}\ntag: {_q(tag)}\nyear: {_q(year)}\n"
            f'url: "/tags/{tag}/archive/{year}/"\n{feeds}\n---\n'
        )
    return files


def write_site(catalog: Path, site: Path) -> int:
    """Write the whole Hugo site for `catalog` into `site` (a new folder); entries written."""
    data = load(catalog)
    feed, entries = data["feed"], data["entries"]
    zone_name = str(feed.get("timezone") or "UTC")
    zone = ZoneInfo(zone_name)
    shutil.copytree(PEER, site)
    if STATIC.is_dir():
        shutil.copytree(STATIC, site / "static")
    if XSL.is_file():  # the feeds' stylesheet (a browser shows feeds as a page with it)
        shutil.copyfile(XSL, site / "static" / XSL.name)
    (site / "data").mkdir(exist_ok=True)
    (site / "data" / "feed.json").write_text(_q(feed), encoding="utf-8")
    config = site / "config" / "_default"
    config.mkdir(parents=True, exist_ok=True)
    (config / "config.toml").write_text(
        f"# Written by hugo_content.py from the catalog's feed header.\n"
        f"title = {_q(str(feed['title']))}\n"
        f"languageCode = {_q(str(feed.get('language') or 'en'))}\n"
        f"timeZone = {_q(zone_name)}\n",
        encoding="utf-8",
    )
    content = site / "content"
    (content / "entries").mkdir(parents=True)
    terms = archives(entries, int(feed.get("feed_size") or 50), zone)
    for entry in entries:
        (content / "entries" / f"{entry['id']}.md").write_text(
            content_file(entry, terms.get(str(entry["id"]))), encoding="utf-8"
        )
    for relative, text in term_files(terms.values()).items():
        path = content / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return len(entries)


def content_path(site: Path, entry_id: str) -> Path:
    """The content file of one entry in a site written by `write_site`."""
    return site / "content" / "entries" / f"{entry_id}.md"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("catalog", type=Path)
    parser.add_argument("site", type=Path, help="a new folder: the Hugo site to write")
    args = parser.parse_args(argv)
    if args.site.exists():
        parser.error(f"{args.site} exists")
    count = write_site(args.catalog, args.site)
    print(f"{args.site}: {count:,} content files", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
