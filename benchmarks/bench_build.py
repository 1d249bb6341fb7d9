"""Build time: `feeds build` against Hugo building the same site from one file per entry.

    .venv/bin/python benchmarks/bench_build.py                 # 1k, 10k, 100k; 3 runs each
    .venv/bin/python benchmarks/bench_build.py --sizes 10k --repeat 5

For each size the generated catalog (benchmarks/data/, cached) is built by
`feeds build CATALOG --out DIR` (everything the Site holds, with .gz variants) and by
Hugo with benchmarks/peers/hugo/ on content written by benchmarks/peers/hugo_content.py
before timing (one content file per entry; entry pages, a .ics per event, home, tag
pages with their feeds and calendars, archives, site-wide feeds and calendar, the
events, subscribe and embed pages: see README.md for what differs). Runs interleaved,
each into a fresh output folder: cold builds, ours with an empty reuse cache of its own
(`--cache-dir` beside the output); `--warm` keeps our folder and cache between runs
instead (runs after the first rebuild an unchanged catalog), and `--edit` (with --warm)
retitles one publication before each run after the first, a different one each time,
as an editor's save does: in the catalog for ours, in that entry's content file for
Hugo (which has no incremental `hugo` build: each of its runs is a full one). With
--warm the medians are over the rebuilds (runs 2+); run 1, cold, is printed apart.
Outputs go to tmpfs (/dev/shm) unless --workdir names a folder on a disk. Prints median
wall time, CPU time, peak RSS and the ratio ours/Hugo.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from _common import (
    BenchError,
    RunResult,
    build_argv,
    compile_package,
    file_system_type,
    machine_summary,
    make_workdir,
    median,
    print_table,
    run_measured,
    tool_version,
    unwind_on_sigterm,
)
from gen_catalog import ensure_catalog, parse_size
from peers.hugo_content import content_path, write_site

HUGO = shutil.which("hugo") or "/usr/bin/hugo"


@dataclass
class Runs:
    results: list[RunResult] = field(default_factory=list)

    @property
    def median_wall(self) -> float:
        return median([r.wall for r in self.results])

    @property
    def median_cpu(self) -> float:
        return median([r.cpu for r in self.results])

    @property
    def peak_rss_mb(self) -> float:
        return max(r.max_rss_kb for r in self.results) / 1024


def hugo_site(workdir: Path, catalog: Path) -> Path:
    """The Hugo peer's site for `catalog`: one content file per entry (setup, not timed)."""
    site = workdir / "hugo-site"
    started = time.perf_counter()
    count = write_site(catalog, site)
    took = time.perf_counter() - started
    print(f"hugo: {count:,} content files written to {site} in {took:.1f} s (not timed)")
    return site


def hugo_argv(site: Path, out: Path, cache: Path) -> list[str]:
    return [
        HUGO,
        "--quiet",
        "--noBuildLock",
        "--source",
        str(site),
        "--destination",
        str(out),
        "--cacheDir",
        str(cache),
    ]


def run_once(
    argv: list[str],
    folder: Path,
    what: str,
    keep: bool = False,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    remove: bool = False,
) -> RunResult:
    """Run a build whose output goes under `folder`, a new one unless `keep`.

    `folder` is what the tool writes into as a whole: for ours the parent of `--out`
    (which is a symlink beside the export trees it points to, and an earlier tree there
    lets the build reuse unchanged files), for Hugo its destination folder. An earlier
    run's folder is set aside (see `set_aside`), or removed at once with `remove` (on
    tmpfs, where removing files costs the next run nothing and keeping them costs RAM).
    """
    if not keep:
        if remove:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            set_aside(folder)
    folder.mkdir(parents=True, exist_ok=True)
    # Untimed: flush what earlier runs left to the disk (their files, the removal just
    # done). Otherwise the next run pays for it: at 10k our build's syncfs(2) (it makes
    # the new export durable before the flip) was measured taking 6 to 15 s of wall
    # time for the same work, growing with each run, as the ~30,000 files each earlier
    # run wrote and removed were written back and discarded on this ext4 (`discard`).
    os.sync()
    result = run_measured(argv, cwd=cwd, env=env)
    if result.returncode != 0:
        raise BenchError(f"{what} failed ({result.returncode}):\n{result.output[-3000:]}")
    return result


PROBE_FOLDERS = 2000


def probe_file_system(workdir: Path) -> str:
    """How fast the disk under `workdir` creates folders now (kept, not removed: see
    `set_aside`). On a settled disk here: ~20 us each; well above 100 us, the disk is
    still busy with files removed minutes ago, and our figures (30,000 files and 10,000
    folders at 10k) will be worse than the code's (see README.md)."""
    probe = workdir / "probe"
    probe.mkdir()
    started = time.perf_counter()
    for index in range(PROBE_FOLDERS):
        os.mkdir(probe / str(index))
    each = (time.perf_counter() - started) / PROBE_FOLDERS * 1e6
    note = "" if each < 100 else " (slow: the disk has not settled, see benchmarks/README.md)"
    return f"file system: {PROBE_FOLDERS} folders created at {each:.0f} us each{note}"


