"""`feeds.publish.export`: a Site written to a folder, exactly, and atomically."""

from __future__ import annotations

import errno
import gzip
import os
import pickle
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sample_site import LAST_MODIFIED, sample_site

from feeds.publish import export, marks, stage
from feeds.publish.export import export_site
from feeds.publish.files import plan_files
from feeds.publish.trees import ExportError
from feeds.site import Site, make_output


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file below `root` (following the `site` symlink): bytes and mtime."""
    found: dict[str, tuple[bytes, int]] = {}
    for directory, _dirs, files in os.walk(root, followlinks=True):
        for name in files:
            path = Path(directory, name)
            found[str(path.relative_to(root))] = (path.read_bytes(), path.stat().st_mtime_ns)
    return found


def siblings(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir())


def test_every_path_is_written_to_its_file_with_exact_bytes(tmp_path: Path) -> None:
    site = sample_site()
    out = tmp_path / "site"
    export_site(site, out)

    expected: set[str] = set()
    for path in site:
        output = site[path]
        written = out / output.file_name
        assert written.read_bytes() == output.body, path
        expected.add(output.file_name)
        if output.gzip_body is not None:
            gz = written.with_name(written.name + ".gz")
            assert gz.read_bytes() == output.gzip_body
            assert gzip.decompress(gz.read_bytes()) == output.body
            expected.add(output.file_name + ".gz")
    expected.add(marks.MARK)  # the tree's mark, saying it is this export's (feeds.publish.marks)
    assert set(snapshot(out)) == expected  # nothing more, nothing less


def test_paths_ending_in_slash_are_index_files(tmp_path: Path) -> None:
    export_site(sample_site(), tmp_path / "site")
    assert (tmp_path / "site" / "index.html").read_bytes().startswith(b"<!doctype html><title>home")
    assert (tmp_path / "site" / "events" / "index.html").is_file()
    assert (tmp_path / "site" / "tags" / "culture" / "feed.atom").is_file()


def test_outputs_without_a_gzip_variant_get_no_gz_file(tmp_path: Path) -> None:
    site = sample_site()
    export_site(site, tmp_path / "site")
    plain = [site[p] for p in site if site[p].gzip_body is None]
    assert plain, "the sample site must have outputs too small or dense to compress"
    for output in plain:
        assert not (tmp_path / "site" / (output.file_name + ".gz")).exists()


def test_mtimes_are_last_modified_so_every_node_agrees(tmp_path: Path) -> None:
    export_site(sample_site(), tmp_path / "site")
    stamp = int(LAST_MODIFIED.timestamp())
    for name, (_body, mtime_ns) in snapshot(tmp_path / "site").items():
        assert mtime_ns == (0 if name == marks.MARK else stamp * 1_000_000_000), name


@pytest.mark.parametrize("umask", [0o077, 0o111, 0o022, 0o000])
def test_export_is_world_readable_whatever_the_umask(tmp_path: Path, umask: int) -> None:
    # 0o111 narrows the folders' mode and not the files'; 0o000 widens neither.
    old = os.umask(umask)
    try:
        export_site(sample_site(), tmp_path / "site")
    finally:
        os.umask(old)
    tree = (tmp_path / "site").resolve()
    assert tree.stat().st_mode & 0o777 == 0o755
    for directory, dirs, files in os.walk(tree):
        for name in dirs:
            assert Path(directory, name).stat().st_mode & 0o777 == 0o755
        for name in files:
            assert Path(directory, name).stat().st_mode & 0o777 == 0o644


def test_same_site_gives_identical_exports(tmp_path: Path) -> None:
    export_site(sample_site(), tmp_path / "a" / "site")
    export_site(sample_site(), tmp_path / "b" / "site")
    assert snapshot(tmp_path / "a" / "site") == snapshot(tmp_path / "b" / "site")


def test_out_is_a_symlink_flipped_to_the_new_tree(tmp_path: Path) -> None:
    out = tmp_path / "site"
    first = export_site(sample_site("1"), out)
    assert out.is_symlink() and os.readlink(out) == first.tree.name
    second = export_site(sample_site("2"), out)
    assert os.readlink(out) == second.tree.name
    assert (out / "feed.rss").read_bytes() == sample_site("2")["/feed.rss"].body
    # The previous tree stays for a rollback; older ones go.
    assert first.tree.is_dir()
    third = export_site(sample_site("3"), out)
    assert not first.tree.exists()
    assert siblings(out) == sorted(["site", ".site.lock", second.tree.name, third.tree.name])


def test_an_unchanged_catalog_rebuilt_keeps_the_rollback_to_the_last_change(
    tmp_path: Path,
) -> None:
    """A cron job rebuilding the catalog that is live: the tree of the version before
    stays, however often (the live tree and the one it replaced are then copies)."""
    out = tmp_path / "site"
    first = export_site(sample_site("1", version="1" * 16), out)
    live = export_site(sample_site("2", version="2" * 16), out)
    for _ in range(3):
        again = export_site(sample_site("2", version="2" * 16), out)
        assert (first.tree / "feed.rss").read_bytes() == sample_site("1")["/feed.rss"].body
        assert os.readlink(out) == again.tree.name
        assert (out / "feed.rss").read_bytes() == sample_site("2")["/feed.rss"].body
        assert again.replaced == live.tree.name and live.tree.is_dir()
        live = again
    # the rollback, the live tree and the one before it: bounded however many rebuilds
    assert len(siblings(out)) == 5
    changed = export_site(sample_site("3", version="3" * 16), out)
    assert not first.tree.exists()  # a change: the live tree and the one before it only
    assert siblings(out) == sorted(["site", ".site.lock", live.tree.name, changed.tree.name])


def test_relative_link_survives_moving_the_parent(tmp_path: Path) -> None:
    export_site(sample_site(), tmp_path / "a" / "site")
    (tmp_path / "a").rename(tmp_path / "moved")
    assert (tmp_path / "moved" / "site" / "feed.atom").is_file()


def test_leftovers_of_a_crashed_build_are_removed_by_the_next(tmp_path: Path) -> None:
    out = tmp_path / "site"
    export_site(sample_site("1"), out)
    mark = marks.mark_text("export tree", "site")
    (tmp_path / ".site.build-deadbeef" / "events").mkdir(parents=True)  # crashed while writing
    marks.write_mark(tmp_path / ".site.build-deadbeef", mark)
    (tmp_path / ".site.0123456789ab.cafecafe").mkdir()  # crashed before the flip
    marks.write_mark(tmp_path / ".site.0123456789ab.cafecafe", mark)
    (tmp_path / ".site.link-0badf00d").symlink_to(".site.0123456789ab.cafecafe")
    (tmp_path / "unrelated").mkdir()
    (tmp_path / ".site.build-0ddba11a").mkdir()  # the name of a staging tree, but no mark
    result = export_site(sample_site("2"), out)
    names = siblings(out)
    assert not [n for n in names if "deadbeef" in n or "cafecafe" in n or "0badf00d" in n]
    assert "unrelated" in names and result.tree.name in names
    assert ".site.build-0ddba11a" in names  # never remove a folder that is not marked


def _fail_after(monkeypatch: pytest.MonkeyPatch, files: int, error: int) -> None:
    """Make the writer raise OSError(`error`) on the file after the first `files` files."""
    real = stage._write_file
    calls = {"n": 0}

    def write(path: Path, body: bytes, mtime_ns: int, chmod: bool = True) -> None:
        calls["n"] += 1
        if calls["n"] > files:
            raise OSError(error, os.strerror(error), str(path))
        real(path, body, mtime_ns, chmod)

    monkeypatch.setattr(stage, "_write_file", write)


@pytest.mark.parametrize("after", [0, 1, 7])
def test_disk_full_mid_build_leaves_the_previous_export_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, after: int
) -> None:
    out = tmp_path / "site"
    export_site(sample_site("old"), out)
    before, link, names = snapshot(out), os.readlink(out), siblings(out)

    _fail_after(monkeypatch, after, errno.ENOSPC)
    with pytest.raises(ExportError) as failure:
        export_site(sample_site("new"), out)

    message = str(failure.value)
    assert "disk full" in message and "free space" in message
    assert ".site.build-" in message  # names the file it could not write
    assert snapshot(out) == before and os.readlink(out) == link
    assert siblings(out) == names  # no partial tree left behind


def test_a_failing_first_build_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fail_after(monkeypatch, 3, errno.EACCES)
    with pytest.raises(ExportError, match="permission denied"):
        export_site(sample_site(), tmp_path / "site")
    assert siblings(tmp_path / "site") == [".site.lock"]


def test_a_failed_flip_leaves_the_old_export_and_no_new_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "site"
    export_site(sample_site("old"), out)
    before, names = snapshot(out), siblings(out)

    def refuse(src: str, dst: str) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO), src)

    monkeypatch.setattr(os, "replace", refuse)  # the flip's atomic step
    with pytest.raises(ExportError, match="cannot write"):
        export_site(sample_site("new"), out)
    assert snapshot(out) == before and siblings(out) == names


def test_the_new_tree_is_flushed_to_disk_before_the_flip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    real_flush, real_replace = stage._flush_to_disk, os.replace

    def flush(tree: Path) -> None:
        assert tree.name.startswith(".site.build-") and (tree / "feed.atom").is_file()
        events.append("flush")
        real_flush(tree)

    def replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        events.append("flip")
        real_replace(src, dst)

    monkeypatch.setattr(stage, "_flush_to_disk", flush)
    monkeypatch.setattr(os, "replace", replace)
    export_site(sample_site(), tmp_path / "site")
    assert events == ["flush", "flip"]


def test_a_failing_flush_keeps_the_old_export(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "site"
    export_site(sample_site("old"), out)
    before, names = snapshot(out), siblings(out)

    def broken_disk(tree: Path) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO), str(tree))

    monkeypatch.setattr(stage, "_flush_to_disk", broken_disk)
    with pytest.raises(ExportError, match="Input/output error"):
        export_site(sample_site("new"), out)
    assert snapshot(out) == before and siblings(out) == names


@contextmanager
def small_tmpfs(where: Path, size: str) -> Iterator[Path]:
    """A real filesystem that fills up: a size-limited tmpfs (needs root); else skip."""
    where.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mount = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if mount.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mount.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_a_really_full_disk_leaves_the_previous_export_intact(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "fs", "1m") as fs:
        out = fs / "site"
        export_site(sample_site("old"), out)
        before, names = snapshot(out), siblings(out)

        big = sample_site("new")
        outputs = dict(big.outputs)
        outputs["/big.txt"] = make_output("/big.txt", b"x" * 2_000_000, LAST_MODIFIED)
        too_big = Site(outputs=outputs, version="fedcba9876543210", last_modified=LAST_MODIFIED)

        with pytest.raises(ExportError, match="disk full"):
            export_site(too_big, out)
        assert snapshot(out) == before and siblings(out) == names


def _site_of(*paths: str) -> Site:
    outputs = {p: make_output(p, b"body of " + p.encode(), LAST_MODIFIED) for p in paths}
    return Site(outputs=outputs, version="0", last_modified=LAST_MODIFIED)


@pytest.mark.parametrize(
    ("paths", "complaint"),
    [
        (("/a/", "/a/index.html"), "would both be written to a/index.html"),
        (("/feed.atom", "/feed.atom.gz"), "would both be written"),
        (("/tags", "/tags/x.atom"), "tags is needed both as a file and as a directory"),
        (("/../etc/passwd",), "not a path the export can write"),
        (("/a//b",), "not a path the export can write"),
        (("/.well-known/x",), "starting with '.'"),
    ],
)
def test_paths_that_cannot_be_exported_are_refused_before_writing(
    tmp_path: Path, paths: tuple[str, ...], complaint: str
) -> None:
    site = _site_of(*paths)
    if "/feed.atom.gz" in paths:  # give /feed.atom a .gz that the literal path collides with
        site = Site(
            outputs={
                "/feed.atom": make_output("/feed.atom", b"<feed/>" * 100, LAST_MODIFIED),
                "/feed.atom.gz": site["/feed.atom.gz"],
            },
            version="0",
            last_modified=LAST_MODIFIED,
        )
    with pytest.raises(ExportError, match=complaint.replace(".", r"\.").replace("(", r"\(")):
        export_site(site, tmp_path / "site")
    assert not (tmp_path / "site").exists()


def test_refuses_to_replace_a_folder_it_did_not_make(tmp_path: Path) -> None:
    out = tmp_path / "site"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    with pytest.raises(ExportError, match="not an export made by `feeds build`"):
        export_site(sample_site(), out)
    assert (out / "precious.txt").read_text() == "keep me"
    assert siblings(out) == ["site"]  # refused before the lock file is made


def test_refuses_to_repoint_a_symlink_it_did_not_make(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    out = tmp_path / "site"
    out.symlink_to("elsewhere")
    with pytest.raises(ExportError, match="symlink to elsewhere"):
        export_site(sample_site(), out)
    assert os.readlink(out) == "elsewhere"


def test_an_empty_folder_made_by_hand_becomes_the_export(tmp_path: Path) -> None:
    out = tmp_path / "site"
    out.mkdir()
    export_site(sample_site(), out)
    assert out.is_symlink() and (out / "feed.atom").is_file()


def test_summary_counts_files_and_bytes(tmp_path: Path) -> None:
    site = sample_site()
    result = export_site(site, tmp_path / "site")
    gz = [site[p].gzip_body for p in site if site[p].gzip_body is not None]
    assert result.files == len(site) + len(gz)
    assert result.gzip_files == len(gz)
    assert result.bytes == sum(len(site[p].body) for p in site) + sum(len(b or b"") for b in gz)
    line = export.summary(result, 0.5)
    assert str(tmp_path / "site") in line and f"{result.files} files" in line


# --- flushed while written ----------------------------------------------------------------


def slowed_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each file takes 2 ms to write: an export of the sample site outlasts a few
    flush intervals (set to 10 ms)."""
    real_write = stage._write_file

    def slow_write(path: str, body: bytes, mtime_ns: int, chmod: bool = True) -> None:
        time.sleep(0.002)
        real_write(path, body, mtime_ns, chmod)

    monkeypatch.setattr(stage, "_write_file", slow_write)
    monkeypatch.setattr(stage._Flusher, "INTERVAL", 0.01)


