"""Translation of aio-pika / aiormq / socket errors into gateway errors, at the adapter's edge.

::

    aiormq ChannelPreconditionFailed   -> Conflict            (a queue exists with other arguments)
    aiormq ChannelNotFoundEntity       -> NotFound            (an exchange or queue is missing)
    aiormq (Probable)AuthenticationError -> AuthenticationFailed (broker refused the credentials)
    anything else from the transport   -> TransientFailure    (connection down, timeout, channel closed)

Callers catch :data:`BROKER_ERRORS` and ``raise translate(exc, doing) from exc``.
"""

from __future__ import annotations

import asyncio

import aiormq.exceptions
import pamqp.exceptions

from gateway.domain.runtime.errors import (
    AuthenticationFailed,
    Conflict,
    GatewayError,
    NotFound,
    TransientFailure,
)

__all__ = ["BROKER_ERRORS", "translate"]

BROKER_ERRORS: tuple[type[BaseException], ...] = (
    aiormq.exceptions.AMQPError,
    aiormq.exceptions.ChannelInvalidStateError,
    pamqp.exceptions.PAMQPException,
    ConnectionError,
    OSError,
    asyncio.TimeoutError,
    RuntimeError,  # aio-pika raises bare RuntimeError for "connection closed" states
)


def translate(exc: BaseException, doing: str) -> GatewayError:
    """The most specific gateway error for a library exception raised while ``doing`` something."""
    if isinstance(exc, GatewayError):
        return exc
    detail = f"{doing}: {type(exc).__name__}: {exc}".rstrip(": ")
    if isinstance(exc, aiormq.exceptions.ChannelPreconditionFailed):
        return Conflict(detail)
    if isinstance(exc, aiormq.exceptions.ChannelNotFoundEntity):
        return NotFound(detail)
    if isinstance(exc, aiormq.exceptions.AuthenticationError | aiormq.exceptions.ProbableAuthenticationError):
        return AuthenticationFailed(detail)
    return TransientFailure(detail)
