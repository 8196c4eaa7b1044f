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

from bench.generate import DataSpec, ensure_file
from edi import ParseResult, parse
from edi.model import FunctionalGroup, Interchange, TransactionSet
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

    orders: int
    #: Sets in the whole file (the parse reference always reads all of them).
    file_sets: int
    lines: int
    runs: int
    map_wall: float
    map_cpu: float
    paused_wall: float
    paused_cpu: float
    parse_wall: float
    parse_cpu: float
    map_walls: tuple[float, ...]

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


def _map_all(mapper: Mapper, profile: PartnerProfile, jobs: list[Job]) -> CanonicalDocument:
    """Map every set, as the runtime does: one document at a time, each checked and dropped.

    Each result must be a purchase order with all its lines (an ``isinstance`` and a ``len``,
    negligible next to the mapping); the last one is returned for the full check."""
    convert = mapper.x12_to_canonical
    lines = SPEC.lines_per_order
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


def measure(runs: int = 5, orders: int | None = None, profile_out: Path | None = None) -> MappingResult:
    """``runs`` rounds of: parse the file (timed, the reference), map every set of that parse (timed;
    the segments arrive unsplit, as in the runtime), and the same with the cycle collector paused."""
    path = ensure_file(SPEC)
    data = path.read_bytes()
    mapper = Mapper.load(REPO / "mappings")
    partner = load_profiles(REPO / "partners", mappings_dir=REPO / "mappings").get(PARTNER)
    if partner is None:
        raise SystemExit(f"partners/{PARTNER}.yaml is missing")
    warm = _jobs(parse(data), 20)
    _check(_map_all(mapper, partner, warm), warm)
    del warm
    maps: list[tuple[float, float]] = []
    paused: list[tuple[float, float]] = []
    parses: list[tuple[float, float]] = []
    jobs: list[Job] = []
    for _ in range(runs):
        for times, collector in ((maps, True), (paused, False)):
            jobs = []  # the previous parse is freed before the next one is timed
            wall, cpu, result = _timed(lambda: parse(data))
            if collector:
                parses.append((wall, cpu))
            jobs = _jobs(result, orders)  # type: ignore[arg-type]
            del result
            work = functools.partial(_map_all, mapper, partner, jobs)
            wall, cpu, last = _timed(work if collector else _paused(work))
            _check(last, jobs)  # type: ignore[arg-type]
            times.append((wall, cpu))
            del last
    if profile_out is not None:
        jobs = _jobs(parse(data), orders)
        profiler = cProfile.Profile()
        profiler.runcall(_map_all, mapper, partner, jobs)
        profiler.dump_stats(profile_out)
    median = statistics.median
    return MappingResult(
        orders=len(jobs), file_sets=SPEC.orders, lines=SPEC.lines_per_order, runs=runs,
        map_wall=median(w for w, _ in maps), map_cpu=median(c for _, c in maps),
        paused_wall=median(w for w, _ in paused), paused_cpu=median(c for _, c in paused),
        parse_wall=median(w for w, _ in parses), parse_cpu=median(c for _, c in parses),
        map_walls=tuple(w for w, _ in maps),
    )  # fmt: skip


def report(result: MappingResult) -> str:
    per_po = result.map_wall / result.orders * 1000
    parse_per_po = result.parse_wall / result.file_sets * 1000
    return "\n".join(
        [
            f"{SPEC.filename}: {result.orders:,} 850s x {result.lines} PO1 lines, {result.runs} runs, "
            f"one process, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
            "",
            "| step | median wall s | median CPU s | POs/s (wall) | POs/s (CPU) | ms / PO |",
            "|---|---|---|---|---|---|",
            f"| edi.parse (reference) | {result.parse_wall:.3f} | {result.parse_cpu:.3f} | "
            f"{result.file_sets / result.parse_wall:,.0f} | {result.file_sets / result.parse_cpu:,.0f} | "
            f"{parse_per_po:.2f} |",
            f"| Mapper.x12_to_canonical | {result.map_wall:.3f} | {result.map_cpu:.3f} | "
            f"{result.orders_per_second:,.0f} | {result.orders_per_cpu_second:,.0f} | {per_po:.2f} |",
            f"| the same, cycle collector paused (reference) | {result.paused_wall:.3f} | "
            f"{result.paused_cpu:.3f} | {result.orders / result.paused_wall:,.0f} | "
            f"{result.orders / result.paused_cpu:,.0f} | {result.paused_wall / result.orders * 1000:.2f} |",
            "",
            "mapping runs (wall s): " + ", ".join(f"{w:.3f}" for w in result.map_walls),
            f"target 1,000 POs/s: {'met' if result.orders_per_second >= 1000 else 'NOT met'}",
        ]
    )


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
