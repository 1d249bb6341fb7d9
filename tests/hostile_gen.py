"""The hostile catalogs too big to commit, made at test time, and a runner that measures
`feeds check` on any catalog in a subprocess under a memory limit.

    python tests/hostile_gen.py            # every case of tests/hostile/ + these: a table
    python tests/hostile_gen.py --write DIR  # write the generated catalogs into DIR

The committed corpus is indexed by `tests/hostile/cases.toml`; the generated cases are
the `GENERATED` table below (name -> what it is, the first problem expected, the maker).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from test_catalog_errors import BASE

HOSTILE = Path(__file__).resolve().parent / "hostile"
#: Address space a check may use: far above a real catalog's needs (the 10k-entry
#: benchmark catalog checks in ~100 MiB), far below what would hurt a server.
MEMORY_LIMIT = 1 << 30
#: A hang guard, not a timing assertion: the slowest committed case takes about a second.
TIMEOUT_SECONDS = 20.0
#: The same for the generated 60 MB cases (the slowest takes ~20 s to hit MEMORY_LIMIT).
BIG_TIMEOUT_SECONDS = 90.0

#: BASE, from the rule table of test_catalog_errors.py, is the valid catalog every case
#: starts from (17 lines; line numbers in cases.toml refer to it); FEED is its feed block.
FEED = BASE[: BASE.index("entries:")]
ENTRY = "  - id: e{n}\n    title: Entry {n}\n    published: 2019-03-14\n"


def _last_one_bad(count: int, summary: str = "") -> bytes:
    entry = ENTRY + (f"    summary: {summary}\n" if summary else "")
    entries = "".join(entry.format(n=n) for n in range(count - 1))
    return (FEED + "entries:\n" + entries + "  - id: Bad Id\n    title: x\n").encode()


@dataclass(frozen=True)
class Generated:
    what: str
    first: str  # the first problem, after "FILE:" (a prefix of it)
    make: Callable[[], bytes]


GENERATED: dict[str, Generated] = {
    "summary-10mb": Generated(
        "a 10 MB summary",
        "11: entries[0].summary: is too long (10,000,000 characters; at most 100,000)",
        lambda: BASE.replace("Some *Markdown*.", "x" * 10_000_000).encode(),
    ),
    "title-10mb-quoted": Generated(
        "a 10 MB double-quoted title full of escapes",
        "9: entries[0].title: is too long (10,000,000 characters; at most 1,000)",
        lambda: BASE.replace("First entry", '"' + "\\u00e9" * 10_000_000 + '"').encode(),
    ),
    "key-10mb": Generated(
        "a 10 MB key (an explicit ? key: a plain one stops at 1,024 characters)",
        "9: entries[0].'" + "k" * 60 + "...': unknown key",
        lambda: BASE.replace(
            "    title: First", "    ? " + "k" * 10_000_000 + "\n    : 1\n    title: First"
        ).encode(),
    ),
    "line-60mb": Generated(
        "one 60 MB line (a title)",
        "9: entries[0].title: is too long (60,000,000 characters; at most 1,000)",
        lambda: BASE.replace("First entry", "x" * 60_000_000).encode(),
    ),
    "entries-60mb-one-bad": Generated(
        "60 MB: 650 entries with 92 KB summaries, a bad id in the last",
        "entries[649].id: 'Bad Id' is not a valid id",
        lambda: _last_one_bad(650, summary="word " * 18_400),
    ),
    "entries-100k-one-bad": Generated(
        "100,000 valid entries and a bad id in the last",
        "300005: entries[99999].id: 'Bad Id' is not a valid id",
        lambda: _last_one_bad(100_000),
    ),
    "entries-20k-one-bad": Generated(
        "20,000 valid entries and a bad id in the last",
        "60005: entries[19999].id: 'Bad Id' is not a valid id",
        lambda: _last_one_bad(20_000),
    ),
    "bad-entries-60mb": Generated(
        "60 MB: ten million entries that are not mappings",
        "8: entries[0]: must be a mapping of keys",
        lambda: (FEED + "entries:\n" + "  - x\n" * 10_000_000).encode(),
    ),
    "bad-entries-60mb-feed-last": Generated(
        "60 MB: ten million scalars in entries:, feed: at the end (read as a whole)",
        "0: there is not enough memory to check this file",
        lambda: ("entries:\n" + "  - x\n" * 10_000_000 + FEED).encode(),
    ),
    "unknown-keys-3m": Generated(
        "three million unknown keys in feed:",
        "2: this mapping has more than 10,000 keys",
        lambda: FEED.replace(
            "feed:\n", "feed:\n" + "".join(f"  k{i}: 1\n" for i in range(3_000_000))
        ).encode(),
    ),
    "aliases-5m": Generated(
        "five million aliases of one anchored entry",
        "8: anchors are not allowed (&a)",
        lambda: (FEED + "entries:\n  - &a {id: a, title: b}\n" + "  - *a\n" * 5_000_000).encode(),
    ),
    "brackets-40m": Generated(
        "twenty million nested flow lists",
        "7: YAML syntax error: exceeded maximum nesting depth",
        lambda: (FEED + "entries: " + "[" * 20_000_000 + "]" * 20_000_000 + "\n").encode(),
    ),
    "nul-60mb": Generated(
        "60 MB of NUL bytes",
        "1: contains the character U+0000 (column 1)",
        lambda: b"\x00" * 60_000_000,
    ),
    "documents-10m": Generated(
        "ten million '---' document starts",
        "18: a second YAML document starts here",
        lambda: (BASE + "---\n" * 10_000_000).encode(),
    ),
}


def write_generated(directory: Path, name: str) -> Path:
    path = directory / f"{name}.yaml"
    path.write_bytes(GENERATED[name].make())
    return path


def over_the_size_limit(directory: Path) -> Path:
    """65 MiB that take no disk space: refused before being read."""
    path = directory / "over-64mib.yaml"
    with path.open("wb") as sparse:
        sparse.truncate(65 * 1024 * 1024)
    return path


# --- running `feeds check` in a subprocess ---------------------------------------------------

# The peak is VmHWM, this program's own (kB): ru_maxrss also counts the image of the
# process it was forked from before the exec (a pytest worker of 200 MiB and more).
_MEASURED = """\
import atexit, os, resource, sys
def _report():
    try:
        with open("/proc/self/status") as status:
            peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        peak = str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    with open(os.environ["HOSTILE_RUSAGE"], "w") as out:
        out.write(peak)
