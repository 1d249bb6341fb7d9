"""`python -m feeds.serve.builder` refuses, with one line and exit 1, what it must not work in:
a folder that is not its own, and a user who can keep no private key to seal the build
(then gunicorn stops at start with that line too)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from servers import GUNICORN, free_port

ROOT = Path(__file__).resolve().parent.parent


def run_builder(
    directory: Path, catalog: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "feeds.serve.builder", str(directory), "--catalog", str(catalog)]
    return subprocess.run(
        argv, capture_output=True, text=True, timeout=60, env=env or dict(os.environ), cwd=ROOT
    )


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    path = tmp_path / "entries.yaml"
    shutil.copyfile(ROOT / "entries.yaml", path)
    return path


def test_the_builder_refuses_a_folder_that_is_not_its_own(tmp_path: Path, catalog: Path) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "index").write_text("mine\n")  # a name the builder would remove
    (folder / "todo.txt").write_text("mine too\n")
    result = run_builder(folder, catalog)
    assert result.returncode == 1
    assert f"DIRECTORY={folder} is not an empty folder and was not made by feeds" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert sorted(path.name for path in folder.iterdir()) == ["index", "todo.txt"]
    assert (folder / "index").read_text() == "mine\n"


def shared_state_home(tmp_path: Path) -> dict[str, str]:
    """An environment whose key folder another user could write: no key is kept there
    (`feeds.sealed`), whoever runs the test (root included)."""
    state = tmp_path / "state"
    (state / "feeds").mkdir(parents=True)
    (state / "feeds").chmod(0o777)
    return {**os.environ, "XDG_STATE_HOME": str(state)}


def test_the_builder_without_a_private_key_says_what_to_do(tmp_path: Path, catalog: Path) -> None:
    result = run_builder(tmp_path / "build", catalog, shared_state_home(tmp_path))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "cannot publish the shared build" in lines[0]
    assert "Set XDG_STATE_HOME to a folder of this user's" in lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_gunicorn_without_a_private_key_stops_with_that_line(tmp_path: Path, catalog: Path) -> None:
    env = shared_state_home(tmp_path)
    env.update(FEEDS_CATALOG=str(catalog), FEEDS_BIND=f"127.0.0.1:{free_port()}")
    env.update(FEEDS_WORKERS="1", TMPDIR=str(tmp_path))
    result = subprocess.run(
        [str(GUNICORN), "asgi:app"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "Set XDG_STATE_HOME to a folder of this user's" in result.stderr
    assert "Traceback" not in result.stderr
