"""Smoke test of the benchmark machinery: valid generated data, and numbers out.

No timing assertions: speed is measured by ``scripts/bench``, not by tests.
"""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from bench import mapping_bench
from bench.contestants import Outcome, bare_tokeniser, check, edigate_envelope, pyx12_reader
from bench.generate import DataSpec, ensure_file, generate
from bench.measure import measure_child
from bench.run import run_file
from edi.reader import parse, read_summary
from gateway.collector import YOUNG_THRESHOLD
from gateway.domain.mapping import Mapper
from gateway.domain.profiles import load_profiles

TINY = DataSpec("tiny", orders_per_interchange=3, interchanges=2, lines_per_order=4)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_file(TINY, tmp_path_factory.mktemp("bench"))


def test_generated_file_is_valid_and_shaped_like_the_spec(tiny: Path) -> None:
    summaries, findings = read_summary(tiny)
    assert findings == []
    assert [ix.control_number for ix in summaries] == ["000000001", "000000002"]
    sets = [t for ix in summaries for g in ix.groups for t in g.transactions]
    assert len(sets) == TINY.orders
    assert {t.set_id for t in sets} == {"850"}
    # ST, 14 header segments, 3 segments per line, CTT, SE
    assert {t.segments for t in sets} == {1 + 14 + 3 * TINY.lines_per_order + 1 + 1}
    ids = [s.id for s in parse(tiny).interchanges[0].groups[0].transactions[0].segments]
    assert ids[:6] == ["ST", "BEG", "CUR", "REF", "REF", "PER"]
    assert ids.count("PO1") == ids.count("PID") == ids.count("PO4") == TINY.lines_per_order
    assert ids[-2:] == ["CTT", "SE"]


def test_generation_is_deterministic(tiny: Path, tmp_path: Path) -> None:
    again = generate(TINY, tmp_path / "again.x12")
    assert again.read_bytes() == tiny.read_bytes()
    other = generate(DataSpec("tiny", 3, 2, 4, seed=1), tmp_path / "other.x12")
    assert other.read_bytes() != tiny.read_bytes()


def test_contestants_agree_on_the_tiny_file(tiny: Path) -> None:
    edigate = edigate_envelope(tiny)
    pyx12 = pyx12_reader(tiny)
    tokens = bare_tokeniser(tiny)
    assert edigate.transactions == pyx12.transactions == TINY.orders
    assert edigate.problems == pyx12.problems == 0
    # pyx12 and the tokeniser count every segment; edigate counts those inside sets.
    per_set = 1 + 14 + 3 * TINY.lines_per_order + 2
    assert edigate.segments == TINY.orders * per_set
    assert pyx12.segments == tokens.segments == edigate.segments + TINY.interchanges * 4


def test_check_refuses_invalid_or_incomplete_runs() -> None:
    check("edigate-envelope", Outcome(6, 100, 0), 6)
    with pytest.raises(AssertionError, match="problems"):
        check("pyx12", Outcome(6, 100, 2), 6)
    with pytest.raises(AssertionError, match="saw 5 sets"):
        check("edigate-envelope", Outcome(5, 100, 0), 6)


def test_a_measurement_produces_numbers(tiny: Path) -> None:
    (series,) = run_file(tiny, TINY, {"edigate-envelope": 2})
    assert len(series.samples) == 2
    assert series.wall > 0
    assert series.cpu >= 0
    assert series.outcome.transactions == TINY.orders


def test_a_fresh_process_run_reports_peak_rss(tiny: Path) -> None:
    sample = measure_child("edigate-envelope", tiny)
    assert sample.outcome.transactions == TINY.orders
    assert sample.wall > 0
    assert sample.peak_rss_kib is not None
    assert 1_000 < sample.peak_rss_kib < 1_000_000  # a Python interpreter: MBs, not GBs


# --- the mapping benchmark (bench.mapping_bench) -------------------------------------------

TINY_MAP = DataSpec("tiny-map", orders_per_interchange=3, lines_per_order=4)


