"""``RabbitOutboundSource``: consumes ``edigate.outbound`` and settles each message per BrokerAction.

The handler decides a message's fate, by its returned :class:`BrokerAction` or
by raising a :class:`GatewayError` (whose ``broker_action`` applies, and whose
problem JSON becomes the dead-letter reason). Any other exception is treated as
a bug or an outage of something downstream: the message is retried like
``requeue``. Settlement:

* ``ack``     -> acknowledged.
* ``reject``  -> republished (same body and properties) to the dead-letter
  exchange with ``x-edigate-error`` = the reason and ``x-edigate-source-queue``,
  confirmed by the broker, then the original is acknowledged. A plain
  ``basic.reject`` would dead-letter too, but RabbitMQ keeps only the original
  headers, and support needs the reason next to the message. If that republish
  is refused, the message is rejected natively (dead-lettered without reason).
* ``requeue`` -> republished to the retry TTL queue for its retry number with
  ``x-edigate-retries`` incremented, then acknowledged; the TTL queue dead-letters
  it back to the outbound queue after the delay. After ``max_retries`` retries it
  is dead-lettered as for ``reject``, with the reason "gave up after N retries".

If the link drops mid-settlement, nothing is acknowledged and the broker
redelivers the message (at-least-once). Up to ``prefetch`` messages are handled
concurrently (aio-pika runs each delivery in its own task).
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime
from typing import Any

import aio_pika
import aiormq.exceptions
from aio_pika.abc import AbstractExchange, AbstractIncomingMessage, AbstractQueue, HeadersType

from gateway.adapters.rabbitmq.errors import BROKER_ERRORS
from gateway.adapters.rabbitmq.link import BrokerLink
from gateway.adapters.rabbitmq.settings import RabbitSettings
from gateway.adapters.rabbitmq.topology import declare_topology
from gateway.domain.runtime.errors import BrokerAction, GatewayError, TransientFailure
from gateway.domain.runtime.ports import DestinationHealth, OutboundHandler, OutboundRequest

__all__ = ["ERROR_HEADER", "RETRIES_HEADER", "SOURCE_HEADER", "RabbitOutboundSource"]

log = logging.getLogger(__name__)

ERROR_HEADER = "x-edigate-error"
RETRIES_HEADER = "x-edigate-retries"
SOURCE_HEADER = "x-edigate-source-queue"

# What may interrupt a settlement when the link drops (ready_channel raises TransientFailure).
_SETTLE_ERRORS: tuple[type[BaseException], ...] = (TransientFailure, *BROKER_ERRORS)


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return json.dumps(value, default=str, sort_keys=True)


def _aware(moment: datetime | None) -> datetime | None:
    """The AMQP timestamp (whole seconds, UTC) as an aware datetime."""
    if moment is None:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _retries(message: AbstractIncomingMessage) -> int:
    value = (message.headers or {}).get(RETRIES_HEADER, 0)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _copy(message: AbstractIncomingMessage, extra_headers: dict[str, Any]) -> aio_pika.Message:
    headers: HeadersType = {**(message.headers or {}), **extra_headers}
    return aio_pika.Message(
        body=message.body,
        headers=headers,
        content_type=message.content_type,
        content_encoding=message.content_encoding,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        priority=message.priority,
        correlation_id=message.correlation_id,
        reply_to=message.reply_to,
        message_id=message.message_id,
        timestamp=message.timestamp,
        type=message.type,
        app_id=message.app_id,
    )


class RabbitOutboundSource:
    """Feeds ``edigate.outbound`` to an :data:`OutboundHandler` (the ``OutboundSource`` port)."""

    def __init__(self, settings: RabbitSettings | None = None) -> None:
        self._settings = settings or RabbitSettings()
        self._link = BrokerLink(self._settings, "outbound consumer")
        self._queue: AbstractQueue | None = None
        self._dlx: AbstractExchange | None = None
        self._consumer_tag: str | None = None
        self._stop = asyncio.Event()
        self._busy = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def start(self) -> None:
        """Connect and declare the topology (``run`` calls it when needed)."""
        if self._queue is not None:
            return
        channel = await self._link.open(prefetch=self._settings.prefetch)
        try:
            declared = await declare_topology(channel, self._settings.topology)
        except BaseException:
            await self._link.close()
            raise
        self._queue, self._dlx = declared.outbound_queue, declared.dead_letter_exchange

    async def run(self, handler: OutboundHandler) -> None:
        """Consume until :meth:`close`; survives broker restarts through the robust connection."""
        await self.start()
        queue = self._queue
        if queue is None or self._consumer_tag is not None:
            raise RuntimeError("RabbitOutboundSource.run: closed, or already running")
        self._stop.clear()

        async def on_message(message: AbstractIncomingMessage) -> None:
            await self._process(message, handler)

        self._consumer_tag = await queue.consume(on_message)
        try:
            await self._stop.wait()
        finally:
            await self._cancel_consumer()

    async def health(self) -> DestinationHealth:
        """Ready only while consuming over a live link."""
        if self._queue is None:
            return DestinationHealth(False, "RabbitMQ outbound source is not started")
        if self._consumer_tag is None:
            return DestinationHealth(False, "RabbitMQ outbound source is not consuming (run() not called)")
        return self._link.health()

    async def close(self) -> None:
        """Stop consuming, let handlers in flight settle (up to ``close_timeout``), disconnect."""
        self._stop.set()
        await self._cancel_consumer()
        try:
            await asyncio.wait_for(self._idle.wait(), self._settings.close_timeout)
        except TimeoutError:
            log.warning("closing with %d outbound messages unsettled; the broker redelivers them", self._busy)
        self._queue = self._dlx = None
        await self._link.close()

    async def _cancel_consumer(self) -> None:
        tag, self._consumer_tag = self._consumer_tag, None
        if tag is None or self._queue is None:
            return
        try:
            await self._queue.cancel(tag)
        except BROKER_ERRORS as exc:
            log.debug("cancelling the outbound consumer: %s", exc)

    async def _process(self, message: AbstractIncomingMessage, handler: OutboundHandler) -> None:
        self._busy += 1
        self._idle.clear()
        try:
            action, reason = await self._decide(message, handler)
            await self._settle(message, action, reason)
        except _SETTLE_ERRORS as exc:
            log.warning(
                "settling outbound message %s failed (%s); the broker will redeliver it",
                message.message_id,
                exc,
            )
        finally:
            self._busy -= 1
            if self._busy == 0:
                self._idle.set()

    async def _decide(
        self, message: AbstractIncomingMessage, handler: OutboundHandler
    ) -> tuple[BrokerAction, str]:
        request = OutboundRequest(
            body=message.body,
            headers={key: _text(value) for key, value in (message.headers or {}).items()},
            message_id=message.message_id,
            correlation_id=message.correlation_id,
            # a retry copy is not a redelivery: it exists because handling failed (nothing stored)
            redelivered=bool(message.redelivered),
            first_seen=_aware(message.timestamp),
        )
        try:
            action = BrokerAction(await handler(request))
        except GatewayError as exc:
            return exc.broker_action, json.dumps(exc.as_problem(), sort_keys=True, default=str)
        except Exception as exc:  # a handler bug must not stop the consumer: retry, then dead-letter
            log.exception("outbound handler failed on message %s", message.message_id)
            return BrokerAction.REQUEUE, f"{type(exc).__name__}: {exc}"
        return action, f"handler returned {action.value}"

    async def _settle(self, message: AbstractIncomingMessage, action: BrokerAction, reason: str) -> None:
        if action is BrokerAction.ACK:
            await message.ack()
            return
        retries = _retries(message)
        if action is BrokerAction.REQUEUE:
            if retries < self._settings.max_retries:
                await self._retry_later(message, retries + 1)
                return
            reason = f"gave up after {retries} retries: {reason}"
        await self._dead_letter(message, reason, retries)

    async def _retry_later(self, message: AbstractIncomingMessage, retry_number: int) -> None:
        topology = self._settings.topology
        target = topology.retry_queue(topology.retry_delay_ms(retry_number))
        channel = self._link.ready_channel("scheduling an outbound retry")
        try:
            await channel.default_exchange.publish(
                _copy(message, {RETRIES_HEADER: retry_number}),
                routing_key=target,
                mandatory=True,
                timeout=self._settings.publish_timeout,
            )
        except aiormq.exceptions.DeliveryError as exc:
            log.error(
                "retry queue %s refused message %s (%s); requeueing it", target, message.message_id, exc
            )
            await message.nack(requeue=True)
            return
        await message.ack()

    async def _dead_letter(self, message: AbstractIncomingMessage, reason: str, retries: int) -> None:
        dlx = self._dlx
        self._link.ready_channel("dead-lettering an outbound message")
        if dlx is None:
            await message.reject(requeue=False)
            return
        headers: dict[str, Any] = {
            ERROR_HEADER: reason,
            SOURCE_HEADER: self._settings.topology.outbound_queue,
        }
        if retries:
            headers[RETRIES_HEADER] = retries
        try:
            await dlx.publish(
                _copy(message, headers),
                routing_key=self._settings.topology.outbound_queue,
                mandatory=True,
                timeout=self._settings.publish_timeout,
            )
        except aiormq.exceptions.DeliveryError as exc:
            log.error(
                "dead-letter exchange refused message %s (%s): rejecting natively", message.message_id, exc
            )
            await message.reject(requeue=False)
            return
        log.info("outbound message %s dead-lettered: %s", message.message_id, reason)
        await message.ack()
