"""Timing and peak-memory measurement of one contestant on one file.

Runs are timed in this process (wall clock and CPU time around the call only),
or in a fresh child interpreter (``python -m bench.measure NAME FILE``) when
peak memory matters: the child reports its own ``VmHWM``, so the figure is
that read's high-water mark and nothing the parent allocated before.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.contestants import CONTESTANTS, Outcome

__all__ = ["Sample", "Series", "measure_child", "measure_inline", "peak_rss_kib"]

_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class Sample:
    wall: float  # seconds
    cpu: float  # seconds of CPU used by the read
    outcome: Outcome
    peak_rss_kib: int | None = None  # only for runs in a child process


@dataclass(slots=True)
class Series:
    """Repeated runs of one contestant on one file."""

    contestant: str
    file: Path
    samples: list[Sample]

    @property
    def wall(self) -> float:
        return statistics.median(s.wall for s in self.samples)

    @property
    def cpu(self) -> float:
        return statistics.median(s.cpu for s in self.samples)

    @property
    def peak_rss_kib(self) -> int | None:
        peaks = [s.peak_rss_kib for s in self.samples if s.peak_rss_kib is not None]
        return max(peaks) if peaks else None

    @property
    def outcome(self) -> Outcome:
        return self.samples[-1].outcome


def peak_rss_kib() -> int:
    """This process's peak resident set size (``VmHWM``), in KiB."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def measure_inline(contestant: str, path: Path) -> Sample:
    fn = CONTESTANTS[contestant]
    wall0, cpu0 = time.perf_counter(), time.process_time()
    outcome = fn(path)
    return Sample(time.perf_counter() - wall0, time.process_time() - cpu0, outcome)


def measure_child(contestant: str, path: Path, warmup: Path | None = None) -> Sample:
    """One run in a fresh interpreter: time around the read, and its peak RSS.

    With ``warmup``, the child first reads that (small) file, so imports and
    schema loading stay out of the timed read, as they do for in-process runs.
    """
    paths = [str(_ROOT), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}
    proc = subprocess.run(
        [sys.executable, "-m", "bench.measure", contestant, str(path), *([str(warmup)] if warmup else [])],
        capture_output=True,
        text=True,
        cwd=_ROOT,
        env=env,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{contestant} on {path.name} failed:\n{proc.stderr.strip()}")
    data = json.loads(proc.stdout)
    return Sample(data["wall"], data["cpu"], Outcome(**data["outcome"]), data["peak_rss_kib"])


def _child(argv: list[str]) -> int:
    contestant, path, *warmup = argv
    for small in warmup:
        measure_inline(contestant, Path(small))
    sample = measure_inline(contestant, Path(path))
    out = {
        "wall": sample.wall,
        "cpu": sample.cpu,
        "peak_rss_kib": peak_rss_kib(),
        "outcome": {
            "transactions": sample.outcome.transactions,
            "segments": sample.outcome.segments,
            "problems": sample.outcome.problems,
        },
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1:]))
