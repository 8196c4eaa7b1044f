"""The interpreter settings a running gateway applies (docs/runtime.md): applied by the first
start in a process, restored by the last stop, whatever order several gateways stop in."""

from __future__ import annotations

import gc
import sys
from pathlib import Path

import pytest

from gateway import runtime
from gateway.runtime import SWITCH_INTERVAL, Gateway

from .conftest import make_settings


async def test_two_gateways_in_one_process_restore_the_interpreter_when_the_last_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tuning = runtime._ProcessTuning()  # this test's own count, whatever else ran in this process
    monkeypatch.setattr(runtime, "_TUNING", tuning)
    before = sys.getswitchinterval()
    frozen_before = gc.get_freeze_count()
    first = await Gateway.open(make_settings(tmp_path / "a", f"sqlite:///{tmp_path}/a.db"))
    second = await Gateway.open(make_settings(tmp_path / "b", f"sqlite:///{tmp_path}/b.db"))
    try:
        await first.start()
        assert sys.getswitchinterval() == SWITCH_INTERVAL
        assert gc.get_freeze_count() > frozen_before
        await second.start()
        assert tuning.running == 2
        await first.stop()  # started first, stopped first: the second still runs tuned
        assert sys.getswitchinterval() == SWITCH_INTERVAL
        assert gc.get_freeze_count() > frozen_before
        await first.stop()  # a second stop releases nothing more
        assert tuning.running == 1
    finally:
        await second.stop()
        await first.stop()
    assert tuning.running == 0
    assert sys.getswitchinterval() == before
    assert gc.get_freeze_count() == 0
