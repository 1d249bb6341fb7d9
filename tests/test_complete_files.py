"""Finding 4: only complete files are published. A catalog rewritten in place and cut
at an entry boundary (the first part is a valid catalog on its own) with a pause of a
second between the parts is never served half: through the real server (gunicorn, its
builder), every /health and feed fetched during the pause shows the whole old catalog,
and /health says the file is being written. Once the writer closes the file, the whole
new one is served; an atomic save (rename) is served as before."""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import pytest
from servers import Server, start_gunicorn
from test_gunicorn import fetch

from feeds.catalog import parse_catalog
from feeds.model import Catalog
from feeds.serve.filewatch import CloseWatch, Seen
from feeds.serve.reload import CatalogWatcher
from feeds.site import Site

ROOT = Path(__file__).resolve().parent.parent
PAUSE = 1.0  # seconds between the two halves of the write
HANG_GUARD = 30.0  # seconds: a wait that never ends is a failure, not a hung test


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    path = tmp_path / "entries.yaml"
    shutil.copyfile(ROOT / "entries.yaml", path)
    return path


@pytest.fixture
def server(catalog: Path, tmp_path: Path) -> Iterator[Server]:
    with start_gunicorn(catalog, tmp_path / "gunicorn.log", {"FEEDS_WORKERS": "2"}) as running:
        yield running


def health(server: Server) -> dict[str, object]:
    status, _headers, body = fetch(server, "/health")
    assert status == 200, body
    report = json.loads(body)
    assert isinstance(report, dict)
    return report


def entries_served(server: Server) -> int:
    catalog = health(server)["catalog"]
    assert isinstance(catalog, dict)
    count = catalog["entries"]
    assert isinstance(count, int)
    return count


def wait_for(condition: object, server: Server) -> None:
    deadline = time.monotonic() + HANG_GUARD
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, server.output()
        time.sleep(0.05)


def first_entries(data: bytes, count: int) -> bytes:
    """The catalog cut right before its entry number `count` (0-based): valid alone."""
    cut = data.index(b"\n  - id:", 0)
    for _ in range(count):
        cut = data.index(b"\n  - id:", cut + 1)
    return data[: cut + 1]


@pytest.mark.slow
def test_an_in_place_write_paused_between_its_halves_is_never_published(
    server: Server, catalog: Path
) -> None:
    good = catalog.read_bytes()
    edited = good.replace(b"Lyon metropole", b"Lyon Metropole", 1)
    assert edited != good
    head = first_entries(edited, 3)
    assert len(parse_catalog(head, str(catalog)).entries) == 3  # a valid catalog alone
    assert entries_served(server) == 10
    items = len(json.loads(fetch(server, "/feed.json")[2])["items"])
    seen: list[tuple[object, int]] = []
    with catalog.open("r+b") as file:  # an editor saving in place, slowly
        file.truncate(0)
        file.write(head)
        file.flush()
        pause_ends = time.monotonic() + PAUSE
        while time.monotonic() < pause_ends:
            report = health(server)
            catalog_report = report["catalog"]
            assert isinstance(catalog_report, dict)
            seen.append((report["status"], catalog_report["entries"]))
            _status, _headers, feed = fetch(server, "/feed.json")
            assert len(json.loads(feed)["items"]) == items, "a half-written catalog is served"
            time.sleep(0.05)
        file.write(edited[len(head) :])
    assert {entries for _status, entries in seen} == {10}, seen
    # By the end of the pause the builder has seen the writes: not "ok", "building".
    assert seen[-1][0] == "building", seen
    wait_for(lambda: b"Lyon Metropole" in fetch(server, "/feed.atom")[2], server)
    assert entries_served(server) == 10
    wait_for(lambda: health(server)["status"] == "ok", server)


@pytest.mark.slow
def test_an_atomic_save_by_rename_is_served_whole(server: Server, catalog: Path) -> None:
    edited = catalog.read_bytes().replace(b"Lyon metropole", b"Lyon Metropole", 1)
    temporary = catalog.with_name(".entries.yaml.swp")
    temporary.write_bytes(edited)
    temporary.rename(catalog)
    wait_for(lambda: b"Lyon Metropole" in fetch(server, "/feed.atom")[2], server)
    assert entries_served(server) == 10
    wait_for(lambda: health(server)["status"] == "ok", server)


# --- in-process: the watcher's own thread (no server), fast ---------------------------


def watched(path: Path) -> CatalogWatcher[Site]:
    watcher: CatalogWatcher[Site] = CatalogWatcher(
        path, lambda site, problems: site, build=version_site, settle_in_place=True
    )
    assert watcher.check_now()
    watcher.start()
    return watcher


