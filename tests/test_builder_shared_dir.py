"""The shared build's folder (`supervisor.make_shared_directory`): a server killed before its
cleanup leaves it behind, and the next server to start removes it, never the folder of a
server that still runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from feeds.serve import supervisor


def test_a_folder_is_kept_while_its_lock_is_held_and_removed_after(tmp_path: Path) -> None:
    first, lock = supervisor.make_shared_directory(tmp_path)
    (first / "index").write_bytes(b"a published build")
    second, other_lock = supervisor.make_shared_directory(tmp_path)
    assert first != second and first.is_dir()  # held: its server lives
    os.close(lock)  # as when the server and all its workers are gone
    assert supervisor.remove_abandoned(tmp_path) == [first]
    assert not first.exists() and second.is_dir()
    os.close(other_lock)


def test_the_folder_of_a_killed_server_is_removed_by_the_next_one(tmp_path: Path) -> None:
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys, time
                from pathlib import Path
                from feeds.serve import builder, supervisor
                directory, _ = supervisor.make_shared_directory(Path({str(tmp_path)!r}))
                print(directory, flush=True)
                time.sleep(60)
                """
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        left = Path(server.stdout.readline().strip())
        assert left.is_dir()
        assert supervisor.remove_abandoned(tmp_path) == []  # its server runs
        server.send_signal(signal.SIGKILL)  # no cleanup runs
        server.wait()
        assert left.is_dir()
        directory, lock = supervisor.make_shared_directory(tmp_path)
        assert not left.exists() and directory.is_dir()
        os.close(lock)
    finally:
        server.kill()
        server.wait()


def test_other_folders_are_left_alone(tmp_path: Path) -> None:
    unlocked = tmp_path / f"{supervisor.SHARED_PREFIX}being-made"
    unlocked.mkdir()  # no lock file yet: being made, or not ours
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / ".owner.lock").touch()
    (tmp_path / f"{supervisor.SHARED_PREFIX}link").symlink_to(elsewhere)
    other = tmp_path / "feeds-other"
    other.mkdir()
    assert supervisor.remove_abandoned(tmp_path) == []
    assert unlocked.is_dir() and elsewhere.is_dir() and other.is_dir()


def test_another_user_s_folder_is_left_alone(tmp_path: Path) -> None:
    if os.getuid() != 0:
        pytest.skip("only root can give a folder to another user")
    theirs, lock = supervisor.make_shared_directory(tmp_path)
    os.close(lock)  # abandoned, but not ours
    os.chown(theirs, 65534, 65534)
    assert supervisor.remove_abandoned(tmp_path) == []
    assert theirs.is_dir()
