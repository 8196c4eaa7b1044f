"""Connection loss through a TCP proxy: transient failures while down, nothing lost after recovery.

Defined behaviour: while the link is down ``publish`` raises ``TransientFailure``
at once (it does not wait for the reconnect) and ``health()`` is not ready; the
caller (the outbox) retries the whole batch later. A batch cut mid-flight also
raises ``TransientFailure``; retrying it may duplicate messages the broker had
already taken, never lose one (``message_id`` is stable for de-duplication).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator, Awaitable, Callable

import aio_pika
import pytest
from aio_pika.abc import AbstractChannel

from gateway.adapters.rabbitmq import RabbitDestination, RabbitOutboundSource, RabbitSettings
from gateway.domain.runtime.errors import BrokerAction, TransientFailure
from gateway.domain.runtime.ports import DestinationHealth, OutboundRequest
from gateway.domain.runtime.records import OutboxMessage
from tests.support.rabbitmq import collect
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.rabbitmq


@pytest.fixture
async def proxy(rabbit_url: str) -> AsyncIterator[TcpProxy]:
    async with TcpProxy("127.0.0.1", 5672) as p:
        yield p


@pytest.fixture
def proxied(settings: RabbitSettings, proxy: TcpProxy) -> RabbitSettings:
    return dataclasses.replace(settings, url=f"amqp://guest:guest@127.0.0.1:{proxy.port}/")


def batch(start: int, count: int) -> list[OutboxMessage]:
    return [
        OutboxMessage(
            id=f"ob-{n}",
            document_id=f"doc-{n}",
            destination="erp",
            routing_key="erp.850.acme",
            body=json.dumps({"n": n}).encode(),
            correlation_id=f"corr-{n}",
            headers={"partner": "acme", "document_type": "850"},
        )
        for n in range(start, start + count)
    ]


async def wait_for_health(
    check: Callable[[], Awaitable[DestinationHealth]], ready: bool
) -> DestinationHealth:
    for _ in range(200):
        health = await check()
        if health.ready is ready:
            return health
        await asyncio.sleep(0.025)
    raise AssertionError(f"health never became ready={ready}: {health}")


async def publish_until_confirmed(dest: RabbitDestination, messages: list[OutboxMessage]) -> int:
    """What the outbox does: retry the batch on TransientFailure. Returns the failures seen."""
    failures = 0
    while True:
        try:
            results = await dest.publish(messages)
        except TransientFailure:
            failures += 1
            await asyncio.sleep(0.05)
            continue
        assert all(r.ok for r in results), [r.reason for r in results if not r.ok]
        return failures


async def test_publish_while_down_is_transient_and_nothing_is_lost(
    proxied: RabbitSettings, proxy: TcpProxy, inspect_channel: AbstractChannel
) -> None:
    dest = RabbitDestination(proxied)
    await dest.start()
    try:
        assert await publish_until_confirmed(dest, batch(0, 200)) == 0

        proxy.cut()
        down = await wait_for_health(dest.health, ready=False)
        assert "unreachable" in down.detail or "closed" in down.detail
        assert "guest" not in down.detail  # no credentials in health details
        with pytest.raises(TransientFailure) as caught:
            await dest.publish(batch(200, 50))
        assert caught.value.http_status == 503

        proxy.restore()
        await wait_for_health(dest.health, ready=True)
        await publish_until_confirmed(dest, batch(200, 50))

        # Cut in the middle of a big batch: some confirms are outstanding when the link drops.
        in_flight = asyncio.create_task(publish_until_confirmed(dest, batch(250, 1500)))
        await asyncio.sleep(0.02)
        proxy.cut()
        await asyncio.sleep(0.3)
        proxy.restore()
        assert await asyncio.wait_for(in_flight, 15) >= 1  # the cut did hit the batch
    finally:
        await dest.close()

    expected = {f"doc-{n}" for n in range(1750)}
    got = await collect(inspect_channel, proxied.topology.queue_for("erp"), len(expected), timeout=10)
    ids = [m.message_id for m in got]
    assert set(ids) >= expected  # every message arrived; a cut batch may have been delivered twice
    assert set(ids) <= expected


async def test_outbound_consumer_resumes_after_reconnect(
    proxied: RabbitSettings, proxy: TcpProxy, inspect_channel: AbstractChannel
) -> None:
    source = RabbitOutboundSource(proxied)
    handled: set[str] = set()
    all_done = asyncio.Event()

    async def handler(request: OutboundRequest) -> BrokerAction:
        handled.add(request.message_id or "")
        if len(handled) == 20:
            all_done.set()
        return BrokerAction.ACK

    async def send(n: int) -> None:
        await inspect_channel.default_exchange.publish(
            aio_pika.Message(b"{}", message_id=f"out-{n}", delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
            routing_key=proxied.topology.outbound_queue,
        )

    runner = asyncio.create_task(source.run(handler))
    try:
        await wait_for_health(source.health, ready=True)
        for n in range(10):
            await send(n)
        proxy.cut()
        await wait_for_health(source.health, ready=False)
        for n in range(10, 20):
            await send(n)  # queued at the broker while the consumer is cut off
        proxy.restore()
        await asyncio.wait_for(all_done.wait(), 10)
    finally:
        await source.close()
        await asyncio.wait_for(runner, 5)
    assert handled == {f"out-{n}" for n in range(20)}
