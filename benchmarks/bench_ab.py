"""Cold `feeds build` at two commits, interleaved: did a change make the build faster?

    .venv/bin/python benchmarks/bench_ab.py --base 890ef9e              # 10k, 12 pairs
    .venv/bin/python benchmarks/bench_ab.py --base HEAD~1 --pairs 8 --size 1k

This machine's CPU speed drifts by tens of percent within minutes (a pure-Python loop
took 1.7 to 3.4 s of CPU on the same day), far more than most changes move the build,
so two separate runs of bench_build cannot tell a 10% gain from noise. Here the same
catalog is built cold by the code of `--base` (a git worktree of that commit, made in
a temporary folder) and by the working tree, alternating, `--pairs` times, each run
into a new folder (set aside, as bench_build does, and removed at the end); both use
this checkout's virtualenv, so only the package's code differs. Outputs go to tmpfs
(/dev/shm) unless --workdir names a folder on a disk. Prints each run, then
median and mean wall time, median CPU, and wall/CPU (how well the two processes
overlap) per side, and the ratio of the medians.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from _common import (
    ROOT,
    VENV_BIN,
    BenchError,
    RunResult,
    compile_package,
    machine_summary,
    make_workdir,
    print_table,
    unwind_on_sigterm,
)
from bench_build import probe_file_system, run_once
from gen_catalog import ensure_catalog, parse_size

# `feeds` started with the package of the folder first on sys.path, from a neutral
# working directory (the checkout's own feeds/ must not shadow the base's), by its
# console script's function: `run` (since 6807b4f), else `main`.
_ENTRY = (
    "import sys; from feeds import cli; sys.argv[0] = 'feeds'; "
    "sys.exit(getattr(cli, 'run', cli.main)())"
)


def worktree(base: str, folder: Path) -> Path:
    """A checkout of `base` in `folder` (detached, removed with `remove_worktree`)."""
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", "--force", str(folder), base],
        check=True,
        capture_output=True,
    )
    return folder


def remove_worktree(folder: Path) -> None:
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(folder)],
        check=False,
        capture_output=True,
    )


def build_with(code: Path, catalog: Path, folder: Path) -> RunResult:
    """A cold build of `catalog` into `folder` by the package in `code`."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    argv = [
        str(VENV_BIN / "python"),
        "-c",
        _ENTRY,
        "build",
        str(catalog),
        "--out",
        str(folder / "site"),
        "--cache-dir",
        str(folder / "cache"),
    ]
    return run_once(argv, folder, "feeds build", env=env, cwd=folder.parent)


def check_imports_from(code: Path, cwd: Path) -> None:
    """The interpreter of `build_with` imports the feeds package of `code`, not another."""
    found = subprocess.run(
        [str(VENV_BIN / "python"), "-c", "import feeds; print(feeds.__file__)"],
        env={**os.environ, "PYTHONPATH": str(code)},
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not Path(found).resolve().is_relative_to(code.resolve()):
        raise BenchError(f"the build would import {found}, not the package in {code}")


def summary(name: str, runs: list[RunResult]) -> list[str]:
    walls = [r.wall for r in runs]
    cpus = [r.cpu for r in runs]
    overlap = statistics.median(r.wall / r.cpu for r in runs)
    return [
        name,
        f"{statistics.median(walls):.2f} s",
        f"{statistics.mean(walls):.2f} s",
        f"{min(walls):.2f} s",
        f"{statistics.median(cpus):.2f} s",
        f"{overlap:.3f}",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True, help="the commit to compare against")
    parser.add_argument("--size", default="10k", help="1k, 10k, 100k or an integer")
    parser.add_argument("--pairs", type=int, default=12, help="runs of each side")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="put the outputs in a new folder under DIR (default: tmpfs, /dev/shm)",
    )
    args = parser.parse_args(argv)
    n = parse_size(args.size)
    print(f"# bench_ab: {machine_summary()}")
    try:
        workdir, where = make_workdir("feeds-bench-ab-", args.workdir)
    except BenchError as exc:
        print(f"bench_ab: {exc}", file=sys.stderr)
        return 1
    base_code = workdir / "base-code"
    try:
        worktree(args.base, base_code)
        print(f"# base: {args.base}; work: the working tree ({ROOT})")
        print(f"# {where}; {probe_file_system(workdir)}", flush=True)
        catalog = workdir / "catalog.yaml"
        shutil.copyfile(ensure_catalog(n), catalog)
        sides = {"base": (base_code, []), "work": (ROOT, [])}
        for code, _runs in sides.values():
            compile_package(code)
            check_imports_from(code, workdir)
        for i in range(args.pairs):
            for name, (code, runs) in sides.items():
                result = build_with(code, catalog, workdir / name / "out")
                runs.append(result)
                print(f"  pair {i + 1}: {name}  {result.wall:5.2f} s wall, {result.cpu:5.2f} s CPU")
    except (BenchError, subprocess.CalledProcessError) as exc:
        print(f"\nbench_ab: {exc}", file=sys.stderr)
        return 1
    finally:
        remove_worktree(base_code)
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"\n{n:,} entries, {args.pairs} cold builds per side, alternating.\n")
    rows = [summary(name, runs) for name, (_code, runs) in sides.items()]
    print_table(["side", "median wall", "mean wall", "best", "median CPU", "wall/CPU"], rows)
    base_runs, work_runs = sides["base"][1], sides["work"][1]
    change = statistics.median(r.wall for r in work_runs) / statistics.median(
        r.wall for r in base_runs
    )
    print(f"\nwork/base (median wall): {change:.2f}x")
    return 0


if __name__ == "__main__":
    unwind_on_sigterm()
    sys.exit(main())
