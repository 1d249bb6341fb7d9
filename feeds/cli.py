"""The `feeds` command: check the catalog (and, as they land, build and serve it).

Every command reports problems as `FILE:LINE: field: message` lines on stderr
and exits 1; never a traceback. Add a command with `@main.command()`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import date
from functools import wraps
from pathlib import Path
from typing import NoReturn, ParamSpec, TypeVar

import click

from . import i18n
from .catalog import CatalogErrors, load_catalog
from .model import Catalog

P = ParamSpec("P")
R = TypeVar("R")

EXIT_PROBLEMS = 1
EXIT_INTERNAL = 2

# Any path: what it names (missing, a folder, a FIFO, a device) is for the catalog reader
# to refuse, with the `FILE:0:` line and exit 1 of every other problem of the catalog.
catalog_argument = click.argument(
    "catalog",
    default="entries.yaml",
    type=click.Path(path_type=Path),
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
    loaded = load_catalog(catalog)
    click.echo(summary(loaded))
    note = language_note(loaded)
    if note:
        click.echo(note)
    for line in later_notes(loaded, date.today()):
        click.echo(line)


_LATER_SHOWN = 3


def later_notes(catalog: Catalog, today: date) -> list[str]:
    """A line for each publication dated after `today` (its date where it was written;
    three lines at most, then a count): builds have no clock, so such an entry is
    published by the next build, not on its date; a publisher used to scheduled posts
    should know before readers see it."""
    later = [
        (index, entry.line, entry.published.date())
        for index, entry in enumerate(catalog.entries)
        if entry.published is not None and entry.published.date() > today
    ]
    lines = [
        f"{catalog.source}:{line}: entries[{index}]: published {day.isoformat()} is after "
        "today: builds have no clock, so it is in the feeds and pages from the next build "
        "on (with that date); to hold it back, keep it out of the catalog until then"
        for index, line, day in later[:_LATER_SHOWN]
    ]
    if len(later) > _LATER_SHOWN:
        lines.append(
            f"{catalog.source}: and {len(later) - _LATER_SHOWN} more publications dated after today"
        )
    return lines


def language_note(catalog: Catalog) -> str | None:
    """One line when the pages' words are not in the catalog's language (no translation
    ships for it): a publisher should know before readers see English; not an error."""
    language = catalog.feed.language
    if i18n.shipped_language(language) is not None:
        return None
    dates = (
        f"their dates are {language}'s"
        if i18n.locale_of(language) is not None
        else "and so do their dates (CLDR does not know the language)"
    )
    return (
        f"{catalog.source}: feed.language: no translation of the pages ships for "
        f"{language!r}: their words stay English, {dates} (translations: "
        f"{', '.join(sorted(i18n.SHIPPED))}; docs/translations.md says how to add one)"
    )


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
    help="Where to keep what a rebuild can reuse; its files are sealed with a key of this "
    "user's, and any other file there is never read  [default: the user's cache folder, "
    "~/.cache/feeds/CATALOG-HASH, never beside the catalog].",
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
    docs/export.md describes the folder and how to serve it (with deploy/nginx.conf,
    an object store or a CDN).
    """
    from .publish.build import BuildOptions, build_command
    from .publish.build_cache import default_cache_dir
    from .render.pages_env import keep_compiled_templates

    if no_cache:
        cache_dir = None
    elif cache_dir is None:
        cache_dir = default_cache_dir(catalog)
        if cache_dir is None:
            click.echo("feeds build: no cache: this user has no home folder", err=True)
    options = BuildOptions(cache_dir=cache_dir, jobs=jobs, quiet=quiet)
    keep_compiled_templates()
    raise Finished(build_command(catalog, out, options))  # it joined its child and threads


@main.command()
@catalog_argument
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on (0: any free one, shown in the log).",
)
@click.option(
    "--keep-base-url",
    is_flag=True,
    help="Link to the catalog's feed.base_url instead of this server's address.",
)
@reports_problems
def serve(catalog: Path, host: str, port: int, keep_base_url: bool) -> None:
    """Serve CATALOG for development, reloading it when it changes.

    Pages, feeds and calendars are published with this server's address as base_url,
    so every link, subscribe address and embed snippet works here; ids do not change
    (they come from feed.id_authority). While the catalog has problems the last good
    version stays served and every page shows them in a banner. For production run
    gunicorn (see docs/serving.md).
    """
    from .serve.devserver import run_dev_server

    sys.exit(run_dev_server(catalog, host, port, keep_base_url))


