"""Scale-out: two real ``edigate serve`` processes against one PostgreSQL and one RabbitMQ.

Both start at the same moment on an empty database (migrations take turns under a lock). Inbound
payloads are stored as channels store them, including ten identical copies of one interchange;
canonical ship notices arrive on the outbound queue, which both instances consume. Every document
reaches the ERP queue exactly once (no double routing: the copies are one document), and every
control number of every envelope we sent - our 997s and the 856s - is unique.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
from collections import Counter
from pathlib import Path

import aio_pika
import aiohttp
import pytest
from sqlalchemy import select

from gateway.adapters.rabbitmq import delete_topology
from gateway.adapters.store import open_store, tables
from gateway.config import Settings
from gateway.domain.runtime.lifecycle import State
from gateway.domain.runtime.records import ChannelMeta, NewPayload
from gateway.runtime import rabbit_topology
from tests.support.services import rabbitmq_url

from .conftest import unique_rabbit
from .helpers import canonical_from_x12, free_port, serve, serve_env
from .samples import acme_850

pytestmark = pytest.mark.slow

DISTINCT = 60
COPIES = 10
SHIP_NOTICES = 20


async def _healthy(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(600):
            assert proc.poll() is None, log.read_text()[-3000:]
            try:
                async with http.get(f"http://127.0.0.1:{port}/readyz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"instance on {port} never became ready:\n{log.read_text()[-3000:]}")


async def test_two_serve_processes_route_once_and_keep_control_numbers_unique(
    tmp_path: Path, fresh_pg: str
) -> None:
    amqp = rabbitmq_url()
    rabbit = unique_rabbit()
    database = fresh_pg  # empty: both instances migrate it at start-up
    common = {
        **serve_env(database, amqp, rabbit, tmp_path),
        "EDIGATE_PIPELINE__POLL_SECONDS": "0.1",
        "EDIGATE_PIPELINE__BATCH_SIZE": "8",
        "EDIGATE_LOG_LEVEL": "WARNING",
    }
    ports = [free_port(), free_port()]
    logs = [tmp_path / f"serve-{n}.log" for n in range(2)]
    envs = [
        {**common, "EDIGATE_LISTEN__PORT": str(port), "EDIGATE_INSTANCE_ID": f"instance-{n}",
         "EDIGATE_VAR_DIR": str(tmp_path / f"var-{n}")}
        for n, port in enumerate(ports)
    ]  # fmt: skip
    procs = [serve(env, log) for env, log in zip(envs, logs, strict=True)]  # at the same moment
    connection = await aio_pika.connect(amqp)
    channel = await connection.channel()
    store = None
    try:
        started = zip(ports, procs, logs, strict=True)
        await asyncio.gather(*(_healthy(port, proc, log) for port, proc, log in started))
        store = await open_store(database, migrate=False)
        outbound = await channel.declare_queue(rabbit.outbound_queue, passive=True)
        assert outbound.declaration_result.consumer_count == 2  # both instances consume outbound requests

        meta = ChannelMeta("file", "acme-retail")
        copies = [NewPayload(acme_850(90_000), meta) for _ in range(COPIES)]
        distinct = [NewPayload(acme_850(91_000 + n), meta) for n in range(DISTINCT)]
        for batch in ([*copies[:5], *distinct[:30]], [*copies[5:], *distinct[30:]]):
            await store.save_payloads(batch)  # as the channels of either instance store them
        for n in range(SHIP_NOTICES):
            body = canonical_from_x12(
                "856-004010.x12", "acme-retail", "ship_notice", f"erp-{n}", shipment_id=f"SH-{n}"
            )
            message = aio_pika.Message(body, content_type="application/json", message_id=f"erp-asn-{n}")
            await channel.default_exchange.publish(message, routing_key=rabbit.outbound_queue)

        erp = await channel.declare_queue(f"{rabbit.queue_prefix}erp", passive=True)
        got: list[aio_pika.abc.AbstractIncomingMessage] = []

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            await message.ack()
            got.append(message)

        tag = await erp.consume(on_message)

        async def settled() -> bool:
            assert store is not None
            async with store.engine.connect() as conn:
                p = tables.payloads.c
                rows = (await conn.execute(select(p.direction, p.state))).all()
            states: Counter[tuple[str, str]] = Counter((str(d), str(s)) for d, s in rows)
            unfinished = ("received", "routed")
            inbound_open = sum(n for (d, s), n in states.items() if d == "inbound" and s in unfinished)
            outbound_open = sum(n for (d, s), n in states.items() if d == "outbound" and s != "sent")
            outbound_sent = states.get(("outbound", "sent"), 0)
            return inbound_open == 0 and outbound_open == 0 and outbound_sent >= DISTINCT + 1 + SHIP_NOTICES

        for _ in range(1200):
            if await settled():
                break
            for proc, log in zip(procs, logs, strict=True):
                assert proc.poll() is None, log.read_text()[-3000:]
            await asyncio.sleep(0.1)
        assert await settled(), [log.read_text()[-2000:] for log in logs]
        await asyncio.sleep(1.0)  # anything routed twice would have arrived by now
        await erp.cancel(tag)

        ids = Counter(m.message_id for m in got)
        assert len(ids) == DISTINCT + 1
        assert set(ids.values()) == {1}, "a document reached the ERP twice"
        async with store.engine.connect() as conn:
            p = tables.payloads.c
            rows = (await conn.execute(select(p.sha256, p.state).where(p.direction == "inbound"))).all()
            by_state = Counter(state for _, state in rows)
            assert by_state == {State.DELIVERED.value: DISTINCT + 1, State.DUPLICATE.value: COPIES - 1}
            used: dict[str, list[tuple[str, ...]]] = {}
            for entity, columns in (
                ("interchange", [tables.interchanges.c.isa13]),
                ("group", [tables.groups.c.gs06]),
                ("set", [tables.transaction_sets.c.st02]),
            ):
                table = columns[0].table
                stmt = select(*columns).where(table.c.payload_id == p.id, p.direction == "outbound")
                used[entity] = [tuple(r) for r in (await conn.execute(stmt)).all()]
            issued = (
                await conn.execute(
                    select(tables.control_numbers_issued.c.kind, tables.control_numbers_issued.c.value).where(
                        tables.control_numbers_issued.c.payload_id.isnot(None)
                    )
                )
            ).all()
        expected = DISTINCT + 1 + SHIP_NOTICES  # our 997s (one per distinct interchange) and the 856s
        for entity, values in used.items():
            assert len(values) == expected, entity
            assert len(set(values)) == len(values), f"a {entity} control number was used twice"
        assert len(issued) == len(set(issued)) == 3 * expected
        sent = sorted((tmp_path / "filedrop" / "acme-retail" / "outbox").glob("*.x12"))
        isa13s = [f.read_bytes().split(b"*")[13] for f in sent]
        assert len(isa13s) == len(set(isa13s)) == expected
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        if store is not None:
            await store.close()
        await delete_topology(channel, rabbit_topology(Settings(rabbit=rabbit)))
        await connection.close()
