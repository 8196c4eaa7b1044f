"""Shutdown always ends: a step that hangs is logged and left behind, never waited for forever."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from gateway.runtime import Gateway

from .conftest import make_settings


async def test_a_loop_that_ignores_cancellation_does_not_hang_stop(tmp_path: Path, caplog) -> None:
    gateway = await Gateway.open(make_settings(tmp_path, f"sqlite:///{tmp_path}/gw.db"))
    await gateway.start()
    released = asyncio.Event()

    async def stubborn() -> None:  # e.g. a driver call that swallows the cancellation
        while not released.is_set():
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                continue

    task = asyncio.create_task(stubborn(), name="stubborn-loop")
    gateway._tasks.append(task)
    started = time.monotonic()
    await gateway.stop(grace_seconds=0.3)
    assert time.monotonic() - started < 5
    stuck = [r for r in caplog.records if r.getMessage() == "a background loop did not stop in time"]
    assert [getattr(r, "task", None) for r in stuck] == ["stubborn-loop"]
    released.set()
    task.cancel()
    await asyncio.wait({task}, timeout=1)


async def test_a_hanging_close_is_timed_out_and_the_rest_still_closes(tmp_path: Path, caplog) -> None:
    gateway = await Gateway.open(make_settings(tmp_path, f"sqlite:///{tmp_path}/gw.db"))
    await gateway.start()
    closed: list[str] = []
    real_close = gateway.store.close

    async def hanging_close() -> None:
        await asyncio.sleep(3600)

    async def store_close() -> None:
        closed.append("store")
        await real_close()

    gateway.destination.close = hanging_close  # type: ignore[method-assign]
    gateway.store.close = store_close  # type: ignore[method-assign]
    started = time.monotonic()
    await gateway.stop(grace_seconds=0.3)
    assert time.monotonic() - started < 5
    assert closed == ["store"]  # the hanging destination did not keep the store open
    assert any(getattr(r, "step", None) == "closing the destination" for r in caplog.records)
