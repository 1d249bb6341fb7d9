"""Catalog -> Site: every public URL precomputed once as an Output.

The web app and the static export both serve these Outputs, so they answer with
the same bytes and the same ETags; a request never renders anything.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from itertools import compress
from operator import is_not

from .. import memo
from ..body import Body, sha_and_gzip
from ..model import Catalog, Entry, compare_alike

# Each renderer is a pure function Catalog -> {url path: body}. Add a format by adding
# its function here; a path claimed twice is a bug and fails the build. A body is bytes,
# or a `Body` for those a renderer keeps between builds (kept as their gzip).
Renderer = Callable[[Catalog], Mapping[str, bytes | Body]]


def default_renderers() -> list[Renderer]:
    # Imported here so that a renderer's import cost is paid only when a Site is built.
    from ..render import atom, ics, jsonfeed, pages, rss

    return [atom.render, rss.render, jsonfeed.render, ics.render, pages.render]


CONTENT_TYPES: dict[str, str] = {
    ".atom": "application/atom+xml; charset=utf-8",
    ".rss": "application/rss+xml; charset=utf-8",
    ".json": "application/feed+json; charset=utf-8",
    ".ics": "text/calendar; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".xsl": "text/xsl; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
}

# Feeds and data other sites read from scripts get CORS; pages do not need it.
_CORS_SUFFIXES = (".atom", ".rss", ".json", ".ics", ".js", ".xsl")
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)  # slots: 100k entries make ~140k Outputs
class Output:
    path: str
    source: bytes | Body = field(compare=False, repr=False)  # the body as the renderer gave it
    content_type: str
    etag: str  # strong validator of `body`, quoted: "\"…\""
    last_modified: datetime
    gzip_body: bytes | None  # gzip of body (mtime 0), None when not worth it
    gzip_etag: str | None  # strong validator of `gzip_body` itself (see _new_output)
    cors: bool
    frameable: bool  # only the embed page may be framed by other sites
    max_age: int

    @property
    def body(self) -> bytes:
        return self.source if isinstance(self.source, bytes) else bytes(self.source)

    @property
    def size(self) -> int:
        """len(self.body), without decompressing it."""
        return len(self.source)

    @property
    def file_name(self) -> str:
        """Where the export writes this path: a path ending in / is its index.html."""
        rel = self.path.lstrip("/")
        return rel + "index.html" if rel == "" or rel.endswith("/") else rel


@dataclass(frozen=True)
class Site:
    outputs: Mapping[str, Output]
    version: str  # the catalog's content hash
    last_modified: datetime
    language: str = "en"  # the catalog's (`feed.language`): the dev banner's words

    def __getitem__(self, path: str) -> Output:
        return self.outputs[path]

    def get(self, path: str) -> Output | None:
        return self.outputs.get(path)

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.outputs))

    def __len__(self) -> int:
        return len(self.outputs)


def content_type_for(path: str) -> str:
    if path.endswith("/"):
        return CONTENT_TYPES[".html"]
    suffix = path[path.rfind(".") :] if "." in path.rsplit("/", 1)[-1] else ""
    return CONTENT_TYPES.get(suffix, "application/octet-stream")


def catalog_last_modified(catalog: Catalog) -> datetime:
    """Newest `updated`/`published` in the catalog: Last-Modified of every output.

    Derived from content, never from the clock or file times, so that every worker and
    every export node says the same thing.
    """
    stamps = [e.modified for e in catalog.entries if e.modified is not None]
    return max(stamps).astimezone(UTC).replace(microsecond=0) if stamps else _EPOCH


# Each Output, keyed by its path and body: a body reused from a renderer's memo table is
# the very same object (bytes, whose hash Python keeps, or a Body, hashed by its SHA-256),
# so a rebuild hashes (sha256) and wraps only new bodies (10k: 15,000 outputs, ~140 MB).
# Not saved: the keys are whole bodies, and the gzip table (feeds.body) is saved.
_OUTPUTS: memo.Memo[tuple[str, bytes | Body], Output] = memo.Memo("site.output", saved=False)


def make_output(path: str, body: bytes | Body, last_modified: datetime) -> Output:
    key = (path, body)
    output = _OUTPUTS.get(key, lambda: _new_output(path, body, last_modified))
    if output.last_modified != last_modified:  # the catalog's newest date moved
        output = replace(output, last_modified=last_modified)
        _OUTPUTS.put(key, output)
    return output


def _new_output(path: str, body: bytes | Body, last_modified: datetime) -> Output:
    content_type = content_type_for(path)
    if isinstance(body, Body):  # made at its path by a renderer (text), with SHA and gzip
        sha, gz = body.sha, body.gzip
    else:
        compressible = not content_type.startswith("image/") or content_type.startswith("image/svg")
        sha, gz = sha_and_gzip(path, body, compressible)
    digest = sha.hex()[:32]
    # The gzip ETag names the gzip bytes, not the body: one body may be compressed to
    # other bytes by another compressor, level or library version (ISA-L, before
    # zlib-ng, even did so from one process to the next), and a strong ETag shared by
    # two different byte strings breaks range requests and caches between export nodes.
    # Measured: 45 ms of CPU for the 14,838 gzip bodies (28 MB) of a cold 10k build.
    gzip_etag = f'"{hashlib.sha256(gz).hexdigest()[:32]}-gz"' if gz is not None else None
    return Output(
        path=path,
        source=body,
        content_type=content_type,
        etag=f'"{digest}"',
        last_modified=last_modified,
        gzip_body=gz,
        gzip_etag=gzip_etag,
        cors=path.endswith(_CORS_SUFFIXES),
        frameable=path == "/embed/",
        max_age=300 if path.endswith("/") else 600,
    )


def build_site(catalog: Catalog, renderers: list[Renderer] | None = None) -> Site:
    """Render every format and wrap each body as an Output.

    A body that is the very object the last build wrapped at the same path (renderers
    hand unchanged ones over) keeps its Output without a lookup (~15,000 at 10k).
    """
    outputs: dict[str, Output] = {}
    memo.begin_build()
    success = False
    try:
        last = _LAST.get(_SLOT, _nothing)
        last_modified = _last_modified(catalog, last)
        previous = last.outputs if last is not None else {}
        replaced: list[tuple[str, bytes | Body]] = []
        new_paths = 0
        for render in renderers if renderers is not None else default_renderers():
            for path, body in render(catalog).items():
                if path in outputs:
                    raise ValueError(f"two renderers produce {path}")
                known = previous.get(path)
                if known is None:
                    new_paths += 1
                elif known.source is not body:
                    replaced.append((path, known.source))
                elif known.last_modified == last_modified:
                    outputs[path] = known
                    continue
                outputs[path] = make_output(path, body, last_modified)
        if len(outputs) - new_paths != len(previous):  # some paths are gone
            replaced += [(path, previous[path].source) for path in previous.keys() - outputs.keys()]
        # The Outputs kept as they were were not asked of the table: it keeps them too,
        # but those of bodies replaced or paths gone (see memo.Memo.keep_previous).
        _OUTPUTS.keep_previous(dropping=replaced)
        _LAST.put(_SLOT, _Built(catalog.entries, last_modified, outputs))
        success = True
    finally:
        memo.end_build(success)
    return Site(
        outputs=outputs,
        version=catalog.version,
        last_modified=last_modified,
        language=catalog.feed.language,
    )


@dataclass(frozen=True)
class _Built:
    """What the last build_site made, for the next one."""

    entries: tuple[Entry, ...]  # its catalog's
    last_modified: datetime
    outputs: Mapping[str, Output]


# One slot: the last build (a memo table, so that memo.clear_all() empties it).
_LAST: memo.Memo[str, _Built | None] = memo.Memo("site.last", saved=False)
_SLOT = "last"


def _nothing() -> None:
    return None


def _last_modified(catalog: Catalog, last: _Built | None) -> datetime:
    """catalog_last_modified, carried from the last build when every entry that changed
    kept a `modified` that compares alike: the maximum is then the same."""
    if last is not None and len(last.entries) == len(catalog.entries):
        old, new = last.entries, catalog.entries
        changed = compress(range(len(new)), map(is_not, old, new))
        if all(compare_alike(old[i].modified, new[i].modified) for i in changed):
            return last.last_modified
    return catalog_last_modified(catalog)
