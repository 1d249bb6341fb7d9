"""A catalog as an editor's JSON Schema validator sees it (yaml-language-server).

`feeds check` reads every scalar as written; an editor types plain scalars first, by
YAML 1.2's core schema (yaml-language-server's default) or YAML 1.1's (its
`yaml.yamlVersion: "1.1"`, and older tools): `yes` is a boolean in 1.1 only,
`1_000` a number in 1.1 only, `0o17` a number in 1.2 only. Dates and times stay
strings in both: yaml-language-server makes no timestamps, and JSON has none.
"""

from __future__ import annotations

import math
import re
from typing import Any

import yaml


class Yaml11(yaml.SafeLoader):
    """PyYAML's YAML 1.1 typing, without timestamps."""


Yaml11.yaml_implicit_resolvers = {
    first: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class Yaml12(yaml.SafeLoader):
    """The YAML 1.2 core schema: null, bool, int, float; everything else a string."""

    yaml_implicit_resolvers: dict[Any, Any] = {}


_INT12 = r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+"
_FLOAT12 = (
    r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
)
for _tag, _pattern, _first in (
    ("null", r"~|null|Null|NULL|", ["~", "n", "N", ""]),
    ("bool", r"true|True|TRUE|false|False|FALSE", list("tTfF")),
    ("int", _INT12, list("-+0123456789")),
    ("float", _FLOAT12, list("-+.0123456789")),
):
    Yaml12.add_implicit_resolver(
        f"tag:yaml.org,2002:{_tag}", re.compile(f"^(?:{_pattern})$"), _first
    )


def _int12(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    text = str(loader.construct_scalar(node))
    if text.startswith(("0o", "0x")):
        return int(text[2:], 8 if text[1] == "o" else 16)
    return int(text)


def _float12(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> float:
    text = str(loader.construct_scalar(node)).lower()
    if text.endswith(".inf"):
        return -math.inf if text.startswith("-") else math.inf
    return math.nan if text == ".nan" else float(text)


Yaml12.add_constructor("tag:yaml.org,2002:int", _int12)
Yaml12.add_constructor("tag:yaml.org,2002:float", _float12)
LOADERS = {"yaml-1.1": Yaml11, "yaml-1.2": Yaml12}


def as_json(value: Any) -> Any:
    """JSON's view: mapping keys are strings (`1:` is the key "1")."""
    if isinstance(value, dict):
        return {str(key): as_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_json(item) for item in value]
    return value


def editor_view(text: str | bytes, version: str) -> Any:
    return as_json(yaml.load(text, Loader=LOADERS[version]))  # noqa: S506 - safe loaders
