"""WebSub: a local hub hears exactly the feeds that changed, and a dead hub harms nothing."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from test_web_support import (
    break_catalog,
    copy_catalog,
    edit,
    local_hub,
    make_app,
    retitle_untagged,
)

from feeds.model import Feed
from feeds.publish.websub import HubNotifier, Retry, changed_feed_paths, publish, publish_changes
from feeds.serve.web import runtime
from feeds.site import Site, make_output

BASE = "https://feeds.example.org"
QUICK = Retry(attempts=3, first_delay=0.01, max_delay=0.02, timeout=2.0)


def hub_app(catalog: Path) -> Flask:
    app = make_app(catalog, WEBSUB=True)
    notifier = runtime(app).notifier
    assert notifier is not None
    notifier.retry = QUICK
    return app


def reload_and_wait(app: Flask) -> None:
    assert runtime(app).watcher.check_now()
    notifier = runtime(app).notifier
    assert notifier is not None
    assert notifier.wait_idle(timeout=30), "pings still pending"


def site_of(bodies: dict[str, bytes]) -> Site:
    moment = datetime(2019, 1, 1, tzinfo=UTC)
    outputs = {path: make_output(path, body, moment) for path, body in bodies.items()}
    return Site(outputs=outputs, version="v", last_modified=moment)


def test_changed_feed_paths_compares_etags_of_feeds_only() -> None:
    old = {"/feed.atom": '"a"', "/feed.rss": '"b"', "/tags/x/feed.json": '"c"'}
    new = {"/feed.atom": '"a"', "/feed.rss": '"B"', "/tags/y/feed.json": '"d"'}
    assert changed_feed_paths(old, new) == ["/feed.rss", "/tags/y/feed.json"]
    assert changed_feed_paths(new, new) == []


def test_changed_feed_paths_of_sites_ignores_pages_and_calendars() -> None:
    old = site_of({"/feed.atom": b"1", "/events.ics": b"1", "/": b"1"})
    new = site_of({"/feed.atom": b"2", "/events.ics": b"2", "/": b"2"})
    assert changed_feed_paths(old, new) == ["/feed.atom"]


def test_an_edit_pings_exactly_the_feeds_it_changed(tmp_path: Path) -> None:
    with local_hub() as hub:
        catalog = copy_catalog(tmp_path, hub=hub.url)
        app = hub_app(catalog)
        assert hub.pings == []  # loading is not a change

        retitle_untagged(catalog, "Only the main feeds change")  # an entry without tags
        reload_and_wait(app)
        assert hub.urls() == [f"{BASE}/feed.atom", f"{BASE}/feed.json", f"{BASE}/feed.rss"]
        assert all(ping["hub.mode"] == ["publish"] for ping in hub.pings)

        hub.pings.clear()
        edit(catalog, "tags: [cooperation, culture]", "tags: [cooperation, culture, news]")
        reload_and_wait(app)
        urls = hub.urls()
        assert {
            f"{BASE}/tags/news/{name}" for name in ("feed.atom", "feed.rss", "feed.json")
        } <= set(urls)
        # The entry's feeds changed (its tag list is in each); a calendar is no feed.
        assert f"{BASE}/feed.atom" in urls
        assert not any(url.endswith(".ics") for url in urls)
        assert len(urls) == len(set(urls))


def test_a_broken_edit_or_an_identical_save_pings_nothing(tmp_path: Path) -> None:
    with local_hub() as hub:
        catalog = copy_catalog(tmp_path, hub=hub.url)
        app = hub_app(catalog)
        saved = catalog.read_bytes()
        break_catalog(catalog)
        reload_and_wait(app)
        catalog.write_bytes(saved)  # undone: the served Site did not change
        reload_and_wait(app)
        assert hub.pings == []


def test_no_hub_no_pings(tmp_path: Path) -> None:
    with local_hub() as hub:
        catalog = copy_catalog(tmp_path)  # no feed.hub
        app = hub_app(catalog)
        retitle_untagged(catalog, "Nobody to tell")
        reload_and_wait(app)
        assert hub.pings == []


def test_a_failing_hub_is_retried_then_succeeds(tmp_path: Path) -> None:
    with local_hub() as hub:
        hub.statuses = [503, 503]
        catalog = copy_catalog(tmp_path, hub=hub.url)
        app = hub_app(catalog)
        edit(catalog, "  language: en\n", "  language: en-GB\n")
        reload_and_wait(app)
        urls = hub.urls()
        # Every feed names its language; the first ping took three tries.
        assert len(urls) == len(set(urls)) + 2


def test_a_refusing_hub_is_not_retried(caplog: pytest.LogCaptureFixture) -> None:
    with local_hub() as hub:
        hub.statuses = [400]
        with caplog.at_level(logging.WARNING, logger="feeds.publish.websub"):
            failed = publish(hub.url, ["https://x.example/feed.atom"], QUICK)
        assert failed == ["https://x.example/feed.atom"]
        assert len(hub.pings) == 1
        assert "400" in caplog.text and "giving up" in caplog.text


def test_a_dead_hub_leaves_requests_unaffected(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with local_hub() as hub:
        dead = hub.url  # the server stops at the end of this block
    catalog = copy_catalog(tmp_path, hub=dead)
    app = hub_app(catalog)
    client = app.test_client()
    retitle_untagged(catalog, "The hub is down")
    with caplog.at_level(logging.WARNING, logger="feeds.publish.websub"):
        assert runtime(app).watcher.check_now()
        response = client.get("/feed.atom")  # while pings fail in the background
        assert response.status_code == 200
        assert b"The hub is down" in response.data
        notifier = runtime(app).notifier
        assert notifier is not None
        assert notifier.wait_idle(timeout=60)
    assert "giving up" in caplog.text
    assert client.get("/health").status_code == 200


def test_synchronous_publish_for_a_build() -> None:
    with local_hub() as hub:
        hub.statuses = [500]
        failed = publish(hub.url, ["https://x.example/a.atom", "https://x.example/b.rss"], QUICK)
        assert failed == []
        assert hub.urls() == [
            "https://x.example/a.atom",
            "https://x.example/a.atom",
            "https://x.example/b.rss",
        ]


def test_one_process_of_those_sharing_a_catalog_pings(tmp_path: Path) -> None:
    lock = tmp_path / "websub.lock"
    first, second = HubNotifier(lock, QUICK), HubNotifier(lock, QUICK)
    with local_hub() as hub:
        feed = Feed(
            title="t",
            link="https://x.example/",
            base_url="https://x.example/",
            id_authority="x.example,2019",
            hub=hub.url,
        )
        old, new = site_of({"/feed.atom": b"1"}), site_of({"/feed.atom": b"2"})
        first.notify_change(feed, old, new)
        second.notify_change(feed, old, new)  # another worker: the lock is taken
        assert first.wait_idle(30) and second.wait_idle(30)
        assert hub.urls() == ["https://x.example/feed.atom"]


def test_retry_delays_double_up_to_a_bound() -> None:
    assert Retry().delays() == [1.0, 2.0, 4.0, 8.0]
    assert Retry(attempts=8, first_delay=1, max_delay=10).delays() == [1, 2, 4, 8, 10, 10, 10]


def test_publish_changes_for_a_build_pings_the_changed_feeds_only() -> None:
    with local_hub() as hub:
        feed = Feed(
            title="t",
            link="https://x.example/",
            base_url="https://x.example/",
            id_authority="x.example,2019",
            hub=hub.url,
        )
        old = {"/feed.atom": '"1"', "/feed.rss": '"1"'}
        new = site_of({"/feed.atom": b"2", "/feed.rss": b"1", "/events.ics": b"2"})
        old["/feed.rss"] = new["/feed.rss"].etag
        assert publish_changes(feed, old, new, QUICK) == []
        assert hub.urls() == ["https://x.example/feed.atom"]
        no_hub = Feed(title="t", link=feed.link, base_url=feed.base_url, id_authority="a,2019")
        assert publish_changes(no_hub, {}, new, QUICK) == []
        assert len(hub.pings) == 1
