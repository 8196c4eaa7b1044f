"""The cycle-collector policy of a gateway process (gateway.collector)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from gateway.collector import YOUNG_THRESHOLD, tune_collector


@pytest.fixture(autouse=True)
def _restore_thresholds() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


def test_the_young_threshold_is_raised_and_the_older_ones_kept() -> None:
    gc.set_threshold(700, 10, 10)
    assert tune_collector() == (YOUNG_THRESHOLD, 10, 10)
    assert gc.get_threshold() == (YOUNG_THRESHOLD, 10, 10)
    gc.set_threshold(700, 7, 30)
    assert tune_collector() == (YOUNG_THRESHOLD, 7, 30)


def test_a_higher_threshold_or_automatic_collection_turned_off_is_kept() -> None:
    gc.set_threshold(YOUNG_THRESHOLD * 3, 10, 10)
    assert tune_collector() == (YOUNG_THRESHOLD * 3, 10, 10)
    gc.set_threshold(0, 10, 10)
    assert tune_collector() == (0, 10, 10)


def test_an_order_in_flight_no_longer_triggers_a_young_collection() -> None:
    """What the policy is for: 1,300 containers held at once (a 50-line order being mapped) pass
    the default threshold but not the raised one."""
    tune_collector()
    gc.collect()
    collections = gc.get_stats()[0]["collections"]
    held: list[list[int]] = [[] for _ in range(1300)]
    assert gc.get_stats()[0]["collections"] == collections
    del held
