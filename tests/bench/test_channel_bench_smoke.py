"""Smoke tests of the SFTP and webhook benchmarks at tiny counts: they run end to end and give numbers.

No timing assertions (speed is measured by running the benchmarks, see docs/benchmarks.md).
Each benchmark checks its own results (every file stored, every payload delivered) and
raises otherwise, so these tests fail when a benchmark stops measuring real work.
"""

from __future__ import annotations

import asyncio

import pytest

from bench import sftp_bench, webhook_bench
from tests.support.openssh import require_openssh


def test_the_sftp_benchmark_uploads_to_both_servers_and_reports_a_ratio() -> None:
    require_openssh()
    times = asyncio.run(sftp_bench.run(count=5, runs=1))
    assert set(times) == {"edigate SFTP server", "OpenSSH sshd"}
    assert all(len(values) == 1 and values[0] > 0 for values in times.values())
    table = sftp_bench.report(times, 5, 1)
    assert "| OpenSSH sshd |" in table
    assert "1.00x |" in table  # sshd against itself


def test_the_webhook_benchmark_posts_signed_bodies_until_they_are_delivered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EDIGATE_BENCH_WEBHOOK_SECRET", webhook_bench.SECRET)
    http_runs, direct_runs = webhook_bench.measure(count=6, concurrency=3, runs=1, amqp=None)
    [http], [direct] = http_runs, direct_runs
    assert http.accepted_per_s > 0
    assert http.queued_per_s > 0
    assert 0 < http.p50_ms <= http.p99_ms
    assert direct.queued_per_s > 0
    assert "queued docs/s, webhook over baseline" in webhook_bench.report(http_runs, direct_runs)