def test_the_tree_is_flushed_while_it_is_written_and_once_more_before_the_flip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []  # who flushed, in order, and the flip
    real_flush, real_replace = stage._flush_to_disk, os.replace

    def flush(tree: Path) -> None:
        events.append(threading.current_thread().name)
        real_flush(tree)

    def replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        events.append("flip")
        real_replace(src, dst)

    slowed_writes(monkeypatch)
    monkeypatch.setattr(stage, "_flush_to_disk", flush)
    monkeypatch.setattr(os, "replace", replace)
    export_site(sample_site(), tmp_path / "site")
    assert "flush-export" in events[:-2]
    assert events[-2:] == [threading.main_thread().name, "flip"]  # the final flush, then
    assert not [t for t in threading.enumerate() if t.name == "flush-export"]


def test_a_failed_flush_while_writing_is_left_to_the_final_flush(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_flush = stage._flush_to_disk
    failed: list[str] = []

    def flush(tree: Path) -> None:
        if threading.current_thread().name == "flush-export":
            failed.append(tree.name)
            raise OSError(errno.EIO, os.strerror(errno.EIO), str(tree))
        real_flush(tree)

    slowed_writes(monkeypatch)
    monkeypatch.setattr(stage, "_flush_to_disk", flush)
    out = tmp_path / "site"
    export_site(sample_site(), out)
    assert failed and snapshot(out)  # it failed meanwhile, and the export went live


def test_a_stage_in_another_process_does_not_flush_there(tmp_path: Path) -> None:
    """`feeds build` sends its Stage to its second process (or forks with it): only the
    process that made it flushes, and the copy carries no thread."""
    outputs = [make_output("/a.txt", b"a", LAST_MODIFIED)]
    with export.staged_export(tmp_path / "site", "v1") as stage:
        stage.write(plan_files(outputs))  # the flusher runs from here on
        copy = pickle.loads(pickle.dumps(stage))
        pid = os.fork()
        if pid == 0:  # pragma: no cover - reports through its exit status
            copy.flusher.start()
            stage.flusher.start()
            os._exit(0 if threading.active_count() == 1 else 1)
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