def version_site(catalog: Catalog) -> Site:
    """A Site standing for the catalog's version: building the real one is not the point."""
    return Site(outputs={}, version=catalog.version, last_modified=datetime(2019, 3, 1, tzinfo=UTC))


def served_version(watcher: CatalogWatcher[Site]) -> str | None:
    catalog = watcher.live.catalog
    return catalog.version if catalog is not None else None


def wait_for_version(watcher: CatalogWatcher[Site], data: bytes) -> None:
    wanted = hashlib.sha256(data).hexdigest()
    deadline = time.monotonic() + HANG_GUARD
    while served_version(watcher) != wanted:
        assert time.monotonic() < deadline, watcher.live.problems
        time.sleep(0.01)


@pytest.mark.parametrize("symlinked", [False, True], ids=["file", "symlink"])
def test_the_watcher_never_reads_a_paused_write_through_a_path_or_its_symlink(
    tmp_path: Path, symlinked: bool
) -> None:
    target = tmp_path / "data" / "entries.yaml"
    target.parent.mkdir()
    shutil.copyfile(ROOT / "entries.yaml", target)
    path = target
    if symlinked:  # written where the link points: another folder than the link's
        path = tmp_path / "site" / "entries.yaml"
        path.parent.mkdir()
        path.symlink_to(target)
    good = target.read_bytes()
    watcher = watched(path)
    try:
        edited = good.replace(b"Lyon metropole", b"Lyon Metropole", 1)
        head = first_entries(edited, 3)
        with target.open("r+b") as file:
            file.truncate(0)
            file.write(head)
            file.flush()
            time.sleep(PAUSE)
            assert served_version(watcher) == hashlib.sha256(good).hexdigest()
            assert watcher.activity().writing_since is not None
            file.write(edited[len(head) :])
        wait_for_version(watcher, edited)
    finally:
        watcher.stop()


def test_saves_of_every_kind_in_a_row_are_each_read(tmp_path: Path) -> None:
    """Atomic saves (which renew the folder's entry) between in-place ones: no writer's
    close is lost, so no in-place save is left unread as "being written"."""
    path = tmp_path / "entries.yaml"
    shutil.copyfile(ROOT / "entries.yaml", path)
    good = path.read_bytes()
    watcher = watched(path)
    try:
        for number in range(12):
            data = good.replace(b"Lyon metropole", b"Lyon %d" % number, 1)
            if number % 3 == 0:
                temporary = path.with_name(".entries.yaml.new")
                temporary.write_bytes(data)
                temporary.rename(path)
            else:
                with path.open("wb") as file:
                    file.write(data)
            wait_for_version(watcher, data)
            assert watcher.activity().writing_since is None
    finally:
        watcher.stop()


def test_a_write_that_starts_while_the_watcher_reads_is_not_read_half(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race behind a spurious "the catalog is empty": a writer opens the file with
    O_TRUNC after the watcher looked for writers at work and before it read. The watcher
    must see that the file changed under its read and wait for the writer's close."""
    path = tmp_path / "entries.yaml"
    shutil.copyfile(ROOT / "entries.yaml", path)
    good = path.read_bytes()
    edited = good.replace(b"Lyon metropole", b"Lyon Metropole", 1)
    watcher: CatalogWatcher[Site] = CatalogWatcher(
        path, lambda site, problems: site, build=version_site, settle_in_place=True
    )
    assert watcher.open_close_watch(), "inotify is needed to tell a writer at work"
    assert watcher.check_now()
    real_drain = CloseWatch.drain
    writer: list[BinaryIO] = []

    def drain_then_a_writer_truncates(watch: CloseWatch) -> Seen:
        seen = real_drain(watch)
        if not writer:  # the writer's open(O_TRUNC) lands right after the watcher looked
            writer.append(path.open("wb"))
        return seen

    monkeypatch.setattr(CloseWatch, "drain", drain_then_a_writer_truncates)
    path.write_bytes(edited)  # an in-place save the watcher will look at (closed)
    watcher.check_now()
    assert watcher.live.problems == (), watcher.live.problems
    assert served_version(watcher) == hashlib.sha256(good).hexdigest()
    writer[0].write(edited)
    writer[0].close()
    deadline = time.monotonic() + HANG_GUARD
    while served_version(watcher) != hashlib.sha256(edited).hexdigest():
        assert time.monotonic() < deadline
        watcher.check_now()
        assert watcher.live.problems == (), watcher.live.problems
        time.sleep(0.05)
