"""``RabbitDestination``: the Destination port over aio-pika, with publisher confirms.

Each outbox message becomes one persistent AMQP message on the documents
exchange with routing key ``OutboxMessage.routing_key``, ``mandatory=True``,
``content_type=application/json``, ``message_id`` = the document id (stable
across replays, so consumers can de-duplicate), the correlation id, and the
outbox headers (partner, document_type, schema_version, test, replay_count).

A batch is published concurrently: every message is written at once and the
broker's confirms are gathered, so throughput is bounded by the broker, not by
round trips. Per message the outcome is:

* confirmed (``Basic.Ack``)                  -> ``PublishResult(ok=True)``
* returned as unroutable (``Basic.Return``)  -> ``ok=False, reason="unroutable: ..."``
  (permanent: no queue is bound for the key; the document fails, replayable)
* refused (``Basic.Nack``)                   -> ``ok=False, retryable=True,
  reason="nacked by broker: ..."`` (a full queue with ``reject-publish``, an internal
  broker error: the outbox retries it with backoff)

When the link is down - before the batch, or mid-batch with confirms still
outstanding - ``publish`` raises :class:`TransientFailure` and does not wait for
the reconnect: the outbox keeps the batch and retries it. A destination that could
not start (the broker was down when the gateway started) tries again on each publish. Messages of the batch
that the broker did take are then published again; they carry the same
``message_id``, so delivery is at-least-once and nothing is lost.

aiormq matches a returned message to its confirm by ``message_id``, so two
messages with the same id (one document routed to ``erp`` and ``wms``) are never
in flight together on the channel: the second waits for the first's confirm.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

import aio_pika
import aiormq.exceptions
from aio_pika.abc import AbstractExchange, HeadersType

from gateway.adapters.rabbitmq.errors import BROKER_ERRORS, translate
from gateway.adapters.rabbitmq.link import BrokerLink
from gateway.adapters.rabbitmq.settings import RabbitSettings
from gateway.adapters.rabbitmq.topology import declare_topology
from gateway.domain.runtime.errors import TransientFailure
from gateway.domain.runtime.ports import DestinationHealth
from gateway.domain.runtime.records import OutboxMessage, PublishResult

__all__ = ["RabbitDestination", "amqp_message"]


def amqp_message(message: OutboxMessage) -> aio_pika.Message:
    """The AMQP message for an outbox entry (public so tests and tools build the same thing)."""
    headers: HeadersType = dict(message.headers)
    return aio_pika.Message(
        body=message.body,
        headers=headers,
        content_type="application/json",
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=message.document_id,
        correlation_id=message.correlation_id,
        timestamp=datetime.now(UTC),
        app_id="edigate",
    )


class RabbitDestination:
    """Publishes routed canonical documents to RabbitMQ (the ``Destination`` port)."""

    def __init__(self, settings: RabbitSettings | None = None) -> None:
        self._settings = settings or RabbitSettings()
        self._link = BrokerLink(self._settings, "publisher")
        self._exchange: AbstractExchange | None = None
        self._in_flight: dict[str, asyncio.Event] = {}  # message_id -> set when its confirm arrived

    @property
    def settings(self) -> RabbitSettings:
        return self._settings

    async def start(self) -> None:
        """Connect and declare the topology; raises TransientFailure if the broker is unreachable."""
        if self._exchange is not None:
            return
        channel = await self._link.open()
        try:
            declared = await declare_topology(channel, self._settings.topology)
        except BaseException:
            await self._link.close()
            raise
        self._exchange = declared.exchange

    async def publish(self, messages: Sequence[OutboxMessage]) -> list[PublishResult]:
        if not messages:
            return []
        if self._exchange is None:
            await self.start()  # raises TransientFailure while the broker is still unreachable
        self._link.ready_channel("publishing to RabbitMQ")
        exchange = self._exchange
        if exchange is None:
            raise TransientFailure("publishing to RabbitMQ: the destination is not started")
        outcomes = await asyncio.gather(
            *(self._publish_unique(exchange, m) for m in messages), return_exceptions=True
        )
        results: list[PublishResult] = []
        for outcome in outcomes:
            if isinstance(outcome, PublishResult):
                results.append(outcome)
            elif isinstance(outcome, (*BROKER_ERRORS, asyncio.CancelledError)):
                raise translate(outcome, f"publishing a batch of {len(messages)} to RabbitMQ") from outcome
            else:
                raise outcome
        return results

    async def _publish_unique(self, exchange: AbstractExchange, message: OutboxMessage) -> PublishResult:
        key = message.document_id
        while (busy := self._in_flight.get(key)) is not None:
            await busy.wait()
        done = self._in_flight[key] = asyncio.Event()
        try:
            return await self._publish_one(exchange, message)
        finally:
            del self._in_flight[key]
            done.set()

    async def _publish_one(self, exchange: AbstractExchange, message: OutboxMessage) -> PublishResult:
        try:
            await exchange.publish(
                amqp_message(message),
                routing_key=message.routing_key,
                mandatory=True,
                timeout=self._settings.publish_timeout,
            )
        except aiormq.exceptions.PublishError as exc:
            frame = exc.frame
            where = (
                f" (exchange {frame.exchange!r}, routing key {frame.routing_key!r})"
                if isinstance(frame, aiormq.spec.Basic.Return)
                else ""
            )
            reply = frame.reply_text if isinstance(frame, aiormq.spec.Basic.Return) else str(exc)
            return PublishResult(message.id, ok=False, reason=f"unroutable: {reply}{where}")
        except aiormq.exceptions.DeliveryError as exc:
            return PublishResult(message.id, ok=False, reason=f"nacked by broker: {exc}", retryable=True)
        return PublishResult(message.id, ok=True)

    async def health(self) -> DestinationHealth:
        if self._exchange is None:
            return DestinationHealth(False, "RabbitMQ destination is not started")
        return self._link.health()

    async def close(self) -> None:
        self._exchange = None
        await self._link.close()
