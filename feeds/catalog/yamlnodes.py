"""YAML text -> a small tree of nodes that remember their line.

Built straight from the libyaml event stream instead of `yaml.compose`: the
validator converts every scalar itself, so PyYAML's implicit typing (which
turns `yes` into True and `2019` into 2019) is skipped. On the 10k-entry
benchmark catalog that makes composing about twice as fast, and the nodes
(slots, a line number instead of two Mark objects) several times smaller;
with the hooks below, entries are checked and dropped as they are read, so a
100k-entry catalog never exists as one tree. The same pass refuses what a
catalog never needs and an attacker could abuse, each with its line: anchors
and aliases (billion-laughs), explicit tags (`!!python/object`), duplicate
keys (the second silently wins in PyYAML), nesting beyond MAX_DEPTH, mappings
and lists beyond MAX_ITEMS and more than one document.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import yaml
from yaml.events import (
    AliasEvent,
    CollectionStartEvent,
    DocumentStartEvent,
    Event,
    MappingEndEvent,
    MappingStartEvent,
    NodeEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)

from .errors import Problems, StopReading

_Loader: type[yaml.SafeLoader] | type[yaml.CSafeLoader]
try:
    _Loader = yaml.CSafeLoader  # libyaml: the fast C parser
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader

#: Deeper than any catalog needs (the deepest is entries[].event.geo[]: 4 levels).
MAX_DEPTH = 16
#: Keys in one mapping, items in one list other than a top-level one (entries: is read
#: one entry at a time): far more than a catalog needs, few enough to hold in memory.
MAX_ITEMS = 10_000

_YAML = "tag:yaml.org,2002:"
#: Explicit tags an editor may write (`!!str 2019`); anything else is refused.
ALLOWED_TAGS = frozenset(
    ["!"] + [_YAML + name for name in ("str", "int", "float", "bool", "null", "timestamp")]
)
_COLLECTION_TAGS = frozenset([_YAML + "map", _YAML + "seq"])
_NULL_TAG = _YAML + "null"
_NULL_WORDS = frozenset(["~", "null", "Null", "NULL", ""])


class Node:
    __slots__ = ("line",)

    def __init__(self, line: int) -> None:
        self.line = line  # 1-based


class Scalar(Node):
    """A scalar's text exactly as written; `null` for `~`, `null` or nothing (unquoted)."""

    __slots__ = ("value", "null")

    def __init__(self, line: int, value: str, null: bool) -> None:
        self.line = line  # not super().__init__(): this runs once per scalar, the hot path
        self.value = value
        self.null = null


class Seq(Node):
    __slots__ = ("items",)

    def __init__(self, line: int) -> None:
        self.line = line  # as in Scalar: one call fewer, for every list
        self.items: list[Node] = []


class Map(Node):
    """A mapping with text keys: key -> (line of the key, value node), in file order."""

    __slots__ = ("fields",)

    def __init__(self, line: int) -> None:
        self.line = line  # as in Scalar: one call fewer, for every mapping
        self.fields: dict[str, tuple[int, Node]] = {}


class Rejected(Node):
    """Stands in for something already reported (an alias, a foreign tag, too deep)."""

    __slots__ = ()


def kind(node: Node) -> str:
    """How a node reads in a message ("a list", "text" ...)."""
    if isinstance(node, Map):
        return "a mapping"
    if isinstance(node, Seq):
        return "a list"
    return "text"


class _Mark(Protocol):
    line: int  # 0-based, in both PyYAML's and libyaml's marks


def line_of(mark: _Mark | None) -> int:
    return mark.line + 1 if mark is not None else 1


class TopLevelHooks(Protocol):
    """Gets the top level's parts while the rest of the file is still being read."""

    def top_value(self, key: str, key_line: int, node: Node) -> None:
        """A top-level key's value is complete (first occurrence of the key only)."""

    def top_item(self, key: str, node: Node) -> bool:
        """An item of a top-level list is complete; True = consumed, keep it out of the tree."""
        return False


_NO_KEY = object()  # a mapping frame waiting for its next key
_BAD_KEY = object()  # a key that was reported; its value is dropped
_IN_LIST = object()  # the key of a list frame: it never has one


class _Frame:
    """An open mapping or list, and (for a mapping) the key waiting for its value."""

    __slots__ = ("node", "key", "key_line", "top_key")

    def __init__(self, node: Seq | Map, top_key: str | None = None) -> None:
        self.node = node
        # A mapping's key (str) once read, until its value is; _NO_KEY or _BAD_KEY otherwise.
        self.key: object = _IN_LIST if isinstance(node, Seq) else _NO_KEY
        self.key_line = 0
        self.top_key = top_key  # for a list that is a top-level value: its key


