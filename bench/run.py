"""Run the X12 reading benchmarks: ``python -m bench [--quick] [--write-docs]``.

The full run generates (once; cached in ``bench/data/``) an 8 MB file of 2,000
850s and a ~200 MB file of 50,000, then times every contestant of
:mod:`bench.contestants` on them in the same run, interleaved so a noisy
neighbour hurts all of them alike, and reports medians. The 200 MB runs happen
in fresh child interpreters, which also report peak RSS. ``--quick`` uses a
small file and one run, for a smoke check.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.contestants import check
from bench.generate import DATA_DIR, DataSpec, ensure_file
from bench.measure import Sample, Series, measure_child, measure_inline

__all__ = ["CliRun", "Plan", "Report", "main", "run_file"]

_ROOT = Path(__file__).resolve().parent.parent
#: Contestants, in the order they run (and are reported).
ORDER = ("tokeniser", "edigate-envelope", "edigate-full", "pyx12")


@dataclass(frozen=True, slots=True)
class Plan:
    """Which files, and how many runs of each contestant on each."""

    small: DataSpec
    small_runs: int
    big: DataSpec | None
    big_runs: dict[str, int]
    cli_runs: int


FULL = Plan(
    DataSpec("po-2000", 2000),
    5,
    DataSpec("po-50000", 2000, interchanges=25),
    {"tokeniser": 3, "edigate-envelope": 3, "edigate-full": 1, "pyx12": 1},
    3,
)
QUICK = Plan(DataSpec("po-quick", 100), 1, None, {}, 1)
_WARMUP = DataSpec("warmup", 2, lines_per_order=2)


@dataclass(slots=True)
class CliRun:
    command: list[str]
    wall: float  # median seconds, interpreter start-up included
    exit_code: int
    startup: float  # median seconds of `edigate --help`: start-up and imports alone


@dataclass(slots=True)
class Report:
    started: datetime
    command: str
    files: dict[Path, DataSpec] = field(default_factory=dict)
    series: list[Series] = field(default_factory=list)  # the speed comparison
    rss_only: list[Series] = field(default_factory=list)  # fresh-process runs kept for peak RSS only
    quick: bool = False
    skipped: dict[str, str] = field(default_factory=dict)  # contestant -> why
    cli: CliRun | None = None

    def for_file(self, path: Path) -> dict[str, Series]:
        return {s.contestant: s for s in self.series if s.file == path}


def run_file(
    path: Path,
    spec: DataSpec,
    runs: dict[str, int],
    measure: Callable[[str, Path], Sample] = measure_inline,
    progress: Callable[[str], None] = lambda _: None,
) -> list[Series]:
    """Interleaved runs: round r runs every contestant that still needs an r-th run."""
    series = {name: Series(name, path, []) for name in ORDER if runs.get(name)}
    for r in range(max(runs.values(), default=0)):
        for name, s in series.items():
            if r < runs[name]:
                sample = measure(name, path)
                check(name, sample.outcome, spec.orders)
                s.samples.append(sample)
                progress(f"  {path.name} {name} run {r + 1}: {sample.wall:.3f}s")
    return list(series.values())


def _cli(path: Path, runs: int) -> CliRun | None:
    script = Path(sys.executable).parent / "edigate"
    if not script.exists() or not (_ROOT / "gateway" / "cli" / "x12.py").exists():
        return None
    command = [str(script), "x12", "inspect", "--envelope-only", str(path)]
    walls: list[float] = []
    startups: list[float] = []
    code = 0
    for _ in range(runs):
        t0 = time.perf_counter()
        code = subprocess.run(command, stdout=subprocess.DEVNULL, check=False).returncode
        walls.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        subprocess.run([str(script), "--help"], stdout=subprocess.DEVNULL, check=True)
        startups.append(time.perf_counter() - t0)
    shown = [".venv/bin/edigate", *command[1:-1], os.path.relpath(path, _ROOT)]
    return CliRun(shown, statistics.median(walls), code, statistics.median(startups))


def run(plan: Plan, command: str, progress: Callable[[str], None]) -> Report:
    report = Report(datetime.now(UTC), command, quick=plan is QUICK)
    contestants = list(ORDER)
    progress("generating data (cached in bench/data/)")
    small = ensure_file(plan.small)
    warmup = ensure_file(_WARMUP)
    for name in contestants:  # imports and schema loading happen here, not in the timed runs
        measure_inline(name, warmup)
    report.files[small] = plan.small
    runs = dict.fromkeys(contestants, plan.small_runs)
    report.series += run_file(small, plan.small, runs, measure_inline, progress)
    def in_child(name: str, path: Path) -> Sample:
        return measure_child(name, path, warmup)

    if plan.big is not None:
        big = ensure_file(plan.big)
        report.files[big] = plan.big
        big_runs = {k: v for k, v in plan.big_runs.items() if k in contestants}
        report.series += run_file(big, plan.big, big_runs, in_child, progress)
    else:  # still exercise the fresh-process path and report a peak RSS
        report.rss_only += run_file(small, plan.small, {"edigate-envelope": 1}, in_child, progress)
    report.cli = _cli(small, plan.cli_runs)
    return report


def machine() -> dict[str, str]:
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next((ln.split(":", 1)[1].strip() for ln in info if ln.startswith("model name")), cpu)
    except OSError:
        pass
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    commit = subprocess.run(
        ["git", "describe", "--always", "--dirty"], capture_output=True, text=True, cwd=_ROOT, check=False
    ).stdout.strip()
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load average at start": load,
        "edigate commit": commit or "unknown",
    }


def main(argv: Sequence[str] | None = None) -> int:
    from bench.report import render_text, write_docs

    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small file, one run (a smoke check)")
    parser.add_argument("--write-docs", action="store_true", help="record the results in docs/benchmarks.md")
    args = parser.parse_args(argv)
    if args.quick and args.write_docs:
        parser.error("--write-docs records full runs only")
    command = " ".join(["scripts/bench", *(argv if argv is not None else sys.argv[1:])])
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    info = machine()
    report = run(QUICK if args.quick else FULL, command, lambda msg: print(msg, file=sys.stderr, flush=True))
    print(render_text(report, info))
    if args.write_docs:
        path = write_docs(report, info)
        print(f"updated {os.path.relpath(path, _ROOT)}")
    return 0
