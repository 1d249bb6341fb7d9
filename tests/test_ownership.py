"""Own what you make, touch nothing else (issue 17, findings 1, 6 and 8's `--out` half).

A build's out folder is the user's: it may hold their files whatever their names
(`.site.env`, `.site.backup/`) and a second export (`--out site.en`, whose trees also
start with `.site.`). Every build, every crash of a build (SIGKILL while staging,
between staging and flip, inside the flip, while removing old trees) and every cleanup
leaves them byte for byte as they were. A refused `--out` creates nothing and reads
nothing. A FEEDS_SHARED_BUILD folder that is not empty and not ours is refused, untouched.
"""

from __future__ import annotations

import gzip
import os
import re
import signal
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from servers import GUNICORN, ROOT, free_port

from feeds.cli import main
from feeds.publish import build as build_module
from feeds.publish import marks
from feeds.publish.files import TreeManifest
from feeds.serve import supervisor

CATALOG = """\
feed:
  title: Small
  link: https://www.example.org/
  base_url: https://feeds.example.org/
  id_authority: example.org,2019
entries:
  - id: antwerp-academy
    title: Antwerp academy
    published: 2019-03-14
    tags: [culture]
    summary: The academy on *integration*, with a long enough summary to be compressed.
    event: {start: 2019-05-21, end: 2019-05-22, location: "Antwerp, Belgium"}
  - id: bologna-together
    title: Bologna, together
    published: 2019-04-02
    tags: [participation]
    summary: How Bologna's neighbourhoods plan together.
"""
SITE_MARK = marks.mark_text("export tree", "site")
TREE = re.compile(r"\.site\.[^./]+\.[0-9a-f]{8}")  # a finished tree of export `site`


def build(catalog: Path, out: Path | str, *options: str) -> Result:
    return CliRunner().invoke(main, ["build", str(catalog), "--out", str(out), *options])


def listing(path: Path) -> dict[str, object]:
    """Everything at and below `path`, following no symlink: folders, files' bytes and
    modes, symlinks' targets."""
    found: dict[str, object] = {}
    if path.is_symlink():
        return {path.name: ("link", os.readlink(path))}
    if path.is_file():
        return {path.name: ("file", path.read_bytes(), path.stat().st_mode)}
    for folder, folders, files in os.walk(path):
        here = Path(folder)
        found[str(here.relative_to(path.parent))] = ("folder", here.stat().st_mode)
        for name in files + [f for f in folders if (here / f).is_symlink()]:
            found.update(
                {f"{here.relative_to(path.parent)}/{k}": v for k, v in listing(here / name).items()}
            )
    return found


def served(out: Path) -> dict[str, bytes]:
    """The files an export serves (through its symlink)."""
    return {
        str(Path(d, f).relative_to(out)): Path(d, f).read_bytes()
        for d, _dirs, files in os.walk(out, followlinks=True)
        for f in files
    }


def differences(actual: dict[str, bytes], expected: dict[str, bytes]) -> list[str]:
    """The paths whose content differs, is missing or is extra, each with its first
    differing line: what an assertion message must say when two exports differ (a
    dict diff of whole bodies hides the one file that matters).

    A .gz file is compared by what it holds, which must be its sibling's bytes: which
    gzip stream a body gets is the compressor's business (ISA-L, before zlib-ng, once
    gave one body two in two processes), tested in test_gzip_resume."""
    actual, expected = _unzipped(actual), _unzipped(expected)
    found = []
    for path in sorted(set(actual) | set(expected)):
        if path not in actual or path not in expected:
            found.append(f"{path}: only in {'the export' if path in actual else 'the reference'}")
        elif actual[path] != expected[path]:
            pairs = zip(actual[path].splitlines(), expected[path].splitlines(), strict=False)
            first = next(((a, b) for a, b in pairs if a != b), (b"", b""))
            found.append(f"{path}: {first[0][:200]!r} != {first[1][:200]!r}")
    return found