class _TreeBuilder:
    """Builds the tree from parser events, one step per event (the hot loop of loading)."""

    def __init__(self, problems: Problems, hooks: TopLevelHooks | None) -> None:
        self.problems = problems
        self.hooks = hooks
        self.stack: list[_Frame] = []
        self.root: Node | None = None
        self.documents = 0
        self.skipping = 0  # open collections inside a rejected one (too deep, foreign tag)
        self.skipped_line = 0  # where that rejected collection starts

    def read(self, next_event: Callable[[], Event | None]) -> None:
        """Take every event of the stream, or up to the one that ends reading."""
        stack = self.stack
        while (event := next_event()) is not None:
            # Most events (~80%) are scalars inside a mapping or list, with neither
            # anchor nor tag: they take this shortcut, the very steps of _scalar() and
            # _attach() for them, with fewer calls and no node for a key. The marks are
            # never None in PyYAML's or libyaml's events (line_of allows for it).
            if (
                type(event) is ScalarEvent
                and stack
                and not self.skipping
                and event.anchor is None
                and (event.tag is None or event.tag in ALLOWED_TAGS)
            ):
                frame = stack[-1]
                line = event.start_mark.line + 1  # type: ignore[union-attr]
                if frame.key is _NO_KEY:
                    frame.key, frame.key_line = event.value, line
                else:
                    self._attach(Scalar(line, event.value, _null(event)))
            elif not self.feed(event):
                return

    def feed(self, event: Event) -> bool:
        """Take one parser event; False once the rest of the stream must be ignored."""
        # Exact type checks, most frequent first (most scalars took read()'s shortcut):
        # cheaper than isinstance in this loop.
        event_type = type(event)
        if self.skipping:
            self._skip(event)
        elif event_type is MappingEndEvent or event_type is SequenceEndEvent:
            self._attach(self.stack.pop().node)
        elif event_type is MappingStartEvent or event_type is SequenceStartEvent:
            self._collection(event)  # type: ignore[arg-type]
        elif event_type is ScalarEvent:
            self._scalar(event)  # type: ignore[arg-type]
        elif event_type is AliasEvent:
            self._reject_alias(event)  # type: ignore[arg-type]
        elif event_type is DocumentStartEvent:
            self.documents += 1
            if self.documents > 1:
                self.problems.add(
                    line_of(event.start_mark),
                    "",
                    "a second YAML document starts here; a catalog is one document "
                    "(remove the '---' line and everything after it, or merge them)",
                )
                return False
        return True

    def _scalar(self, event: ScalarEvent) -> None:
        line = line_of(event.start_mark)
        if event.anchor is not None or (event.tag is not None and event.tag not in ALLOWED_TAGS):
            self._refuse_anchor_or_tag(event, line)
            self._attach(Rejected(line))
            return
        self._attach(Scalar(line, event.value, _null(event)))

    def _collection(self, event: CollectionStartEvent) -> None:
        line = line_of(event.start_mark)
        refused = False
        if event.anchor is not None or (
            event.tag is not None and event.tag not in _COLLECTION_TAGS
        ):
            self._refuse_anchor_or_tag(event, line)
            refused = True
        elif len(self.stack) >= MAX_DEPTH:
            self.problems.add(
                line, "", f"nested more than {MAX_DEPTH} levels deep; no catalog needs that"
            )
            refused = True
        if refused:
            self.skipping = 1
            self.skipped_line = line
        elif type(event) is MappingStartEvent:
            self.stack.append(_Frame(Map(line)))
        else:
            self.stack.append(_Frame(Seq(line), self._top_key()))

    def _top_key(self) -> str | None:
        """The key of the top-level value starting now (None below the top, or if repeated)."""
        if len(self.stack) != 1:
            return None
        root = self.stack[0]
        key = root.key
        if not isinstance(key, str) or not isinstance(root.node, Map):
            return None
        return None if key in root.node.fields else key

    def _reject_alias(self, event: AliasEvent) -> None:
        line = line_of(event.start_mark)
        self.problems.add(
            line,
            "",
            f"aliases are not allowed (*{event.anchor}); write the value out in full",
        )
        self._attach(Rejected(line))

    def _refuse_anchor_or_tag(self, event: NodeEvent, line: int) -> None:
        if event.anchor is not None:
            self.problems.add(
                line,
                "",
                f"anchors are not allowed (&{event.anchor}); aliases are not allowed either, "
                "write each value out in full",
            )
        tag = getattr(event, "tag", None)
        if tag is not None and tag not in ALLOWED_TAGS and tag not in _COLLECTION_TAGS:
            shown = "!!" + tag[len(_YAML) :] if tag.startswith(_YAML) else tag
            self.problems.add(
                line, "", f"YAML tag {shown} is not allowed; remove it (plain values need no tag)"
            )

    def _skip(self, event: Event) -> None:
        if isinstance(event, CollectionStartEvent):
            self.skipping += 1
        elif isinstance(event, (MappingEndEvent, SequenceEndEvent)):
            self.skipping -= 1
            if not self.skipping:
                self._attach(Rejected(self.skipped_line))

    def _attach(self, node: Node) -> None:
        """Put a complete node in its place: the root, a list item, a key or a value."""
        if not self.stack:
            self.root = node
            return
        frame = self.stack[-1]
        key = frame.key
        if key is _IN_LIST:
            self._add_item(frame, node)
        elif key is _NO_KEY:
            frame.key, frame.key_line = self._key(node), node.line
        else:
            frame.key = _NO_KEY
            if not isinstance(key, str) or not self._add_field(frame, key, node):
                return
            if len(self.stack) == 1 and self.hooks is not None:
                self.hooks.top_value(key, frame.key_line, node)

    def _add_item(self, frame: _Frame, item: Node) -> None:
        """Append to a list, unless the hooks keep the item (of a top-level list)."""
        top_key, hooks = frame.top_key, self.hooks
        if top_key is not None and hooks is not None and hooks.top_item(top_key, item):
            return
        items = frame.node.items  # type: ignore[union-attr]  # _IN_LIST: a Seq
        if len(items) >= MAX_ITEMS and frame.top_key is None:
            self._too_many(frame.node, "items")
        items.append(item)

    def _key(self, node: Node) -> object:
        if isinstance(node, Scalar):
            return node.value
        if not isinstance(node, Rejected):
            self.problems.add(node.line, "", f"a key must be a plain word, not {kind(node)}")
        return _BAD_KEY

    def _add_field(self, frame: _Frame, key: str, value: Node) -> bool:
        """Add key: value; False (and a problem) if the key is already there."""
        mapping: Map = frame.node  # type: ignore[assignment]  # a key: a Map
        first = mapping.fields.get(key)
        if first is not None:
            self.problems.add(
                frame.key_line,
                "",
                f"duplicate key {key!r} (first on line {first[0]}); "
                "keep one, YAML would silently use the last",
            )
            return False
        if len(mapping.fields) >= MAX_ITEMS:
            self._too_many(mapping, "keys")
        mapping.fields[key] = (frame.key_line, value)
        return True

    def _too_many(self, collection: Node, what: str) -> None:
        self.problems.add(
            collection.line,
            "",
            f"this {kind(collection)[2:]} has more than {MAX_ITEMS:,} {what}; no catalog needs "
            "that (is an indentation wrong?)",
        )
        raise StopReading()


