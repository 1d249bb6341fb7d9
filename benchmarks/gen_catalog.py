"""Deterministic synthetic catalogs for the benchmarks, in the exact `entries.yaml` format.

    .venv/bin/python benchmarks/gen_catalog.py 10000 -o /tmp/entries-10k.yaml

Same N and seed -> same bytes (a seeded `random.Random`, no clock). A third of the
entries are events: all-day and timed in several zones, some recurring (COUNT-bounded
RRULE), some cancelled or tentative. Text carries what escaping has to get right:
`&`, `<`, `>`, quotes, Markdown emphasis and links, non-ASCII. Publication dates
spread over 15 years. About 460 bytes of YAML per entry (10k entries ~ 4.6 MB).

The YAML is written by a small hand-rolled emitter (strings as double-quoted scalars,
summaries as literal blocks) because PyYAML's dumper takes longer than the benchmarks
it feeds; `feeds check` parses the result.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
DATA_DIR = BENCH_DIR / "data"  # gitignored cache of generated catalogs
DEFAULT_SEED = 2019
SIZES = {"1k": 1_000, "10k": 10_000, "100k": 100_000}

ZONES = ("Europe/Brussels", "Europe/London", "Europe/Madrid", "America/New_York", "Asia/Tokyo")
TAGS = (
    "climate", "mobility", "housing", "culture", "cooperation", "education", "health",
    "energy", "digital", "governance", "migration", "inclusion", "economy", "environment",
    "waste", "water", "air-quality", "urban-planning", "tourism", "safety", "youth",
    "ageing", "employment", "innovation", "smart-cities", "procurement", "finance",
    "participation", "food", "sport",
)  # fmt: skip
TYPES = ("news", "case study", "publication", "statement", "report", "interview")
CITIES = (
    ("Antwerp, Belgium", 51.2194, 4.4025),
    ("Barcelona, Spain", 41.3874, 2.1686),
    ("Toulouse, France", 43.6047, 1.4442),
    ("Glasgow, United Kingdom", 55.8642, -4.2518),
    ("Malmö, Sweden", 55.6050, 13.0038),
    ("Kraków, Poland", 50.0647, 19.9450),
    ("Zürich, Switzerland", 47.3769, 8.5417),
    ("Düsseldorf, Germany", 51.2277, 6.7735),
    ("Łódź, Poland", 51.7592, 19.4560),
    ("São Paulo, Brazil", -23.5505, -46.6333),
    ("New York, USA", 40.7128, -74.0060),
    ("Tōkyō, Japan", 35.6762, 139.6503),
)
SUBJECTS = (
    "Cities & citizens", "Smart <mobility>", "The \"green deal\"", "Bologna's commons",
    "Urban café culture", "Housing > profit", "Clean air for Łódź", "Zürich’s water plan",
    "Energy & equity", "Naïve data? Open data!", "Youth councils", "Straße für alle",
)  # fmt: skip
ACTIONS = (
    "launch a new pledge", "meet in Brussels", "share what works", "publish a report",
    "sign the charter", "open the call", "review 5 years of work", "vote on the agenda",
)  # fmt: skip
SENTENCES = (
    "Cities & regions share **what works** and what *does not*.",
    "Read the [full report](https://www.example.org/reports/{n}) or the [summary](/summary/{n}).",
    "Budgets grew by 12% < 15% forecast > 9% last year.",
    'The mayor said: "we act, we don\'t wait" — and everyone agreed.',
    "Participants from Malmö, Kraków, Düsseldorf and São Paulo took part.",
    "An investment of €4.32 billion over the next _five_ years.",
    "Use `entries.yaml` & <b>not</b> raw HTML; <script>alert(1)</script> stays text.",
    "Questions? Write to [the secretariat](mailto:info@example.org).",
    "The ‘collaborative city’ governs with citizens, not only for them.",
    "東京 and Zürich joined the network’s working group on *air quality*.",
    "Results: 1) less traffic; 2) more trees; 3) happier residents.",
    "See https://www.example.org/cities/{n} for the city profile.",
)


def _q(text: str) -> str:
    """A YAML double-quoted scalar: JSON string syntax is a subset YAML reads as-is."""
    return json.dumps(text, ensure_ascii=False)


def _summary(rng: random.Random, n: int) -> list[str]:
    """A Markdown summary of one to three short paragraphs, as lines ("" between paragraphs)."""
    lines: list[str] = []
    for p in range(rng.choice((1, 1, 2, 2, 3))):
        if p:
            lines.append("")
        picked = rng.sample(SENTENCES, rng.randint(1, 2))
        lines.extend(s.format(n=n) for s in picked)
    return lines


def _moment(rng: random.Random, day: date) -> str:
    """`published`/`updated`: half bare dates, half datetimes with a UTC offset."""
    if rng.random() < 0.5:
        return day.isoformat()
    offset = rng.choice(("+01:00", "+02:00", "Z", "-05:00", "+09:00"))
    return (
        f"{day.isoformat()}T{rng.randint(6, 20):02d}:{rng.choice((0, 15, 30, 45)):02d}:00{offset}"
    )


def _rrule(rng: random.Random) -> str:
    freq = rng.choice(("DAILY", "WEEKLY", "WEEKLY;INTERVAL=2", "MONTHLY", "YEARLY"))
    return f"FREQ={freq};COUNT={rng.randint(2, 12)}"


def _event(rng: random.Random, n: int, around: date) -> Iterator[str]:
    start_day = around + timedelta(days=rng.randint(7, 120))
    if rng.random() < 0.5:  # all-day: end is the last day, inclusive
        yield f"      start: {start_day.isoformat()}"
        yield f"      end: {(start_day + timedelta(days=rng.choice((0, 0, 1, 2)))).isoformat()}"
    else:  # timed: local wall time in the event's zone (or the feed's default zone)
        start = datetime(start_day.year, start_day.month, start_day.day, rng.randint(8, 18))
        start += timedelta(minutes=rng.choice((0, 15, 30, 45)))
        end = start + timedelta(minutes=rng.choice((45, 60, 90, 120, 240, 1500)))
        yield f"      start: {start.isoformat()}"
        yield f"      end: {end.isoformat()}"
        zone = rng.choice((*ZONES, None))
        if zone is not None:
            yield f"      timezone: {zone}"
    city, lat, lon = rng.choice(CITIES)
    yield f"      location: {_q(city)}"
    if rng.random() < 0.7:
        yield f"      geo: [{lat}, {lon}]"
    if rng.random() < 0.3:
        yield f"      url: https://events.example.org/register/{n}?lang=en&ref=feed"
    roll = rng.random()
    if roll < 0.06:
        yield "      status: cancelled"
    elif roll < 0.1:
        yield "      status: tentative"
    if rng.random() < 0.12:
        yield f"      rrule: {_rrule(rng)}"


def _entry(rng: random.Random, n: int, first_day: date, span_days: int) -> Iterator[str]:
    subject = rng.choice(SUBJECTS)
    action = rng.choice(ACTIONS)
    day = first_day + timedelta(days=rng.randrange(span_days))
    is_event = n % 3 == 0
    slug = "-".join(action.lower().split()[:3])
    yield f"  - id: e{n:06d}-{slug}"
    yield f"    title: {_q(f'{subject}: {action} ({n})')}"
    yield f"    type: {'event' if is_event else rng.choice(TYPES)}"
    tags = rng.sample(TAGS, rng.choice((0, 1, 1, 2, 2, 3, 4)))
    if tags:
        yield f"    tags: [{', '.join(tags)}]"
    if not is_event or rng.random() < 0.8:  # some events are calendar-only
        yield f"    published: {_moment(rng, day)}"
        if rng.random() < 0.2:
            yield f"    updated: {_moment(rng, day + timedelta(days=rng.randint(1, 60)))}"
    yield "    summary: |-"
    yield from (f"      {line}" if line else "" for line in _summary(rng, n))
    if rng.random() < 0.5:
        yield f"    link: https://www.example.org/news/{n}?utm_source=feed&id={n}"
    if is_event:
        yield "    event:"
        yield from _event(rng, n, day)


def _header(n: int, seed: int) -> list[str]:
    return [
        f"# Synthetic benchmark catalog: {n} entries, seed {seed}, {_generator_digest()}.",
        "feed:",
        f"  title: {_q('Benchmark network — news & events')}",
        f"  subtitle: {_q('Synthetic catalog of <many> entries for benchmarks')}",
        "  link: https://www.example.org/",
        "  base_url: https://feeds.example.org/",
        "  id_authority: example.org,2010",
        "  author:",
        "    name: Benchmark Network",
        "    uri: https://www.example.org/",
        "  language: en",
        "  timezone: Europe/Brussels",
        "  feed_size: 50",
        "",
        "entries:",
    ]


def generate(n: int, seed: int = DEFAULT_SEED) -> str:
    """The catalog text for `n` entries; a pure function of (n, seed)."""
    rng = random.Random(f"{seed}:{n}")
    first_day = date(2010, 1, 1)
    span_days = (date(2024, 12, 31) - first_day).days
    lines = _header(n, seed)
    for i in range(1, n + 1):
        lines.extend(_entry(rng, i, first_day, span_days))
    lines.append("")
    return "\n".join(lines)


def _generator_digest() -> str:
    """Short hash of this file: cached catalogs are regenerated when the generator changes."""
    return "gen-" + hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]


def ensure_catalog(n: int, seed: int = DEFAULT_SEED) -> Path:
    """Path of the cached catalog for (n, seed) under benchmarks/data/, generated if stale."""
    path = DATA_DIR / f"catalog-{n}-s{seed}.yaml"
    if path.exists():
        with path.open(encoding="utf-8") as f:
            if _generator_digest() in f.readline():
                return path
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(generate(n, seed), encoding="utf-8")
    tmp.replace(path)
    return path


def parse_size(text: str) -> int:
    """'10k' / '100k' / '2500' -> entry count."""
    return SIZES.get(text.lower()) or int(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("size", help="number of entries: 1k, 10k, 100k or any integer")
    parser.add_argument("-o", "--out", type=Path, help="output file (default: stdout)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    text = generate(parse_size(args.size), args.seed)
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.write_text(text, encoding="utf-8")
        print(f"{args.out}: {len(text.encode()):,} bytes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
