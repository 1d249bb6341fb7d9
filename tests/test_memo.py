"""feeds.memo: what a build keeps, drops and computes."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from feeds import memo

TABLE: memo.Memo[str, str | None] = memo.Memo("test.memo")
BY_IDENTITY: memo.ByIdentity[list[int], str] = memo.ByIdentity("test.identity")


@pytest.fixture(autouse=True)
def empty_table() -> Iterator[None]:
    TABLE.clear()
    yield
    TABLE.clear()


def counting(value: str | None) -> tuple[list[str | None], Callable[[], str | None]]:
    calls: list[str | None] = []

    def compute() -> str | None:
        calls.append(value)
        return value

    return calls, compute


def build(keys: list[str], success: bool = True) -> list[str | None]:
    memo.begin_build()
    try:
        return [TABLE.get(key, lambda key=key: key.upper()) for key in keys]  # type: ignore[misc]
    finally:
        memo.end_build(success)


def test_a_build_keeps_what_it_used_and_drops_the_rest() -> None:
    build(["a", "b"])
    build(["b", "c"])
    assert TABLE.values == {"b": "B", "c": "C"}


def test_a_value_is_computed_once_however_often_it_is_asked() -> None:
    calls, compute = counting("x")
    memo.begin_build()
    try:
        assert [TABLE.get("k", compute) for _ in range(3)] == ["x", "x", "x"]
    finally:
        memo.end_build()
    memo.begin_build()
    try:
        assert TABLE.get("k", compute) == "x"
    finally:
        memo.end_build()
    assert calls == ["x"]


def test_none_is_a_value_like_any_other() -> None:
    calls, compute = counting(None)
    for _ in range(2):
        memo.begin_build()
        try:
            assert TABLE.get("nothing", compute) is None
            assert TABLE.get("nothing", compute) is None
        finally:
            memo.end_build()
    assert calls == [None]


def test_a_failed_build_keeps_the_old_values_and_the_new_ones() -> None:
    build(["a"])
    build(["b"], success=False)
    assert TABLE.values == {"a": "A", "b": "B"}


def test_a_value_got_outside_of_a_build_is_found_by_the_next_build() -> None:
    assert TABLE.get("loose", lambda: "L") == "L"
    calls, compute = counting("computed again")
    memo.begin_build()
    try:
        assert TABLE.get("loose", compute) == "L"
    finally:
        memo.end_build()
    assert calls == []


def test_a_value_got_outside_of_a_build_is_saved(tmp_path: Path) -> None:
    assert TABLE.get("loose", lambda: "L") == "L"
    memo.save(tmp_path / "memo.pickle")
    TABLE.clear()
    assert memo.load(tmp_path / "memo.pickle")
    assert TABLE.values == {"loose": "L"}


def test_a_value_put_by_a_build_replaces_the_old_one_and_is_kept() -> None:
    build(["a"])
    memo.begin_build()
    try:
        assert TABLE.get("a", lambda: "not asked") == "A"
        TABLE.put("a", "A2")
        assert TABLE.get("a", lambda: "not asked") == "A2"
    finally:
        memo.end_build()
    assert TABLE.values == {"a": "A2"}


def test_a_build_that_keeps_the_previous_values_drops_only_those_it_names() -> None:
    build(["a", "b", "c"])
    memo.begin_build()
    try:
        assert TABLE.get("d", lambda: "D") == "D"
        TABLE.keep_previous(dropping=["b", "d"])  # "d" was asked by this build: kept
    finally:
        memo.end_build()
    assert TABLE.values == {"a": "A", "c": "C", "d": "D"}


def test_peek_finds_a_value_without_keeping_it() -> None:
    build(["a"])
    memo.begin_build()
    try:
        assert TABLE.peek("a") == "A"
        assert TABLE.peek("z") is None
    finally:
        memo.end_build()
    assert TABLE.values == {}


def test_a_table_by_identity_finds_the_same_object_only() -> None:
    one, equal = [1], [1]
    assert BY_IDENTITY.get(one, lambda: "one") == "one"
    assert BY_IDENTITY.get(one, lambda: "again") == "one"
    assert BY_IDENTITY.get(equal, lambda: "equal") == "equal"


def test_the_code_fingerprint_reads_the_sources_once_per_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reads: list[Path] = []
    read_bytes = Path.read_bytes

    def counted(path: Path) -> bytes:
        reads.append(path)
        return read_bytes(path)

    memo.code_fingerprint.cache_clear()
    monkeypatch.setattr(Path, "read_bytes", counted)
    first = memo.code_fingerprint()
    assert any(path.name == "memo.py" for path in reads)
    reads.clear()
    assert memo.code_fingerprint() == first and reads == []


def test_the_code_fingerprint_covers_every_file_that_shapes_the_output(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A cache made by other templates, static files or translations is not reused:
    the fingerprint reads every file of the package (a `.po` file was once left out)."""
    package = Path(memo.__file__).resolve().parent
    shipped = {
        path for path in package.rglob("*") if path.is_file() and "__pycache__" not in path.parts
    }
    assert {path.suffix for path in shipped} >= {".py", ".html", ".js", ".po"}
    reads: set[Path] = set()
    read_bytes = Path.read_bytes

    def counted(path: Path) -> bytes:
        reads.add(path.resolve())
        return read_bytes(path)

    memo.code_fingerprint.cache_clear()
    monkeypatch.setattr(Path, "read_bytes", counted)
    memo.code_fingerprint()
    memo.code_fingerprint.cache_clear()  # the next caller reads the files as they are
    assert shipped - reads == set()


def test_the_code_fingerprint_changes_with_a_library_that_shapes_the_output(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A cache made before `pip install -U zlib-ng` (or feedgen, Babel ...) is not reused:
    its bodies and gzip streams are the old version's."""
    memo.code_fingerprint.cache_clear()
    before = memo.code_fingerprint()
    real = importlib.metadata.version
    for library in ("zlib-ng", "feedgen", "Babel"):
        monkeypatch.setattr(
            importlib.metadata,
            "version",
            lambda name, library=library: "0.0.1" if name == library else real(name),
        )
        memo.code_fingerprint.cache_clear()
        assert memo.code_fingerprint() != before, library
    monkeypatch.undo()
    memo.code_fingerprint.cache_clear()
    assert memo.code_fingerprint() == before
