"""The bundled catalog loads into the model as the seed page describes it."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.catalog import load_catalog, parse_catalog, yamlnodes
from feeds.model import Catalog, Event

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


def catalog_with(entry_yaml: str, feed_extra: str = "  timezone: Europe/Brussels\n") -> Catalog:
    text = (
        "feed:\n  title: T\n  link: https://e.org/\n  base_url: https://feeds.e.org/sub\n"
        "  id_authority: e.org,2019\n" + feed_extra + "entries:\n" + entry_yaml
    )
    return parse_catalog(text.encode())


def only_event(catalog: Catalog) -> Event:
    event = catalog.entries[0].event
    assert event is not None
    return event


def test_naive_times_are_wall_times_in_the_feed_zone() -> None:
    event = only_event(
        catalog_with(
            "  - id: a\n    title: A\n    event:\n"
            "      start: 2019-10-27T01:30:00\n      end: 2019-10-27T04:30:00\n"
        )
    )
    assert event.timezone == "Europe/Brussels"
    assert event.start == datetime(2019, 10, 27, 1, 30, tzinfo=BRUSSELS)
    assert isinstance(event.start, datetime) and event.start.tzinfo == BRUSSELS
    # summer time ends at 03:00 that night: 3 wall-clock hours are 4 real ones
    assert isinstance(event.end, datetime)
    assert event.end.astimezone(UTC) - event.start.astimezone(UTC) == timedelta(hours=4)


def test_offset_times_keep_their_offset_without_an_event_zone() -> None:
    event = only_event(
        catalog_with(
            "  - id: a\n    title: A\n    event:\n"
            "      start: 2019-05-21T09:00:00-04:00\n      end: 2019-05-21T10:00:00-04:00\n"
        )
    )
    assert event.timezone is None
    assert event.start.utcoffset() == timedelta(hours=-4)  # type: ignore[union-attr]


def test_offset_times_are_converted_to_the_event_zone() -> None:
    event = only_event(
        catalog_with(
            "  - id: a\n    title: A\n    event:\n      timezone: Asia/Tokyo\n"
            "      start: 2019-05-21T09:00:00Z\n      end: 2019-05-21T10:00:00Z\n",
            feed_extra="",
        )
    )
    assert event.timezone == "Asia/Tokyo"
    assert event.start == datetime(2019, 5, 21, 18, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert isinstance(event.start, datetime) and event.start.tzinfo == ZoneInfo("Asia/Tokyo")


def test_all_day_defaults() -> None:
    event = only_event(catalog_with("  - id: a\n    title: A\n    event: {start: 2019-05-21}\n"))
    assert (event.start, event.end) == (date(2019, 5, 21), date(2019, 5, 21))
    assert event.all_day and event.timezone is None and event.status == "confirmed"
    assert event.rrule is None and event.geo is None


def test_dates_without_a_feed_zone_are_utc_midnight() -> None:
    entry = catalog_with("  - id: a\n    title: A\n    published: 2019-03-14\n", "").entries[0]
    assert entry.published == datetime(2019, 3, 14, tzinfo=UTC)
    assert entry.published.utcoffset() == timedelta(0)


def test_values_stay_as_written() -> None:
    """YAML 1.1 would make these a bool, an int, a float and a date; the catalog keeps text."""
    catalog = catalog_with(
        "  - id: '123'\n    title: yes\n    type: 2019\n    summary: 1.50\n"
        "    tags: [on, 2019-01-01]\n"
        "    published: 2019-03-14 10:00\n"
        "    event: {start: 2019-05-21, geo: [1, -2.5e1], status: cancelled,"
        " rrule: FREQ=YEARLY;UNTIL=20250521}\n"
    )
    entry = catalog.entries[0]
    assert (entry.id, entry.title, entry.type, entry.summary) == ("123", "yes", "2019", "1.50")
    assert entry.tags == ("on", "2019-01-01")
    assert entry.published == datetime(2019, 3, 14, 10, 0, tzinfo=BRUSSELS)
    assert catalog.feed.base_url == "https://feeds.e.org/sub/"
    event = only_event(catalog)
    assert event.geo == (1.0, -25.0) and event.status == "cancelled"
    assert event.rrule == "FREQ=YEARLY;UNTIL=20250521"


def test_pure_python_parser_gives_the_same_catalog(
    bundled_catalog_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_libyaml = load_catalog(bundled_catalog_path)
    monkeypatch.setattr(yamlnodes, "_Loader", yaml.SafeLoader)
    assert load_catalog(bundled_catalog_path) == with_libyaml


_ZONES = [UTC, ZoneInfo("Europe/Brussels"), ZoneInfo("America/New_York"), ZoneInfo("Asia/Tokyo")]


@settings(max_examples=200, deadline=None)
@given(
    stamps=st.lists(
        st.tuples(
            st.integers(0, 8),  # half-hours around a DST change (Brussels, 2019-10-27 01:00 UTC)
            st.sampled_from(range(len(_ZONES))),
            st.sampled_from([0, 30]),
        ),
        min_size=1,
        max_size=25,
    )
)
def test_publications_are_newest_instant_first_ties_by_id(
    stamps: list[tuple[int, int, int]],
) -> None:
    """The order is by instant (equal instants written in other zones alike, the hour
    repeated when clocks go back in its true order), then by id."""
    base = datetime(2019, 10, 26, 23, 0, tzinfo=UTC)
    template_catalog = catalog_with("  - id: x\n    title: X\n    published: 2019-10-01\n")
    template = template_catalog.entries[0]
    entries = []
    for index, (halves, zone, minutes) in enumerate(stamps):
        instant = base + timedelta(minutes=30 * halves + minutes)
        published = instant.astimezone(_ZONES[zone])
        entries.append(dataclasses.replace(template, id=f"e{index:02d}", published=published))
    catalog = dataclasses.replace(template_catalog, entries=tuple(entries))
    expected = sorted(entries, key=lambda e: e.id)
    expected.sort(key=lambda e: e.published.astimezone(UTC), reverse=True)  # type: ignore[union-attr]
    assert [e.id for e in catalog.publications] == [e.id for e in expected]


def test_the_hour_repeated_when_clocks_go_back_is_ordered_by_instant() -> None:
    brussels = ZoneInfo("Europe/Brussels")
    earlier = datetime(2019, 10, 27, 0, 30, tzinfo=UTC).astimezone(brussels)  # 02:30 CEST
    later = datetime(2019, 10, 27, 1, 0, tzinfo=UTC).astimezone(brussels)  # 02:00 CET
    template_catalog = catalog_with("  - id: x\n    title: X\n    published: 2019-10-01\n")
    entries = (
        dataclasses.replace(template_catalog.entries[0], id="a-earlier", published=earlier),
        dataclasses.replace(template_catalog.entries[0], id="b-later", published=later),
    )
    catalog = dataclasses.replace(template_catalog, entries=entries)
    assert [e.id for e in catalog.publications] == ["b-later", "a-earlier"]
