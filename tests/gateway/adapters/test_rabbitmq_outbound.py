"""RabbitOutboundSource against the real broker: ack, reject with reason, delayed retry, give-up."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable

import aio_pika
import pytest
from aio_pika.abc import AbstractChannel

from gateway.adapters.rabbitmq import (
    ERROR_HEADER,
    RETRIES_HEADER,
    SOURCE_HEADER,
    RabbitOutboundSource,
    RabbitSettings,
    RabbitTopology,
)
from gateway.domain.runtime.errors import BrokerAction, InvalidDocument, TransientFailure
from gateway.domain.runtime.ports import OutboundRequest
from tests.support.rabbitmq import collect, queue_depth

pytestmark = pytest.mark.rabbitmq

Handler = Callable[[OutboundRequest], Awaitable[BrokerAction]]


@pytest.fixture
async def source(settings: RabbitSettings) -> AsyncIterator[RabbitOutboundSource]:
    src = RabbitOutboundSource(settings)
    await src.start()
    yield src
    await src.close()


async def send(channel: AbstractChannel, topology: RabbitTopology, name: str, **headers: bool) -> None:
    """Publish like an ERP does: straight to the outbound queue, persistent, with confirms."""
    await channel.default_exchange.publish(
        aio_pika.Message(
            body=json.dumps({"name": name}).encode(),
            message_id=f"msg-{name}",
            correlation_id=f"corr-{name}",
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            headers={"partner": "acme", **headers},
        ),
        routing_key=topology.outbound_queue,
    )


async def run_until(source: RabbitOutboundSource, handler: Handler, done: asyncio.Event) -> None:
    task = asyncio.create_task(source.run(handler))
    try:
        await asyncio.wait_for(done.wait(), 10)
    finally:
        await source.close()
        await asyncio.wait_for(task, 5)


async def test_each_broker_action_settles_the_message(
    source: RabbitOutboundSource, topology: RabbitTopology, inspect_channel: AbstractChannel
) -> None:
    seen: Counter[str] = Counter()
    requests: dict[str, OutboundRequest] = {}
    settled = asyncio.Event()

    async def handler(request: OutboundRequest) -> BrokerAction:
        name = json.loads(request.body)["name"]
        seen[name] += 1
        requests[name] = request
        if name == "flaky" and seen[name] == 1:
            raise TransientFailure("partner channel busy")
        if name == "later" and seen[name] == 1:
            return BrokerAction.REQUEUE
        if name == "invalid":
            raise InvalidDocument("no partner_id", details=[{"field": "partner_id"}])
        if name == "refused":
            return BrokerAction.REJECT
        if seen["ok"] and seen["flaky"] == 2 and seen["later"] == 2 and seen["invalid"] and seen["refused"]:
            settled.set()
        return BrokerAction.ACK

    for name in ("ok", "flaky", "later", "invalid", "refused"):
        await send(inspect_channel, topology, name, test=True)
    await run_until(source, handler, settled)

    assert seen == {"ok": 1, "flaky": 2, "later": 2, "invalid": 1, "refused": 1}
    ok = requests["ok"]
    assert ok.message_id == "msg-ok"
    assert ok.correlation_id == "corr-ok"
    assert ok.headers == {"partner": "acme", "test": "true"}
    assert requests["flaky"].headers[RETRIES_HEADER] == "1"  # the retry came back through the TTL queue
    # first deliveries and delayed copies (handling failed or was put off: nothing was stored)
    # are not redeliveries
    assert not ok.redelivered
    assert not requests["later"].redelivered
    assert not requests["flaky"].redelivered

    dead = {m.message_id: m for m in await collect(inspect_channel, topology.dead_letter_queue, 2)}
    assert set(dead) == {"msg-invalid", "msg-refused"}
    invalid = dead["msg-invalid"]
    assert json.loads(invalid.body) == {"name": "invalid"}
    assert invalid.correlation_id == "corr-invalid"
    assert invalid.headers is not None
    assert json.loads(str(invalid.headers[ERROR_HEADER])) == {
        "error": "InvalidDocument",
        "message": "no partner_id",
        "details": [{"field": "partner_id"}],
    }
    assert invalid.headers[SOURCE_HEADER] == topology.outbound_queue
    assert invalid.headers["partner"] == "acme"
    assert dead["msg-refused"].headers is not None
    assert dead["msg-refused"].headers[ERROR_HEADER] == "handler returned reject"
    for name in topology.queues:
        if name != topology.dead_letter_queue:
            assert await queue_depth(inspect_channel, name) == 0, name


async def test_handler_bug_is_retried_then_dead_lettered_with_the_reason(
    source: RabbitOutboundSource, settings: RabbitSettings, inspect_channel: AbstractChannel
) -> None:
    topology = settings.topology
    attempts: list[str] = []
    gave_up = asyncio.Event()

    async def handler(request: OutboundRequest) -> BrokerAction:
        attempts.append(request.headers.get(RETRIES_HEADER, "0"))
        if len(attempts) > settings.max_retries:
            gave_up.set()
        raise KeyError("mapping table missing")

    await send(inspect_channel, topology, "poison")
    await run_until(source, handler, gave_up)

    assert attempts == ["0", "1", "2"]  # max_retries=2: the first try and two delayed retries
    (dead,) = await collect(inspect_channel, topology.dead_letter_queue, 1)
    assert dead.message_id == "msg-poison"
    assert dead.headers is not None
    assert dead.headers[ERROR_HEADER] == "gave up after 2 retries: KeyError: 'mapping table missing'"
    assert dead.headers[RETRIES_HEADER] == 2
    assert await queue_depth(inspect_channel, topology.outbound_queue) == 0


async def test_retry_waits_for_its_delay(
    source: RabbitOutboundSource, topology: RabbitTopology, inspect_channel: AbstractChannel
) -> None:
    loop = asyncio.get_running_loop()
    times: list[float] = []
    second = asyncio.Event()

    async def handler(request: OutboundRequest) -> BrokerAction:
        times.append(loop.time())
        if len(times) == 1:
            return BrokerAction.REQUEUE
        second.set()
        return BrokerAction.ACK

    await send(inspect_channel, topology, "slow")
    await run_until(source, handler, second)
    assert len(times) == 2
    assert times[1] - times[0] >= 0.14  # the first retry delay is 150 ms


async def test_health_follows_the_lifecycle(settings: RabbitSettings) -> None:
    src = RabbitOutboundSource(settings)
    await src.close()  # closing what never started is harmless
    assert "not started" in (await src.health()).detail
    await src.start()
    assert "not consuming" in (await src.health()).detail

    async def handler(request: OutboundRequest) -> BrokerAction:
        return BrokerAction.ACK

    runner = asyncio.create_task(src.run(handler))
    for _ in range(100):
        if (await src.health()).ready:
            break
        await asyncio.sleep(0.02)
    assert (await src.health()).ready
    await src.close()
    await asyncio.wait_for(runner, 5)  # run() returns once closed
    assert not (await src.health()).ready


async def test_a_message_the_broker_redelivers_is_flagged_with_when_it_was_published(
    source: RabbitOutboundSource, topology: RabbitTopology, amqp: aio_pika.abc.AbstractRobustConnection
) -> None:
    """A consumer that took a message and went away without settling it (a crash): the broker
    delivers it again, flagged; its AMQP timestamp says since when it may have been stored."""
    from datetime import UTC, datetime

    published = datetime(2026, 12, 5, 9, 30, 0, tzinfo=UTC)
    crashing = await amqp.channel()
    await crashing.default_exchange.publish(
        aio_pika.Message(b'{"name": "taken"}', timestamp=published, delivery_mode=aio_pika.DeliveryMode(2)),
        routing_key=topology.outbound_queue,
    )
    queue = await crashing.declare_queue(topology.outbound_queue, passive=True)
    taken = await queue.get(no_ack=False, timeout=5)
    assert taken is not None
    assert not taken.redelivered
    await crashing.close()  # without an ack: back to the queue
    got: list[OutboundRequest] = []
    done = asyncio.Event()

    async def handler(request: OutboundRequest) -> BrokerAction:
        got.append(request)
        done.set()
        return BrokerAction.ACK

    await run_until(source, handler, done)
    [request] = got
    assert request.redelivered
    assert request.first_seen == published
