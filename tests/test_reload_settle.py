"""A catalog rewritten in place is read once it held still for the watcher's interval:
at the first look when its last write (its ctime) is already that old, else at a look
scheduled for when it will be, never from a write still going on."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path

from feeds.model import Catalog
from feeds.serve.reload import CatalogWatcher
from feeds.site import Site

CATALOG = """\
feed:
  title: Settle
  link: https://e.org/
  base_url: https://e.org/
  id_authority: e.org,2019
entries:
  - id: first
    title: "{title}"
    published: 2019-03-01
"""


def site_of(catalog: Catalog) -> Site:
    """A Site standing for the catalog's version: building the real one is not the point."""
    return Site(outputs={}, version=catalog.version, last_modified=datetime(2019, 3, 1, tzinfo=UTC))


def watcher(path: Path, interval: float) -> CatalogWatcher[Site]:
    watched: CatalogWatcher[Site] = CatalogWatcher(
        path, lambda site, problems: site, build=site_of, interval=interval, settle_in_place=True
    )
    assert watched.check_now()  # the first version, read at once
    return watched


def write_in_place(path: Path, title: str) -> None:
    with path.open("r+b") as file:  # same inode: an editor saving in place
        file.truncate(0)
        file.write(CATALOG.format(title=title).encode())
    stat = path.stat()  # a rewrite within one clock tick must still look changed
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))


def served_title(watched: CatalogWatcher[Site]) -> str:
    catalog = watched.live.catalog
    assert catalog is not None
    return catalog.entries[0].title


def test_a_save_that_already_held_still_is_read_at_the_first_look(tmp_path: Path) -> None:
    path = tmp_path / "entries.yaml"
    path.write_text(CATALOG.format(title="one"))
    watched = watcher(path, interval=0.2)
    write_in_place(path, "two")
    time.sleep(0.3)  # longer than the interval: the save has held still
    assert watched.check_now()
    assert served_title(watched) == "two"


def test_a_fresh_save_is_read_at_a_look_scheduled_for_when_it_has_held_still(
    tmp_path: Path,
) -> None:
    path = tmp_path / "entries.yaml"
    path.write_text(CATALOG.format(title="one"))
    interval = 5.0  # far longer than this test takes between the write and the look
    watched = watcher(path, interval)
    write_in_place(path, "two")
    assert not watched.check_now()  # just written: it may still be going on
    assert served_title(watched) == "one"
    wait = watched.next_wait()
    assert 0 < wait <= interval
    assert watched.next_wait() == interval  # asked once, for the next look only
    time.sleep(wait)
    assert watched.check_now()
    assert served_title(watched) == "two"


def test_a_write_going_on_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "entries.yaml"
    path.write_text(CATALOG.format(title="one"))
    watched = watcher(path, interval=5.0)
    write_in_place(path, "two")
    assert not watched.check_now()
    write_in_place(path, "three")  # the writer was not done: a new stat, a new wait
    assert not watched.check_now()
    assert served_title(watched) == "one"
    assert watched.check_now()  # held for one more check (the rule without the ctime)
    assert served_title(watched) == "three"
