"""Every relative link in the repository's Markdown leads somewhere: each `[text](target)`,
reference definition (`[name]: target`) and HTML `href`/`src` names a file or folder of the
repository, and a `#anchor` on a Markdown file (or on the page itself) names one of its
headings, slugged as GitHub does. External links (any `scheme:`, http, https, mailto) are
not fetched; links inside code (fenced blocks, `code spans`) are not links."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parent.parent
SKIPPED_FOLDERS = {"node_modules", ".venv", "venv", "test-artifacts", "__pycache__"}


def markdown_files() -> list[Path]:
    """Every `*.md` of the checkout but dependencies, build leftovers and hidden folders."""
    found = []
    for folder, subfolders, files in os.walk(ROOT):
        subfolders[:] = sorted(
            name for name in subfolders if name not in SKIPPED_FOLDERS and not name.startswith(".")
        )
        found += [Path(folder) / name for name in sorted(files) if name.endswith(".md")]
    return found


# --- reading Markdown: what is code, what is a heading, what is a link ---------------

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
ATX_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
SETEXT_UNDERLINE = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
# A code span: a run of backticks, then anything but a blank line, then the same run.
CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)((?:[^\n]|\n(?![ \t]*\n))+?)(?<!`)\1(?!`)")
INLINE_LINK = re.compile(
    r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]"  # [text], with one level of nested [brackets]
    r"\(\s*(<[^>\n]*>|[^()\s]*(?:\([^()\s]*\)[^()\s]*)*)"  # (target, or (<target>
    r"(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^()]*\)))?\s*\)"  # an optional "title", then )
)
REFERENCE_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:[ \t]*(<[^>\n]*>|\S+)", re.MULTILINE)
HTML_LINK = re.compile(
    r"<(?:a|img|source|link)\b[^>]*?\b(?:href|src)\s*=\s*[\"']([^\"']*)[\"']", re.I
)
HTML_ANCHOR = re.compile(r"<[a-z][^>]*?\b(?:id|name)\s*=\s*[\"']([^\"']+)[\"']", re.I)
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def blank(match: re.Match[str]) -> str:
    """The matched text as spaces, its line breaks kept (so line numbers stay right)."""
    return re.sub(r"[^\n]", " ", match.group(0))


def without_code(text: str) -> str:
    """The text with fenced blocks and code spans blanked out, line for line."""
    lines, fence = [], ""
    for line in text.split("\n"):
        opening = FENCE.match(line)
        if fence:
            closing = line.strip()
            if closing.startswith(fence) and not closing.strip(fence[0]) and opening:
                fence = ""
            lines.append("")
        elif opening and not (opening.group(1)[0] == "`" and "`" in line[opening.end() :]):
            fence = opening.group(1)
            lines.append("")
        else:
            lines.append(line)
    return CODE_SPAN.sub(blank, "\n".join(lines))


def heading_texts(text: str) -> Iterator[str]:
    """The text of every ATX (`## Title`) and setext (`Title` over `===`) heading."""
    previous = ""
    for line in without_code(text).split("\n"):
        atx = ATX_HEADING.match(line)
        if atx:
            yield atx.group(2) or ""
            previous = ""
            continue
        setext = SETEXT_UNDERLINE.match(line)
        if setext and previous.strip() and not re.match(r"^\s*([-*+>|]|\d+[.)])\s", previous):
            yield previous.strip()
            previous = ""
            continue
        previous = line


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: its rendered text, lowercased, every character but
    letters, digits, `_`, `-` and spaces dropped, each space a hyphen."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link shows its text
    text = re.sub(r"<[^>]+>", "", text)  # HTML tags show nothing
    text = text.strip().lower()
    text = "".join(char for char in text if char.isalnum() or char in "_- ")
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    """The anchors a page has: its headings' slugs (a repeated one gets -1, -2 ...) and the
    ids and names of its HTML elements."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    for heading in heading_texts(text):
        base = slug(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    found |= set(HTML_ANCHOR.findall(without_code(text)))
    return found


def links(text: str) -> list[tuple[int, str]]:
    """Each link's line (from 1) and target, outside code, in the order of the text."""
    prose = without_code(text)
    found = []
    for pattern in (INLINE_LINK, REFERENCE_DEFINITION, HTML_LINK):
        for match in pattern.finditer(prose):
            target = match.group(1)
            if target.startswith("<") and target.endswith(">"):
                target = target[1:-1]
            found.append((match.start(1), target))
    return [(prose.count("\n", 0, start) + 1, target) for start, target in sorted(found)]


# --- following a link ------------------------------------------------------------------


def problem(page: Path, target: str, root: Path = ROOT) -> str | None:
    """Why `target`, linked from `page`, leads nowhere in the repository at `root`; None
    when it leads somewhere (or is not ours to check)."""
    if not target:
        return "an empty target"
    if SCHEME.match(target) or target.startswith("//"):
        return None  # http(s), mailto and other sites' addresses are not fetched
    path, _, anchor = target.partition("#")
    path = unquote(path.split("?", 1)[0])
    if not path:
        destination = page
    elif path.startswith("/"):  # GitHub resolves /x from the repository's root
        destination = root / path.lstrip("/")
    else:
        destination = page.parent / path
    destination = Path(os.path.normpath(destination))
    if destination != root and root not in destination.parents:
        return "leads out of the repository"
    if not destination.exists():
        return f"no such file or folder: {destination.relative_to(root)}"
    if not (anchor and destination.is_file() and destination.suffix == ".md"):
        return None  # no anchor, or one on a folder or a file GitHub shows by lines
    if unquote(anchor).lower() not in anchors(destination.read_text("utf-8")):
        return f"{destination.relative_to(root)} has no heading with the anchor #{anchor}"
    return None


def broken_links(page: Path, root: Path = ROOT) -> list[str]:
    """`FILE:LINE: (target) why` for each link of `page` that leads nowhere."""
    name = page.relative_to(root)
    return [
        f"{name}:{line}: ({target}) {why}"
        for line, target in links(page.read_text("utf-8"))
        if (why := problem(page, target, root)) is not None
    ]


# --- the tests -------------------------------------------------------------------------


def test_the_documentation_is_found() -> None:
    names = {str(path.relative_to(ROOT)) for path in markdown_files()}
    assert {"README.md", "SECURITY.md", "RELIABILITY.md", "docs/README.md"} <= names
    assert "docs/catalog.md" in names and "benchmarks/README.md" in names
    assert not any(part in SKIPPED_FOLDERS for name in names for part in Path(name).parts)


@pytest.mark.parametrize("page", markdown_files(), ids=lambda path: str(path.relative_to(ROOT)))
def test_every_relative_link_resolves(page: Path) -> None:
    broken = broken_links(page)
    assert not broken, "links that lead nowhere:\n" + "\n".join(broken)


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("Object storage / CDN", "object-storage--cdn"),
        ("`entries[].event`", "entriesevent"),
        ("`entries[]`: one publication or event", "entries-one-publication-or-event"),
        ("Moving from another site: feeds import", "moving-from-another-site-feeds-import"),
        ("What's new in 2.0?", "whats-new-in-20"),
        ("Serving: `bench_serve.py`", "serving-bench_servepy"),
        ("See [the README](../README.md)", "see-the-readme"),
        ("Keep `updated` current", "keep-updated-current"),
    ],
)
def test_anchors_are_githubs(heading: str, anchor: str) -> None:
    assert slug(heading) == anchor


