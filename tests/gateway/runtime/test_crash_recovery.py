"""kill -9 the gateway while it processes 1,000 documents, restart it: nothing is lost.

A real ``edigate serve`` process runs against PostgreSQL and RabbitMQ. The
payloads are stored first (as channels do), the process is killed with SIGKILL
part-way, and a second process finishes the work. Every document reaches the
queue; a document published twice (published but not yet marked when the
process died) carries the same ``message_id``, so the consumer can tell.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import aio_pika
import pytest
from sqlalchemy import select

from gateway.adapters.rabbitmq import delete_topology
from gateway.adapters.store import open_store, tables
from gateway.config import Settings
from gateway.domain.runtime.records import ChannelMeta, NewPayload
from gateway.runtime import rabbit_topology
from tests.support.services import rabbitmq_url

from .conftest import unique_rabbit
from .helpers import alive, analysis_workers, free_port, serve, serve_env
from .samples import acme_850

pytestmark = pytest.mark.slow
TOTAL = 1000


async def test_kill_minus_nine_mid_batch_loses_nothing(tmp_path: Path, pg_runtime_url: str) -> None:
    amqp = rabbitmq_url()
    rabbit = unique_rabbit()
    store = await open_store(pg_runtime_url)
    async with store.engine.begin() as conn:
        from sqlalchemy import text

        names = ", ".join(f'"{t.name}"' for t in tables.metadata.sorted_tables)
        await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    for start in range(0, TOTAL, 250):
        await store.save_payloads(
            [
                NewPayload(acme_850(50_000 + n), ChannelMeta("file", "acme-retail"))
                for n in range(start, start + 250)
            ]
        )
    env = {
        **serve_env(pg_runtime_url, amqp, rabbit, tmp_path),
        "EDIGATE_VAR_DIR": str(tmp_path / "var"),
        "EDIGATE_LISTEN__PORT": str(free_port()),
        "EDIGATE_PIPELINE__LEASE_SECONDS": "3",
        "EDIGATE_PIPELINE__POLL_SECONDS": "0.2",
        "EDIGATE_PIPELINE__BATCH_SIZE": "25",
        "EDIGATE_LOG_LEVEL": "WARNING",
    }
    connection = await aio_pika.connect(amqp)
    channel = await connection.channel()
    got: list[aio_pika.abc.AbstractIncomingMessage] = []
    log = tmp_path / "serve.log"
    first = serve(env, log)
    try:
        for _ in range(600):  # the first process declares the topology; wait for its queue
            try:
                queue = await channel.declare_queue(f"{rabbit.queue_prefix}erp", passive=True)
                break
            except aio_pika.exceptions.ChannelClosed:
                channel = await connection.channel()
                await asyncio.sleep(0.1)
        else:
            pytest.fail(f"the gateway never declared its queues:\n{log.read_text()[-2000:]}")

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            await message.ack()
            got.append(message)

        await queue.consume(on_message)
        for _ in range(1200):
            if len(got) >= 150 or first.poll() is not None:
                break
            await asyncio.sleep(0.05)
        assert first.poll() is None, log.read_text()[-2000:]
        workers = analysis_workers(first.pid)
        assert len(workers) == (1 if len(os.sched_getaffinity(0)) >= 2 else 0)
        first.send_signal(signal.SIGKILL)  # kill -9, mid-batch
        first.wait(10)
        for _ in range(100):  # its analysis process (edigate serve's default on 2+ cores) ends too
            if not any(alive(w) for w in workers):
                break
            await asyncio.sleep(0.05)
        assert not any(alive(w) for w in workers), f"analysis processes {workers} outlived the gateway"
        delivered_before = len({m.message_id for m in got})
        assert delivered_before < TOTAL, "the batch finished before the kill: nothing was tested"
        second = serve(env, log)
        try:
            for _ in range(2400):
                if len({m.message_id for m in got}) >= TOTAL:
                    break
                await asyncio.sleep(0.05)
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(30)
        async with store.engine.connect() as conn:
            expected = set((await conn.execute(select(tables.documents.c.id))).scalars().all())
        ids = [m.message_id for m in got]
        assert len(expected) == TOTAL
        assert set(ids) == expected, f"{len(set(ids))} of {TOTAL} arrived:\n{log.read_text()[-2000:]}"
        assert len(ids) >= TOTAL  # duplicates, if any, share a message_id the consumer can recognise
    finally:
        if first.poll() is None:
            first.kill()
        await delete_topology(channel, rabbit_topology(Settings(rabbit=rabbit)))
        await connection.close()
        await store.close()
