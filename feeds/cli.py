"""The `feeds` command: check the catalog (and, as they land, build and serve it).

Every command reports problems as `FILE:LINE: field: message` lines on stderr
and exits 1; never a traceback. Add a command with `@main.command()`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import NoReturn, ParamSpec, TypeVar

import click

from .catalog import CatalogErrors, load_catalog
from .model import Catalog

P = ParamSpec("P")
R = TypeVar("R")

EXIT_PROBLEMS = 1
EXIT_INTERNAL = 2

catalog_argument = click.argument(
    "catalog",
    default="entries.yaml",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="[CATALOG]",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="feeds")
def main() -> None:
    """Publish one YAML catalog (entries.yaml) as feeds, calendars, pages and a widget.

    Run `feeds COMMAND --help` for what each command does.
    """


class Finished(SystemExit):
    """Raised instead of SystemExit by a command whose work is all done and waited for
    (every process, thread and file it started) and that holds much memory: `run` then
    exits without tearing the interpreter down. That teardown frees every object one by
    one: after a build of 10k entries it took 0.2-0.45 s, 4-8% of the build
    (benchmarks/RESULTS.md, fifth round). Any other caller (click's CliRunner, a script
    calling `main`) sees a plain SystemExit."""


def run() -> NoReturn:
    """The `feeds` console script: `main`, and for a `Finished` command a quick exit."""
    try:
        main()
    except Finished as finished:
        exit_now(finished.code if isinstance(finished.code, int) else EXIT_INTERNAL)
    raise AssertionError("click's standalone mode always exits")  # pragma: no cover


def exit_now(status: int) -> NoReturn:
    """Flush stdout and stderr and end the process (what the interpreter's exit would do
    for a command that left no thread, child or atexit work behind), skipping the rest.
    A failed flush (a closed pipe) gives 120, the interpreter's own status for it."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            status = status or 120
    os._exit(status)


def reports_problems(command: Callable[P, R]) -> Callable[P, R]:
    """Turn catalog problems into stderr lines + exit 1, and any surprise into exit 2.

    The last resort keeps the promise that an editor never sees a traceback; the
    one-line message still names the exception so a bug report can be written.
    """

    @wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except CatalogErrors as problems:
            for error in problems.errors:
                click.echo(str(error), err=True)
            sys.exit(EXIT_PROBLEMS)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except Exception as exc:  # noqa: BLE001 - the CLI boundary: no traceback for users
            click.echo(f"feeds: internal error: {type(exc).__name__}: {exc}", err=True)
            sys.exit(EXIT_INTERNAL)

    return wrapper


def summary(catalog: Catalog) -> str:
    """`entries.yaml: 10 entries, 9 publications, 4 events, 2 tags`."""
    counts = [
        (len(catalog.entries), "entry", "entries"),
        (len(catalog.publications), "publication", "publications"),
        (len(catalog.events), "event", "events"),
        (len(catalog.tags), "tag", "tags"),
    ]
    words = ", ".join(f"{n} {one if n == 1 else many}" for n, one, many in counts)
    return f"{catalog.source}: {words}"


@main.command()
@catalog_argument
@reports_problems
def check(catalog: Path) -> None:
    """Check CATALOG (default: ./entries.yaml) and report every problem.

    On success prints one summary line and exits 0. Otherwise prints each
    problem as FILE:LINE: field: message on stderr and exits 1; nothing is
    published from a catalog with problems.
    """
    click.echo(summary(load_catalog(catalog)))


@main.command()
@catalog_argument
@click.option(
    "--out",
    default="site",
    show_default=True,
    type=click.Path(path_type=Path),
    help="Folder to publish into (made a symlink that each build flips atomically).",
)
@click.option("--quiet", "-q", is_flag=True, help="Print nothing on success.")
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to keep what a rebuild can reuse  [default: .feeds-cache next to CATALOG].",
)
@click.option("--no-cache", is_flag=True, help="Build from scratch and keep no cache.")
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(1, 2),
    help="Processes: 1, or 2 (sharing the pages, feeds and calendars)  [default: 2 for "
    "catalogs of 100+ entries on 2+ cores].",
)
@reports_problems
def build(
    catalog: Path, out: Path, quiet: bool, cache_dir: Path | None, no_cache: bool, jobs: int | None
) -> None:
    """Build CATALOG into static files (+ .gz) for nginx, an object store or a CDN.

    A catalog with problems is reported as by `check`, and OUT is left untouched.
    A rebuild reuses the cache (rendered pages and entries, gzip bodies, the last
    export's file list: only what changed is rendered, unchanged files are hard-linked
    from the live export). Deleting the cache folder is always safe.
    See feeds/export.py for the folder layout and deploy/nginx.conf to serve it.
    """
    from .build import BuildOptions, build_command, default_cache_dir
    from .render.pages_env import keep_compiled_templates

    if no_cache:
        cache_dir = None
    elif cache_dir is None:
        cache_dir = default_cache_dir(catalog)
    options = BuildOptions(cache_dir=cache_dir, jobs=jobs, quiet=quiet)
    keep_compiled_templates()
    raise Finished(build_command(catalog, out, options))  # it joined its child and threads


@main.command()
@catalog_argument
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@reports_problems
def serve(catalog: Path, host: str, port: int) -> None:
    """Serve CATALOG for development, reloading it when it changes.

    While the catalog has problems the last good version stays served and every page
    shows them in a banner. For production run gunicorn (see README, "Serving").
    """
    from .web import run_dev_server

    sys.exit(run_dev_server(catalog, host, port))