def set_aside(folder: Path) -> None:
    """Move an earlier run's output out of the way, to be removed when the benchmark ends.

    Not removed now: on an ext4 without a journal (this machine's), the kernel will not
    reuse an inode deleted in the last 60 s (360 s while its inode table block is not
    yet written back), and walks past every such inode on each file it creates
    (`recently_deleted` in fs/ext4/ialloc.c). Removing the ~40,000 files and folders of a
    10k export just before the next run made that run's file creation cost 2-9 s of
    system CPU instead of 0.4 s; Hugo, writing two files, never noticed.
    """
    if folder.exists():
        folder.rename(folder.with_name(f"{folder.name}.spent-{secrets.token_hex(4)}"))


def describe_output(out: Path) -> str:
    """Files and bytes under `out` (following ours' symlink), .gz counted apart."""
    files = gz = size = gz_size = 0
    for folder, _, names in os.walk(out, followlinks=True):
        for name in names:
            length = os.path.getsize(os.path.join(folder, name))
            if name.endswith(".gz"):
                gz, gz_size = gz + 1, gz_size + length
            else:
                files, size = files + 1, size + length
    return f"{files:,} files, {size / 2**20:.1f} MiB" + (
        f" (+ {gz:,} .gz, {gz_size / 2**20:.1f} MiB)" if gz else " (no .gz)"
    )


def print_run(i: int, name: str, result: RunResult) -> None:
    """One line per run; for ours, the build's own summary line (files, bytes) too."""
    said = result.output.strip().splitlines()
    note = f"  {said[-1]}" if said and name == "feeds build" else ""
    megabytes = result.max_rss_kb / 1024
    print(
        f"  run {i + 1}: {name:<11} {result.wall:6.2f} s wall, {result.cpu:6.2f} s CPU, "
        f"{megabytes:5.0f} MB{note}",
        flush=True,
    )


_TITLE = re.compile(rb'^(    title: ".*?)(?: \[edit \d+\])?"$', re.MULTILINE)
_ID = re.compile(rb"^  - id: (\S+)$", re.MULTILINE)
_HUGO_TITLE = re.compile(rb"^title: .*$", re.MULTILINE)


def edit_one_title(catalog: Path, edit: int) -> tuple[str, bytes]:
    """Retitle the `edit`-th entry (an editor's save: write a copy, rename it over).

    Returns the entry's id and its new title as written (a double-quoted scalar).
    """
    data = catalog.read_bytes()
    matches = list(_TITLE.finditer(data))
    if not matches:
        raise BenchError(f"no double-quoted title to edit in {catalog}")
    match = matches[(edit * 7919) % len(matches)]  # spread over the file, one per run
    title = match.group(1) + f' [edit {edit}]"'.encode()
    ids = list(_ID.finditer(data, 0, match.start()))
    if not ids:
        raise BenchError(f"no `- id:` line before the title at {match.start()} in {catalog}")
    data = data[: match.start()] + title + data[match.end() :]
    save_atomically(catalog, data)
    return ids[-1].group(1).decode(), title.split(b"title: ", 1)[1]


def edit_hugo_title(site: Path, entry_id: str, quoted: bytes) -> None:
    """The same edit in the Hugo peer: that entry's content file gets the new title."""
    path = content_path(site, entry_id)
    data, count = _HUGO_TITLE.subn(lambda _: b"title: " + quoted, path.read_bytes(), 1)
    if count != 1:
        raise BenchError(f"no title line in {path}")
    save_atomically(path, data)


def save_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    temporary.replace(path)


def bench_size(
    n: int,
    repeat: int,
    only: str,
    workdir: Path,
    warm: bool = False,
    edit: bool = False,
    remove: bool = False,
) -> tuple[Runs | None, Runs | None]:
    """Interleaved runs of both tools on the n-entry catalog, each into a fresh folder.

    With `warm`, our runs after the first rebuild into the same folder (an unchanged
    catalog: what a rebuild after an edit can reuse at best); with `edit` too, each run
    after the first builds a catalog with one more title changed (Hugo: the same entry's
    content file). With `warm`, run 1 (cold) is left out of the medians. `remove`: remove
    each run's output before the next (tmpfs) instead of setting it aside.
    """
    source = ensure_catalog(n)
    catalog = workdir / str(n) / source.name  # a copy: --edit changes it
    catalog.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, catalog)
    print(f"\n## {n:,} entries: {source} ({source.stat().st_size:,} bytes)", flush=True)
    ours = Runs() if only in ("both", "ours") else None
    hugo = Runs() if only in ("both", "hugo") else None
    ours_out = workdir / str(n) / "ours" / "site"
    hugo_out = workdir / str(n) / "hugo-public"
    ours_cmd: list[str] = []
    if ours is not None:
        ours_cmd, how = build_argv(catalog, ours_out)
        print(f"ours: {how}")
    hugo_cmd: list[str] = []
    site = workdir / str(n) / "hugo-site"
    if hugo is not None:
        site = hugo_site(workdir / str(n), catalog)
        hugo_cmd = hugo_argv(site, hugo_out, workdir / "hugo-cache")
        print(f"hugo: {' '.join(hugo_cmd)}")
    for i in range(repeat):
        if edit and i > 0:
            entry_id, title = edit_one_title(catalog, i)  # untimed, as the copy below
            if hugo is not None:
                edit_hugo_title(site, entry_id, title)
        if ours is not None:
            result = run_once(ours_cmd, ours_out.parent, "feeds build", keep=warm, remove=remove)
            if not (warm and i == 0):
                ours.results.append(result)
            print_run(i, "feeds build", result)
        if hugo is not None:
            result = run_once(hugo_cmd, hugo_out, "hugo", remove=remove)
            if not (warm and i == 0):
                hugo.results.append(result)
            print_run(i, "hugo", result)
    if ours is not None:
        print(f"  ours wrote {describe_output(ours_out)}")
    if hugo is not None:
        print(f"  Hugo wrote {describe_output(hugo_out)}")
    return ours, hugo


