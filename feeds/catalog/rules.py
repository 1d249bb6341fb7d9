"""Rules across fields, and the model they produce: zones, spans, ids, recurrence."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from ..model import Author, Entry, Event, Feed
from ..recurrence import day_of
from .errors import Invalid, Problems
from .recurrence_rules import check_left_out, check_occurs, check_rrule
from .schema import Fields
from .yamlnodes import Seq


@dataclass(frozen=True)
class Zones:
    """The feed's default zone, and whether a missing one is worth reporting."""

    default: str | None
    feed_zone_broken: bool  # feed.timezone was written but is invalid: already reported


def build_feed(fields: Fields) -> Feed | None:
    if fields.missing_required or not {"title", "link", "base_url", "id_authority"} <= set(
        fields.values
    ):
        return None
    author_fields: Fields | None = fields.get("author")
    author = None
    if author_fields is not None:
        if "name" not in author_fields.values:
            return None
        author = Author(**author_fields.values)
    base_url: str = fields.values["base_url"]
    return Feed(
        title=fields.values["title"],
        link=fields.values["link"],
        base_url=base_url if base_url.endswith("/") else base_url + "/",
        id_authority=fields.values["id_authority"],
        subtitle=fields.get("subtitle"),
        author=author,
        language=fields.get("language", "en"),
        timezone=fields.get("timezone"),
        feed_size=fields.get("feed_size", 50),
        hub=fields.get("hub"),
    )


def feed_zones(fields: Fields | None) -> Zones:
    if fields is None:
        return Zones(None, feed_zone_broken=True)
    written = "timezone" in fields.nodes
    zone = fields.get("timezone")
    return Zones(zone, feed_zone_broken=written and zone is None)


def build_entry(fields: Fields, path: str, zones: Zones, problems: Problems) -> Entry | None:
    values = fields.values  # read directly: this runs for every entry
    published = _instant(fields, "published", path, zones, problems)
    updated = _instant(fields, "updated", path, zones, problems)
    if published is not None and updated is not None:
        _check_updated_not_before_published(fields, path, published, updated, problems)
    event_fields: Fields | None = values.get("event")
    event = build_event(event_fields, f"{path}.event", zones, problems) if event_fields else None
    legacy_ok = "legacy_id" not in values or _opaque_id_ok(fields, "legacy_id", path, problems)
    if (
        fields.missing_required
        or not legacy_ok
        or len(values) < len(fields.nodes)  # a value was rejected
        or (event_fields is not None and event is None)
        # a date was read but gave no instant (its problem is reported)
        or (published is None and "published" in values)
        or (updated is None and "updated" in values)
    ):
        return None
    return _made(
        Entry,
        id=values["id"],
        title=values["title"],
        summary=values.get("summary", ""),
        type=values.get("type"),
        tags=values.get("tags", ()),
        published=published,
        updated=updated or published,
        link=values.get("link"),
        event=event,
        legacy_id=values.get("legacy_id"),
        language=values.get("language"),
        line=fields.line,
    )


def _opaque_id_ok(fields: Fields, name: str, path: str, problems: Problems) -> bool:
    """An id kept from an earlier publisher (legacy_id, event.uid): any text, but no
    control character (`text` lets a tab through), which no reader would match again."""
    value: str = fields.values[name]
    if value.isprintable():
        return True  # the common case, checked at C speed
    bad = next((char for char in value if unicodedata.category(char) == "Cc"), None)
    if bad is None:
        return True
    problems.add(
        fields.line_of(name),
        f"{path}.{name}",
        f"contains the control character U+{ord(bad):04X}; an id is one line of "
        "visible text (copy it exactly as the old feed published it)",
    )
    return False


_Model = TypeVar("_Model", Entry, Event)


def _made(cls: type[_Model], **values: Any) -> _Model:
    """`cls(**values)` without the frozen dataclass's __init__, ~4x faster (it sets each
    field through object.__setattr__; 10,000 entries took ~35 ms). The instance gets the
    same __dict__, so it is equal, hashes and prints the same; the model's classes have
    no __post_init__ and no slots (tests/test_catalog_fast_paths.py checks both)."""
    made = object.__new__(cls)
    made.__dict__.update(values)
    return made


