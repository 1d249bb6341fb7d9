"""`feeds new`: a starter catalog for a new publisher to edit, dated around today.

The text is a template, not `yaml.dump`, so that it keeps a comment on every key a
publisher sets. Its events are placed after the day it is written (so the pages show
them as upcoming), and the recurring one starts on the first occurrence of its own rule
(the catalog refuses any other start). tests/test_starter.py reads it back with the
real catalog reader for every day of a year.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from string import Template

from .jsonschema import MODELINE, write_schema_beside

FILE_NAME = "entries.yaml"

_TEMPLATE = Template("""\
$modeline
# Your catalog: every publication and event you publish, in one file.
# Field reference: feeds' docs/catalog.md. After each edit: `feeds check`.
# The entries below are examples dated around the day this file was made
# ($today): edit them, or replace them with your own.

feed:
  # The name of your feeds and calendar, shown on every page. Set it.
  title: My organisation news and events
  # Your own web site: the feeds and pages link back to it.
  link: https://www.example.org/
  # Where these feeds will be published (the address `feeds build`'s folder is served
  # from). Set it before you publish: every link in the feeds and calendars starts with
  # it. `feeds serve` uses its own local address instead while you try things out.
  base_url: https://feeds.example.org/
  # Set it once, before you publish, then NEVER change it: a domain (or e-mail address)
  # you own and a year you owned it in, like example.org,$year. Every feed item and
  # calendar event id is built from it, so changing it later makes every feed reader
  # and calendar show everything again as new.
  id_authority: example.org,$year
  # Who publishes: a name, and optionally a web address and an e-mail address.
  author:
    name: My organisation
    uri: https://www.example.org/
  # The language of your texts (a code like en, fr, pt-BR).
  language: en
  # The zone of dates and times written without one (a name like Europe/Paris,
  # America/New_York; see the tz database).
  timezone: Europe/Brussels

