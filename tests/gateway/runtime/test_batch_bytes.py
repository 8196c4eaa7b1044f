"""A pipeline batch stops at ``pipeline.batch_bytes``: big files are not read and parsed 256 at a time."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from gateway.domain.runtime.lifecycle import Direction, State
from gateway.domain.runtime.records import ChannelMeta
from gateway.runtime import Gateway

from .conftest import REPO, make_settings

SAMPLE_850 = (REPO / "fixtures/x12/sample-850.edi").read_bytes()


async def test_the_pipeline_leases_batches_of_at_most_batch_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    limit = 2 * len(SAMPLE_850) + 10  # room for two of the files, not three
    settings = make_settings(
        tmp_path, f"sqlite:///{tmp_path}/gw.db", pipeline={"batch_bytes": limit, "poll_seconds": 0.05}
    )
    gateway = await Gateway.open(settings)
    inbound_batches: list[int] = []
    real_claim = gateway.store.claim_payloads

    async def claim(*args: Any, **kwargs: Any) -> Any:
        records = await real_claim(*args, **kwargs)
        if records and records[0].direction is Direction.INBOUND:
            assert kwargs.get("max_bytes") == limit
            inbound_batches.append(len(records))
        return records

    monkeypatch.setattr(gateway.store, "claim_payloads", claim)
    try:
        ids = []
        for n in range(5):
            body = SAMPLE_850.replace(b"000004711", f"{n:09d}".encode())
            ids.append((await gateway.receive(body, ChannelMeta("file", "acme-retail"))).record.id)
        await gateway.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            states = [(await gateway.store.get_payload(i)) for i in ids]
            if all(s is not None and s.state is not State.RECEIVED for s in states):
                break
            await asyncio.sleep(0.05)
        assert all(s is not None and s.state is not State.RECEIVED for s in states)
        assert sum(inbound_batches) == 5
        assert max(inbound_batches) == 2
    finally:
        await gateway.stop()