def _check_updated_not_before_published(
    fields: Fields, path: str, published_at: datetime, updated_at: datetime, problems: Problems
) -> None:
    """Compare by day when either is written as a day (2019-03-15 is not before
    2019-03-14T23:00:00-05:00, although its midnight in the feed's zone is); else by instant."""
    published: date | datetime = fields.values["published"]
    updated: date | datetime = fields.values["updated"]
    shown: tuple[date | datetime, date | datetime]
    if isinstance(published, datetime) and isinstance(updated, datetime):
        earlier, shown = updated_at < published_at, (updated_at, published_at)
    else:
        earlier, shown = day_of(updated) < day_of(published), (updated, published)
    if earlier:
        problems.add(
            fields.line_of("updated"),
            f"{path}.updated",
            f"is before published ({shown[0].isoformat()} < {shown[1].isoformat()}); "
            "updated is when the entry last changed",
        )


def _instant(
    fields: Fields, name: str, path: str, zones: Zones, problems: Problems
) -> datetime | None:
    """published/updated as an aware datetime: a day is midnight in the feed's zone."""
    value: date | datetime | None = fields.values.get(name)
    if value is None:
        return None
    try:
        if not isinstance(value, datetime):
            zone: tzinfo = ZoneInfo(zones.default) if zones.default else UTC
            return datetime.combine(value, time(), tzinfo=zone)
        if value.tzinfo is None:
            return _localize(value, _default_zone(zones, "feed.timezone"))
        return value
    except Invalid as exc:
        if exc.message:
            problems.add(fields.line_of(name), f"{path}.{name}", exc.message)
        return None


def _default_zone(zones: Zones, remedy: str) -> str:
    if zones.default is None:
        if zones.feed_zone_broken:
            raise Invalid()
        raise Invalid(
            f"has no time zone: set {remedy}, or write the offset, e.g. 2019-03-14T10:00:00+01:00"
        )
    return zones.default


def _localize(wall: datetime, zone_name: str) -> datetime:
    """A wall-clock time in a zone; refuses times the zone skips (summer time starts)."""
    zone = ZoneInfo(zone_name)
    aware = wall.replace(tzinfo=zone)
    if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall:
        raise Invalid(
            f"{wall.isoformat()} does not exist in {zone_name} (the clocks skip it when "
            "summer time starts); pick another time"
        )
    return aware


def build_event(fields: Fields, path: str, zones: Zones, problems: Problems) -> Event | None:
    start: date | datetime | None = fields.get("start")
    if start is None:
        return None
    try:
        if isinstance(start, datetime):
            span = _timed_span(fields, start, path, zones, problems)
        else:
            span = _all_day_span(fields, start, path, problems)
    except Invalid as exc:
        if exc.message:
            problems.add(fields.line, path, exc.message)
        return None
    if span is None:
        return None
    start, end, zone = span
    rrule = _checked_rrule(fields, path, start, problems)
    exdate = _checked_exdate(fields, path, start, rrule, problems)
    uid_ok = "uid" not in fields.values or _opaque_id_ok(fields, "uid", path, problems)
    if (
        len(fields.values) < len(fields.nodes)
        or ("rrule" in fields.values and rrule is None)
        or exdate is None
        or not uid_ok
    ):
        return None
    return _made(
        Event,
        start=start,
        end=end,
        timezone=zone,
        location=fields.get("location"),
        geo=fields.get("geo"),
        url=fields.get("url"),
        status=fields.get("status", "confirmed"),
        rrule=rrule,
        exdate=exdate,
        uid=fields.get("uid"),
    )


_Span = tuple[date | datetime, date | datetime, str | None]


def _all_day_span(fields: Fields, start: date, path: str, problems: Problems) -> _Span | None:
    end: date | datetime = fields.get("end", start)
    ok = True
    if "timezone" in fields.nodes:
        problems.add(
            fields.line_of("timezone"),
            f"{path}.timezone",
            "applies only to timed events; remove it, or give start and end a time",
        )
        ok = False
    if isinstance(end, datetime):
        problems.add(
            fields.line_of("end"),
            f"{path}.end",
            "must be a date like start (all-day event), or give start a time as well",
        )
        return None
    if end < start:
        problems.add(fields.line_of("end"), f"{path}.end", _before(end, start))
        return None
    return (start, end, None) if ok else None


