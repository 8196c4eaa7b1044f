"""RabbitMQ fixtures for the adapter tests: a private topology per test on the real broker.

Every test gets its own exchange and queue names (a uuid suffix through
``RabbitTopology.with_suffix``), declared by the code under test and deleted
afterwards, so tests never see each other's messages, nor those of other
suites running against the same broker.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import aio_pika
import pytest
from aio_pika.abc import AbstractChannel, AbstractRobustConnection

from gateway.adapters.rabbitmq import RabbitSettings, RabbitTopology, delete_topology
from tests.support.services import rabbitmq_url


@pytest.fixture
def rabbit_url() -> str:
    """The broker URL; skips (fails under CI=true) when RabbitMQ is down."""
    return rabbitmq_url()


@pytest.fixture
async def amqp(rabbit_url: str) -> AsyncIterator[AbstractRobustConnection]:
    """A plain aio-pika connection for inspecting the broker independently of the adapter."""
    connection = await aio_pika.connect_robust(rabbit_url)
    yield connection
    await connection.close()


@pytest.fixture
async def inspect_channel(amqp: AbstractRobustConnection) -> AsyncIterator[AbstractChannel]:
    channel = await amqp.channel()
    yield channel
    await channel.close()


@pytest.fixture
async def topology(amqp: AbstractRobustConnection) -> AsyncIterator[RabbitTopology]:
    """Unique names for this test; everything is deleted afterwards."""
    names = RabbitTopology(retry_delays_ms=(150, 300), delivery_limit=5).with_suffix(
        f".test-{uuid.uuid4().hex[:12]}"
    )
    yield names
    channel = await amqp.channel()
    await delete_topology(channel, names)
    await channel.close()


@pytest.fixture
def settings(rabbit_url: str, topology: RabbitTopology) -> RabbitSettings:
    return RabbitSettings(
        url=rabbit_url,
        topology=topology,
        connection_name="edigate-tests",
        reconnect_interval=0.2,
        connect_timeout=2.0,
        publish_timeout=5.0,
        max_retries=2,
        close_timeout=2.0,
    )
