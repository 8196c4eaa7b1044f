"""Declares (and, for tests and teardown, deletes) the broker topology the gateway relies on.

Design (names from :class:`RabbitTopology`, defaults shown)::

    edigate.documents (topic) --"erp.#"--> edigate.erp  (quorum)  --+
                              --"wms.#"--> edigate.wms  (quorum)  --+  rejected by a consumer,
    (default exchange) -------------------> edigate.outbound (quorum) -+  or x-delivery-limit reached
                                                                       v
                                      edigate.dlx (fanout) --> edigate.dead-letter (quorum)

    delayed retry of outbound requests:
    (default exchange) --> edigate.outbound.retry.<N>ms (quorum, x-message-ttl=N)
                              -- expires, dead-letters via the default exchange --> edigate.outbound

* Routed canonical documents go to the topic exchange with routing key
  ``<destination>.<document_type>.<partner_id>``; each destination has one
  durable quorum queue bound ``<destination>.#``.
* ERP/WMS publish canonical replies straight to the ``edigate.outbound`` queue
  (default exchange, routing key = queue name).
* Retry is a ladder of TTL queues, one per configured delay. The outbound
  consumer republishes a message to the queue for its retry number; when the
  TTL expires RabbitMQ dead-letters it back onto the outbound queue. No plugin
  is needed and each delay holds messages of a single TTL, so expiry at the
  head is exact.
* Quorum queues dead-letter ``at-least-once`` (RabbitMQ >= 3.10, which needs
  ``x-overflow=reject-publish``; no length limit is set, so publishers are never
  refused), so a message is not lost between a queue and its dead-letter target.
* ``x-delivery-limit`` on the work queues dead-letters a poison message that
  keeps killing its consumer before it can be acknowledged.

Declaring is idempotent; a queue that already exists with other arguments
makes start-up fail with :class:`Conflict` naming the queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractQueue

from gateway.adapters.rabbitmq.errors import translate
from gateway.adapters.rabbitmq.settings import RabbitTopology

__all__ = ["DeclaredTopology", "declare_topology", "delete_topology"]


@dataclass(frozen=True, slots=True)
class DeclaredTopology:
    exchange: AbstractExchange
    dead_letter_exchange: AbstractExchange
    outbound_queue: AbstractQueue


def _quorum_args(topology: RabbitTopology, *, dead_letter: bool) -> dict[str, Any]:
    args: dict[str, Any] = {"x-queue-type": "quorum"}
    if dead_letter:
        args.update(
            {
                "x-dead-letter-exchange": topology.dead_letter_exchange,
                "x-dead-letter-strategy": "at-least-once",
                "x-overflow": "reject-publish",
                "x-delivery-limit": topology.delivery_limit,
            }
        )
    return args


async def declare_topology(channel: AbstractChannel, topology: RabbitTopology) -> DeclaredTopology:
    """Declare every exchange, queue and binding; safe to call on each start-up."""
    try:
        exchange = await channel.declare_exchange(
            topology.exchange, aio_pika.ExchangeType.TOPIC, durable=True
        )
        dlx = await channel.declare_exchange(
            topology.dead_letter_exchange, aio_pika.ExchangeType.FANOUT, durable=True
        )
        dlq = await channel.declare_queue(
            topology.dead_letter_queue, durable=True, arguments=_quorum_args(topology, dead_letter=False)
        )
        await dlq.bind(dlx, routing_key="")
        for destination in topology.destinations:
            queue = await channel.declare_queue(
                topology.queue_for(destination),
                durable=True,
                arguments=_quorum_args(topology, dead_letter=True),
            )
            await queue.bind(exchange, routing_key=f"{destination}.#")
        outbound = await channel.declare_queue(
            topology.outbound_queue, durable=True, arguments=_quorum_args(topology, dead_letter=True)
        )
        for delay_ms in topology.retry_delays_ms:
            await channel.declare_queue(
                topology.retry_queue(delay_ms),
                durable=True,
                arguments={
                    "x-queue-type": "quorum",
                    "x-message-ttl": delay_ms,
                    "x-dead-letter-exchange": "",
                    "x-dead-letter-routing-key": topology.outbound_queue,
                    "x-dead-letter-strategy": "at-least-once",
                    "x-overflow": "reject-publish",
                },
            )
    except Exception as exc:
        raise translate(exc, "declaring the RabbitMQ topology") from exc
    return DeclaredTopology(exchange=exchange, dead_letter_exchange=dlx, outbound_queue=outbound)


async def delete_topology(channel: AbstractChannel, topology: RabbitTopology) -> None:
    """Delete every queue and exchange of ``topology`` (messages included); missing ones are fine."""
    try:
        for name in topology.queues:
            await channel.queue_delete(name)
        for name in topology.exchanges:
            await channel.exchange_delete(name)
    except Exception as exc:
        raise translate(exc, "deleting the RabbitMQ topology") from exc