def cells(runs: Runs | None) -> list[str]:
    """Median wall, median CPU, peak RSS of one tool at one size."""
    if runs is None:
        return ["-", "-", "-"]
    return [f"{runs.median_wall:.2f} s", f"{runs.median_cpu:.2f} s", f"{runs.peak_rss_mb:.0f} MB"]


def ratio(ours: Runs | None, hugo: Runs | None) -> str:
    if ours is None or hugo is None:
        return "-"
    return f"{ours.median_wall / hugo.median_wall:.2f}x"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", default="1k,10k,100k", help="comma-separated: 1k,10k,100k or integers"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per tool and size (median reported)"
    )
    parser.add_argument("--only", choices=("both", "ours", "hugo"), default="both")
    parser.add_argument(
        "--warm",
        action="store_true",
        help="rebuild ours into the same folder (runs after the first reuse the export)",
    )
    parser.add_argument(
        "--edit",
        action="store_true",
        help="with --warm: retitle one entry before each run after the first",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        help="write the outputs under this folder (a disk's file system) instead of tmpfs",
    )
    args = parser.parse_args(argv)
    if args.edit and not args.warm:
        parser.error("--edit needs --warm (a rebuild after an edit)")
    if args.warm and args.repeat < 2:
        parser.error("--warm needs --repeat 2 or more (run 1 is the cold build)")
    sizes = [parse_size(s) for s in args.sizes.split(",")]
    print(f"# bench_build: {machine_summary()}")
    compile_package()
    print(f"# {tool_version([HUGO, 'version'])}")
    rows: list[list[str]] = []
    measured: dict[int, tuple[Runs | None, Runs | None]] = {}
    try:
        workdir, where = make_workdir("feeds-bench-build-", args.workdir)
    except BenchError as exc:
        print(f"bench_build: {exc}", file=sys.stderr)
        return 1
    on_tmpfs = file_system_type(workdir) == "tmpfs"
    print(f"# {where}")
    print(f"# {probe_file_system(workdir)}", flush=True)
    try:
        for n in sizes:
            ours, hugo = bench_size(
                n, args.repeat, args.only, workdir, args.warm, args.edit, remove=on_tmpfs
            )
            measured[n] = (ours, hugo)
            rows.append([f"{n:,}", *cells(ours), *cells(hugo), ratio(ours, hugo)])
    except BenchError as exc:
        print(f"\nbench_build: {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if args.warm:
        what = "after a one-title edit (--edit)" if args.edit else "of an unchanged catalog"
        kind = f"runs 2-{args.repeat}: ours rebuilt into one folder {what}"
    else:
        kind = f"{args.repeat} runs, each into a new folder"
    disk = "tmpfs" if on_tmpfs else f"{file_system_type(args.workdir)} (--workdir)"
    print(f"\nMedian of {kind}, outputs on {disk}; peak RSS: the largest; CPU = user + sys.\n")
    header = ["entries", "ours wall", "ours CPU", "ours RSS", "Hugo wall", "Hugo CPU", "Hugo RSS"]
    print_table([*header, "ours/Hugo (wall)"], rows)
    print_scaling(measured)
    return 0


def print_scaling(measured: dict[int, tuple[Runs | None, Runs | None]]) -> None:
    """10k -> 100k growth of our build time (the target: within 12x for 10x the entries)."""
    if 10_000 in measured and 100_000 in measured:
        for name, index in (("feeds build", 0), ("Hugo", 1)):
            small, large = measured[10_000][index], measured[100_000][index]
            if small and large:
                growth = large.median_wall / small.median_wall
                print(f"{name}: 10k -> 100k = {growth:.1f}x wall time")


if __name__ == "__main__":
    unwind_on_sigterm()
    sys.exit(main())
