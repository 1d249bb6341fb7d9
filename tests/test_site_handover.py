"""build_site keeps the Output of a body the last build wrapped at the same path without
asking the table for it; the table still holds every Output of the Site (a later build
whose renderers make equal bodies again finds them) and no more; Last-Modified is
carried over only while the edited entries keep their dates."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from rebuild_support import with_entry
from test_pages_support import rich_catalog

from feeds import memo
from feeds.site import Site, build_site, catalog_last_modified

pytestmark = pytest.mark.usefixtures("cold_memo")  # tables as a new process finds them


def outputs_table() -> dict[object, object]:
    return memo._tables["site.output"].values  # the one place the test looks inside


def test_the_output_table_holds_the_site_build_after_build() -> None:
    catalog = rich_catalog()
    site = build_site(catalog)
    for edit in range(4):
        index = edit % 3
        catalog = with_entry(catalog, index, replace(catalog.entries[index], title=f"T{edit}"))
        site = build_site(catalog)
        table = outputs_table()
        assert len(table) == len(site.outputs)
        assert all(table[(path, output.body)] is output for path, output in site.outputs.items())


def test_equal_bodies_made_again_find_their_outputs() -> None:
    catalog = rich_catalog()
    first = build_site(catalog)
    second = build_site(with_entry(catalog, 0, replace(catalog.entries[0], title="Another")))
    kept = [path for path in first.outputs if second[path] is first[path]]
    for name, table in memo._tables.items():  # every render cache cold, the Outputs not
        if name != "site.output":
            table.clear()
    again = build_site(catalog)  # every body rendered anew, equal to the first build's
    assert kept and all(again[path] is first[path] for path in kept)


def test_last_modified_follows_an_edited_date_and_only_then() -> None:
    catalog = rich_catalog()
    site = build_site(catalog)
    retitled = with_entry(catalog, 0, replace(catalog.entries[0], title="Retitled"))
    assert build_site(retitled).last_modified == site.last_modified
    later = site.last_modified + timedelta(days=3)
    index = next(i for i, e in enumerate(catalog.entries) if e.published is not None)
    dated = with_entry(retitled, index, replace(retitled.entries[index], updated=later))
    rebuilt: Site = build_site(dated)
    assert rebuilt.last_modified == later == catalog_last_modified(dated)
