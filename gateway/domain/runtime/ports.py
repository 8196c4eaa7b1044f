"""Ports: the one-method-ish interfaces the use cases need from the outside world.

Adapters implement them at the edges (aio-pika, the file spool, channels);
tests can swap in a real in-process peer. Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from gateway.domain.profiles import RetryPolicy
from gateway.domain.runtime.errors import BrokerAction
from gateway.domain.runtime.records import OutboxMessage, PublishResult

__all__ = [
    "BatchSending",
    "Destination",
    "DestinationHealth",
    "OutboundFile",
    "OutboundHandler",
    "OutboundRequest",
    "OutboundSendResult",
    "OutboundSource",
    "PartnerChannel",
]


@dataclass(frozen=True, slots=True)
class DestinationHealth:
    ready: bool
    detail: str = ""


class Destination(Protocol):
    """Where routed canonical documents go (RabbitMQ, or files in the embedded mode)."""

    async def start(self) -> None:
        """Connect and declare whatever the destination needs (topology, directories)."""

    async def publish(self, messages: Sequence[OutboxMessage]) -> list[PublishResult]:
        """Deliver a batch durably. One result per message, in order.

        A message the destination refuses gets ``ok=False`` with a reason, and
        ``retryable=True`` when trying again later may succeed (a broker nack) rather
        than never (unroutable). When the transport is down altogether, raise
        :class:`gateway.domain.runtime.errors.TransientFailure`: the outbox keeps the
        messages and retries later.
        """
        ...

    async def health(self) -> DestinationHealth: ...

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class OutboundRequest:
    """A canonical document an ERP/WMS wants sent to a partner."""

    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    message_id: str | None = None
    correlation_id: str | None = None
    #: Delivered before (the broker's redelivered flag): without a ``message_id``, a request
    #: with the same body stored since ``first_seen`` is taken to be this one.
    redelivered: bool = False
    #: When the request was first published (the AMQP timestamp), if known.
    first_seen: datetime | None = None


OutboundHandler = Callable[[OutboundRequest], Awaitable[BrokerAction]]


class OutboundSource(Protocol):
    """Feeds outbound requests (the ``edigate.outbound`` queue) to a handler.

    The handler's :class:`BrokerAction` decides the message's fate: ``ack``,
    ``reject`` (dead-letter, with the reason in headers) or ``requeue``.
    """

    async def run(self, handler: OutboundHandler) -> None: ...

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class OutboundSendResult:
    ok: bool
    detail: str = ""
    retryable: bool = True
    remote_reference: str | None = None  # e.g. the remote file name or an AS2 Message-ID
    #: Seconds the partner asked us to wait (e.g. HTTP Retry-After): the Sender waits at least
    #: this long before the next attempt, or the retry policy's delay when that is longer.
    retry_after: float | None = None
    #: The partner confirmed receipt in the same exchange (e.g. a verified synchronous AS2 MDN):
    #: the payload becomes ``delivered`` instead of ``sent``.
    delivered: bool = False


class PartnerChannel(Protocol):
    """Sends a stored outbound payload to one partner over one channel kind.

    A channel only reports each attempt's outcome; it does not count attempts. The Sender
    counts them in the store and retries per :meth:`retry_policy`.
    """

    kind: str  # filedrop | as2 | as2-mdn | sftp | webhook

    async def send(
        self, partner_id: str, payload_id: str, content: bytes, filename: str
    ) -> OutboundSendResult: ...

    def retry_policy(self, partner_id: str) -> RetryPolicy | None:
        """How often and how patiently a failed send to this partner is retried (the partner
        profile's ``retry`` for this channel); None: the gateway-wide defaults."""
        ...


@dataclass(frozen=True, slots=True)
class OutboundFile:
    """One stored outbound payload to hand over, as :meth:`PartnerChannel.send` takes it."""

    partner_id: str
    payload_id: str
    content: bytes
    filename: str


@runtime_checkable
class BatchSending(Protocol):
    """A channel that hands over many payloads at once more cheaply than one by one (e.g. one
    fsync of a directory for a batch of files). Each payload still gets its own outcome."""

    async def send_many(self, files: Sequence[OutboundFile]) -> list[OutboundSendResult]: ...
