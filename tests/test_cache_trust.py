"""Nothing an editor can place in a cache is ever run (issue 17, finding 2).

Every file feeds reads back as objects (the build cache's parse, memo tables and export
manifests; the shared build's index and rows; the compiled templates) is sealed with a
key of the user's (`feeds.sealed`). Here a pickle whose unpickling creates a sentinel
file is planted under the exact name each is read from, in every place a cache can be:
the sentinel never appears, the build exits 0 with what a build without a cache makes,
and one line says the file was ignored. Damaged, cut and foreign files mean a cold
build; a legit cache is still used. Each test has its own XDG folders (its own key)."""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import pickle
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from jinja2.bccache import bc_magic

from feeds import sealed
from feeds.serve.pack import INDEX
from feeds.serve.pack_writer import PackWriter
from feeds.serve.polling import PackWatcher
from feeds.site import Site, make_output

ROOT = Path(__file__).resolve().parent.parent
FEEDS = Path(sys.executable).parent / "feeds"
IGNORED = "ignored the cache file"


class Planted:
    """Unpickled, runs a shell command that creates `sentinel` (as in the issue)."""

    def __init__(self, sentinel: Path) -> None:
        self.sentinel = sentinel

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"touch {shlex.quote(str(self.sentinel))}",))


def planted(sentinel: Path) -> bytes:
    return pickle.dumps(Planted(sentinel))


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's own XDG folders and temporary folder (its own key, its own Jinja
    cache), inherited by the builds it runs."""
    folder = tmp_path / "home"
    for name in ("XDG_STATE_HOME", "XDG_CACHE_HOME", "TMPDIR"):
        (folder / name.lower()).mkdir(parents=True)
        monkeypatch.setenv(name, str(folder / name.lower()))
    return folder


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    path = tmp_path / "catalog" / "entries.yaml"
    path.parent.mkdir()
    shutil.copyfile(ROOT / "entries.yaml", path)
    return path


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """What `feeds build --no-cache` makes of the bundled catalog."""
    folder = tmp_path_factory.mktemp("reference")
    result = run_build(ROOT / "entries.yaml", folder / "site", "--no-cache")
    assert result.returncode == 0, result.stderr
    return tree(folder / "site")


def run_build(catalog: Path, out: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(FEEDS), "build", str(catalog), "--out", str(out), *options],
        capture_output=True,
        text=True,
        timeout=120,
    )


def tree(out: Path) -> dict[str, bytes]:
    """The export's files, but the export's own mark (a dot file at its top, naming it).

    A `.gz` file counts by what it holds: in full runs the gzip bytes of a body that is the
    same in both builds differed twice between two cold builds (cause not found; the gzip
    ETag names the gzip bytes since, so that does no harm), which is not what these tests
    are about."""
    root = out.resolve()
    return {
        str(path.relative_to(root)): _contents(path)
        for path in sorted(root.rglob("*"))
        if path.is_file() and not (path.parent == root and path.name.startswith("."))
    }


def _contents(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def default_cache(catalog: Path) -> Path:
    """The per-user cache folder of `catalog`, where docs/export.md says it is."""
    digest = hashlib.sha256(os.fsencode(os.path.abspath(catalog))).hexdigest()[:16]
    return Path(os.environ["XDG_CACHE_HOME"]) / "feeds" / f"{catalog.name}-{digest}"


def cache_file(kind: str, catalog: Path, out: Path) -> str:
    if kind == "export":
        key = hashlib.sha256(os.path.abspath(out).encode()).hexdigest()[:16]
        return f"{catalog.name}.export-{key}.pickle"
    return f"{catalog.name}.{kind}.pickle"


def ignored_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if IGNORED in line]


def assert_built_as_without_cache(
    result: subprocess.CompletedProcess[str], out: Path, reference: dict[str, bytes]
) -> None:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    built = tree(out)
    differ = sorted(
        name for name in built.keys() | reference.keys() if built.get(name) != reference.get(name)
    )
    assert not differ, (differ[:10], first_difference(built, reference, differ[0]))


def first_difference(built: dict[str, bytes], reference: dict[str, bytes], name: str) -> str:
    """The first differing line of `name` in the two trees, to say what went wrong."""
    ours, theirs = built.get(name, b"").splitlines(), reference.get(name, b"").splitlines()
    for number, (line, expected) in enumerate(zip(ours, theirs, strict=False), start=1):
        if line != expected:
            return f"{name}:{number}: {line[:200]!r} != {expected[:200]!r}"
    return f"{name}: {len(ours)} lines, {len(theirs)} expected"


KINDS = ["parse", "memo-0", "memo-1", "memo-0-pages", "memo-1-calendars", "export"]
LOCATIONS = ["default", "--cache-dir", "--cache-dir beside the catalog"]


@pytest.mark.slow
@pytest.mark.parametrize("location", LOCATIONS)
@pytest.mark.parametrize("kind", KINDS)
def test_a_planted_cache_file_is_never_unpickled(
    home: Path,
    catalog: Path,
    tmp_path: Path,
    reference: dict[str, bytes],
    kind: str,
    location: str,
) -> None:
    out, sentinel = tmp_path / "site", tmp_path / "SENTINEL"
    options: list[str] = []
    folder = default_cache(catalog)
    if location != "default":
        folder = (
            tmp_path / "cache" if location == "--cache-dir" else catalog.parent / ".feeds-cache"
        )
        options = ["--cache-dir", str(folder)]
    folder.mkdir(parents=True)
    name = cache_file(kind, catalog, out)
    (folder / name).write_bytes(planted(sentinel))

    result = run_build(catalog, out, *options)

    assert not sentinel.exists(), "the planted pickle ran"
    assert_built_as_without_cache(result, out, reference)
    lines = ignored_lines(result.stderr)
    assert len(lines) == 1 and name in lines[0], result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["memo-1", "memo-0-pages", "parse"])
def test_a_planted_file_is_never_unpickled_by_a_build_in_two_processes(
    home: Path, catalog: Path, tmp_path: Path, reference: dict[str, bytes], kind: str
) -> None:
    # memo-1 and memo-0-pages are read by the second process, the parse before the fork.
    out, sentinel = tmp_path / "site", tmp_path / "SENTINEL"
    folder = default_cache(catalog)
    folder.mkdir(parents=True)
    (folder / cache_file(kind, catalog, out)).write_bytes(planted(sentinel))
    result = run_build(catalog, out, "--jobs", "2")
    assert not sentinel.exists(), "the planted pickle ran"
    assert_built_as_without_cache(result, out, reference)
    assert len(ignored_lines(result.stderr)) == 1, result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_the_folder_beside_the_catalog_is_no_longer_the_default(
    home: Path, catalog: Path, tmp_path: Path, reference: dict[str, bytes], kind: str
) -> None:
    # `.feeds-cache/` beside the catalog was the default: editors can write there.
    out, sentinel = tmp_path / "site", tmp_path / "SENTINEL"
    beside = catalog.parent / ".feeds-cache"
    beside.mkdir()
    (beside / cache_file(kind, catalog, out)).write_bytes(planted(sentinel))
    result = run_build(catalog, out)
    assert not sentinel.exists(), "the planted pickle ran"
    assert_built_as_without_cache(result, out, reference)
    assert default_cache(catalog).is_dir()  # the cache went to the user's own folder


def forged(sentinel: Path) -> bytes:
    """A planted pickle behind the seal's header, with a seal made up."""
    return sealed.MAGIC + bytes(32) + planted(sentinel)


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["truncated", "garbage", "forged seal", "another key"])
def test_a_damaged_or_foreign_cache_means_a_cold_build(
    home: Path,
    catalog: Path,
    tmp_path: Path,
    reference: dict[str, bytes],
    damage: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out, sentinel, cache = tmp_path / "site", tmp_path / "SENTINEL", tmp_path / "cache"
    if damage == "another key":  # the files another user (or machine) sealed
        monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "other-state"))
    assert run_build(catalog, tmp_path / "first", "--cache-dir", str(cache)).returncode == 0
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "xdg_state_home"))
    files = sorted(cache.glob("*.pickle"))
    assert len(files) >= 3
    for path in files:
        data = path.read_bytes()
        if damage == "truncated":
            path.write_bytes(data[: len(data) // 2])
        elif damage == "garbage":
            path.write_bytes(os.urandom(len(data)))
        elif damage == "forged seal":
            path.write_bytes(forged(sentinel))

    result = run_build(catalog, out, "--cache-dir", str(cache))

    assert not sentinel.exists()
    assert_built_as_without_cache(result, out, reference)
    assert len(ignored_lines(result.stderr)) == 1, result.stderr
    assert "unchanged, not written" not in result.stdout  # nothing reused: a cold build


@pytest.mark.slow
def test_two_processes_say_one_line_between_them(
    home: Path, catalog: Path, tmp_path: Path, reference: dict[str, bytes]
) -> None:
    # A rebuild in two processes: the parent reads memo-0, the child memo-1.
    out = tmp_path / "site"
    assert run_build(catalog, tmp_path / "first", "--jobs", "2").returncode == 0
    memo_files = sorted(default_cache(catalog).glob("*.memo-*.pickle"))
    assert {path.name.split(".")[-2] for path in memo_files} >= {"memo-0", "memo-1"}
    for path in memo_files:
        path.write_bytes(os.urandom(path.stat().st_size))
    result = run_build(catalog, out, "--jobs", "2")
    assert_built_as_without_cache(result, out, reference)
    assert len(ignored_lines(result.stderr)) == 1, result.stderr


@pytest.mark.slow
def test_a_legit_cache_is_still_used(
    home: Path, catalog: Path, tmp_path: Path, reference: dict[str, bytes]
) -> None:
    out = tmp_path / "site"
    assert run_build(catalog, out).returncode == 0
    again = run_build(catalog, out)
    assert_built_as_without_cache(again, out, reference)
    reused = re.search(r" (\d+) files .*; (\d+) unchanged, not written", again.stdout)
    assert reused and reused[1] == reused[2], again.stdout  # the manifests, reused
    assert again.stderr == ""
    key = Path(os.environ["XDG_STATE_HOME"]) / "feeds" / "cache.key"
    assert key.stat().st_mode & 0o777 == 0o600 and key.stat().st_size == 32
    assert default_cache(catalog).stat().st_mode & 0o777 == 0o700


@pytest.mark.slow
@pytest.mark.parametrize("problem", ["key readable by others", "key folder is a file"])
def test_no_private_key_means_no_cache_and_one_line(
    home: Path, catalog: Path, tmp_path: Path, reference: dict[str, bytes], problem: str
) -> None:
    state = Path(os.environ["XDG_STATE_HOME"])
    if problem == "key readable by others":
        (state / "feeds").mkdir(mode=0o700)
        (state / "feeds" / "cache.key").write_bytes(os.urandom(32))
        (state / "feeds" / "cache.key").chmod(0o644)  # anyone could forge a seal with it
    else:
        (state / "feeds").write_text("not a folder")  # where the key's folder should be
    out = tmp_path / "site"
    result = run_build(catalog, out)
    assert_built_as_without_cache(result, out, reference)
    lines = [line for line in result.stderr.splitlines() if "no cache" in line]
    assert len(lines) == 1 and len(result.stderr.splitlines()) == 1, result.stderr
    assert not default_cache(catalog).exists()


# --- the compiled templates ---------------------------------------------------------------


@pytest.mark.slow
def test_a_planted_compiled_template_is_never_run(
    home: Path, catalog: Path, tmp_path: Path, reference: dict[str, bytes]
) -> None:
    # Jinja reads its files' checksum with pickle: a planted file runs code at its start.
    assert run_build(catalog, tmp_path / "first", "--no-cache").returncode == 0
    jinja = Path(os.environ["TMPDIR"]) / f"_jinja2-cache-{os.getuid()}"
    kept = sorted(jinja.glob("__feeds_*.cache"))
    assert len(kept) >= 10
    sentinel = tmp_path / "SENTINEL"
    for path in kept:
        path.write_bytes(bc_magic + planted(sentinel))
    out = tmp_path / "site"
    result = run_build(catalog, out, "--no-cache")
    assert not sentinel.exists(), "the planted template cache ran"
    assert_built_as_without_cache(result, out, reference)
    assert len(ignored_lines(result.stderr)) == 1, result.stderr


# --- the shared build: the builder's pack, read by each worker -------------------------------

MOMENT = datetime(2019, 3, 14, tzinfo=UTC)


def site_of(version: int) -> Site:
    bodies = {f"/page-{n}.json": b'{"v": %d}' % version for n in range(20)}
    outputs = {path: make_output(path, body, MOMENT) for path, body in bodies.items()}
    return Site(outputs=outputs, version=str(version), last_modified=MOMENT)


def watcher(directory: Path) -> PackWatcher[str]:
    return PackWatcher(directory, lambda mapped: mapped.index.version, interval=3600)


@pytest.mark.parametrize("damage", ["planted", "forged seal", "truncated", "another key"])
def test_a_worker_never_unpickles_a_replaced_pack_index(
    home: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    damage: str,
) -> None:
    pack, sentinel = tmp_path / "pack", tmp_path / "SENTINEL"
    pack.mkdir()
    writer = PackWriter(pack)
    writer.publish(site_of(1), {"status": "ok"})
    worker = watcher(pack)
    assert worker.check_now() and worker.view == "1"
    index = pack / INDEX
    if damage == "another key":
        other = tmp_path / "other"
        monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "other-state"))
        other.mkdir()
        PackWriter(other).publish(site_of(2), {"status": "ok"})
        shutil.copyfile(other / INDEX, index)
        monkeypatch.setenv("XDG_STATE_HOME", str(home / "xdg_state_home"))
    elif damage == "truncated":
        index.write_bytes(index.read_bytes()[:40])
    else:
        index.write_bytes(planted(sentinel) if damage == "planted" else forged(sentinel))
    with caplog.at_level(logging.ERROR):
        assert not worker.check_now()
        assert not worker.check_now()  # said once, not at every look
    assert not sentinel.exists()
    assert worker.view == "1"  # it keeps serving what it had
    lines = [r.getMessage() for r in caplog.records if IGNORED in r.getMessage()]
    assert len(lines) == 1 and str(index) in lines[0]


