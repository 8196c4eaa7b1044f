"""RabbitDestination against the real broker: topology, routing, properties, confirms, unroutable."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import aio_pika
import aiormq.exceptions
import pytest
from aio_pika.abc import AbstractChannel, AbstractRobustConnection

from gateway.adapters.rabbitmq import RabbitDestination, RabbitSettings, RabbitTopology
from gateway.domain.runtime.errors import Conflict, TransientFailure
from gateway.domain.runtime.records import OutboxMessage
from tests.support.rabbitmq import collect, queue_depth
from tests.support.services import require_service

pytestmark = pytest.mark.rabbitmq


def outbox(n: int, destination: str = "erp", doc_type: str = "850", partner: str = "acme") -> OutboxMessage:
    return OutboxMessage(
        id=f"ob-{destination}-{n}",
        document_id=f"doc-{n}",
        destination=destination,
        routing_key=f"{destination}.{doc_type}.{partner}",
        body=json.dumps({"document_type": doc_type, "n": n}).encode(),
        correlation_id=f"corr-{n}",
        headers={
            "partner": partner,
            "document_type": doc_type,
            "schema_version": "1",
            "test": True,
            "replay_count": 0,
        },
    )


@pytest.fixture
async def destination(settings: RabbitSettings) -> AsyncIterator[RabbitDestination]:
    dest = RabbitDestination(settings)
    await dest.start()
    yield dest
    await dest.close()


async def _declare_fails(amqp: AbstractRobustConnection, name: str, arguments: dict[str, Any]) -> str:
    """Re-declare ``name`` with ``arguments`` on a fresh channel; the broker's refusal, or ""."""
    channel = await amqp.channel()
    try:
        await channel.declare_queue(name, durable=True, arguments=arguments)
    except aiormq.exceptions.ChannelPreconditionFailed as exc:
        return str(exc)
    await channel.close()
    return ""


async def test_start_declares_quorum_queues_with_dead_lettering(
    destination: RabbitDestination, topology: RabbitTopology, amqp: AbstractRobustConnection
) -> None:
    # RabbitMQ refuses a re-declaration whose arguments differ, so a clean re-declaration with the
    # expected arguments proves them, and one that differs only in the queue type must be refused.
    work: dict[str, Any] = {
        "x-queue-type": "quorum",
        "x-dead-letter-exchange": topology.dead_letter_exchange,
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",
        "x-delivery-limit": 5,
    }
    retry: dict[str, Any] = {
        "x-queue-type": "quorum",
        "x-message-ttl": 150,
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": topology.outbound_queue,
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",
    }
    expected: dict[str, dict[str, Any]] = {
        topology.queue_for("erp"): work,
        topology.queue_for("wms"): work,
        topology.outbound_queue: work,
        topology.dead_letter_queue: {"x-queue-type": "quorum"},
        topology.retry_queue(150): retry,
        topology.retry_queue(300): {**retry, "x-message-ttl": 300},
    }
    assert set(expected) == set(topology.queues)
    for name, arguments in expected.items():
        assert await _declare_fails(amqp, name, arguments) == "", name
        refusal = await _declare_fails(amqp, name, {**arguments, "x-queue-type": "classic"})
        assert "x-queue-type" in refusal, name
    assert "x-delivery-limit" in await _declare_fails(
        amqp, topology.outbound_queue, {**work, "x-delivery-limit": 6}
    )
    assert (await destination.health()).ready


async def test_start_twice_is_idempotent_and_redeclaring_is_harmless(
    destination: RabbitDestination, settings: RabbitSettings
) -> None:
    await destination.start()
    other = RabbitDestination(settings)
    await other.start()  # same names, same arguments: no PRECONDITION_FAILED
    await other.close()


async def test_publish_routes_to_destination_queue_with_all_properties(
    destination: RabbitDestination, topology: RabbitTopology, inspect_channel: AbstractChannel
) -> None:
    msg = outbox(1)
    results = await destination.publish([msg])
    assert [(r.outbox_id, r.ok, r.reason) for r in results] == [("ob-erp-1", True, None)]

    (got,) = await collect(inspect_channel, topology.queue_for("erp"), 1)
    assert got.body == msg.body
    assert got.routing_key == "erp.850.acme"
    assert got.content_type == "application/json"
    assert got.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    assert got.message_id == "doc-1"
    assert got.correlation_id == "corr-1"
    assert got.headers == {
        "partner": "acme",
        "document_type": "850",
        "schema_version": "1",
        "test": True,
        "replay_count": 0,
    }
    assert await queue_depth(inspect_channel, topology.queue_for("wms")) == 0


