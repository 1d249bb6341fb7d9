"""The saved memo tables name the catalog's entries instead of holding copies of them
(`render.entry_key.use_entry_names`, `catalog.chunk_reader.name_entries`): a loaded key is
this build's own entry's key, an entry edited since matches nothing, and what is built
stays what a build without a cache gives."""

from __future__ import annotations

import dataclasses
import io
import pickle
import shutil
from pathlib import Path
from typing import Any

import pytest
from rebuild_support import render_in_a_build
from test_export_build import build_ok, content, files

from feeds import memo, sealed
from feeds.catalog.chunk_reader import name_entries
from feeds.catalog.incremental import CatalogParser
from feeds.catalog.layout import split
from feeds.catalog.rules import Zones
from feeds.model import Catalog, Entry, Feed
from feeds.publish.build_cache import default_cache_dir
from feeds.render import atom, entry_key

ROOT = Path(__file__).resolve().parent.parent
EDITED_TITLE = (b"title: EUROCITIES - city leaders", b"title: EUROCITIES - the city leaders")

pytestmark = pytest.mark.usefixtures("cold_memo")


def parsed(data: bytes) -> Catalog:
    """`data` read by a new parser (new Entry objects), its entries named for the tables."""
    parser = CatalogParser()
    catalog = parser.parse(data, "entries.yaml")
    named = parser.entry_names(catalog)
    assert len(named) == len(catalog.entries)
    entry_key.use_entry_names(catalog.feed, named)
    return catalog


def render_atom(catalog: Catalog) -> dict[str, bytes]:
    return render_in_a_build(atom.render, catalog)


def counting_atom_entries(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each Atom entry rendered from here on (not found in the tables), by entry id."""
    rendered: list[str] = []
    original = atom.ATOM.entry

    def counted(feed: Feed, entry: Entry) -> bytes:
        rendered.append(entry.id)
        return original(feed, entry)

    monkeypatch.setattr(atom, "ATOM", dataclasses.replace(atom.ATOM, entry=counted))
    return rendered


def globals_in(path: Path) -> set[str]:
    """The classes and functions a pickle file refers to, as 'module name'."""
    found: set[str] = set()

    class Recording(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> Any:
            found.add(f"{module} {name}")
            return super().find_class(module, name)

    Recording(io.BytesIO(sealed.read(path, memo.SEALED_AS))).load()
    return found


def test_a_loaded_key_is_the_key_of_this_build_s_own_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = (ROOT / "entries.yaml").read_bytes()
    first = render_atom(parsed(data))
    memo.save(tmp_path / "memo.pickle")
    memo.clear_all()

    again = parsed(data)  # equal entries, other objects
    assert memo.load(tmp_path / "memo.pickle")
    ours = {id(entry) for entry in again.entries}
    keys = list(atom.ATOM.entries.values)
    assert keys and all(id(key.entry) in ours and key.feed is again.feed for key in keys)
    rendered = counting_atom_entries(monkeypatch)
    assert render_atom(again) == first
    assert rendered == []


def test_a_key_of_an_entry_edited_since_matches_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = (ROOT / "entries.yaml").read_bytes()
    assert data.count(EDITED_TITLE[0]) == 1
    render_atom(parsed(data))
    memo.save(tmp_path / "memo.pickle")
    memo.clear_all()

    edited = parsed(data.replace(*EDITED_TITLE))
    assert memo.load(tmp_path / "memo.pickle")
    rendered = counting_atom_entries(monkeypatch)
    documents = render_atom(edited)
    assert rendered == ["eurocities-city-leaders-agenda-for-europe"]
    assert b"EUROCITIES - the city leaders" in b"".join(map(bytes, documents.values()))
    # The edited entry's old value is not kept past the build that did not use it.
    ours = {id(entry) for entry in edited.entries}
    assert all(id(key.entry) in ours for key in atom.ATOM.entries.values)
    assert len(atom.ATOM.entries.values) == len(edited.publications)
    memo.clear_all()
    assert render_atom(edited) == documents  # what no cache gives


def test_an_entry_read_with_other_zones_has_another_name() -> None:
    data = (ROOT / "entries.yaml").read_bytes()
    catalog = CatalogParser().parse(data, "entries.yaml")
    layout = split(data)
    assert layout is not None
    brussels = name_entries(Zones("Europe/Brussels", False), layout.chunks, catalog.entries)
    utc = name_entries(Zones("UTC", False), layout.chunks, catalog.entries)
    assert len({name for name, _ in brussels}) == len(catalog.entries)
    assert not {name for name, _ in brussels} & {name for name, _ in utc}
    assert name_entries(Zones("UTC", False), layout.chunks[1:], catalog.entries) == []


def test_a_key_of_an_entry_without_a_name_is_saved_whole(tmp_path: Path) -> None:
    catalog = CatalogParser().parse((ROOT / "entries.yaml").read_bytes(), "entries.yaml")
    entry_key.use_entry_names(catalog.feed, [])
    first = render_atom(catalog)
    memo.save(tmp_path / "memo.pickle")
    assert "feeds.model Entry" in globals_in(tmp_path / "memo.pickle")
    memo.clear_all()
    assert memo.load(tmp_path / "memo.pickle")
    assert {key.entry for key in atom.ATOM.entries.values} <= set(catalog.entries)
    assert render_atom(catalog) == first


def test_the_cache_files_of_a_build_hold_no_entry(tmp_path: Path) -> None:
    catalog = tmp_path / "entries.yaml"
    shutil.copyfile(ROOT / "entries.yaml", catalog)
    out, cache = tmp_path / "site", default_cache_dir(catalog)
    assert cache is not None
    for _ in ("cold", "rebuild"):
        build_ok(catalog, out, "--jobs", "2")
        saved = sorted(cache.glob("entries.yaml.memo-*.pickle"))
        assert {path.name.split(".")[-2] for path in saved} >= {"memo-0", "memo-1"}
        for path in saved:
            refers_to = globals_in(path)
            assert "feeds.model Entry" not in refers_to, path.name
        assert any("feeds.render.entry_key _named_key" in globals_in(path) for path in saved)
    before = content(files(out))
    catalog.write_bytes(catalog.read_bytes().replace(*EDITED_TITLE))
    build_ok(catalog, out, "--jobs", "2")
    fresh = tmp_path / "fresh" / "site"  # named as `out`: its marker file names it
    build_ok(catalog, fresh, "--no-cache")
    assert content(files(out)) == content(files(fresh)) != before