def test_a_new_worker_serves_nothing_from_a_planted_pack(home: Path, tmp_path: Path) -> None:
    pack, sentinel = tmp_path / "pack", tmp_path / "SENTINEL"
    pack.mkdir()
    writer = PackWriter(pack)
    writer.publish(site_of(1), {"status": "ok"})
    rows = sorted(pack.glob("rows-*"))
    assert len(rows) == 1
    rows[0].write_bytes(planted(sentinel))  # the rows file the legit index names
    worker = watcher(pack)
    assert not worker.check_now()
    assert worker.view is None and not sentinel.exists()
    (pack / INDEX).write_bytes(planted(sentinel))
    assert not watcher(pack).check_now()
    assert not sentinel.exists()


def test_a_worker_reads_what_the_builder_sealed(home: Path, tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    pack.mkdir()
    writer, worker = PackWriter(pack), watcher(tmp_path / "pack")
    for version in (1, 2, 3):
        writer.publish(site_of(version), {"status": "ok"})
        assert worker.check_now() and worker.view == str(version)
    assert (pack / INDEX).read_bytes().startswith(sealed.MAGIC)
    # Rows files are never unpickled: a flat table, named with its digest by the index.
    assert all(path.read_bytes().startswith(b"feeds-rowtable-") for path in pack.glob("rows-*"))


def test_a_worker_serves_no_rows_file_the_index_does_not_name(home: Path, tmp_path: Path) -> None:
    pack, other = tmp_path / "pack", tmp_path / "other"
    pack.mkdir()
    other.mkdir()
    PackWriter(pack).publish(site_of(1), {"status": "ok"})
    PackWriter(other).publish(site_of(2), {"status": "ok"})
    (rows,) = pack.glob("rows-*")
    (forged,) = other.glob("rows-*")
    rows.write_bytes(forged.read_bytes())  # a well-formed table, not the one published
    worker = watcher(pack)
    assert not worker.check_now()
    assert worker.view is None


@pytest.mark.slow
def test_a_real_builder_and_worker_survive_a_planted_index(
    home: Path, catalog: Path, tmp_path: Path
) -> None:
    # The builder process seals what it publishes; a worker (its PackWatcher) refuses a
    # planted index, keeps what it serves, and takes the builder's next publish.
    pack, sentinel = tmp_path / "pack", tmp_path / "SENTINEL"
    pack.mkdir(mode=0o700)
    command = [sys.executable, "-m", "feeds.serve.builder", "--catalog", str(catalog), str(pack)]
    builder = subprocess.Popen(
        [*command, "--interval", "0.1", "--no-websub"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        worker = PackWatcher(pack, lambda mapped: mapped.index.version, interval=3600)
        assert wait_for(worker.check_now), "the builder published nothing"
        served = worker.view
        assert served is not None
        planted_index = tmp_path / "planted"
        planted_index.write_bytes(planted(sentinel))
        os.replace(planted_index, pack / INDEX)
        assert not worker.check_now()
        assert worker.view == served and not sentinel.exists()
        catalog.write_bytes(catalog.read_bytes().replace(b"title: ", b"title: New ", 2))
        assert wait_for(worker.check_now), "the builder's next publish was not taken"
        assert worker.view not in (None, served) and not sentinel.exists()
    finally:
        builder.terminate()
        builder.wait(timeout=30)


def wait_for(condition: Callable[[], bool], seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False