def _timed_span(
    fields: Fields, start: datetime, path: str, zones: Zones, problems: Problems
) -> _Span | None:
    end: date | datetime | None = fields.get("end")
    if end is None:
        if "end" not in fields.nodes:
            problems.add(
                fields.line,
                f"{path}.end",
                "is required for a timed event (when does it end?); "
                "or write start as a date for an all-day event",
            )
        return None
    if not isinstance(end, datetime):
        problems.add(
            fields.line_of("end"),
            f"{path}.end",
            "must be a date and time like start (timed event), or write start as a date",
        )
        return None
    try:
        zone = _event_zone(fields, (start, end), path, zones, problems)
        start_at = _at(fields, "start", start, zone, path, problems)
        end_at = _at(fields, "end", end, zone, path, problems)
    except Invalid:
        return None
    if end_at < start_at:
        problems.add(fields.line_of("end"), f"{path}.end", _before(end_at, start_at))
        return None
    return (start_at, end_at, zone)


def _event_zone(
    fields: Fields, times: tuple[datetime, datetime], path: str, zones: Zones, problems: Problems
) -> str | None:
    """The zone the event's times are shown in; None keeps the offsets as written.

    Raises a bare Invalid when there is none to use (the problem is recorded).
    """
    if "timezone" in fields.nodes:
        zone: str | None = fields.get("timezone")
        if zone is None:  # written but invalid: reported already
            raise Invalid()
        return zone
    if all(t.tzinfo is not None for t in times):
        return None
    try:
        return _default_zone(zones, "event.timezone or feed.timezone")
    except Invalid as exc:
        if exc.message:
            problems.add(fields.line_of("start"), f"{path}.start", exc.message)
        raise Invalid() from None


def _at(
    fields: Fields, name: str, value: datetime, zone: str | None, path: str, problems: Problems
) -> datetime:
    """One of the event's times in its zone; records and re-raises a time the zone skips."""
    try:
        return _in_zone(value, zone)
    except Invalid as exc:
        problems.add(fields.line_of(name), f"{path}.{name}", exc.message)
        raise Invalid() from None


def _in_zone(value: datetime, zone: str | None) -> datetime:
    if zone is None:
        return value
    if value.tzinfo is None:
        return _localize(value, zone)
    return value.astimezone(ZoneInfo(zone))


def _before(end: date, start: date) -> str:
    return f"ends before it starts ({end.isoformat()} < {start.isoformat()})"


def _checked_rrule(
    fields: Fields, path: str, start: date | datetime, problems: Problems
) -> str | None:
    rule: str | None = fields.get("rrule")
    if rule is None:
        return None
    try:
        parts = check_rrule(rule, all_day=not isinstance(start, datetime))
        check_occurs(parts, start)
    except Invalid as exc:
        problems.add(fields.line_of("rrule"), f"{path}.rrule", exc.message)
        return None
    return rule


def _checked_exdate(
    fields: Fields, path: str, start: date | datetime, rule: str | None, problems: Problems
) -> tuple[date, ...] | None:
    """`exdate`'s days, in order; None after a problem (each found is reported)."""
    days: tuple[date, ...] = fields.get("exdate", ())
    if not days:
        return ()
    if rule is None:
        if "rrule" not in fields.nodes:  # else the rule's own problem is said
            problems.add(
                fields.line_of("exdate"),
                f"{path}.exdate",
                "leaves days out of a repeating event, and this one has no rrule: add one, "
                "or remove exdate",
            )
        return None
    node = fields.nodes["exdate"]
    items = node.items if isinstance(node, Seq) else []  # a Seq: day_list read it
    ok = True
    for index, (day, item) in enumerate(zip(days, items, strict=True)):
        try:
            check_left_out(rule, start, day)
        except Invalid as exc:
            problems.add(item.line, f"{path}.exdate[{index}]", exc.message)
            ok = False
    return tuple(sorted(days)) if ok else None
