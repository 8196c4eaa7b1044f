"""Analysis in worker processes (``pipeline.analysis_processes``): same results as in a thread,
with the gateway's own profiles, and never with files the gateway has not loaded."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from edi.validator import schema_validator
from gateway.domain.runtime.lifecycle import State
from gateway.domain.runtime.records import ChannelMeta
from gateway.domain.usecases.analysis import analyse
from gateway.runtime import Gateway

from .conftest import REPO, make_settings

SAMPLE_850 = (REPO / "fixtures/x12/sample-850.edi").read_bytes()


@pytest.fixture
async def pooled(tmp_path: Path) -> AsyncIterator[Gateway]:
    shutil.copytree(REPO / "partners", tmp_path / "partners")
    shutil.copytree(REPO / "mappings", tmp_path / "mappings")
    (tmp_path / "deploy").symlink_to(REPO / "deploy")  # profiles name certificates relative to themselves
    settings = make_settings(
        tmp_path,
        f"sqlite:///{tmp_path}/gateway.db",
        partners_dir=tmp_path / "partners",
        mappings_dir=tmp_path / "mappings",
        pipeline={"analysis_processes": 1},
    )
    gateway = await Gateway.open(settings)
    assert gateway.analysis_pool is not None
    await gateway.analysis_pool.start()  # no background loops: the tests process payloads themselves
    try:
        yield gateway
    finally:
        await gateway.stop()


async def test_a_process_analyses_like_the_gateway_and_hands_back_its_profile(pooled: Gateway) -> None:
    pool = pooled.analysis_pool
    assert pool is not None
    outcome = await pooled.receive(SAMPLE_850, ChannelMeta("file", "acme-retail"))
    record = outcome.record
    [remote] = await pool.analyse([(SAMPLE_850, record)]) or []
    local = analyse(SAMPLE_850, record, pooled.registry.current, pooled.registry.mapper, schema_validator)
    assert remote.partner is pooled.registry.current.get("acme-retail")  # the gateway's own object
    assert remote.state is local.state is State.MAPPED
    assert [(d.id, d.body, d.business_number) for d in remote.documents] == [
        (d.id, d.body, d.business_number) for d in local.documents
    ]
    assert remote.envelopes == local.envelopes
    assert remote.parsed is not None  # what the acknowledgement is built from

    result = await pooled.process_now(record.id)
    assert result is not None
    assert result.state is State.ROUTED
    assert len(result.outbound) == 1  # the 997


def _touch(path: Path, seconds: int) -> None:
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + seconds * 1_000_000_000))


async def test_files_the_gateway_has_not_loaded_are_never_used(pooled: Gateway, tmp_path: Path) -> None:
    pool = pooled.analysis_pool
    assert pool is not None
    outcome = await pooled.receive(SAMPLE_850, ChannelMeta("file", "acme-retail"))
    profile = tmp_path / "partners" / "acme-retail.yaml"
    _touch(profile, 10)  # edited on disk, not reloaded: both keep the set they loaded
    assert await pool.analyse([(SAMPLE_850, outcome.record)]) is not None

    assert not pooled.registry.reload().problems  # the gateway loads the edit: the process follows
    assert await pool.analyse([(SAMPLE_850, outcome.record)]) is not None

    _touch(profile, 20)
    assert not pooled.registry.reload().problems
    _touch(profile, 30)  # edited again before the process caught up with the gateway's reload
    assert await pool.analyse([(SAMPLE_850, outcome.record)]) is None  # declined: analysed in a thread
    result = await pooled.process_now(outcome.record.id)
    assert result is not None
    assert result.state is State.ROUTED


async def test_worker_processes_run_with_the_gateways_collector_policy(pooled: Gateway) -> None:
    import asyncio
    import gc

    from gateway.collector import YOUNG_THRESHOLD

    pool = pooled.analysis_pool
    assert pool is not None
    executor = pool._pool()  # the spawned worker: a fresh interpreter, thresholds from its initializer
    young, _, _ = await asyncio.get_running_loop().run_in_executor(executor, gc.get_threshold)
    assert young == YOUNG_THRESHOLD


def _sigint_handler() -> object:
    import signal

    return signal.getsignal(signal.SIGINT)


async def test_worker_processes_leave_ctrl_c_to_the_gateway(pooled: Gateway) -> None:
    """Ctrl-C reaches the whole process group; the workers ignore it and the gateway stops them."""
    import asyncio
    import signal

    pool = pooled.analysis_pool
    assert pool is not None
    handler = await asyncio.get_running_loop().run_in_executor(pool._pool(), _sigint_handler)
    assert handler == signal.SIG_IGN


async def test_a_gateway_whose_processes_cannot_start_analyses_in_a_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from gateway.domain.usecases.analysis_pool import AnalysisPool

    def no_processes(self: AnalysisPool) -> None:
        raise OSError(28, "No space left on device: /dev/shm")

    monkeypatch.setattr(AnalysisPool, "_pool", no_processes)
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path}/gateway.db", pipeline={"analysis_processes": 1})
    gateway = await Gateway.open(settings)
    try:
        pool = gateway.analysis_pool
        assert pool is not None
        with caplog.at_level("ERROR", logger="edigate.pipeline"):
            await pool.start()  # does not raise: the gateway starts
        assert pool.unavailable is not None
        assert "/dev/shm" in pool.unavailable
        assert "analysis processes could not be started" in caplog.text
        outcome = await gateway.receive(SAMPLE_850, ChannelMeta("file", "acme-retail"))
        assert await pool.analyse([(SAMPLE_850, outcome.record)]) is None  # not even tried again
        result = await gateway.process_now(outcome.record.id)
        assert result is not None
        assert result.state is State.ROUTED  # analysed here, in a thread
    finally:
        await gateway.stop()