def test_mapping_benchmark_measures_a_few_orders(tmp_path: Path) -> None:
    """One run over three generated orders: every row is measured and reported, and the
    collector thresholds the benchmark changes are put back. No speed is asserted."""
    before = gc.get_threshold()
    result = mapping_bench.measure(runs=1, spec=TINY_MAP, data_dir=tmp_path)
    assert gc.get_threshold() == before
    assert (tmp_path / TINY_MAP.filename).is_file()
    assert (result.filename, result.orders, result.file_sets, result.lines, result.runs) == (
        TINY_MAP.filename, 3, 3, 4, 1,
    )  # fmt: skip
    seconds = [result.map_wall, result.map_cpu, result.default_wall, result.default_cpu,
               result.paused_wall, result.paused_cpu, result.parse_wall, result.parse_cpu]  # fmt: skip
    assert all(s > 0 for s in seconds)
    assert result.orders_per_second > 0
    assert result.orders_per_cpu_second > 0
    assert result.map_walls == (result.map_wall,)
    assert result.default_walls == (result.default_wall,)
    young = before[0]
    assert result.default_thresholds == before
    assert result.thresholds == ((YOUNG_THRESHOLD, *before[1:]) if 0 < young < YOUNG_THRESHOLD else before)

    lines = mapping_bench.report(result).splitlines()
    assert lines[0].startswith(f"{TINY_MAP.filename}: 3 850s x 4 PO1 lines, 1 runs, one process")
    rows = [line for line in lines if line.startswith("| ") and not line.startswith("| step")]
    assert [row.split(" | ")[0] for row in rows] == [
        "| edi.parse (reference, default collector)",
        f"| Mapper.x12_to_canonical, collector as edigate serve runs it (gc thresholds "
        f"{'/'.join(map(str, result.thresholds))})",
        f"| the same, interpreter's default collector (gc thresholds {'/'.join(map(str, before))})",
        "| the same, cycle collector paused (reference)",
    ]
    for row in rows:  # POs/s by wall and by CPU (seconds are rounded to ms: a few orders show 0.000)
        _, _, _, by_wall, by_cpu, _ = row.strip("| ").split(" | ")
        assert float(by_wall.replace(",", "")) > 0
        assert float(by_cpu.replace(",", "")) > 0
    assert sum(line.startswith("target 1,000 POs/s, ") for line in lines) == 2


def test_mapping_benchmark_stops_on_a_wrong_result(tmp_path: Path) -> None:
    """A mapping that loses lines, or a last document that is not the file's last PO, stops it."""
    data = ensure_file(TINY_MAP, tmp_path).read_bytes()
    mapper = Mapper.load(mapping_bench.REPO / "mappings")
    partner = load_profiles(mapping_bench.REPO / "partners").get(mapping_bench.PARTNER)
    assert partner is not None
    jobs = mapping_bench._jobs(parse(data), None)
    with pytest.raises(SystemExit, match="unexpected mapping result"):
        mapping_bench._map_all(mapper, partner, jobs, TINY_MAP.lines_per_order + 1)
    last = mapping_bench._map_all(mapper, partner, jobs[:1], TINY_MAP.lines_per_order)
    with pytest.raises(SystemExit, match="does not survive"):
        mapping_bench._check(last, jobs)


async def test_pipeline_benchmark_counts_every_document_at_a_separate_consumer(tmp_path: Path) -> None:
    from bench import pipeline_bench
    from tests.support.services import rabbitmq_url

    rabbitmq_url()  # skips, or fails under CI=true, when the broker is down

    payloads = pipeline_bench.bodies(12, 0)
    rate = await pipeline_bench.gateway_end_to_end(payloads, f"sqlite:///{tmp_path}/b.db", tmp_path)
    assert rate > 0  # the consumer process saw all 12 distinct documents, or this raised
    with pytest.raises(RuntimeError, match="consumer"):
        # a consumer that can never be satisfied (the same body twice is a duplicate, routed once)
        await pipeline_bench.gateway_end_to_end(
            [payloads[0], payloads[0]], f"sqlite:///{tmp_path}/c.db", tmp_path / "c", consumer_timeout=5
        )
