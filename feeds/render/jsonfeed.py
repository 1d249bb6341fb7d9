"""Placeholder: the jsonfeed renderer (replaced by its issue's work)."""

from __future__ import annotations

from ..model import Catalog


def render(catalog: Catalog) -> dict[str, bytes]:
    return {}