atexit.register(_report)
from feeds.cli import main
main(sys.argv[1:], prog_name="feeds")
"""


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    max_rss_mib: float


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_feeds(arguments: list[str], rusage_file: Path, timeout: float = TIMEOUT_SECONDS) -> Run:
    """`feeds ARGUMENTS` in a fresh interpreter limited to MEMORY_LIMIT of address space.

    Raises subprocess.TimeoutExpired after `timeout` seconds (a hang).
    """
    env = dict(os.environ, HOSTILE_RUSAGE=str(rusage_file))
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _MEASURED, *arguments],
        capture_output=True,
        timeout=timeout,
        preexec_fn=_limit_memory,
        env=env,
        check=False,
    )
    seconds = time.perf_counter() - started
    kib = int(rusage_file.read_text()) if rusage_file.exists() else 0
    return Run(
        done.returncode,
        done.stdout.decode("utf-8", "replace"),
        done.stderr.decode("utf-8", "replace"),
        seconds,
        kib / 1024,
    )


def corpus() -> list[dict[str, str]]:
    """The committed cases: file, what, first."""
    with (HOSTILE / "cases.toml").open("rb") as index:
        cases: list[dict[str, str]] = tomllib.load(index)["case"]
    return cases


def _measure_all(directory: Path) -> None:
    rows: list[tuple[str, Run]] = []
    paths = [(case["file"], HOSTILE / case["file"]) for case in corpus()]
    for name, path in paths:
        rows.append((name, run_feeds(["check", str(path)], directory / "rusage")))
    for name in [*GENERATED, "over-64mib"]:
        path = (
            over_the_size_limit(directory)
            if name == "over-64mib"
            else write_generated(directory, name)
        )
        rows.append(
            (name, run_feeds(["check", str(path)], directory / "rusage", BIG_TIMEOUT_SECONDS))
        )
        path.unlink()
    print(f"{'case':<48} {'exit':>4} {'seconds':>8} {'max RSS MiB':>12}")
    for name, run in rows:
        print(f"{name:<48} {run.returncode:>4} {run.seconds:>8.2f} {run.max_rss_mib:>12.1f}")
    slowest = max(rows, key=lambda row: row[1].seconds)
    largest = max(rows, key=lambda row: row[1].max_rss_mib)
    exits = sorted({run.returncode for _, run in rows})
    print(
        f"{len(rows)} cases, exit codes {exits}; slowest {slowest[0]} {slowest[1].seconds:.2f} s;"
        f" most memory {largest[0]} {largest[1].max_rss_mib:.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", type=Path, help="write the generated catalogs here")
    options = parser.parse_args()
    if options.write:
        options.write.mkdir(parents=True, exist_ok=True)
        for name in GENERATED:
            print(write_generated(options.write, name))
        return
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        _measure_all(Path(scratch))


if __name__ == "__main__":
    main()