async def test_unroutable_message_fails_alone_and_results_keep_order(
    destination: RabbitDestination, topology: RabbitTopology, inspect_channel: AbstractChannel
) -> None:
    batch = [outbox(1), outbox(2, destination="nowhere"), outbox(3, destination="wms")]
    results = await destination.publish(batch)
    assert [r.outbox_id for r in results] == ["ob-erp-1", "ob-nowhere-2", "ob-wms-3"]
    assert [r.ok for r in results] == [True, False, True]
    reason = results[1].reason or ""
    assert reason.startswith("unroutable: NO_ROUTE")
    assert "nowhere.850.acme" in reason
    assert [m.message_id for m in await collect(inspect_channel, topology.queue_for("wms"), 1)] == ["doc-3"]


async def test_batch_with_repeated_document_ids_is_confirmed_and_delivered(
    destination: RabbitDestination, topology: RabbitTopology, inspect_channel: AbstractChannel
) -> None:
    # One document routed to both destinations shares its message_id; a third copy, ahead of the
    # others, is unroutable. aiormq maps a returned message to its confirm by message_id, so the
    # return must be charged to that copy and not to the later ones with the same id.
    order = [5, *(n for n in range(300) if n != 5)]
    batch = [outbox(5, destination="nowhere")]
    batch += [m for n in order for m in (outbox(n), outbox(n, destination="wms"))]
    results = await destination.publish(batch)
    assert len(results) == len(batch)
    failed = [r.outbox_id for r in results if not r.ok]
    assert failed == ["ob-nowhere-5"]
    erp = await collect(inspect_channel, topology.queue_for("erp"), 300)
    wms = await collect(inspect_channel, topology.queue_for("wms"), 300)
    assert sorted(m.message_id or "" for m in erp) == sorted(f"doc-{n}" for n in range(300))
    assert sorted(m.message_id or "" for m in wms) == sorted(f"doc-{n}" for n in range(300))


async def test_not_ready_before_start_and_a_publish_starts_it(
    settings: RabbitSettings, topology: RabbitTopology, inspect_channel: AbstractChannel
) -> None:
    dest = RabbitDestination(settings)  # e.g. the broker was down when the gateway started
    try:
        health = await dest.health()
        assert not health.ready
        assert "not started" in health.detail
        assert await dest.publish([]) == []
        [result] = await dest.publish([outbox(1)])  # the broker is up now: it connects and publishes
        assert result.ok
        assert (await dest.health()).ready
        assert [m.message_id for m in await collect(inspect_channel, topology.queue_for("erp"), 1)] == [
            "doc-1"
        ]
    finally:
        await dest.close()


async def test_publish_while_the_broker_stays_unreachable_is_transient(topology: RabbitTopology) -> None:
    port = _free_port()  # nobody listens there
    dest = RabbitDestination(
        RabbitSettings(url=f"amqp://guest:guest@127.0.0.1:{port}/", topology=topology, connect_timeout=1.0)
    )
    with pytest.raises(TransientFailure, match=f"127.0.0.1:{port}"):
        await dest.publish([outbox(1)])
    assert not (await dest.health()).ready
    await dest.close()


async def test_unreachable_broker_at_start_is_transient(topology: RabbitTopology) -> None:
    port = _free_port()  # nobody listens there
    dest = RabbitDestination(
        RabbitSettings(url=f"amqp://guest:secret@127.0.0.1:{port}/", topology=topology, connect_timeout=1.0)
    )
    with pytest.raises(TransientFailure, match=f"127.0.0.1:{port}") as caught:
        await dest.start()
    assert "secret" not in str(caught.value)
    assert caught.value.__cause__ is not None
    await dest.close()


async def test_queue_declared_with_other_arguments_is_a_conflict(
    settings: RabbitSettings, topology: RabbitTopology, inspect_channel: AbstractChannel
) -> None:
    await inspect_channel.declare_queue(topology.queue_for("erp"), durable=True)  # a classic queue
    dest = RabbitDestination(settings)
    with pytest.raises(Conflict, match="PRECONDITION_FAILED"):
        await dest.start()
    assert not (await dest.health()).ready
    await dest.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_missing_broker_fails_under_ci_and_skips_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    port = _free_port()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="rabbitmq-server -detached"):
        require_service("RabbitMQ", "127.0.0.1", port, "rabbitmq-server -detached")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match=f"not reachable at 127.0.0.1:{port}"):
        require_service("RabbitMQ", "127.0.0.1", port, "rabbitmq-server -detached")
