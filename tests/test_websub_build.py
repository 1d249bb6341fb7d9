"""WebSub from `feeds build`: the hub hears exactly the feeds a build changed."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from test_web_support import copy_catalog, local_hub, retitle_untagged

from feeds.catalog import load_catalog
from feeds.publish.build import BuildOptions, build_command
from feeds.publish.websub import changed_feed_paths
from feeds.site import build_site

BASE = "https://feeds.example.org/"


def build(catalog: Path, out: Path, cache: bool) -> tuple[int, str]:
    err = io.StringIO()
    options = BuildOptions(cache_dir=out.parent / "cache" if cache else None, quiet=True)
    return build_command(catalog, out, options, stderr=err), err.getvalue()


def expected_urls(before: Path | None, after: Path) -> list[str]:
    """The oracle: the feeds whose ETags differ between the two catalogs' Sites."""
    new = build_site(load_catalog(after))
    old = build_site(load_catalog(before)) if before is not None else {}
    return sorted(BASE + path.lstrip("/") for path in changed_feed_paths(old, new))


@pytest.mark.parametrize("cache", [True, False], ids=["cache", "no-cache"])
def test_builds_ping_the_feeds_they_change_and_only_those(tmp_path: Path, cache: bool) -> None:
    with local_hub() as hub:
        catalog = copy_catalog(tmp_path, hub=hub.url)
        out = tmp_path / "site"

        assert build(catalog, out, cache) == (0, "")
        first = expected_urls(None, catalog)
        assert hub.urls() == first  # a first build: every feed is new to the hub
        assert f"{BASE}feed.atom" in first

        hub.pings.clear()
        assert build(catalog, out, cache) == (0, "")
        assert hub.pings == []  # nothing changed, nothing said

        before = tmp_path / "before.yaml"
        before.write_bytes(catalog.read_bytes())
        retitle_untagged(catalog, "Only the main feeds change")
        assert build(catalog, out, cache) == (0, "")
        changed = expected_urls(before, catalog)
        assert hub.urls() == changed
        assert f"{BASE}feed.atom" in changed
        assert not any("/tags/" in url for url in changed)
        assert all(ping["hub.mode"] == ["publish"] for ping in hub.pings)


def test_a_dead_hub_is_reported_and_the_build_still_succeeds(tmp_path: Path) -> None:
    with local_hub() as hub:
        dead = hub.url
    catalog = copy_catalog(tmp_path, hub=dead)  # the hub's port is closed now
    out = tmp_path / "site"
    code, err = build(catalog, out, cache=True)
    assert code == 0
    assert (out / "feed.atom").is_file()
    assert f"the WebSub hub {dead} did not accept a ping for" in err
    assert "more changed feeds were not pinged" in err
    assert "Traceback" not in err
