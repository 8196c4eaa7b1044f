"""The background loops outlive real failures: the database going away, connections killed, the broker
down at start-up. Nothing received is lost, ``/readyz`` says what is wrong meanwhile, and processing
resumes by itself once the failure is over."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aio_pika
import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from gateway.adapters.http import build_admin_app
from gateway.adapters.metrics import Metrics
from gateway.adapters.rabbitmq import delete_topology
from gateway.app import ensure_admin_token
from gateway.domain.runtime.errors import TransientFailure
from gateway.domain.runtime.lifecycle import State
from gateway.domain.runtime.records import ChannelMeta
from gateway.domain.runtime.store import MessageFilter
from gateway.runtime import Gateway, rabbit_topology
from tests.support.postgres import PG_HOST, PG_PORT, PG_USER
from tests.support.services import rabbitmq_url
from tests.support.tcp_proxy import TcpProxy

from .conftest import make_settings, unique_rabbit
from .helpers import wait_for
from .samples import acme_850

Client = TestClient[Any, Any]


async def _delivered(gateway: Gateway, count: int) -> bool:
    done = await gateway.store.list_payloads(MessageFilter(state=State.DELIVERED, limit=1000))
    return len(done) >= count


async def _readyz(client: Client) -> tuple[int, dict[str, Any]]:
    response = await client.get("/readyz")
    body: dict[str, Any] = await response.json()
    return response.status, body


async def test_a_database_outage_is_reported_and_processing_resumes_after_it(
    tmp_path: Path, fresh_pg: str
) -> None:
    proxy = await TcpProxy(PG_HOST, PG_PORT).start()
    url = fresh_pg.replace(f"{PG_HOST}:{PG_PORT}", f"127.0.0.1:{proxy.port}")
    settings = ensure_admin_token(make_settings(tmp_path, url))
    settings.pipeline.poll_seconds = 0.1
    gateway = await Gateway.open(settings)
    gateway.supervisor.max_backoff = 1.0  # keep the test short; the default backs off up to 30 s
    await gateway.start()
    app = build_admin_app(gateway.services, settings, Metrics())
    try:
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            for n in range(5):
                await gateway.receive(acme_850(200 + n), ChannelMeta("file", "acme-retail"))
            await wait_for(lambda: _delivered(gateway, 5), what="the first five payloads")
            assert (await _readyz(client))[0] == 200

            proxy.cut()  # PostgreSQL goes away: open connections drop, new ones are refused
            with pytest.raises(TransientFailure, match="database is unavailable"):
                await gateway.receive(acme_850(300), ChannelMeta("file", "acme-retail"))

            async def reported() -> bool:
                status, body = await _readyz(client)
                failing = [r for r in body["reasons"] if r.startswith("loop pipeline-")]
                pipeline_0 = body["loops"].get("pipeline-0", {}).get("ok") is False  # each loop fails on
                return (  # its own next round: wait for the one this test looks at
                    status == 503 and body["store"].startswith("unreachable") and bool(failing) and pipeline_0
                )

            await wait_for(reported, timeout=30, what="/readyz to report the store and the failing loops")
            _, body = await _readyz(client)
            assert body["loops"]["pipeline-0"]["ok"] is False
            assert "TransientFailure" in body["loops"]["pipeline-0"]["detail"]
            assert all(task.done() is False for task in gateway._tasks)  # every loop is still running

            proxy.restore()
            for n in range(5):  # channels accept input again as soon as the database is back
                await _receive_when_up(gateway, acme_850(400 + n))
            await wait_for(lambda: _delivered(gateway, 10), timeout=60, what="processing to resume")

            async def ready() -> bool:
                return (await _readyz(client))[0] == 200

            await wait_for(ready, timeout=30, what="/readyz to recover")
            assert all(s.failures == 0 for s in gateway.supervisor.statuses())
    finally:
        await gateway.stop()
        await proxy.close()


async def _receive_when_up(gateway: Gateway, content: bytes) -> None:
    for _ in range(100):
        try:
            await gateway.receive(content, ChannelMeta("file", "acme-retail"))
            return
        except TransientFailure:
            await asyncio.sleep(0.1)
    raise AssertionError("the database never came back")


async def test_connections_killed_by_postgresql_do_not_stop_processing(tmp_path: Path, fresh_pg: str) -> None:
    settings = make_settings(tmp_path, fresh_pg)
    settings.pipeline.poll_seconds = 0.05
    settings.pipeline.batch_size = 2
    gateway = await Gateway.open(settings)
    gateway.supervisor.max_backoff = 1.0
    await gateway.start()
    name = fresh_pg.rsplit("/", 1)[1]
    admin = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database="test")
    killed = 0
    try:
        for round_ in range(6):
            for n in range(5):
                await _receive_when_up(gateway, acme_850(500 + round_ * 10 + n))
            await asyncio.sleep(0.05 * round_)  # hit the workers at different points of their work
            killed += len(
                await admin.fetch(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = $1 AND pid <> pg_backend_pid()",
                    name,
                )
            )
        assert killed > 0
        await wait_for(lambda: _delivered(gateway, 30), timeout=90, what="all 30 payloads delivered")
        spooled = list((tmp_path / "spool" / "erp").glob("*.json"))
        assert len(spooled) == 30  # each exactly once: nothing lost, nothing doubled
        assert all(not task.done() for task in gateway._tasks)
    finally:
        await admin.close()
        await gateway.stop()


async def test_serve_starts_with_the_broker_down_and_delivers_when_it_returns(tmp_path: Path) -> None:
    proxy = await TcpProxy("127.0.0.1", 5672).start()
    proxy.cut()  # the broker is unreachable before the gateway starts
    url = rabbitmq_url().replace("127.0.0.1:5672", f"127.0.0.1:{proxy.port}")
    rabbit = unique_rabbit()
    settings = ensure_admin_token(
        make_settings(tmp_path, f"sqlite:///{tmp_path}/gw.db", amqp_url=url, rabbit=rabbit)
    )
    settings.pipeline.poll_seconds = 0.1
    gateway = await Gateway.open(settings)
    gateway.supervisor.max_backoff = 1.0
    broker = await aio_pika.connect(rabbitmq_url())
    channel = await broker.channel()
    app = build_admin_app(gateway.services, settings, Metrics())
    try:
        await gateway.start()  # does not raise: input is accepted meanwhile
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            for n in range(6):
                await gateway.receive(acme_850(700 + n), ChannelMeta("file", "acme-retail"))

            async def backlog_visible() -> bool:
                status, body = await _readyz(client)
                return status == 503 and body["outbox_backlog"] == 6

            await wait_for(backlog_visible, what="the backlog of six on /readyz")
            _, body = await _readyz(client)
            assert body["store"] == "ok"
            assert body["destinations"]["destination"]["ready"] is False
            assert any(r.startswith("destination destination:") for r in body["reasons"])
            routed = await gateway.store.list_payloads(MessageFilter(state=State.ROUTED))
            assert len(routed) == 6  # processed as far as the broker; waiting in the outbox

            proxy.restore()
            await wait_for(lambda: _delivered(gateway, 6), timeout=60, what="delivery after the outage")
            queue = await channel.declare_queue(f"{rabbit.queue_prefix}erp", passive=True)
            assert queue.declaration_result.message_count == 6

            async def ready() -> bool:
                status, body = await _readyz(client)
                return status == 200 and body["outbox_backlog"] == 0

            await wait_for(ready, timeout=30, what="/readyz to recover")
            _, body = await _readyz(client)
            assert body["destinations"]["outbound"]["ready"] is True  # the consumer came back too
    finally:
        await gateway.stop()
        await proxy.close()
        await delete_topology(channel, rabbit_topology(settings))
        await broker.close()


async def test_edigate_serve_starts_with_the_broker_down_and_shows_the_backlog(tmp_path: Path) -> None:
    import signal

    import aiohttp

    from gateway.adapters.store import open_store
    from gateway.domain.runtime.records import NewPayload

    from .helpers import free_port, serve, serve_env

    proxy = await TcpProxy("127.0.0.1", 5672).start()
    proxy.cut()  # RabbitMQ is unreachable when the process starts
    rabbit = unique_rabbit()
    port = free_port()
    database = f"sqlite:///{tmp_path}/var/edigate.db"
    amqp = rabbitmq_url().replace("127.0.0.1:5672", f"127.0.0.1:{proxy.port}")
    env = {
        **serve_env(database, amqp, rabbit, tmp_path),
        "EDIGATE_VAR_DIR": str(tmp_path / "var"),
        "EDIGATE_LISTEN__PORT": str(port),
        "EDIGATE_PIPELINE__POLL_SECONDS": "0.1",
    }
    log = tmp_path / "serve.log"
    proc = serve(env, log, cwd=tmp_path)
    broker = await aio_pika.connect(rabbitmq_url())
    channel = await broker.channel()
    store = None
    try:
        async with aiohttp.ClientSession() as http:

            async def readyz() -> tuple[int, dict[str, Any]]:
                async with http.get(f"http://127.0.0.1:{port}/readyz") as response:
                    body: dict[str, Any] = await response.json()
                    return response.status, body

            async def up() -> bool:
                assert proc.poll() is None, log.read_text()[-3000:]
                try:
                    return (await readyz())[0] in (200, 503)
                except aiohttp.ClientConnectionError:
                    return False

            await wait_for(up, timeout=60, what="edigate serve to answer while the broker is down")
            status, body = await readyz()
            assert status == 503
            assert any("destination" in r for r in body["reasons"])
            store = await open_store(database, migrate=False)
            await store.save_payloads(  # input arrives (as a channel stores it) during the outage
                [NewPayload(acme_850(800 + n), ChannelMeta("file", "acme-retail")) for n in range(3)]
            )

            async def backlog() -> bool:
                status, body = await readyz()
                return status == 503 and body["outbox_backlog"] == 3

            await wait_for(backlog, timeout=30, what="the backlog of three on /readyz")
            proxy.restore()

            async def ready() -> bool:
                status, body = await readyz()
                return status == 200 and body["outbox_backlog"] == 0

            await wait_for(ready, timeout=90, what="delivery once the broker is back")
        queue = await channel.declare_queue(f"{rabbit.queue_prefix}erp", passive=True)
        assert queue.declaration_result.message_count == 3
    finally:
        if store is not None:
            await store.close()
        proc.send_signal(signal.SIGTERM)  # the proxy runs on this loop: wait without blocking it
        assert await asyncio.to_thread(proc.wait, 30) == 0, log.read_text()[-3000:]
        await proxy.close()
        await delete_topology(channel, rabbit_topology(make_settings(tmp_path, database, rabbit=rabbit)))
        await broker.close()
