"""Structured JSON logging: one object per line, correlation IDs per task, extras, exceptions."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from gateway.logging import (
    capture_logs,
    configure_logging,
    correlation_id,
    correlation_scope,
    current_correlation_id,
)


@pytest.fixture
def restore_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_configure_logging_writes_one_json_object_per_line(restore_root: None) -> None:
    stream = io.StringIO()
    configure_logging("debug", stream=stream)
    configure_logging("DEBUG", stream=stream)  # a second call replaces, never doubles, the handler
    log = logging.getLogger("gateway.test")
    with correlation_scope("corr-1"):
        log.info("stored %s bytes", 12, extra={"payload_id": "p-1", "at": datetime(2025, 1, 2, tzinfo=UTC)})
    log.debug("outside")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 2
    first, second = lines
    assert (first["level"], first["logger"], first["message"]) == ("info", "gateway.test", "stored 12 bytes")
    assert (first["correlation_id"], first["payload_id"]) == ("corr-1", "p-1")
    assert first["at"] == "2025-01-02T00:00:00+00:00"
    assert datetime.fromisoformat(first["ts"]).tzinfo is not None
    assert second["correlation_id"] is None
    assert logging.getLogger().level == logging.DEBUG


def test_exceptions_and_unserialisable_extras(restore_root: None) -> None:
    stream = io.StringIO()
    configure_logging(logging.INFO, stream=stream)
    log = logging.getLogger("gateway.test")
    try:
        raise ValueError("bad segment")
    except ValueError:
        log.exception("parse failed", extra={"content": b"ISA*secret-ish", "obj": object()})
    [line] = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert line["level"] == "error"
    assert "ValueError: bad segment" in line["exc"]
    assert line["content"] == "<14 bytes>"  # payload bytes are never written to logs
    assert line["obj"].startswith("<object object")


async def test_each_task_logs_under_its_own_correlation_id() -> None:
    log = logging.getLogger("gateway.test.tasks")

    async def handle(name: str, delay: float) -> None:
        with correlation_scope(name):
            await asyncio.sleep(delay)
            log.warning("handled")
            assert current_correlation_id() == name

    with capture_logs("gateway.test.tasks") as lines:
        await asyncio.gather(handle("first", 0.02), handle("second", 0.0))
    assert [(line["message"], line["correlation_id"]) for line in lines] == [
        ("handled", "second"),
        ("handled", "first"),
    ]
    assert correlation_id.get() is None


def test_an_explicit_correlation_id_in_extra_wins() -> None:
    with capture_logs() as lines, correlation_scope("ambient"):
        logging.getLogger("gateway.x").info("from a message", extra={"correlation_id": "from-header"})
    assert lines[0]["correlation_id"] == "from-header"


def test_capture_logs_restores_the_logger_level() -> None:
    logger = logging.getLogger("gateway.capture")
    logger.setLevel(logging.ERROR)
    with capture_logs("gateway.capture", level=logging.DEBUG) as lines:
        logger.debug("seen while capturing")
    logger.debug("not seen afterwards")
    assert [line["message"] for line in lines] == ["seen while capturing"]
    assert logger.level == logging.ERROR
    logger.setLevel(logging.NOTSET)
