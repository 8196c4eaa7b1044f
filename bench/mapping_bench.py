"""Mapping benchmark: X12 850 -> canonical purchase orders on the generated 2,000-PO file, one core.

Reads ``po-2000`` (made or reused by :mod:`bench.generate`: 2,000 VICS 850s x 50 PO1
lines) with :func:`edi.parse`, then times :meth:`Mapper.x12_to_canonical` for every set,
in this one process, for the ``acme-retail`` profile (variant ``x12-850-004010``). Each run
maps a fresh parse (segments arrive unsplit, as in the runtime); headers are built before
the clock starts (the caller builds them in the runtime too). As references, it also times
just parsing the file with edi, so the mapping cost stands apart, and the mapping with the
cycle collector paused, so the collector's share shows. Each document is checked (a
purchase order of 50 lines) and dropped; the last one must survive full pydantic
validation unchanged, so a mapper that skipped work would stop the benchmark.

    python -m bench.mapping_bench [--runs N] [--orders N] [--profile FILE]
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import functools
import gc
import os
import pstats
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.generate import DATA_DIR, DataSpec, ensure_file
from edi import ParseResult, parse
from edi.model import FunctionalGroup, Interchange, TransactionSet
from gateway.collector import tune_collector
from gateway.domain.canonical import (
    CanonicalDocument,
    Direction,
    DocumentHeader,
    DocumentType,
    PurchaseOrder,
    SourceChannel,
    Usage,
)
from gateway.domain.mapping import Mapper
from gateway.domain.profiles import PartnerProfile, load_profiles

__all__ = ["MappingResult", "main", "measure"]

REPO = Path(__file__).resolve().parents[1]
SPEC = DataSpec("po-2000", 2000)
PARTNER = "acme-retail"

Job = tuple[TransactionSet, Interchange, FunctionalGroup, DocumentHeader]


@dataclass(frozen=True, slots=True)
class MappingResult:
    """Median seconds (wall and CPU) of the mapping and of the reference parse, over ``runs``."""

    #: The generated file that was read (``po-2000`` unless a smaller spec was asked for).
    filename: str
    orders: int
    #: Sets in the whole file (the parse reference always reads all of them).
    file_sets: int
    lines: int
    runs: int
    #: The mapping with the collector as the gateway runs it (:func:`gateway.collector.tune_collector`).
    map_wall: float
    map_cpu: float
    #: The mapping with the interpreter's default collector thresholds.
    default_wall: float
    default_cpu: float
    paused_wall: float
    paused_cpu: float
    parse_wall: float
    parse_cpu: float
    map_walls: tuple[float, ...]
    default_walls: tuple[float, ...]
    #: The collector thresholds of each row: the gateway's, and the interpreter's defaults.
    thresholds: tuple[int, int, int]
    default_thresholds: tuple[int, int, int]

    @property
    def orders_per_second(self) -> float:
        return self.orders / self.map_wall

    @property
    def orders_per_cpu_second(self) -> float:
        return self.orders / self.map_cpu


def _timed(fn: Callable[[], object]) -> tuple[float, float, object]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, out


def _jobs(result: ParseResult, limit: int | None) -> list[Job]:
    """Each set of ``result`` with the header the runtime would build for it (not timed)."""
    received = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    jobs: list[Job] = []
    for ix in result.interchanges:
        for group, ts in ix.transactions():
            header = DocumentHeader(
                partner_id=PARTNER, document_type=DocumentType.PURCHASE_ORDER, direction=Direction.INBOUND,
                source_channel=SourceChannel.FILE, usage=Usage.PRODUCTION,
                correlation_id=f"bench-{len(jobs)}", received_at=received, isa13=ix.control_number,
                gs06=group.control_number, st02=ts.control_number, x12_version=group.version or None,
            )  # fmt: skip
            jobs.append((ts, ix, group, header))
            if limit is not None and len(jobs) >= limit:
                return jobs
    return jobs


def _map_all(mapper: Mapper, profile: PartnerProfile, jobs: list[Job], lines: int) -> CanonicalDocument:
    """Map every set, as the runtime does: one document at a time, each checked and dropped.

    Each result must be a purchase order with all its ``lines`` (an ``isinstance`` and a ``len``,
    negligible next to the mapping); the last one is returned for the full check."""
    convert = mapper.x12_to_canonical
    doc: CanonicalDocument | None = None
    for ts, ix, group, header in jobs:
        doc = convert(ts, interchange=ix, group=group, profile=profile, header=header)
        if not isinstance(doc, PurchaseOrder) or len(doc.lines) != lines:
            raise SystemExit(f"set {ts.control_number}: unexpected mapping result {type(doc).__name__}")
    if doc is None:
        raise SystemExit("no transaction set to map")
    return doc


def _check(last: CanonicalDocument, jobs: list[Job]) -> None:
    """The last document must survive full pydantic validation unchanged and be the last PO."""
    again = PurchaseOrder.model_validate(last.model_dump())
    expected = jobs[-1][0].segments[1].elements[2]
    if again != last or not isinstance(last, PurchaseOrder) or last.po_number != expected:
        raise SystemExit("the last purchase order does not survive pydantic validation unchanged")


def _paused(fn: Callable[[], object]) -> Callable[[], object]:
    def run() -> object:
        gc.disable()
        try:
            return fn()
        finally:
            gc.enable()

    return run


#: The rounds of each run: the gateway's collector policy, the interpreter's defaults, collector paused.
_GATEWAY, _DEFAULT, _PAUSED = "gateway", "default", "paused"


def measure(
    runs: int = 5,
    orders: int | None = None,
    profile_out: Path | None = None,
    *,
    spec: DataSpec = SPEC,
    data_dir: Path = DATA_DIR,
) -> MappingResult:
    """``runs`` rounds of: parse the file, map every set of that parse (timed; the segments arrive
    unsplit, as in the runtime) with the gateway's collector policy; the same with the interpreter's
    default thresholds (its parse timed: the reference); and with the cycle collector paused.

    The file is ``spec`` (the 2,000-PO file by default) under ``data_dir``, generated on first use;
    the smoke test measures a few orders this way."""
    path = ensure_file(spec, data_dir)
    lines = spec.lines_per_order
    data = path.read_bytes()
    mapper = Mapper.load(REPO / "mappings")
    partner = load_profiles(REPO / "partners", mappings_dir=REPO / "mappings").get(PARTNER)
    if partner is None:
        raise SystemExit(f"partners/{PARTNER}.yaml is missing")
    warm = _jobs(parse(data), 20)
    _check(_map_all(mapper, partner, warm, lines), warm)
    del warm
    defaults = gc.get_threshold()
    times: dict[str, list[tuple[float, float]]] = {_GATEWAY: [], _DEFAULT: [], _PAUSED: []}
    parses: list[tuple[float, float]] = []
    jobs: list[Job] = []
    policy = defaults
    for _ in range(runs):
        for kind in (_GATEWAY, _DEFAULT, _PAUSED):
            jobs = []  # the previous parse is freed before the next one is timed
            if kind == _GATEWAY:  # as `edigate serve` runs: the policy is in force before anything is read
                policy = tune_collector()
            wall, cpu, result = _timed(lambda: parse(data))
            if kind == _DEFAULT:
                parses.append((wall, cpu))
            jobs = _jobs(result, orders)  # type: ignore[arg-type]
            del result
            work = functools.partial(_map_all, mapper, partner, jobs, lines)
            wall, cpu, last = _timed(_paused(work) if kind == _PAUSED else work)
            gc.set_threshold(*defaults)
            _check(last, jobs)  # type: ignore[arg-type]
            times[kind].append((wall, cpu))
            del last
    if profile_out is not None:
        jobs = _jobs(parse(data), orders)
        profiler = cProfile.Profile()
        profiler.runcall(_map_all, mapper, partner, jobs, lines)
        profiler.dump_stats(profile_out)
    median = statistics.median
    maps, default, paused = times[_GATEWAY], times[_DEFAULT], times[_PAUSED]
    return MappingResult(
        filename=spec.filename, orders=len(jobs), file_sets=spec.orders, lines=lines, runs=runs,
        map_wall=median(w for w, _ in maps), map_cpu=median(c for _, c in maps),
        default_wall=median(w for w, _ in default), default_cpu=median(c for _, c in default),
        paused_wall=median(w for w, _ in paused), paused_cpu=median(c for _, c in paused),
        parse_wall=median(w for w, _ in parses), parse_cpu=median(c for _, c in parses),
        map_walls=tuple(w for w, _ in maps), default_walls=tuple(w for w, _ in default),
        thresholds=policy, default_thresholds=defaults,
    )  # fmt: skip


def _row(step: str, orders: int, wall: float, cpu: float) -> str:
    return (
        f"| {step} | {wall:.3f} | {cpu:.3f} | {orders / wall:,.0f} | {orders / cpu:,.0f} | "
        f"{wall / orders * 1000:.2f} |"
    )


def _verdict(orders: int, wall: float, cpu: float) -> str:
    def met(seconds: float) -> str:
        return "met" if orders / seconds >= 1000 else "NOT met"

    return f"by wall time {met(wall)} ({orders / wall:,.0f}), by CPU time {met(cpu)} ({orders / cpu:,.0f})"


def _walls(walls: tuple[float, ...]) -> str:
    return ", ".join(f"{w:.3f}" for w in walls)


def report(result: MappingResult) -> str:
    n = result.orders
    ours = "/".join(map(str, result.thresholds))
    theirs = "/".join(map(str, result.default_thresholds))
    return "\n".join(
        [
            f"{result.filename}: {n:,} 850s x {result.lines} PO1 lines, {result.runs} runs, "
            f"one process, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
            "",
            "| step | median wall s | median CPU s | POs/s (wall) | POs/s (CPU) | ms / PO |",
            "|---|---|---|---|---|---|",
            _row("edi.parse (reference, default collector)",
                 result.file_sets, result.parse_wall, result.parse_cpu),
            _row(f"Mapper.x12_to_canonical, collector as edigate serve runs it (gc thresholds {ours})",
                 n, result.map_wall, result.map_cpu),
            _row(f"the same, interpreter's default collector (gc thresholds {theirs})",
                 n, result.default_wall, result.default_cpu),
            _row("the same, cycle collector paused (reference)", n, result.paused_wall, result.paused_cpu),
            "",
            "mapping runs, gateway collector (wall s): " + _walls(result.map_walls),
            "mapping runs, default collector (wall s): " + _walls(result.default_walls),
            f"target 1,000 POs/s, gateway collector: {_verdict(n, result.map_wall, result.map_cpu)}",
            f"target 1,000 POs/s, default collector: {_verdict(n, result.default_wall, result.default_cpu)}",
        ]
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.mapping_bench", description=__doc__)
    parser.add_argument("--runs", type=int, default=5, help="timed runs (median; at least 3)")
    parser.add_argument("--orders", type=int, default=None, help="map only the first N sets")
    parser.add_argument("--profile", type=Path, default=None, help="also write a cProfile of one run here")
    args = parser.parse_args(argv)
    if args.runs < 3:
        parser.error("--runs must be at least 3")
    result = measure(args.runs, args.orders, args.profile)
    print(report(result))
    if args.profile is not None:
        pstats.Stats(str(args.profile)).sort_stats("tottime").print_stats(25)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
