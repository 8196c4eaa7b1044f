"""The correlation ID of whatever the current task is doing (an HTTP request, a payload, a message).

It lives in a :class:`~contextvars.ContextVar`, so every task logs under its own ID without
passing it around, and the inbound use case can pick up the ID a channel request arrived with
(``X-Correlation-ID``) when the channel does not name one. :mod:`gateway.logging` stamps it on
every log record.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["correlation_id", "correlation_scope", "current_correlation_id"]

#: The correlation ID of whatever the current task is doing.
correlation_id: ContextVar[str | None] = ContextVar("edigate_correlation_id", default=None)


def current_correlation_id() -> str | None:
    return correlation_id.get()


@contextmanager
def correlation_scope(value: str | None) -> Iterator[None]:
    """Log under ``value`` inside the block; the previous ID comes back afterwards."""
    token = correlation_id.set(value)
    try:
        yield
    finally:
        correlation_id.reset(token)
