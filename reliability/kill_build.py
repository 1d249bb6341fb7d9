"""`feeds build` killed with SIGKILL mid-way, again and again: the export stays whole.

    .venv/bin/python reliability/kill_build.py                    # 10k entries, 6 kills
    .venv/bin/python reliability/kill_build.py --entries 1000 --tries 4 --json out.json

Two catalogs A and B (a generated catalog, and the same with another feed title, so
every output differs) are built once each in full; those trees are the references.
Then each try starts a build of the other catalog and kills it (SIGKILL: no cleanup
code runs) at a random moment: half the tries while it renders (before any file is
written), half while it writes (after its staging folder appears). After each kill:
- `out` is still a symlink to a complete tree, and that tree is byte for byte the
  previous export (or, if the kill came after the flip, the new one: never a mix);
- the next build completes and removes what the killed ones left.

Exit status 0 when every property held, 1 otherwise; figures on stdout (and as JSON).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FEEDS = ROOT / ".venv" / "bin" / "feeds"
GEN_CATALOG = ROOT / "benchmarks" / "gen_catalog.py"
POLL = 0.005  # seconds between two looks for the staging folder
HANG_GUARD = 900.0  # seconds: one build of 10k entries takes about a minute


@dataclass(frozen=True)
class Tree:
    """An export as seen through `out`: where it points and every file's digest."""

    target: str
    files: dict[str, str]


@dataclass
class Try:
    catalog: str  # "A" or "B": what the killed build was building
    phase: str  # "render" (no file written yet) or "write" (staging folder present)
    delay: float  # seconds after the start (render) or after staging appeared (write)
    outcome: str  # "previous kept", "new complete" or what went wrong
    leftovers: int  # hidden folders the kill left behind


@dataclass
class Report:
    entries: int
    files: int
    build_seconds: list[float] = field(default_factory=list)
    write_seconds: float = 0.0  # of the second full build: the window a kill can hit
    tries: list[Try] = field(default_factory=list)
    final_build_ok: bool = False
    leftovers_after_final: int = -1
    ok: bool = False


