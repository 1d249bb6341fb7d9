"""Shared fixtures: paths, the bundled catalog, and golden-file comparison."""

from __future__ import annotations

import difflib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

ROOT = Path(__file__).resolve().parent.parent
BUNDLED_CATALOG = ROOT / "entries.yaml"
GOLDEN_DIR = Path(__file__).resolve().parent / "golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite tests/golden/ from the current output (then read the git diff)",
    )


class Golden:
    """Compare bytes with tests/golden/<name>; `make golden` rewrites them."""

    def __init__(self, update: bool) -> None:
        self.update = update

    def check(self, name: str, actual: bytes) -> None:
        path = GOLDEN_DIR / name
        if self.update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(actual)
            return
        assert path.exists(), f"no golden file {path}; run `make golden` and review the diff"
        expected = path.read_bytes()
        if actual != expected:
            diff = "".join(
                difflib.unified_diff(
                    expected.decode("utf-8", "replace").splitlines(keepends=True),
                    actual.decode("utf-8", "replace").splitlines(keepends=True),
                    f"golden/{name}",
                    "actual",
                )
            )
            pytest.fail(f"{name} differs from its golden file (`make golden` to accept):\n{diff}")


@pytest.fixture(autouse=True, scope="session")
def private_temporary_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The temporary folder of the code under test and of every process it starts (the
    WebSub lock file of each catalog served, shared builds, compiled templates): this
    run's own, which pytest prunes with its other folders, rather than /tmp, where a run
    left a few files each time."""
    folder = tmp_path_factory.mktemp("tmp")
    saved = os.environ.get("TMPDIR"), tempfile.tempdir
    os.environ["TMPDIR"] = tempfile.tempdir = str(folder)
    yield folder
    tempfile.tempdir = saved[1]
    if saved[0] is None:
        os.environ.pop("TMPDIR", None)
    else:
        os.environ["TMPDIR"] = saved[0]


@pytest.fixture(autouse=True, scope="session")
def private_user_folders(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """This run's own XDG state and cache folders (the cache key, `feeds build`'s default
    cache: `feeds.sealed`), for the code under test and every process it starts: never
    the real home's."""
    folder = tmp_path_factory.mktemp("home")
    names = ("XDG_STATE_HOME", "XDG_CACHE_HOME")
    saved = {name: os.environ.get(name) for name in names}
    for name in names:
        os.environ[name] = str(folder / name.lower())
    yield folder
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Golden:
    return Golden(bool(request.config.getoption("--update-golden")))


@pytest.fixture
def bundled_catalog_path() -> Path:
    return BUNDLED_CATALOG


# --- the web app, Flask-tutorial style (tests/test_web*.py and anyone serving the Site) ---


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    """The app serving a private copy of the bundled catalog (edit it freely).

    Reload is off: a test drives the watcher with `runtime(app).watcher.check_now()`
    instead of waiting for its thread.
    """
    from feeds.serve.web import create_app

    catalog = tmp_path / "entries.yaml"
    shutil.copyfile(BUNDLED_CATALOG, catalog)
    yield create_app(
        catalog, {"TESTING": True, "RELOAD": False, "WEBSUB": False, "RELOAD_SETTLE": False}
    )


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def cold_memo() -> Iterator[None]:
    """The memo tables empty before and after the test, as a new process finds them
    (tests of what a build reuses: `pytestmark = pytest.mark.usefixtures("cold_memo")`)."""
    from feeds import memo

    memo.clear_all()
    yield
    memo.clear_all()


def skip_unless_ci(reason: str) -> None:
    """Skip a test whose tool is missing on a developer's machine; in CI (CI=true, where
    scripts/test.sh installs everything) a missing tool is a failure, never a quiet skip."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason} (CI must have it: see scripts/test.sh)")
    pytest.skip(reason)