def _unzipped(files: dict[str, bytes]) -> dict[str, bytes]:
    """`files` with each .gz decompressed, checked to hold its sibling's bytes."""
    found = dict(files)
    for path, data in files.items():
        if path.endswith(".gz"):
            found[path] = gzip.decompress(data)
            assert found[path] == files.get(path[:-3]), f"{path} does not hold {path[:-3]}"
    return found


def theirs(folder: Path) -> dict[str, object]:
    """What a build of `site` must leave alone: the user's files and export `site.en`
    (its symlink, trees and lock, and what it serves)."""
    found: dict[str, object] = {}
    for name in sorted(os.listdir(folder)):
        if name in (".site.env", ".site.backup", "site.en") or name.startswith(".site.en."):
            found.update(listing(folder / name))
    found["site.en serves"] = served(folder / "site.en")
    return found


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    path = tmp_path / "catalog" / "entries.yaml"
    path.parent.mkdir()
    path.write_text(CATALOG)
    return path


@pytest.fixture
def folder(tmp_path: Path, catalog: Path) -> Path:
    """An out folder holding the user's files and a second export, `site.en`."""
    public = tmp_path / "public"
    public.mkdir()
    (public / ".site.env").write_text("DB_PASSWORD=keep me\n")
    (public / ".site.backup" / "tags").mkdir(parents=True)
    (public / ".site.backup" / "index.html").write_text("yesterday's home page")
    (public / ".site.backup" / "tags" / "feed.atom").write_text("<feed/>")
    assert build(catalog, public / "site.en").exit_code == 0
    assert served(public / "site.en")
    return public


@pytest.mark.parametrize("cache", [(), ("--no-cache",)], ids=["cache", "no-cache"])
def test_user_files_and_a_second_export_survive_builds(
    catalog: Path, folder: Path, cache: tuple[str, ...]
) -> None:
    before = theirs(folder)
    for _ in range(3):  # the third build removes the first tree: the cleanup runs for real
        result = build(catalog, folder / "site", *cache)
        assert result.exit_code == 0, result.output
    assert theirs(folder) == before
    assert (folder / "site" / "feed.atom").is_file()
    assert len([n for n in os.listdir(folder) if TREE.fullmatch(n)]) == 2  # live, previous


def test_a_folder_named_like_our_previous_tree_but_not_marked_is_never_recycled(
    catalog: Path, folder: Path
) -> None:
    """The cache names the tree before the live one, which the next build recycles
    (renames and rewrites). A folder at that name without our mark (the user's: made
    there, or the tree replaced by a copy of their own) stays as it is."""
    for _ in range(2):
        assert build(catalog, folder / "site").exit_code == 0
    live = os.readlink(folder / "site")
    previous = next(n for n in os.listdir(folder) if TREE.fullmatch(n) and n != live)
    marks_inside = [p for p in (folder / previous).iterdir() if p.name.startswith(".")]
    assert marks_inside  # the tree's own mark, at its top
    for mark in marks_inside:
        mark.unlink()
    (folder / previous / "notes.txt").write_text("mine")
    before = listing(folder / previous)
    assert build(catalog, folder / "site").exit_code == 0
    assert listing(folder / previous) == before


