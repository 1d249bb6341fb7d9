"""Which publications a live feed holds and which go to yearly archives (RFC 5005).

The scheme, and why it keeps archives stable:

- The live (subscription) document holds the newest `feed_size` publications.
- Every older publication is in exactly one archive document: the one for the calendar
  year of its `published` date, counted in the feed's time zone (so "1 January" in the
  catalog is in that year's archive whatever the UTC offset).
- Archive documents exist only for years that have archived publications; each links
  `prev-archive` to the next older archive year and `next-archive` to the next newer one.

Adding a new publication pushes the oldest live one into the archive of *its* year. So
the archive of the year that the live window currently reaches into (the "open" year)
grows, while every archive of a year strictly older than the oldest live publication's
year already holds all of that year's publications and stops changing: it changes again
only when one of its own entries is edited (or backdated into it), and once when it is
the newest archive and a newer year's archive first appears (it then gains its
`next-archive` link, which RFC 5005 asks for). Membership never depends on where the
live window ends inside an older year, so one new publication never reshuffles old
archives the way fixed-size pages counted from the newest entry would.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import tzinfo
from itertools import groupby

from ..model import Entry


@dataclass(frozen=True)
class Partition:
    live: tuple[Entry, ...]
    # (year, publications newest first), newest year first.
    archives: tuple[tuple[int, tuple[Entry, ...]], ...]


def archive_year(entry: Entry, zone: tzinfo) -> int:
    """The year whose archive holds `entry` once it leaves the live feed."""
    assert entry.published is not None, "only publications are archived"
    return entry.published.astimezone(zone).year


def partition(publications: Sequence[Entry], feed_size: int, zone: tzinfo) -> Partition:
    """Split publications (newest first, as `Catalog.publications` orders them)."""
    live = tuple(publications[:feed_size])
    older = publications[feed_size:]
    # Newest first by `published` means years come in descending order, so consecutive
    # grouping is complete; the stable ordering inside a year is kept.
    archives = tuple(
        (year, tuple(group))
        for year, group in groupby(older, key=lambda entry: archive_year(entry, zone))
    )
    return Partition(live=live, archives=archives)
