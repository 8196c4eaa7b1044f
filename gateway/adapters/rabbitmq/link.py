"""One robust connection with one confirmed channel, and what its health looks like from outside.

Resilience is aio-pika's layer (``connect_robust``): after a drop it reconnects
every ``reconnect_interval`` seconds and restores the channel, its QoS, the
declared exchanges/queues and the consumers. This module only observes it: the
last close reason is kept for ``health()``, and :meth:`BrokerLink.ready_channel`
raises :class:`TransientFailure` while the link is down instead of waiting on a
reconnect.

The publisher (``RabbitDestination``) and the consumer (``RabbitOutboundSource``)
each own a link: RabbitMQ's flow control blocks a publishing connection, and a
consumer sharing it would stall too.
"""

from __future__ import annotations

import logging

import aio_pika
from aio_pika.abc import AbstractRobustChannel, AbstractRobustConnection

from gateway.adapters.rabbitmq.errors import BROKER_ERRORS, translate
from gateway.adapters.rabbitmq.settings import RabbitSettings
from gateway.domain.runtime.errors import TransientFailure
from gateway.domain.runtime.ports import DestinationHealth

__all__ = ["BrokerLink"]

log = logging.getLogger(__name__)


class BrokerLink:
    def __init__(self, settings: RabbitSettings, purpose: str) -> None:
        self._settings = settings
        self._purpose = purpose
        self._connection: AbstractRobustConnection | None = None
        self._channel: AbstractRobustChannel | None = None
        self._last_error: str = ""
        self._closing = False

    @property
    def where(self) -> str:
        return self._settings.safe_url

    async def open(self, *, prefetch: int | None = None) -> AbstractRobustChannel:
        """Connect (failing fast if the broker is unreachable now) and open the confirmed channel."""
        if self._channel is not None:
            return self._channel
        self._closing = False
        try:
            connection = await aio_pika.connect_robust(
                self._settings.url,
                timeout=self._settings.connect_timeout,
                reconnect_interval=self._settings.reconnect_interval,
                client_properties={"connection_name": f"{self._settings.connection_name}:{self._purpose}"},
            )
        except BROKER_ERRORS as exc:
            raise translate(exc, f"connecting to RabbitMQ at {self.where}") from exc
        connection.close_callbacks.add(self._on_close)
        connection.reconnect_callbacks.add(self._on_reconnect)
        self._connection = connection
        try:
            channel = connection.channel(publisher_confirms=True, on_return_raises=True)
            await channel.initialize()
            if prefetch is not None:
                await channel.set_qos(prefetch_count=prefetch)
        except BROKER_ERRORS as exc:
            await self.close()
            raise translate(exc, f"opening a channel on {self.where}") from exc
        self._channel = channel
        return channel

    def ready_channel(self, doing: str) -> AbstractRobustChannel:
        """The channel when the link is up; otherwise :class:`TransientFailure` saying why."""
        health = self.health()
        if not health.ready or self._channel is None:
            raise TransientFailure(f"{doing}: {health.detail}")
        return self._channel

    def health(self) -> DestinationHealth:
        connection, channel = self._connection, self._channel
        if connection is None or channel is None:
            return DestinationHealth(False, f"RabbitMQ {self._purpose} link to {self.where} is not started")
        if connection.is_closed:
            return DestinationHealth(False, f"RabbitMQ {self._purpose} link to {self.where} is closed")
        if not connection.connected.is_set():
            reason = f": {self._last_error}" if self._last_error else ""
            return DestinationHealth(False, f"RabbitMQ at {self.where} unreachable, reconnecting{reason}")
        if channel.is_closed:
            return DestinationHealth(False, f"RabbitMQ channel on {self.where} is closed, restoring")
        return DestinationHealth(True, f"connected to {self.where}")

    async def close(self) -> None:
        self._closing = True
        connection, self._connection, self._channel = self._connection, None, None
        if connection is None:
            return
        try:
            await connection.close()
        except BROKER_ERRORS as exc:  # closing a dead link must not fail shutdown
            log.debug("closing RabbitMQ %s link: %s", self._purpose, exc)

    def _on_close(self, _sender: object, exc: BaseException | None = None) -> None:
        if self._closing:
            return
        self._last_error = f"{type(exc).__name__}: {exc}" if exc is not None else "connection closed"
        log.warning("RabbitMQ %s link to %s lost: %s", self._purpose, self.where, self._last_error)

    def _on_reconnect(self, _sender: object) -> None:
        log.info("RabbitMQ %s link to %s restored", self._purpose, self.where)
        self._last_error = ""
