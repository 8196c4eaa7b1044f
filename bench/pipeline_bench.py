"""Pipeline benchmark: small 850s ingested end to end to a consumer vs raw aio-pika confirmed publishing.

Both sides run in the same process, against the same RabbitMQ, with the same
bodies (the 850 payloads): the raw side publishes them with publisher confirms
(many in flight, like the gateway's relay); the gateway side stores each
payload (raw bytes first), parses and validates it, generates its 997, maps it
to canonical JSON and routes it through the transactional outbox to a queue,
where a consumer counts it. Run on SQLite and on PostgreSQL.

The consumer runs in a process of its own, as the ERP would: the gateway's process does
only the gateway's work. The clock stops when the consumer has every document.

    python -m bench.pipeline_bench [--count N] [--runs R] [--db sqlite|postgresql|both]
                                   [--analysis-processes N]

``--analysis-processes`` sets ``pipeline.analysis_processes``; by default the gateway runs with
what ``edigate serve`` ships (``gateway.config.serving_defaults``: one analysis process on a
machine with two or more cores, none on one).

Targets (the issue's): at least 1,000 documents per second, and at least 35% of the raw rate.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import statistics
import tempfile
import time
import uuid
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path

import aio_pika

from gateway.adapters.rabbitmq import delete_topology
from gateway.config import RabbitSettings, Settings, serving_defaults
from gateway.domain.runtime.records import ChannelMeta
from gateway.runtime import Gateway, rabbit_topology

REPO = Path(__file__).resolve().parents[1]
AMQP = "amqp://guest:guest@127.0.0.1:5672/"
SAMPLE = (REPO / "fixtures/x12/sample-850.edi").read_bytes()


def bodies(count: int, offset: int) -> list[bytes]:
    out = []
    for n in range(offset, offset + count):
        out.append(
            SAMPLE.replace(b"000004711", f"{n:09d}".encode())
            .replace(b"*4711*X*", b"*%d*X*" % n)
            .replace(b"GE*1*4711~", b"GE*1*%d~" % n)
            .replace(b"PO-778812", b"PO-%d" % n)
        )
    return out


async def raw_publish(payloads: list[bytes]) -> float:
    """Docs/s for aio-pika publishing with confirms to a durable quorum queue (256 in flight)."""
    connection = await aio_pika.connect(AMQP)
    channel = await connection.channel(publisher_confirms=True)
    name = f"bench.raw.{uuid.uuid4().hex[:8]}"
    queue = await channel.declare_queue(name, durable=True, arguments={"x-queue-type": "quorum"})
    started = time.perf_counter()
    for i in range(0, len(payloads), 256):
        await asyncio.gather(
            *(
                channel.default_exchange.publish(
                    aio_pika.Message(
                        body,
                        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                        message_id=str(uuid.uuid4()),
                        content_type="application/json",
                    ),
                    routing_key=name,
                )
                for body in payloads[i : i + 256]
            )
        )
    elapsed = time.perf_counter() - started
    await queue.delete(if_unused=False, if_empty=False)
    await connection.close()
    return len(payloads) / elapsed


async def gateway_end_to_end(
    payloads: list[bytes],
    database_url: str,
    workdir: Path,
    analysis_processes: int = 0,
    consumer_timeout: float = 600,
) -> float:
    sfx = uuid.uuid4().hex[:8]
    rabbit = RabbitSettings(
        exchange=f"bench.docs.{sfx}",
        dead_letter_exchange=f"bench.dlx.{sfx}",
        dead_letter_queue=f"bench.dlq.{sfx}",
        outbound_queue=f"bench.out.{sfx}",
        queue_prefix=f"bench.{sfx}.",
    )
    settings = Settings(
        database_url=database_url,
        amqp_url=AMQP,
        rabbit=rabbit,
        partners_dir=REPO / "partners",
        mappings_dir=REPO / "mappings",
        var_dir=workdir / "var",
        spool_dir=workdir / "spool",
        filedrop_dir=workdir / "filedrop",
        log_level="WARNING",
        instance_id=f"bench-{sfx}",
        pipeline={"analysis_processes": analysis_processes},
    )
    gateway = await Gateway.open(settings)
    spawn = multiprocessing.get_context("spawn")
    ours, theirs = spawn.Pipe()
    args = (f"{rabbit.queue_prefix}erp", len(payloads), consumer_timeout, theirs)
    consumer = spawn.Process(target=_consume, args=args, daemon=True)
    try:
        await gateway.start()
        consumer.start()
        theirs.close()  # the child holds it now: a child that dies unheard is an EOF here
        if await _hear(ours, consumer) != "ready":
            raise RuntimeError("the consumer did not start")
        started = time.perf_counter()
        for i in range(0, len(payloads), 200):
            await asyncio.gather(
                *(gateway.receive(b, ChannelMeta("file", "acme-retail")) for b in payloads[i : i + 200])
            )
        outcome = await _hear(ours, consumer)
        elapsed = time.perf_counter() - started
        if outcome != len(payloads):
            raise RuntimeError(f"the consumer saw {outcome!r}, expected {len(payloads)} distinct documents")
    finally:
        await gateway.stop()
        consumer.join(timeout=30)
        if consumer.is_alive():
            consumer.kill()
        connection = await aio_pika.connect(AMQP)
        await delete_topology(await connection.channel(), rabbit_topology(settings))
        await connection.close()
    return len(payloads) / elapsed


async def _hear(pipe: Connection, consumer: BaseProcess) -> object:
    """The consumer's next message; an error if it ended without one."""
    try:
        return await asyncio.get_running_loop().run_in_executor(None, pipe.recv)
    except EOFError:
        raise RuntimeError(f"the consumer ended (exit code {consumer.exitcode}) without a word") from None


