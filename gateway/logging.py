"""Structured JSON logging on the standard library, with the correlation ID on every record.

One line of JSON per record: ``ts`` (UTC, ISO 8601), ``level``, ``logger``, ``message``,
``correlation_id`` and whatever was passed in ``extra=``; ``exc`` holds a formatted
traceback when one was logged. The correlation ID lives in a :class:`~contextvars.ContextVar`
(owned by :mod:`gateway.domain.runtime.correlation`, so the use cases can set and read it), and
every task handling a request, a payload or a message logs under its own ID without passing it
around; :func:`correlation_scope` sets it for a block.

:func:`capture_logs` is a test helper: it records what the real formatter would write, parsed
back into dictionaries, so tests (ours and the users') can assert on log output.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Any

from gateway.domain.runtime.correlation import correlation_id, correlation_scope, current_correlation_id

__all__ = [
    "CorrelationFilter",
    "JsonFormatter",
    "capture_logs",
    "configure_logging",
    "correlation_id",
    "correlation_scope",
    "current_correlation_id",
]

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
_HANDLER_MARK = "_edigate_json_handler"


class CorrelationFilter(logging.Filter):
    """Stamps the current correlation ID on each record (unless the caller gave one in ``extra``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "correlation_id", None) is None:
            record.correlation_id = correlation_id.get()
        return True


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"  # never dump payload content into logs
    return repr(value)


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object on one line."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "correlation_id": getattr(record, "correlation_id", None),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in out:
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            out["exc"] = record.exc_text
        if record.stack_info:
            out["stack"] = record.stack_info
        return json.dumps(out, default=_plain, ensure_ascii=False)


def _json_handler(stream: Any) -> logging.Handler:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(CorrelationFilter())
    setattr(handler, _HANDLER_MARK, True)
    return handler


def configure_logging(level: str | int = "INFO", stream: Any = None) -> logging.Handler:
    """Send every log record, as JSON lines, to ``stream`` (default stderr).

    Replaces handlers installed by an earlier call (so calling it twice does not double the
    output) and leaves other handlers alone. Returns the installed handler.
    """
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, _HANDLER_MARK, False):
            root.removeHandler(existing)
    handler = _json_handler(stream if stream is not None else sys.stderr)
    root.addHandler(handler)
    root.setLevel(logging.getLevelName(level.upper()) if isinstance(level, str) else level)
    return handler


class _CaptureHandler(logging.Handler):
    def __init__(self, level: int) -> None:
        super().__init__(level)
        self.setFormatter(JsonFormatter())
        self.addFilter(CorrelationFilter())
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@contextmanager
def capture_logs(logger: str = "", level: int = logging.DEBUG) -> Iterator[list[dict[str, Any]]]:
    """Collect the JSON objects the formatter writes for records of ``logger`` (default: all).

    ::

        with capture_logs("gateway") as lines:
            ...
        assert lines[0]["correlation_id"] == "c-1"
    """
    target = logging.getLogger(logger)
    handler = _CaptureHandler(level)
    previous = target.level
    target.addHandler(handler)
    if target.getEffectiveLevel() > level:
        target.setLevel(level)
    try:
        yield handler.lines
    finally:
        target.removeHandler(handler)
        target.setLevel(previous)