def test_repeated_headings_are_numbered_and_code_is_not_a_heading() -> None:
    text = "# A\n\n## Notes\n\n```sh\n# not a heading\n```\n\n## Notes\n\nTitle\n=====\n"
    assert anchors(text) == {"a", "notes", "notes-1", "title"}


def test_links_in_code_are_not_links_and_lines_are_counted() -> None:
    text = (
        "See [the catalog](docs/catalog.md#the-top-level) and `[not](a-link.md)`.\n"
        "```md\n[also not](nowhere.md)\n```\n"
        '[ref]: <other file.md>\n<a href="x.md">x</a> ![logo](img/logo.svg "Logo")\n'
    )
    assert links(text) == [
        (1, "docs/catalog.md#the-top-level"),
        (5, "other file.md"),
        (6, "x.md"),
        (6, "img/logo.svg"),
    ]


def test_a_broken_link_is_reported_with_its_file_and_line(tmp_path: Path) -> None:
    """A repository (tmp_path) whose page has each kind of broken link, and fine ones."""
    (tmp_path / "README.md").write_text("# feeds\n\n## Editing the catalog\n", "utf-8")
    (tmp_path / "deploy").mkdir()
    (tmp_path / "docs").mkdir()
    page = tmp_path / "docs" / "page.md"
    page.write_text(
        "# Page\n\n[fine](../README.md#editing-the-catalog) [here](#page) [folder](../deploy)"
        " [web](https://example.org/nowhere) [mail](mailto:a@example.org)\n"
        "[gone](missing.md) [bad anchor](../README.md#no-such-heading)\n"
        "[out](../../outside.md) [root](/README.md) [self](#nowhere)\n",
        "utf-8",
    )
    assert broken_links(page, tmp_path) == [
        "docs/page.md:4: (missing.md) no such file or folder: docs/missing.md",
        "docs/page.md:4: (../README.md#no-such-heading) README.md has no heading with"
        " the anchor #no-such-heading",
        "docs/page.md:5: (../../outside.md) leads out of the repository",
        "docs/page.md:5: (#nowhere) docs/page.md has no heading with the anchor #nowhere",
    ]