@main.command("schema")
@reports_problems
def schema_command() -> None:
    """Print the catalog's JSON Schema (draft 2020-12) for editors.

    Editors with yaml-language-server (VS Code, Neovim, JetBrains) use it to complete
    keys and flag mistakes while you type: see docs/editors.md. It is generated from
    the tables `feeds check` uses; the package ships a copy,
    feeds/catalog/entries.schema.json (regenerate it with
    `feeds schema > feeds/catalog/entries.schema.json`).
    """
    from .catalog.jsonschema import schema_text

    click.echo(schema_text(), nl=False)


@main.command()
@click.argument("folder", default=".", type=click.Path(path_type=Path), metavar="[FOLDER]")
def new(folder: Path) -> None:
    """Write a starter catalog to edit: FOLDER/entries.yaml (FOLDER: . by default).

    It has a comment on each feed key to set, and examples dated from today: a
    publication, an all-day, a timed, a recurring and a cancelled event. FOLDER is
    made if it does not exist (not its parents); an existing file is never replaced.
    """
    from datetime import date

    from .catalog.starter import NEXT_STEPS, StarterRefused, write_starter

    try:
        written = write_starter(folder, date.today())
    except StarterRefused as refused:
        click.echo(f"feeds new: {refused}", err=True)
        sys.exit(EXIT_PROBLEMS)
    made = f" (made the folder {folder})" if written.made_folder else ""
    click.echo(
        f"Wrote {written.path}{made}: a starter catalog, with entries.schema.json beside it "
        "for editors (docs/editors.md). Next:"
    )
    for step in NEXT_STEPS:
        click.echo("  " + step.format(path=written.path))


@main.command("import")
@click.argument("sources", nargs=-1, required=True, metavar="SOURCE...")
@click.option(
    "-o",
    "--output",
    default="entries.yaml",
    show_default=True,
    type=click.Path(path_type=Path),
    help="The catalog to write; never an existing file.",
)
@reports_problems
def import_command(sources: tuple[str, ...], output: Path) -> None:
    """Make a catalog from another site's feeds and calendars.

    Each SOURCE is a file or an http(s) URL of an Atom, RSS or JSON Feed feed or an
    iCalendar (.ics) file. Items keep the ids their old site published (legacy_id,
    event.uid), so readers and calendars do not see them again; items of several
    sources that describe the same thing are merged. What cannot be carried over is
    reported as SOURCE: item N: ... on stderr. Exits 1, writing nothing, if a source
    cannot be read or nothing could be imported.
    """
    from .importer import ImportFailed, Report, import_catalog, write_new

    if output.exists() or output.is_symlink():
        click.echo(f"{output}: exists; not replaced. Move it away or choose another -o", err=True)
        sys.exit(EXIT_PROBLEMS)
    folder = output.parent
    if not folder.is_dir():  # said before any source is fetched
        click.echo(
            f"{output}: the folder {folder} does not exist; make it or choose another -o",
            err=True,
        )
        sys.exit(EXIT_PROBLEMS)
    try:
        imported = import_catalog(list(sources), Report())
        write_new(output, imported.text)
    except ImportFailed as failed:
        click.echo(str(failed), err=True)
        sys.exit(EXIT_PROBLEMS)
    except FileExistsError:
        click.echo(f"{output}: exists; not replaced. Move it away or choose another -o", err=True)
        sys.exit(EXIT_PROBLEMS)
    except OSError as exc:
        click.echo(f"{output}: cannot write it: {exc.strerror or exc}", err=True)
        sys.exit(EXIT_PROBLEMS)
    click.echo(
        f"Wrote {output}: {imported.entries} {'entry' if imported.entries == 1 else 'entries'}. "
        "Set feed.base_url and check "
        f"feed.id_authority, then run `feeds check {output}`."
    )
