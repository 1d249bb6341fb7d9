"""build_site reuses the Output of a body it has wrapped before, and only when it may."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from test_pages_support import rich_catalog

from feeds import memo
from feeds.model import Catalog
from feeds.site import Site, build_site

pytestmark = pytest.mark.usefixtures("cold_memo")  # tables as a new process finds them


def cold(catalog: Catalog) -> Site:
    memo.clear_all()
    return build_site(catalog)


def test_a_rebuild_of_the_same_catalog_reuses_every_output() -> None:
    catalog = rich_catalog()
    first = build_site(catalog)
    second = build_site(catalog)
    assert all(second[path] is first[path] for path in first.outputs)


def test_outputs_take_the_new_last_modified_when_the_newest_date_moves() -> None:
    catalog = rich_catalog()
    first = build_site(catalog)
    index = next(i for i, e in enumerate(catalog.entries) if e.published is not None)
    entries = list(catalog.entries)
    entries[index] = replace(entries[index], updated=first.last_modified + timedelta(days=1))
    edited = replace(catalog, entries=tuple(entries))

    rebuilt = build_site(edited)
    assert rebuilt.last_modified == first.last_modified + timedelta(days=1)
    unchanged = [path for path in first.outputs if rebuilt[path].body is first[path].body]
    assert unchanged  # bodies the edit did not touch: their Outputs were reused...
    assert {rebuilt[path].last_modified for path in rebuilt.outputs} == {rebuilt.last_modified}
    assert rebuilt.outputs == cold(edited).outputs  # ...and equal a cold build's, field by field