def _consume(queue_name: str, expected: int, timeout: float, pipe: Connection) -> None:
    """In a child process: count distinct ``message_id``s on the ERP queue until all arrived,
    then send the count (or the error) to the parent, before closing its connection."""

    async def run() -> None:
        connection = await aio_pika.connect(AMQP)
        try:
            channel = await connection.channel()
            queue = await channel.declare_queue(queue_name, passive=True)
            seen: set[str] = set()
            done = asyncio.Event()

            async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
                await message.ack()
                seen.add(message.message_id or "")
                if len(seen) >= expected:
                    done.set()

            await queue.consume(on_message, no_ack=False)
            pipe.send("ready")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), timeout=timeout)
            pipe.send(len(seen))
        finally:
            await connection.close()

    try:
        asyncio.run(run())
    except Exception as exc:  # the parent reports it
        pipe.send(f"consumer failed: {exc!r}")


def _pg_url() -> tuple[str, str]:
    import asyncpg

    name = f"edigate_bench_{uuid.uuid4().hex[:8]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(host="127.0.0.1", user="postgres", database="test")
        await conn.execute(sql)
        await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}", name


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--analysis-processes", type=int, default=None)
    args = parser.parse_args()
    dbs = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    processes = args.analysis_processes
    source = "given"
    if processes is None:
        configured = Settings()
        processes = serving_defaults(configured).pipeline.analysis_processes
        chosen = "analysis_processes" in configured.pipeline.model_fields_set
        source = "from EDIGATE_PIPELINE__ANALYSIS_PROCESSES" if chosen else "edigate serve's default here"
    print(
        f"pipeline: {args.count} small 850s per run, {args.runs} runs, medians, "
        f"analysis processes: {processes} ({source})"
    )
    for db in dbs:
        raw_rates, gw_rates = [], []
        for run in range(args.runs):
            payloads = bodies(args.count, 1 + run * args.count)
            raw_rates.append(asyncio.run(raw_publish(payloads)))
            with tempfile.TemporaryDirectory() as tmp:
                if db == "sqlite":
                    url = f"sqlite:///{tmp}/bench.db"
                else:
                    url, _name = _pg_url()
                gw_rates.append(
                    asyncio.run(gateway_end_to_end(payloads, url, Path(tmp), processes))
                )
        raw, gw = statistics.median(raw_rates), statistics.median(gw_rates)
        print(
            f"  {db:10}  edigate end-to-end {gw:8.0f} docs/s   raw aio-pika confirmed {raw:8.0f} msgs/s"
            f"   ratio {gw / raw:5.1%}"
        )
        print(
            f"  {'':10}  target >= 1,000 docs/s: {'met' if gw >= 1000 else 'NOT met'};"
            f" target >= 35% of raw: {'met' if gw >= 0.35 * raw else 'NOT met'}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