def _null(event: ScalarEvent) -> bool:
    """Plain ~, null or nothing (libyaml gives the style '', PyYAML None), or !!null."""
    return (
        event.value in _NULL_WORDS and bool(event.implicit[0]) and not event.style
    ) or event.tag == _NULL_TAG


def compose(data: bytes, problems: Problems, hooks: TopLevelHooks | None = None) -> Node | None:
    """The document's root node, or None when there is no usable tree.

    `data` must already be valid UTF-8. Problems go to `problems`; a YAML syntax
    error ends the parse, and the (partial) tree is then not returned.
    """
    builder = _TreeBuilder(problems, hooks)
    parser = _Loader(data)
    try:
        # get_event() directly: yaml.parse() adds a generator and check_event() per event.
        builder.read(parser.get_event)
    except yaml.MarkedYAMLError as exc:
        problems.add(line_of(exc.problem_mark or exc.context_mark), "", _syntax_message(exc))
        return None
    except yaml.YAMLError as exc:  # reader errors (bad characters) carry a position, not a mark
        position = getattr(exc, "position", 0)
        line = data.count(b"\n", 0, position) + 1 if isinstance(position, int) else 1
        problems.add(line, "", f"YAML error: {getattr(exc, 'reason', None) or exc}")
        return None
    finally:
        parser.dispose()
    return builder.root


def _syntax_message(exc: yaml.MarkedYAMLError) -> str:
    message = f"YAML syntax error: {exc.problem or exc.context}"
    if exc.context and exc.problem:
        where = f" started on line {line_of(exc.context_mark)}" if exc.context_mark else ""
        message += f" ({exc.context}{where})"
    return message
