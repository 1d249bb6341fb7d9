"""The query of the embed page `/embed/`: what is allowed, checked before serving it.

`/embed/` is one precomputed page; a small script in it reads the query and shows the
matching precomputed items. The query is still checked by the server, so a typo in an
embed snippet answers 400 with a message instead of a silently different widget:
`validate_embed_query` for the web app, `EMBED_QUERY_PATTERN` for a static host
(nginx `if ($args !~ ...) { return 400; }`); a test keeps the two in agreement.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Collection, Mapping, Sequence

EMBED_KINDS = ("publications", "events")
EMBED_THEMES = ("light", "dark", "auto")
EMBED_LIMIT_MAX = 50
EMBED_DEFAULTS = {"kind": "publications", "limit": "5", "theme": "auto"}
_TAG = re.compile(r"[a-z0-9][a-z0-9-]{0,99}")
_LIMIT = re.compile(r"[1-9][0-9]?")


def _shown(text: str, limit: int = 40) -> str:
    """A value quoted in a message, cut short: a 4 KB typo must not give a 4 KB answer."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _check_value(name: str, value: str, known_tags: Collection[str] | None) -> str | None:
    if name == "kind" and value not in EMBED_KINDS:
        return f"kind must be one of {', '.join(EMBED_KINDS)}, not {_shown(value)}"
    if name == "theme" and value not in EMBED_THEMES:
        return f"theme must be one of {', '.join(EMBED_THEMES)}, not {_shown(value)}"
    if name == "limit" and not (_LIMIT.fullmatch(value) and 1 <= int(value) <= EMBED_LIMIT_MAX):
        return f"limit must be a whole number from 1 to {EMBED_LIMIT_MAX}, not {_shown(value)}"
    if name == "tag":
        if not _TAG.fullmatch(value):
            return f"tag must be lowercase letters, digits and '-', not {_shown(value)}"
        if known_tags is not None and value not in known_tags:
            return f"there is no tag {_shown(value)}"
    return None


def validate_embed_query(
    args: Mapping[str, Sequence[str]], *, known_tags: Collection[str] | None = None
) -> str | None:
    """None when the query of /embed/ is valid, else a message saying what to fix.

    `args` maps each parameter to all its values (Werkzeug: `request.args.to_dict(flat=False)`).
    Allowed: kind=publications|events, tag=<tag>, limit=1..50, theme=light|dark|auto,
    each at most once. `known_tags`, when given, also rejects tags the catalog lacks.
    """
    allowed = ("kind", "tag", "limit", "theme")
    for name in sorted(args):
        if name not in allowed:
            return f"unknown parameter {_shown(name)}: /embed/ takes only {', '.join(allowed)}"
        values = args[name]
        if len(values) != 1:
            return f"give {name} once, not {len(values)} times"
        problem = _check_value(name, values[0], known_tags)
        if problem:
            return problem
    return None


# The same rules as one PCRE for nginx's `$args` (the raw query string). nginx cannot
# count, so repeated parameters are refused by the negative lookahead on a back-reference.
EMBED_QUERY_PATTERN = (
    r"^(?!(?:.*&)?(kind|tag|limit|theme)=.*&\1=)"
    r"(?:(?:kind=(?:publications|events)|tag=[a-z0-9][a-z0-9-]{0,99}"
    r"|limit=(?:[1-9]|[1-4][0-9]|50)|theme=(?:light|dark|auto))(?:&(?=.)|$))*$"
)
_PLAIN_QUERY = re.compile(EMBED_QUERY_PATTERN)


def embed_query_problem(query: str, known_tags: Collection[str] | None = None) -> str | None:
    """Why the raw query string of /embed/ is refused (400), or None.

    The rules of `validate_embed_query`, with its messages, and then nginx's: a static
    host compares the query as written (`EMBED_QUERY_PATTERN`), so a query that only
    decodes to a valid one (`kind=%65vents`, an empty `&&` or a trailing `&`) is refused
    here too, and every server answers a snippet alike.
    """
    if not query:
        return None
    try:
        args = urllib.parse.parse_qs(query, keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError):
        return "the query is not valid UTF-8 percent-encoding"
    problem = validate_embed_query(args, known_tags=known_tags)
    if problem is None and _PLAIN_QUERY.search(query) is None:
        return (
            "write the query as name=value pairs joined by single '&', without "
            "percent-encoding or empty parts (as the embed snippet does)"
        )
    return problem
