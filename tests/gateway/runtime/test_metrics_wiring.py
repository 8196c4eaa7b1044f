"""The pipeline and the relay feed the Prometheus metrics of a real gateway (not only the
metrics object called by hand): processing time, receipt-to-outcome latency, publishes."""

from __future__ import annotations

import asyncio
from pathlib import Path

from gateway.adapters.metrics import Metrics
from gateway.domain.runtime.lifecycle import State
from gateway.domain.runtime.records import ChannelMeta
from gateway.runtime import Gateway

from .conftest import REPO, make_settings

SAMPLE_850 = (REPO / "fixtures/x12/sample-850.edi").read_bytes()


def _sample(metrics: Metrics, name: str, **labels: str) -> float:
    value = metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


async def test_processing_and_publishing_reach_the_metrics(tmp_path: Path) -> None:
    metrics = Metrics()
    gateway = await Gateway.open(make_settings(tmp_path, f"sqlite:///{tmp_path}/g.db"), observer=metrics)
    await gateway.destination.start()
    try:
        good = await gateway.receive(SAMPLE_850, ChannelMeta("file", "acme-retail"))
        bad = await gateway.receive(b"ISA*00*garbage~", ChannelMeta("file", "acme-retail"))
        await asyncio.sleep(0.2)  # the latency counts the time spent waiting to be processed
        routed = await gateway.process_now(good.record.id)
        refused = await gateway.process_now(bad.record.id)
        assert routed is not None
        assert routed.state is State.ROUTED
        assert refused is not None
        assert refused.state is not State.ROUTED
        assert await gateway.flush_outbox() == 0
        # a replay from raw is processed again, but its receipt is not a new wait
        await gateway.store.reset_for_replay(good.record.id, reason="test", actor="test")
        again = await gateway.process_now(good.record.id)
        assert again is not None
    finally:
        await gateway.stop()

    assert _sample(metrics, "edigate_pipeline_seconds_count", state="routed") == 2  # the replay too
    assert _sample(metrics, "edigate_pipeline_latency_seconds_count", state="routed") == 1
    assert _sample(metrics, "edigate_pipeline_latency_seconds_count", state=refused.state.value) == 1
    # at least the 0.2 s the payload waited, and not some absurd clock difference
    waited = _sample(metrics, "edigate_pipeline_latency_seconds_sum", state="routed")
    assert 0.2 <= waited < 60
    assert _sample(metrics, "edigate_pipeline_latency_seconds_bucket", state="routed", le="0.1") == 0
    published = sum(_sample(metrics, "edigate_published_total", destination=d) for d in ("erp", "wms"))
    assert published >= 1  # the canonical 850 went to its destination through the outbox relay
