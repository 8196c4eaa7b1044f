"""Routing over a real RabbitMQ: the full path to a consumer, broker outages, and two instances."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import aio_pika
import pytest

from gateway.adapters.rabbitmq import delete_topology
from gateway.config import RabbitSettings, Settings
from gateway.domain.canonical import PurchaseOrder, parse_document
from gateway.domain.runtime.records import ChannelMeta
from gateway.runtime import Gateway, rabbit_topology
from tests.support.services import rabbitmq_url
from tests.support.tcp_proxy import TcpProxy

from .conftest import make_settings, unique_rabbit
from .helpers import wait_for
from .samples import acme_850


@pytest.fixture
async def broker() -> AsyncIterator[aio_pika.abc.AbstractChannel]:
    connection = await aio_pika.connect(rabbitmq_url())
    channel = await connection.channel()
    yield channel
    await connection.close()


@pytest.fixture
def rabbit() -> RabbitSettings:
    return unique_rabbit()


async def _drain(
    channel: aio_pika.abc.AbstractChannel, queue: str, want: int, timeout: float
) -> list[aio_pika.abc.AbstractIncomingMessage]:
    """Consume until ``want`` distinct message_ids arrived (duplicates kept in the result)."""
    q = await channel.declare_queue(queue, passive=True)
    got: list[aio_pika.abc.AbstractIncomingMessage] = []
    done = asyncio.Event()

    async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        await message.ack()
        got.append(message)
        if len({m.message_id for m in got}) >= want:
            done.set()

    tag = await q.consume(on_message)
    try:
        await asyncio.wait_for(done.wait(), timeout)
    finally:
        await q.cancel(tag)
    return got


async def _cleanup(channel: aio_pika.abc.AbstractChannel, settings: Settings) -> None:
    await delete_topology(channel, rabbit_topology(settings))


async def test_ingested_850_reaches_the_erp_queue_with_the_right_properties(
    tmp_path: Path, broker: aio_pika.abc.AbstractChannel, rabbit: RabbitSettings
) -> None:
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path}/gw.db", amqp_url=rabbitmq_url(), rabbit=rabbit)
    gateway = await Gateway.open(settings)
    await gateway.start()
    try:
        outcome = await gateway.receive(
            acme_850(5), ChannelMeta("file", "acme-retail", correlation_id="corr-850-5")
        )
        [message] = await _drain(broker, f"{rabbit.queue_prefix}erp", 1, timeout=20)
        doc = parse_document(message.body)
        assert isinstance(doc, PurchaseOrder)
        assert doc.header.raw_document_id == outcome.record.id
        detail = await gateway.store.payload_detail(outcome.record.id)
        assert detail is not None
        [stored] = detail["documents"]
        assert message.message_id == stored["id"]
        assert message.correlation_id == "corr-850-5"
        assert message.content_type == "application/json"
        assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
        assert message.routing_key == "erp.purchase_order.acme-retail"
        assert dict(message.headers) == {
            "partner": "acme-retail",
            "document_type": "purchase_order",
            "schema_version": "1.0",
            "test": False,
            "replay_count": 0,
        }
        for _ in range(100):
            record = await gateway.store.get_payload(outcome.record.id)
            if record is not None and record.state.value == "delivered":
                break
            await asyncio.sleep(0.05)
        assert record is not None
        assert record.state.value == "delivered"
        assert await gateway.store.outbox_backlog() == 0
    finally:
        await gateway.stop()
        await _cleanup(broker, settings)


async def test_replay_from_canonical_republishes_with_the_same_message_id(
    tmp_path: Path, broker: aio_pika.abc.AbstractChannel, rabbit: RabbitSettings
) -> None:
    from gateway.domain.usecases.replay import ReplayMode, ReplayRequest

    settings = make_settings(tmp_path, f"sqlite:///{tmp_path}/gw.db", amqp_url=rabbitmq_url(), rabbit=rabbit)
    gateway = await Gateway.open(settings)
    await gateway.start()
    try:
        outcome = await gateway.receive(acme_850(6), ChannelMeta("file", "acme-retail"))
        [first] = await _drain(broker, f"{rabbit.queue_prefix}erp", 1, timeout=20)
        job = await gateway.replay.run(
            ReplayRequest(
                ReplayMode.CANONICAL, "ERP restored a backup", "support", payload_ids=(outcome.record.id,)
            )
        )
        assert (job.total, job.succeeded, job.failed) == (1, 1, [])
        [again] = await _drain(broker, f"{rabbit.queue_prefix}erp", 1, timeout=20)
        assert again.message_id == first.message_id
        assert again.headers["replay_count"] == 1
        assert json.loads(again.body) == json.loads(first.body)
    finally:
        await gateway.stop()
        await _cleanup(broker, settings)


async def test_broker_outage_loses_nothing_and_delivery_resumes(
    tmp_path: Path, broker: aio_pika.abc.AbstractChannel, rabbit: RabbitSettings
) -> None:
    proxy = await TcpProxy("127.0.0.1", 5672).start()
    url = rabbitmq_url().replace("127.0.0.1:5672", f"127.0.0.1:{proxy.port}")
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path}/gw.db", amqp_url=url, rabbit=rabbit)
    settings.pipeline.poll_seconds = 0.2
    gateway = await Gateway.open(settings)
    await gateway.start()
    try:
        for n in range(1, 21):
            await gateway.receive(acme_850(100 + n), ChannelMeta("file", "acme-retail"))
        await asyncio.sleep(0.3)
        proxy.cut()  # the broker vanishes mid-stream
        for n in range(21, 41):
            await gateway.receive(acme_850(100 + n), ChannelMeta("file", "acme-retail"))
        await asyncio.sleep(1.5)
        health = await gateway.health()
        assert not health["destination"].ready
        proxy.restore()
        got = await _drain(broker, f"{rabbit.queue_prefix}erp", 40, timeout=60)
        ids = {m.message_id for m in got}
        assert len(ids) == 40
        for _ in range(100):
            if await gateway.store.outbox_backlog() == 0:
                break
            await asyncio.sleep(0.1)
        assert await gateway.store.outbox_backlog() == 0
    finally:
        await gateway.stop()
        await proxy.close()
        await _cleanup(broker, settings)


async def test_two_instances_share_one_database_and_broker_without_double_routing(
    tmp_path: Path, broker: aio_pika.abc.AbstractChannel, rabbit: RabbitSettings, pg_runtime_url: str
) -> None:
    url = rabbitmq_url()
    one = await Gateway.open(
        make_settings(tmp_path, pg_runtime_url, instance_id="one", amqp_url=url, rabbit=rabbit)
    )
    two = await Gateway.open(
        make_settings(tmp_path, pg_runtime_url, instance_id="two", amqp_url=url, rabbit=rabbit)
    )
    from .conftest import _truncate

    await _truncate(one)
    await one.start()
    await two.start()
    try:
        await asyncio.gather(
            *(
                (one if n % 2 else two).receive(acme_850(1000 + n), ChannelMeta("file", "acme-retail"))
                for n in range(60)
            )
        )
        got = await _drain(broker, f"{rabbit.queue_prefix}erp", 60, timeout=60)
        await asyncio.sleep(1.0)  # anything routed twice would arrive by now
        extra = await _drain_available(broker, f"{rabbit.queue_prefix}erp")
        ids = [m.message_id for m in got + extra]
        assert len(ids) == len(set(ids)) == 60
        sent = sorted((tmp_path / "filedrop" / "acme-retail" / "outbox").glob("*.x12"))
        assert len(sent) == 60  # one 997 per 850 ...
        isa13s = [p.read_bytes().split(b"*")[13] for p in sent]
        assert len(set(isa13s)) == 60  # ... each with its own interchange control number
    finally:
        await one.stop()
        await two.stop()
        await _cleanup(broker, one.settings)


async def _drain_available(
    channel: aio_pika.abc.AbstractChannel, queue: str
) -> list[aio_pika.abc.AbstractIncomingMessage]:
    q = await channel.declare_queue(queue, passive=True)
    out = []
    while (message := await q.get(fail=False, timeout=2)) is not None:
        await message.ack()
        out.append(message)
    return out


async def test_replay_from_raw_is_processed_again_and_republished_with_the_same_message_id(
    tmp_path: Path, broker: aio_pika.abc.AbstractChannel, rabbit: RabbitSettings
) -> None:
    from gateway.domain.usecases.replay import ReplayMode, ReplayRequest

    settings = make_settings(tmp_path, f"sqlite:///{tmp_path}/gw.db", amqp_url=rabbitmq_url(), rabbit=rabbit)
    gateway = await Gateway.open(settings)
    await gateway.start()
    try:
        outcome = await gateway.receive(acme_850(8), ChannelMeta("file", "acme-retail", correlation_id="c-8"))
        [first] = await _drain(broker, f"{rabbit.queue_prefix}erp", 1, timeout=20)
        assert first.headers["replay_count"] == 0
        job = await gateway.replay.run(
            ReplayRequest(ReplayMode.RAW, "mapping fixed", "support", payload_ids=(outcome.record.id,))
        )
        assert (job.succeeded, job.failed) == (1, [])
        [again] = await _drain(broker, f"{rabbit.queue_prefix}erp", 1, timeout=20)
        assert again.message_id == first.message_id
        assert again.correlation_id == "c-8"
        assert again.headers["replay_count"] == 1
        assert json.loads(again.body) == json.loads(first.body)
        record = await gateway.store.get_payload(outcome.record.id)
        assert record is not None
        assert record.replay_count == 1
        trail = [e.state for e in await gateway.store.audit_trail("payload", outcome.record.id)]
        assert trail.count("parsed") == 2  # processed again from the stored bytes
        assert "replayed" in trail
    finally:
        await gateway.stop()
        await _cleanup(broker, settings)


async def test_an_unroutable_publish_fails_the_payload_and_a_canonical_replay_recovers_it(
    tmp_path: Path, broker: aio_pika.abc.AbstractChannel, rabbit: RabbitSettings
) -> None:
    from gateway.adapters.rabbitmq import declare_topology
    from gateway.domain.runtime.lifecycle import State, Step
    from gateway.domain.usecases.replay import ReplayMode, ReplayRequest

    settings = make_settings(tmp_path, f"sqlite:///{tmp_path}/gw.db", amqp_url=rabbitmq_url(), rabbit=rabbit)
    gateway = await Gateway.open(settings)
    await gateway.start()
    try:
        for _ in range(200):  # the outbound consumer declares the topology too: let it finish first
            if (await gateway.health())["outbound"].ready:
                break
            await asyncio.sleep(0.05)
        await broker.queue_delete(f"{rabbit.queue_prefix}erp")  # someone deleted the ERP's queue
        outcome = await gateway.receive(acme_850(9), ChannelMeta("file", "acme-retail"))
        pid = outcome.record.id

        async def in_state(state: State) -> bool:
            record = await gateway.store.get_payload(pid)
            return record is not None and record.state is state

        await wait_for(lambda: in_state(State.FAILED), timeout=20, what="the publish to fail")
        record = await gateway.store.get_payload(pid)
        assert record is not None
        assert (record.state, record.failed_step) == (State.FAILED, Step.PUBLISH)
        assert "unroutable" in (record.reason or "")
        detail = await gateway.store.payload_detail(pid)
        assert detail is not None
        [doc] = detail["documents"]
        assert (doc["state"], doc["failed_step"]) == ("failed", "publish")
        assert "unroutable" in (doc["reason"] or "")

        await declare_topology(broker, rabbit_topology(settings))  # the queue is back
        job = await gateway.replay.run(
            ReplayRequest(ReplayMode.CANONICAL, "queue restored", "support", payload_ids=(pid,))
        )
        assert (job.succeeded, job.failed) == (1, [])
        [message] = await _drain(broker, f"{rabbit.queue_prefix}erp", 1, timeout=20)
        assert message.message_id == doc["id"]
        await wait_for(lambda: in_state(State.DELIVERED), timeout=10, what="delivery after the replay")
        record = await gateway.store.get_payload(pid)
        assert record is not None
        assert (record.state, record.failed_step, record.reason) == (State.DELIVERED, None, None)
    finally:
        await gateway.stop()
        await _cleanup(broker, settings)
