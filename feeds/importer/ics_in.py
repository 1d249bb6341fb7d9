"""iCalendar (.ics) events as `Item`s, read by icalendar; nothing is expanded.

Each VEVENT becomes one entry with an `event`: its UID kept as `event.uid`, its times
in the zone they were written in when that is an IANA zone, or one the file defines
under a Windows name that maps to an IANA zone with the same offsets (Outlook and
Exchange write "W. Europe Standard Time": `_iana_zone`), else as the instant, in UTC;
its RRULE kept when the catalog supports it (`feeds.catalog.recurrence_rules.check_rrule`),
and its EXDATE as `exdate`. A changed occurrence of a repeating event (a VEVENT with
RECURRENCE-ID: moved, renamed or cancelled) leaves its day out of its series and,
unless cancelled, is an event of its own (`_apply_change`).

What the catalog cannot say is reported and the event skipped, never approximated:
added occurrences (RDATE); an EXDATE or RECURRENCE-ID that is not a start of the rule,
or one of several starts of a day (the catalog leaves out whole days), or its first
(its series is skipped with such a RECURRENCE-ID: it would show the occurrence as it
was); several RRULEs; a rule the catalog refuses or in a zone that only the file
defines (in UTC, its times would move by an hour at each change of daylight saving
time); an event without DTSTART or SUMMARY; a time without a zone.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar, use_zoneinfo
from icalendar.timezone.tzid import is_utc
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from ..catalog.errors import Invalid
from ..catalog.recurrence_rules import check_left_out, check_occurs, check_rrule
from ..catalog.values import known_zones
from ..recurrence import as_datetime, day_of, starts_on
from .feeds_in import _add_tag
from .items import FeedInfo, ImportedEvent, Item, Report, SourceError, one_line
from .markdown import plain_to_markdown

_STATUSES = {"CONFIRMED": "confirmed", "TENTATIVE": "tentative", "CANCELLED": "cancelled"}


class Skip(Exception):
    """An event the catalog cannot hold as it is: the reason, for the report."""


def read_calendar(data: bytes, source: str, report: Report) -> tuple[FeedInfo, list[Item]]:
    with warnings.catch_warnings(record=True) as warned:
        # icalendar warns when it reads a vendor's TZID as an IANA zone: say so, once.
        warnings.simplefilter("always")
        # icalendar keeps each VTIMEZONE it reads by its TZID for the whole process and
        # never replaces one: a second file's "W. Europe Standard Time" with other
        # offsets would be read with the first file's. Choosing the provider again
        # (the one it uses anyway) starts an empty table.
        use_zoneinfo()  # type: ignore[no-untyped-call]
        try:
            calendars = Calendar.from_ical(data, multiple=True)
        except Exception as exc:  # noqa: BLE001  (any parser failure on any input: one line)
            raise SourceError(f"is not a readable iCalendar file: {_reason(exc)}") from None
        items = _items(calendars, source, report)
    for message in dict.fromkeys(str(warning.message) for warning in warned):
        report.say(f"{source}: {_reason(Exception(message))}")
    return items


def _items(calendars: Any, source: str, report: Report) -> tuple[FeedInfo, list[Item]]:
    if not calendars:
        raise SourceError("holds no calendar components")
    first = calendars[0]
    info = FeedInfo(title=_text(first.get("X-WR-CALNAME")), link=_http(first.get("URL")))
    items: list[Item] = []
    series: dict[str, Item] = {}  # UID -> the item of a repeating event
    changed: list[tuple[Any, str]] = []  # its changed occurrences, once every series is read
    number = 0
    for calendar in calendars:
        for event in calendar.walk("VEVENT"):
            number += 1
            where = f"{source}: item {number}"
            if event.get("RECURRENCE-ID") is not None:
                changed.append((event, where))
                continue
            item = _readable(partial(_item, event, where, report), where, report)
            if item is not None:
                items.append(item)
                if item.event is not None and item.event.rrule and item.event.uid:
                    series[item.event.uid] = item
    for event, where in changed:
        _apply_change(event, where, series, items, report)
    return info, items


def _readable(read: Callable[[], Item], where: str, report: Report) -> Item | None:
    """`read()`, or None with the reason it was skipped reported."""
    try:
        return read()
    except Skip as skip:
        report.say(f"{where}: {skip}: skipped")
    except Exception as exc:  # noqa: BLE001  (a value icalendar cannot decode)
        report.say(f"{where}: cannot be read ({_reason(exc)}): skipped")
    return None


def _apply_change(
    event: Any, where: str, series: dict[str, Item], items: list[Item], report: Report
) -> None:
    """A changed occurrence (RECURRENCE-ID) as the catalog can say it: its day left out
    of its series (`exdate`), and, unless it was cancelled, an event of its own (with
    our UID: the catalog has one event per UID). If that cannot be said, the series is
    skipped too: it would show the occurrence as it was before the change."""
    uid = _text(event.get("UID")) or ""
    master = series.get(uid)
    if master is None:
        report.say(
            f"{where}: a changed occurrence (RECURRENCE-ID) of a repeating event this file "
            "does not hold, or one that was skipped: skipped"
        )
        return
    try:
        day = _changed_day(event, master)
    except Skip as skip:
        report.say(f"{where}: {skip}: skipped")
        items.remove(master)
        del series[uid]  # its other changes find no series any more
        report.say(
            f"{master.where}: its occurrence changed by {where.rsplit(': ', 1)[-1]} cannot "
            "be carried over: skipped"
        )
        return
    assert master.event is not None
    master.event.exdate = tuple(sorted({*master.event.exdate, day}))
    if (_text(event.get("STATUS")) or "").upper() == "CANCELLED":
        report.say(
            f"{where}: the occurrence of {day.isoformat()} is cancelled: left out of its "
            "series (exdate)"
        )
        return
    moved = _readable(partial(_item, event, where, report), where, report)
    if moved is None or moved.event is None:
        return
    moved.event.uid, moved.event.rrule, moved.event.exdate = None, None, ()
    items.append(moved)
    report.say(
        f"{where}: the occurrence of {day.isoformat()} was changed: left out of its series "
        "(exdate) and imported as an event of its own (with a new UID)"
    )


def _changed_day(event: Any, master: Item) -> date:
    """The day of the series' start that a RECURRENCE-ID replaces, when the catalog can
    leave it out of the series (a start of its rule, the only one that day, not its first)."""
    imported = master.event
    assert imported is not None and imported.rrule is not None
    prop = event["RECURRENCE-ID"]
    if prop.params.get("RANGE"):
        raise Skip("RECURRENCE-ID with RANGE (this and later occurrences) is not supported")
    day, starts_that_day = _start_day("RECURRENCE-ID", prop.dt, imported)
    if starts_that_day > 1:
        raise Skip(
            "RECURRENCE-ID changes one of several starts of a day (the catalog leaves out "
            "whole days)"
        )
    try:
        check_left_out(imported.rrule, imported.start, day)
    except Invalid as exc:
        raise Skip(f"RECURRENCE-ID: {exc.message}") from None
    return day


def _start_day(name: str, value: date | datetime, imported: ImportedEvent) -> tuple[date, int]:
    """The day (in the event's zone) of `value`, an EXDATE or RECURRENCE-ID that must
    be a start of the event's rule, and how many starts the rule gives that day."""
    assert imported.rrule is not None
    moment = _in_zone(value, imported.timezone)
    day = day_of(moment)
    given = starts_on(imported.rrule, imported.start, [day])[day]
    exact = moment if isinstance(moment, datetime) else as_datetime(moment)
    if isinstance(moment, datetime) != isinstance(imported.start, datetime) or exact not in given:
        raise Skip(f"{name} {moment.isoformat()} is not a start of its RRULE")
    return day, len(given)


def _reason(exc: Exception) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _http(value: Any) -> str | None:
    text = _text(value)
    return text if text and text.lower().startswith(("http://", "https://")) else None


def _item(event: Any, where: str, report: Report) -> Item:
    named = _text(event.get("SUMMARY"))
    if named is None:
        raise Skip("no SUMMARY (title)")
    if event.get("RDATE") is not None:
        raise Skip("RDATE (dates added to its repetition) is not supported by the catalog")
    item = Item(where, title=named, link=_http(event.get("URL")))
    item.event = _event(event, where)
    item.updated = _aware(event, "LAST-MODIFIED")
    created = _aware(event, "CREATED")
    item.event.created = created.date() if created is not None else None
    description = _text(event.get("DESCRIPTION"))
    if description:
        item.summary = plain_to_markdown(description)
    categories = event.get("CATEGORIES")
    for group in categories if isinstance(categories, list) else [categories] if categories else []:
        for term in group.cats:
            _add_tag(item, str(term), report)
    return item


def _aware(event: Any, name: str) -> datetime | None:
    prop = event.get(name)
    value = getattr(prop, "dt", None)
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else None
    return None


def _event(event: Any, where: str) -> ImportedEvent:
    start_prop = event.get("DTSTART")
    if start_prop is None:
        raise Skip("no DTSTART (date)")
    start = start_prop.dt
    end = _end(event, start)
    file_only_zone = False
    if isinstance(start, datetime):
        zone = _zone_of(start, _text(start_prop.params.get("TZID")), end)
        file_only_zone = zone is None and not is_utc(start)
        start, end = _in_zone(start, zone), _in_zone(end, zone)
    else:
        zone = None
    if end < start:
        raise Skip("it ends before it starts")
    result = ImportedEvent(start=start, end=end, timezone=zone)
    result.location = (
        one_line(str(event.get("LOCATION")))[0] or None if event.get("LOCATION") else None
    )
    geo = event.get("GEO")
    if geo is not None:
        result.geo = (float(geo.latitude), float(geo.longitude))
    result.url = _http(event.get("URL"))
    status = _text(event.get("STATUS"))
    result.status = _STATUSES.get(status.upper()) if status else None
    result.uid = _text(event.get("UID"))
    result.rrule = _rule(event, start, file_only_zone)
    result.exdate = _left_out(event, result)
    return result


def _left_out(event: Any, imported: ImportedEvent) -> tuple[date, ...]:
    """EXDATE as the catalog's `exdate`: the days of the starts it names, when it names
    every start of each such day (the catalog leaves out whole days)."""
    named = event.get("EXDATE")
    if named is None:
        return ()
    if imported.rrule is None:
        raise Skip("EXDATE without an RRULE (a date left out of no repetition)")
    groups = named if isinstance(named, list) else [named]
    values = [value.dt for group in groups for value in group.dts]
    starts_by_day = dict(_start_day("EXDATE", value, imported) for value in values)
    if len(set(values)) < sum(starts_by_day.values()):  # (a start named twice counts once)
        raise Skip(
            "EXDATE leaves out some of the starts of a day (the catalog leaves out whole days)"
        )
    try:
        for day in starts_by_day:
            check_left_out(imported.rrule, imported.start, day)
    except Invalid as exc:
        raise Skip(f"EXDATE: {exc.message}") from None
    return tuple(sorted(starts_by_day))


def _end(event: Any, start: date | datetime) -> date | datetime:
    """The catalog's end: timed, the end time; all-day, the last day (DTEND is the day after)."""
    end_prop, duration = event.get("DTEND"), event.get("DURATION")
    end: date | datetime
    if end_prop is not None:
        end = end_prop.dt
    elif duration is not None:
        end = start + duration.dt
    else:
        # RFC 5545 3.6.1: without either, a timed event ends when it starts, a dated one
        # lasts the day.
        return start
    if isinstance(start, datetime) != isinstance(end, datetime):
        raise Skip("DTSTART and DTEND are not both dates or both times")
    if not isinstance(start, datetime):
        return max(start, end - timedelta(days=1))
    return end


def _zone_of(moment: datetime, tzid: str | None, end: date | datetime) -> str | None:
    """The IANA zone a time was written in; None for UTC or a zone only the file defines
    (the instant is then kept, in UTC). A floating time (no zone) has no instant."""
    zone = moment.tzinfo
    if zone is None:
        raise Skip("a time without a time zone (floating): its instant is unknown")
    if isinstance(zone, ZoneInfo) and zone.key in known_zones() and zone.key != "UTC":
        return zone.key
    return _iana_zone(moment, tzid, end) if tzid else None


# The file's own zone is compared with the IANA zone its name maps to at its start and
# end and each month of the year after: one daylight saving rule that differs shows.
_SAME_OFFSETS_CHECKED = [timedelta(days=30.5 * month) for month in range(13)]


def _iana_zone(moment: datetime, tzid: str, end: date | datetime) -> str | None:
    """The IANA zone of a zone the file defines under a known name: an IANA name (a
    VTIMEZONE of its own for Europe/Brussels) or a Windows one (CLDR's table, as
    icalendar carries it); None unless both give the same UTC offsets."""
    name = tzid if tzid in known_zones() else WINDOWS_TO_OLSON.get(tzid)
    if name is None or name not in known_zones() or name == "UTC":
        return None
    iana = ZoneInfo(name)
    instants = [moment + step for step in _SAME_OFFSETS_CHECKED]
    instants += [end] if isinstance(end, datetime) else []
    for instant in instants:
        utc = instant.astimezone(UTC)
        if utc.astimezone(moment.tzinfo).utcoffset() != utc.astimezone(iana).utcoffset():
            return None
    return name


def _in_zone(moment: date | datetime, zone: str | None) -> date | datetime:
    if not isinstance(moment, datetime):
        return moment
    if moment.tzinfo is None:
        raise Skip("a time without a time zone (floating): its instant is unknown")
    return moment.astimezone(ZoneInfo(zone) if zone else UTC)


def _rule(event: Any, start: date | datetime, file_only_zone: bool) -> str | None:
    rules = event.get("RRULE")
    if rules is None:
        return None
    if isinstance(rules, list):
        if len(rules) > 1:
            raise Skip("several RRULEs are not supported by the catalog")
        rules = rules[0]
    rule = bytes(rules.to_ical()).decode("ascii", "replace")
    timed = isinstance(start, datetime)
    if file_only_zone:
        # Repeated in UTC, its times would move by an hour at each change of daylight
        # saving time in the zone it was written in.
        raise Skip(
            "RRULE in a time zone that only the file defines (no IANA zone with the same "
            "offsets): its repetitions cannot be kept in local time"
        )
    try:
        check_occurs(check_rrule(rule, all_day=not timed), start)
    except Invalid as exc:
        raise Skip(f"RRULE {rule}: {exc.message}") from None
    return rule
