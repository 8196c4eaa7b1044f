"""The correlation ID of whatever the current task is doing (an HTTP request, a payload, a message).

It lives in a :class:`~contextvars.ContextVar`, so every task logs under its own ID without
passing it around, and the inbound use case can pick up the ID a channel request arrived with
(``X-Correlation-ID``) when the channel does not name one. :mod:`gateway.logging` stamps it on
every log record.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["SANE_CORRELATION_ID", "correlation_id", "correlation_scope", "current_correlation_id"]

#: A caller's correlation ID (``X-Correlation-ID``) is kept when it matches this: printable
#: token characters, 64 at most, the width of the store's correlation_id columns (a longer
#: one would fail the whole batch it is committed in). Others are replaced, never truncated.
SANE_CORRELATION_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,64}$")

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
