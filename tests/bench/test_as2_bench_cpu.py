"""The AS2 benchmark's per-thread CPU report: roles by thread name, from /proc (Linux)."""

from __future__ import annotations

import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from bench.as2_bench import _thread_cpu

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/task")


def _spin(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def test_cpu_is_counted_by_thread_role() -> None:
    before = _thread_cpu()
    with ThreadPoolExecutor(1, thread_name_prefix="as2-crypto") as pool:
        pool.submit(_spin, 0.15).result()
        after = _thread_cpu()  # while the crypto thread still exists
    _spin(0.15)
    last = _thread_cpu()
    assert threading.current_thread() is threading.main_thread()
    assert after["crypto threads"] - before.get("crypto threads", 0.0) >= 0.1
    assert last["event loop"] - before["event loop"] >= 0.1
