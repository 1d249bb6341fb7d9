"""The bundled catalog loads into the model as the seed page describes it."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from feeds.catalog import load_catalog, parse_catalog
from feeds.model import Catalog

BRUSSELS = ZoneInfo("Europe/Brussels")


def test_bundled_catalog_counts(bundled_catalog_path: Path) -> None:
    catalog = load_catalog(bundled_catalog_path)
    assert len(catalog.entries) == 10
    assert len(catalog.publications) == 9
    assert len(catalog.events) == 4
    assert catalog.tags == ("cooperation", "culture")


def test_bundled_catalog_feed(bundled_catalog_path: Path) -> None:
    feed = load_catalog(bundled_catalog_path).feed
    assert feed.timezone == "Europe/Brussels"
    assert feed.base_url.endswith("/")
    assert feed.id_authority == "eurocities.eu,2019"
    assert feed.author is not None and feed.author.name == "EUROCITIES"


def test_bundled_events_are_the_seed_page_days(bundled_catalog_path: Path) -> None:
    catalog = load_catalog(bundled_catalog_path)
    days = {
        e.id: (e.event.start, e.event.end, e.event.location)
        for e in catalog.events
        if e.event is not None
    }
    assert days == {
        "urban-academy-integration-migrants-refugees-antwerp": (
            date(2019, 5, 21),
            date(2019, 5, 22),
            "Antwerp, Belgium",
        ),
        "study-visit-education-barcelona": (
            date(2019, 4, 24),
            date(2019, 4, 26),
            "Barcelona, Spain",
        ),
        "study-visit-roma-housing-toulouse": (
            date(2019, 4, 9),
            date(2019, 4, 10),
            "Toulouse, France",
        ),
        "wg-smart-social-inclusion-glasgow": (
            date(2019, 3, 27),
            date(2019, 3, 27),
            "Glasgow, United Kingdom",
        ),
    }
    assert all(e.event is not None and e.event.all_day for e in catalog.events)


def test_published_day_is_midnight_in_the_feed_zone(bundled_catalog_path: Path) -> None:
    entry = load_catalog(bundled_catalog_path).entry("bologna-lets-do-it-together")
    assert entry is not None
    assert entry.published == datetime(2019, 3, 14, tzinfo=BRUSSELS)
    assert entry.published.utcoffset() is not None
    assert entry.updated == entry.published  # updated defaults to published
    assert entry.line == 17


def test_loading_twice_gives_equal_catalogs(bundled_catalog_path: Path) -> None:
    first, second = load_catalog(bundled_catalog_path), load_catalog(bundled_catalog_path)
    assert first == second
    assert first is not second
    assert repr(first) == repr(second)


def test_source_and_version(bundled_catalog_path: Path) -> None:
    data = bundled_catalog_path.read_bytes()
    catalog = parse_catalog(data, "somewhere/entries.yaml")
    assert catalog.source == "somewhere/entries.yaml"
    assert catalog.version == hashlib.sha256(data).hexdigest()
    assert load_catalog(bundled_catalog_path).source == str(bundled_catalog_path)


def test_model_is_immutable(bundled_catalog_path: Path) -> None:
    catalog: Catalog = load_catalog(bundled_catalog_path)
    entry = catalog.entries[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        entry.title = "changed"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        catalog.feed.title = "changed"  # type: ignore[misc]
    event = catalog.events[0].event
    assert event is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.start = date(2020, 1, 1)  # type: ignore[misc]
    assert isinstance(catalog.entries, tuple) and isinstance(entry.tags, tuple)