def snapshot(out: Path) -> Tree:
    target = os.readlink(out)
    root = out.parent / target
    files = {}
    for directory, _, names in os.walk(root):
        for name in names:
            path = Path(directory) / name
            files[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return Tree(target, files)


def hidden_leftovers(out: Path) -> list[str]:
    """Staging folders and link files a killed build left (not the live or previous tree)."""
    prefix = f".{out.name}."
    return sorted(
        entry.name
        for entry in out.parent.iterdir()
        if entry.name.startswith(prefix) and (".build-" in entry.name or ".link-" in entry.name)
    )


def staging_appeared(out: Path, before: set[str]) -> bool:
    return any(name not in before for name in hidden_leftovers(out))


def build(catalog: Path, out: Path) -> tuple[float, float]:
    """A full build; returns its wall time and how long it wrote (staging seen to exit)."""
    before = set(hidden_leftovers(out))
    started = time.monotonic()
    writing_from: float | None = None
    process = subprocess.Popen([str(FEEDS), "build", str(catalog), "--out", str(out), "-q"])
    while process.poll() is None:
        if time.monotonic() - started > HANG_GUARD:
            process.kill()
            raise RuntimeError(f"feeds build {catalog} did not finish")
        if writing_from is None and staging_appeared(out, before):
            writing_from = time.monotonic()
        time.sleep(POLL)
    if process.returncode != 0:
        raise RuntimeError(f"feeds build {catalog} failed with {process.returncode}")
    ended = time.monotonic()
    return ended - started, ended - (writing_from or ended)


def killed_build(catalog: Path, out: Path, phase: str, delay: float) -> None:
    """Start a build, SIGKILL it `delay` s after the start ("render") or after its
    staging folder appeared ("write"); a build that finishes first is left finished."""
    before = set(hidden_leftovers(out))
    process = subprocess.Popen(
        [str(FEEDS), "build", str(catalog), "--out", str(out), "-q"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        started = time.monotonic()
        while phase == "write" and not staging_appeared(out, before):
            if process.poll() is not None or time.monotonic() - started > HANG_GUARD:
                return
            time.sleep(POLL)
        deadline = time.monotonic() + delay
        while time.monotonic() < deadline and process.poll() is None:
            time.sleep(POLL)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait()


def make_catalogs(entries: int, workdir: Path) -> tuple[Path, Path]:
    a = workdir / "a.yaml"
    subprocess.run([sys.executable, str(GEN_CATALOG), str(entries), "-o", str(a)], check=True)
    text = a.read_text()
    b = workdir / "b.yaml"
    b.write_text(text.replace("\n  title: ", "\n  title: Killed builds - ", 1))
    return a, b


def run(entries: int, tries: int, seed: int, workdir: Path) -> Report:
    rng = random.Random(seed)
    a, b = make_catalogs(entries, workdir)
    out = workdir / "export" / "site"
    out.parent.mkdir()
    report = Report(entries=entries, files=0)
    report.build_seconds.append(build(a, out)[0])
    reference = {"A": snapshot(out).files}
    seconds, report.write_seconds = build(b, out)
    report.build_seconds.append(seconds)
    reference["B"] = snapshot(out).files
    report.files = len(reference["B"])
    render_window = seconds - report.write_seconds  # the rest: parse, render, gzip
    current = "B"
    for number in range(tries):
        building = "A" if current == "B" else "B"
        phase = "render" if number % 2 == 0 else "write"
        window = render_window if phase == "render" else report.write_seconds * 0.6
        delay = rng.uniform(0.0, window)
        before = snapshot(out)
        killed_build(a if building == "A" else b, out, phase, delay)
        after = snapshot(out)
        if after.target == before.target and after.files == reference[current]:
            outcome = "previous kept"
        elif after.files == reference[building]:
            outcome, current = "new complete", building
        else:
            outcome = "BROKEN: neither the previous nor the new export"
        leftovers = len(hidden_leftovers(out))
        report.tries.append(Try(building, phase, round(delay, 3), outcome, leftovers))
        print(f"try {number + 1}: kill while {phase} after {delay:.2f} s: {outcome}, "
              f"{leftovers} leftover(s)", flush=True)  # fmt: skip
    final = "A" if current == "B" else "B"
    report.build_seconds.append(build(a if final == "A" else b, out)[0])
    report.final_build_ok = snapshot(out).files == reference[final]
    report.leftovers_after_final = len(hidden_leftovers(out))
    report.ok = (
        all(t.outcome in ("previous kept", "new complete") for t in report.tries)
        and report.final_build_ok
        and report.leftovers_after_final == 0
    )
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=10_000, help="catalog size (10000)")
    parser.add_argument("--tries", type=int, default=6, help="builds to kill (6)")
    parser.add_argument("--seed", type=int, default=8, help="for the kill moments (8)")
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="feeds-kill-build-") as workdir:
        report = run(args.entries, args.tries, args.seed, Path(workdir))
        print_report(report)  # before removing hundreds of MB of exports
    if args.json:
        args.json.write_text(json.dumps(asdict(report), indent=2) + "\n")
    return 0 if report.ok else 1


def print_report(report: Report) -> None:
    kept = sum(t.outcome == "previous kept" for t in report.tries)
    flipped = sum(t.outcome == "new complete" for t in report.tries)
    print(
        f"{report.entries} entries, {report.files} files per export; full builds "
        f"{', '.join(f'{s:.1f}' for s in report.build_seconds)} s "
        f"(writing: {report.write_seconds:.1f} s)\n"
        f"{len(report.tries)} builds killed: {kept} left the previous export intact, "
        f"{flipped} had already flipped to a complete new one, "
        f"{len(report.tries) - kept - flipped} broken\n"
        f"next build: {'complete' if report.final_build_ok else 'WRONG'}, "
        f"{report.leftovers_after_final} leftover(s) after it\n"
        f"{'OK' if report.ok else 'FAILED'}",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
