"""Fixtures shared by the gateway's tests across packages."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest


@pytest.fixture
def local_time_five_hours_behind_utc() -> Iterator[None]:
    """Make the process's local time differ from UTC: a naive time must still mean UTC, although
    asyncpg reads naive times as local time."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "EDG+05"
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()