# Runs `feeds build ARGS` and SIGKILLs itself at the point named by argv[1].
KILLED_BUILD = textwrap.dedent(
    """
    import os, signal, sys
    from feeds import cli
    from feeds.publish import export, marks
    from feeds.publish import stage
    from feeds.publish import trees

    def die(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    where = sys.argv[1]
    if where == "staging":  # after a few files of the new tree
        real_write, written = stage._write_file, []
        def write(*args, **kwargs):
            written.append(1)
            if len(written) > 3:
                die()
            real_write(*args, **kwargs)
        stage._write_file = write
    elif where == "before-flip":  # the tree is complete and named, `site` not flipped yet
        trees.flip = die
    elif where == "in-flip":  # the flip's symlink is made, not yet renamed over `site`
        real_symlink = os.symlink
        def symlink(source, link, *args, **kwargs):
            real_symlink(source, link, *args, **kwargs)
            if ".link-" in os.fspath(link):
                die()
        os.symlink = symlink
    elif where == "removing":  # halfway through removing the oldest tree
        real_remove, real_unlink = marks.remove_marked, os.unlink
        def unlink(*args, **kwargs):
            real_unlink(*args, **kwargs)
            die()
        def remove(*args, **kwargs):
            os.unlink = unlink
            return real_remove(*args, **kwargs)
        marks.remove_marked = remove
    sys.argv = ["feeds", *sys.argv[2:]]
    cli.run()
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("where", ["staging", "before-flip", "in-flip", "removing"])
def test_a_killed_build_leaves_only_marked_garbage_that_the_next_build_removes(
    catalog: Path, folder: Path, where: str
) -> None:
    site = folder / "site"
    before = theirs(folder)
    for _ in range(2):  # a live and a previous tree: the next build removes one
        assert build(catalog, site).exit_code == 0
    names = set(os.listdir(folder))
    oldest = [n for n in names if TREE.fullmatch(n) and n != os.readlink(site)]
    live = served(site)

    argv = [where, "build", str(catalog), "--out", str(site), "--jobs", "1", "--no-cache"]
    killed = subprocess.run([sys.executable, "-c", KILLED_BUILD, *argv], capture_output=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr

    left = set(os.listdir(folder)) - names
    if where == "removing":
        assert len(oldest) == 1 and (folder / oldest[0]).is_dir()  # cut short ...
        assert marks.read_mark(folder / oldest[0]) == SITE_MARK  # ... and still marked
    else:
        assert left  # the crash left something
    for name in left:  # only marked trees of `site`, or the flip's link to one
        path = folder / name
        if path.is_symlink():
            assert re.fullmatch(r"\.site\.link-[0-9a-f]{8}", name)
            assert TREE.fullmatch(os.readlink(path))
        else:
            assert marks.read_mark(path) == SITE_MARK, name
    assert differences(served(site), live) == []  # the same catalog
    assert theirs(folder) == before

    previous = os.readlink(site)  # live after the crash: kept for a rollback
    assert build(catalog, site).exit_code == 0
    survivors = set(os.listdir(folder))
    trees = {n for n in survivors if TREE.fullmatch(n)}
    assert trees == {os.readlink(site), previous}  # every other tree the crash left is gone
    assert not [n for n in survivors if n.startswith((".site.build-", ".site.link-"))]
    assert theirs(folder) == before


HOME_REFUSALS = ["/", "HOME", "HOME/Documents"]


@pytest.mark.parametrize("target", HOME_REFUSALS)
def test_a_refused_out_creates_nothing_anywhere(tmp_path: Path, catalog: Path, target: str) -> None:
    home = tmp_path / "home"
    (home / "Documents").mkdir(parents=True)
    (home / "Documents" / "letter.txt").write_text("Dear ...")
    (home / ".profile").write_text("export PATH\n")
    out = target.replace("HOME", str(home))
    before = listing(tmp_path), sorted(os.listdir("/"))

    result = CliRunner().invoke(
        main, ["build", str(catalog), "--out", out], env={"HOME": str(home)}
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("feeds build: ") and len(result.stderr.splitlines()) == 1
    assert "Traceback" not in result.output
    assert (listing(tmp_path), sorted(os.listdir("/"))) == before


def test_a_refused_out_is_refused_before_its_feeds_are_read(
    tmp_path: Path, catalog: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog.write_text(
        CATALOG.replace("  id_authority:", "  hub: https://hub.invalid/\n  id_authority:")
    )
    documents = tmp_path / "Documents"
    (documents / "feeds").mkdir(parents=True)
    (documents / "feeds" / "news.atom").write_text("<feed/>")
    (documents / "news.json").write_text("{}")
    walked: list[Path] = []
    real = build_module.previous_feed_tags

    def previous_feed_tags(known: Sequence[TreeManifest], out: Path) -> dict[str, str]:
        walked.append(out)
        return real(known, out)

    monkeypatch.setattr(build_module, "previous_feed_tags", previous_feed_tags)
    before = listing(tmp_path)
    result = build(catalog, documents)
    assert result.exit_code == 1 and "not an export made by `feeds build`" in result.stderr
    assert walked == []  # with feed.hub set, the old build hashed every feed file first
    assert listing(tmp_path) == before


def test_a_lock_file_that_is_not_ours_is_refused_untouched(catalog: Path, tmp_path: Path) -> None:
    lock = tmp_path / ".site.lock"
    lock.write_text("the user's notes, not a lock\n")
    before = listing(tmp_path)
    result = build(catalog, tmp_path / "site")
    assert result.exit_code == 1 and f"{lock} exists and was not made by" in result.stderr
    assert listing(tmp_path) == before


def test_out_pointing_at_another_export_s_tree_is_refused(catalog: Path, folder: Path) -> None:
    before = theirs(folder)
    (folder / "site").symlink_to(os.readlink(folder / "site.en"))  # `.site.en.<v>.<t>`
    result = build(catalog, folder / "site")
    assert result.exit_code == 1 and "not an export made by `feeds build`" in result.stderr
    assert theirs(folder) == before


# --- FEEDS_SHARED_BUILD -------------------------------------------------------------------


def user_folder(tmp_path: Path) -> Path:
    """A user's folder with the very names the builder writes and removes."""
    folder = tmp_path / "mine"
    folder.mkdir()
    for name, text in [
        ("index", "my index"),
        ("blobs-1", "my blobs"),
        ("rows-1", "my rows"),
        ("notes.txt", "my notes"),
    ]:
        (folder / name).write_text(text)
    return folder


def test_a_foreign_shared_build_folder_is_refused_untouched(tmp_path: Path) -> None:
    folder = user_folder(tmp_path)
    before = listing(tmp_path)
    with pytest.raises(supervisor.SharedDirectoryError, match="left untouched"):
        supervisor.claim_shared_directory(folder)
    assert listing(tmp_path) == before


def test_a_new_or_empty_shared_build_folder_is_marked_and_kept(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    for folder in (empty, tmp_path / "new"):
        supervisor.claim_shared_directory(folder)
        assert marks.read_mark(folder) == supervisor.SHARED_MARK
        (folder / "index").write_bytes(b"published by the builder")
        supervisor.claim_shared_directory(folder)  # the next server: ours, taken again
        assert (folder / "index").read_bytes() == b"published by the builder"


def test_an_unmarked_folder_named_like_a_shared_build_is_never_removed(tmp_path: Path) -> None:
    theirs = tmp_path / f"{supervisor.SHARED_PREFIX}mine"
    theirs.mkdir()
    (theirs / ".owner.lock").touch()  # a lock nobody holds, but no mark
    (theirs / "data").write_text("keep")
    assert supervisor.remove_abandoned(tmp_path) == []
    assert (theirs / "data").read_text() == "keep"


@pytest.mark.slow
def test_gunicorn_refuses_a_foreign_shared_build_folder_and_leaves_it_untouched(
    tmp_path: Path,
) -> None:
    folder = user_folder(tmp_path)
    before = listing(tmp_path)
    env = {
        **os.environ,
        "FEEDS_CATALOG": str(ROOT / "entries.yaml"),
        "FEEDS_BIND": f"127.0.0.1:{free_port()}",
        "FEEDS_WORKERS": "1",
        "FEEDS_SHARED_BUILD": str(folder),
    }
    argv = [str(GUNICORN), "-c", str(ROOT / "gunicorn.conf.py"), "asgi:app"]
    server = subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        output, _ = server.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        server.terminate()
        output, _ = server.communicate()
        pytest.fail(f"gunicorn started on a foreign FEEDS_SHARED_BUILD:\n{output.decode()}")
    assert server.returncode != 0
    text = output.decode()
    assert f"FEEDS_SHARED_BUILD={folder} is not an empty folder" in text
    assert "Traceback" not in text
    assert listing(tmp_path) == before
