"""The catalog as a whole: the top level, the feed first, then each entry as it arrives.

`CatalogAssembler` is handed the top-level values while the YAML is still being
read (see `yamlnodes.TopLevelHooks`). Once `feed:` is known, each entry is
checked and turned into an `Entry` the moment its last line is read, and its
nodes are dropped: a 100k-entry catalog never exists as a whole node tree. A
catalog that lists `entries:` before `feed:` is checked the same way, only
after the whole file is read.
"""

from __future__ import annotations

from ..model import Catalog, Entry
from .errors import Invalid, Problems
from .rules import Zones, build_entry, build_feed, feed_zones
from .schema import ENTRY, FEED, TOP, Fields, key_in_path, read_mapping, unknown_key_message
from .values import shown
from .yamlnodes import Map, Node, Rejected, Scalar, Seq, kind


class EntryReader:
    """Checks entries one at a time, remembering ids to catch duplicates."""

    def __init__(self, problems: Problems) -> None:
        self.problems = problems
        self.zones = Zones(None, feed_zone_broken=True)  # until the feed is read
        self.entries: list[Entry] = []
        self.count = 0
        self.first_use: dict[str, tuple[int, int]] = {}  # id -> (index, line)
        # legacy_id / event.uid -> (index, line): ids kept from an earlier publisher are
        # published in place of ours, so they must be unique as well.
        self.first_legacy: dict[str, tuple[int, int]] = {}
        self.first_uid: dict[str, tuple[int, int]] = {}

    def add(self, node: Node) -> None:
        index, path = self.count, f"entries[{self.count}]"
        self.count += 1
        try:
            fields = read_mapping(node, path, ENTRY, self.problems)
        except Invalid as exc:
            if exc.message:
                self.problems.add(node.line, path, exc.message)
            return
        self._check_unique_id(fields, index)
        if "legacy_id" in fields.values or "event" in fields.values:
            self._check_unique_kept_ids(fields, index)
        entry = build_entry(fields, path, self.zones, self.problems)
        if entry is not None:
            self.entries.append(entry)

    def _check_unique_id(self, fields: Fields, index: int) -> None:
        entry_id: str | None = fields.get("id")
        if entry_id is None:
            return
        line = fields.line_of("id")
        if entry_id not in self.first_use:
            self.first_use[entry_id] = (index, line)
            return
        first_index, first_line = self.first_use[entry_id]
        self.problems.add(
            line,
            f"entries[{index}].id",
            f"duplicate id {entry_id!r}: entries[{first_index}] on line {first_line} has it "
            "too; ids must be unique",
        )

    def _check_unique_kept_ids(self, fields: Fields, index: int) -> None:
        legacy: str | None = fields.get("legacy_id")
        if legacy is not None:
            line = fields.line_of("legacy_id")
            self._check_unique(
                self.first_legacy, legacy, f"entries[{index}].legacy_id", index, line
            )
        event: Fields | None = fields.get("event")
        uid: str | None = event.get("uid") if event is not None else None
        if event is not None and uid is not None:
            path = f"entries[{index}].event.uid"
            self._check_unique(self.first_uid, uid, path, index, event.line_of("uid"))

    def _check_unique(
        self, seen: dict[str, tuple[int, int]], value: str, path: str, index: int, line: int
    ) -> None:
        first = seen.setdefault(value, (index, line))
        if first == (index, line):
            return
        name = path.rsplit(".", 1)[1]
        self.problems.add(
            line,
            path,
            f"duplicate {name} {shown(value)}: entries[{first[0]}] on line {first[1]} has it "
            f"too; each {name} must be unique",
        )


class CatalogAssembler:
    """Implements `yamlnodes.TopLevelHooks`; `finish()` gives the Catalog (None on problems)."""

    def __init__(self, problems: Problems) -> None:
        self.problems = problems
        self.feed_seen = False
        self.feed_fields: Fields | None = None
        self.entries = EntryReader(problems)

    def top_value(self, key: str, key_line: int, node: Node) -> None:
        if key != "feed":
            return
        self.feed_seen = True
        self.feed_fields = self._read_feed(key_line, node)
        self.entries.zones = feed_zones(self.feed_fields)

    def top_item(self, key: str, node: Node) -> bool:
        if key != "entries" or not self.feed_seen:
            return False  # keep it in the tree; finish() checks it
        self.entries.add(node)
        return True

    def _read_feed(self, key_line: int, node: Node) -> Fields | None:
        if isinstance(node, Scalar) and node.null:
            self.problems.add(key_line, "feed", "is required but empty; give it a value")
            return None
        try:
            return read_mapping(node, "feed", FEED, self.problems)
        except Invalid as exc:
            if exc.message:
                self.problems.add(node.line, "feed", exc.message)
            return None

    def finish(self, root: Node, source: str) -> Catalog | None:
        if not isinstance(root, Map):
            self.problems.add(
                root.line, "", "the catalog must be a mapping with feed: and entries: at the top"
            )
            return None
        for key, (key_line, _node) in root.fields.items():
            if key not in TOP:
                self.problems.add(key_line, key_in_path(key), unknown_key_message(key, TOP))
        for required in TOP:
            if required not in root.fields:
                self.problems.add(
                    root.line, required, f"is required but missing; add '{required}:'"
                )
        if "entries" in root.fields:
            self._finish_entries(*root.fields["entries"])
        feed = build_feed(self.feed_fields) if self.feed_fields is not None else None
        if feed is None or self.problems:
            return None
        return Catalog(feed=feed, entries=tuple(self.entries.entries), source=source)

    def _finish_entries(self, key_line: int, node: Node) -> None:
        """The entries not checked while reading (all of them when feed: came last)."""
        if isinstance(node, Rejected):
            return
        if isinstance(node, Scalar) and node.null:
            self.problems.add(key_line, "entries", "is required but empty; add at least one entry")
            return
        if not isinstance(node, Seq):
            self.problems.add(node.line, "entries", f"must be a list of entries, not {kind(node)}")
            return
        for item in node.items:
            self.entries.add(item)
        if self.entries.count == 0:
            self.problems.add(node.line, "entries", "is empty; add at least one entry")
