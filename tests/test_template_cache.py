"""The pages' compiled templates, kept between processes (`pages_env.bytecode_cache`):
a later process loads them instead of compiling, a cache that is damaged, cannot be
written or cannot be made only means compiling again, and the programs keep them, not
the core (`pages_env.keep_compiled_templates`)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from jinja2 import Environment
from jinja2.bccache import bc_magic

from feeds import memo
from feeds.catalog import load_catalog
from feeds.cli import main
from feeds.render import pages_env
from feeds.render.pages import PageRenderer
from feeds.render.pages_env import QuietBytecodeCache, bytecode_cache, make_environment
from feeds.serve import supervisor
from feeds.serve.web import create_app

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def compiles(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of each template Jinja compiles from its source (rather than loading it
    compiled from the cache), as it compiles it."""
    names: list[str] = []
    compile_source = Environment.compile

    def counted(self: Environment, source: str, name: str | None = None, *args, **kwargs):  # type: ignore[no-untyped-def]
        names.append(name or "")
        return compile_source(self, source, name, *args, **kwargs)

    monkeypatch.setattr(Environment, "compile", counted)
    return names


def load_every_template(env: Environment) -> None:
    for name in env.list_templates():
        env.get_template(name)


def rendered_404(env: Environment, monkeypatch: pytest.MonkeyPatch) -> bytes:
    """The bundled catalog's 404 page, rendered with `env` (no page kept from before)."""
    monkeypatch.setattr(pages_env, "environment", lambda: env)
    memo.clear_all()
    return bytes(PageRenderer(load_catalog(ROOT / "entries.yaml")).not_found())


def test_a_later_process_loads_the_compiled_templates(
    tmp_path: Path, compiles: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = make_environment(bytecode_cache(str(tmp_path)))
    load_every_template(first)
    everything = sorted(set(compiles))
    assert len(everything) >= 10 and len(list(tmp_path.iterdir())) == len(everything)
    compiles.clear()
    later = make_environment(bytecode_cache(str(tmp_path)))  # as a new process makes it
    load_every_template(later)
    assert compiles == []
    page = rendered_404(later, monkeypatch)
    assert b"<html" in page and page == rendered_404(make_environment(None), monkeypatch)


def test_damaged_cache_files_are_compiled_again(tmp_path: Path, compiles: list[str]) -> None:
    load_every_template(make_environment(bytecode_cache(str(tmp_path))))
    everything = sorted(set(compiles))
    for index, kept in enumerate(sorted(tmp_path.iterdir())):
        text = kept.read_bytes()
        damaged = [
            b"\x00garbage",  # not Jinja's header
            text[: len(text) // 2],  # cut short
            bc_magic + b"\xff\x00 garbage",  # Jinja's header, then no checksum
        ]
        kept.write_bytes(damaged[index % len(damaged)])
    compiles.clear()
    load_every_template(make_environment(bytecode_cache(str(tmp_path))))
    assert sorted(set(compiles)) == everything


def test_a_cache_that_cannot_be_written_only_costs_compiling(
    tmp_path: Path, compiles: list[str]
) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    for _ in range(2):
        load_every_template(make_environment(bytecode_cache(str(not_a_folder))))
    assert len(compiles) == 2 * len(set(compiles))  # every template, both times


@pytest.mark.parametrize("taken_by", ["a file", "another user's folder"])
def test_no_cache_where_the_default_folder_is_not_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, taken_by: str
) -> None:
    # Jinja refuses its own folder for it unless it is a folder of this user's (it makes
    # one it owns private itself): then no cache at all, rather than another's files.
    default = tmp_path / f"_jinja2-cache-{os.getuid()}"
    if taken_by == "a file":
        default.write_text("")
    else:
        if os.getuid() != 0:
            pytest.skip("only root can give a folder to another user")
        default.mkdir(mode=0o700)
        os.chown(default, 65534, 65534)
    monkeypatch.setattr(tempfile, "gettempdir", lambda: str(tmp_path))
    assert bytecode_cache() is None


def kept_templates(temp: Path) -> list[Path]:
    """The compiled templates kept in Jinja's folder in the temporary folder `temp`."""
    return sorted((temp / f"_jinja2-cache-{os.getuid()}").glob("__feeds_*.cache"))


@pytest.fixture
def fresh_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The pages' environment made anew (as in a new process), and an empty temporary
    folder for it; the one of the other tests is back afterwards."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    pages_env.environment.cache_clear()
    memo.clear_all()
    yield temp
    pages_env.environment.cache_clear()
    memo.clear_all()


def test_the_core_alone_writes_no_compiled_template(fresh_environment: Path) -> None:
    assert pages_env.environment().bytecode_cache is None
    assert b"<html" in bytes(PageRenderer(load_catalog(ROOT / "entries.yaml")).not_found())
    assert list(fresh_environment.iterdir()) == []


def test_the_build_command_keeps_the_compiled_templates(
    fresh_environment: Path, tmp_path: Path
) -> None:
    catalog = tmp_path / "entries.yaml"  # its cache folder beside it: a first build
    shutil.copyfile(ROOT / "entries.yaml", catalog)
    result = CliRunner().invoke(main, ["build", str(catalog), "--out", str(tmp_path / "site")])
    assert result.exit_code == 0, result.output
    assert isinstance(pages_env.environment().bytecode_cache, QuietBytecodeCache)
    assert len(kept_templates(fresh_environment)) >= 10


def test_the_web_app_keeps_the_compiled_templates(fresh_environment: Path) -> None:
    create_app(ROOT / "entries.yaml", {"TESTING": True, "RELOAD": False, "WEBSUB": False})
    assert isinstance(pages_env.environment().bytecode_cache, QuietBytecodeCache)
    assert len(kept_templates(fresh_environment)) >= 10


def test_the_builder_process_keeps_the_compiled_templates(tmp_path: Path) -> None:
    temp, published = tmp_path / "tmp", tmp_path / "published"
    temp.mkdir()
    published.mkdir()
    process = supervisor.start(
        ROOT / "entries.yaml",
        published,
        env={**os.environ, "TMPDIR": str(temp), "FEEDS_WEBSUB": "false"},
    )
    try:
        assert supervisor.wait_until_published(process, published)
    finally:
        supervisor.stop(process)
    assert len(kept_templates(temp)) >= 10