entries:
  # A publication: it goes into the Atom, RSS and JSON feeds. `id` is permanent: it
  # makes the entry's address, feed id and calendar id.
  - id: welcome
    title: Welcome to our news and events
    type: news
    tags: [news]
    published: $today
    summary: >-
      Our news and events now come as **feeds** and **calendars**: follow them in
      a feed reader, or subscribe to the calendar. Summaries use a small Markdown
      subset, with [links](https://www.example.org/).
    link: https://www.example.org/news/welcome

  # An all-day event: dates only; `end` is the last day, inclusive.
  - id: open-days
    title: Open days
    tags: [events]
    summary: Two days of visits, talks and workshops.
    event:
      start: $open_start
      end: $open_end
      location: Main office
      url: https://www.example.org/open-days

  # A timed event in a zone of its own: times are local times in `timezone`
  # (without it, in feed.timezone).
  - id: evening-talk-new-york
    title: Evening talk in New York
    tags: [events, talks]
    summary: A talk and questions, followed by drinks.
    event:
      start: ${talk_day}T18:30:00
      end: ${talk_day}T20:00:00
      timezone: America/New_York
      location: New York, USA
      geo: [40.7128, -74.0060]

  # A recurring event: `rrule` (RFC 5545) repeats it, here on the first Tuesday of
  # six months. `start` must be the rule's first date: $lunch_day is a first Tuesday.
  # `exdate` leaves out days the rule gives: no talk on $lunch_off (the third).
  - id: monthly-lunch-talks
    title: Monthly lunch talks
    tags: [events, talks]
    summary: An hour with a guest speaker, every first Tuesday of the month.
    event:
      start: ${lunch_day}T12:30:00
      end: ${lunch_day}T13:30:00
      location: Main office, room 2
      rrule: FREQ=MONTHLY;BYDAY=1TU;COUNT=6
      exdate: [$lunch_off]

  # A cancelled event: keep it, with `status: cancelled`, so that calendars that
  # already have it show it as cancelled instead of silently keeping it.
  - id: cancelled-workshop
    title: Repair workshop
    tags: [events]
    summary: This workshop will not take place; a new date will follow.
    event:
      start: $workshop_day
      status: cancelled
      location: Main office
""")

#: Shown once the catalog is written: the three things to do next.
NEXT_STEPS = (
    "1. Set feed.title, feed.base_url and feed.id_authority in {path} "
    "(id_authority never changes once you publish).",
    "2. Run `feeds check {path}` after each edit.",
    "3. Run `feeds serve {path}` to see the pages, feeds and calendars locally.",
)


def first_tuesday_after(day: date) -> date:
    """The first Tuesday of the first month that starts after `day`."""
    month_start = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
    return month_start + timedelta(days=(1 - month_start.weekday()) % 7)


def starter_text(today: date) -> str:
    """The starter catalog as written on `today`: every event after it."""
    lunch = first_tuesday_after(today)
    return _TEMPLATE.substitute(
        modeline=MODELINE,
        today=today.isoformat(),
        year=today.year,
        open_start=(today + timedelta(days=14)).isoformat(),
        open_end=(today + timedelta(days=15)).isoformat(),
        talk_day=(today + timedelta(days=21)).isoformat(),
        lunch_day=lunch.isoformat(),
        lunch_off=first_tuesday_after(first_tuesday_after(lunch)).isoformat(),
        workshop_day=(today + timedelta(days=28)).isoformat(),
    )


class StarterRefused(Exception):
    """Nothing was written; the message says why (one line, starting with the path)."""


@dataclass(frozen=True)
class Written:
    path: Path
    made_folder: bool


def write_starter(folder: Path, today: date) -> Written:
    """Write FOLDER/entries.yaml; make FOLDER (not its parents) if it does not exist.

    Never replaces anything: the file is created with O_EXCL, which also refuses a
    symlink in its place. If writing fails, only what was made here is removed.
    """
    made_folder = _made_folder(folder)
    path = folder / FILE_NAME
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        raise StarterRefused(
            f"{path}: already exists; nothing was written (edit it, or give another FOLDER)"
        ) from None
    except OSError as exc:
        _undo_folder(folder, made_folder)
        raise StarterRefused(f"{path}: cannot create it ({exc.strerror})") from None
    try:
        with os.fdopen(descriptor, "wb") as out:
            out.write(starter_text(today).encode("utf-8"))
    except OSError as exc:
        path.unlink(missing_ok=True)  # our own half-written file
        _undo_folder(folder, made_folder)
        raise StarterRefused(f"{path}: cannot write it ({exc.strerror})") from None
    try:  # the schema the modeline names: editors check the catalog while it is typed
        write_schema_beside(path)
    except OSError as exc:  # FileExistsError: a file of that name that is not ours
        path.unlink(missing_ok=True)
        _undo_folder(folder, made_folder)
        reason = str(exc) if isinstance(exc, FileExistsError) else exc.strerror
        raise StarterRefused(f"{reason}; nothing was written") from None
    return Written(path, made_folder)


def _made_folder(folder: Path) -> bool:
    """True if FOLDER was made here; refuses a FOLDER that is a file or has no parent."""
    if folder.is_dir():
        return False
    if folder.exists() or folder.is_symlink():
        raise StarterRefused(f"{folder}: is not a folder; give a folder for the catalog")
    try:
        folder.mkdir()
    except FileNotFoundError:
        raise StarterRefused(
            f"{folder}: its parent folder does not exist; make it first (only FOLDER "
            "itself is made)"
        ) from None
    except FileExistsError:
        return False  # made meanwhile by someone else: theirs; the file is still O_EXCL
    except OSError as exc:
        raise StarterRefused(f"{folder}: cannot make this folder ({exc.strerror})") from None
    return True


def _undo_folder(folder: Path, made_folder: bool) -> None:
    if made_folder:
        with contextlib.suppress(OSError):
            folder.rmdir()  # only if still empty: never what someone else put there
