"""Webhook ingest benchmark: signed JSON posts over HTTP to documents queued at their destinations.

One process runs the gateway (its real workers), the webhook endpoint on 127.0.0.1 and
the client: ``--count`` distinct 3PL shipment confirmations (the swift-3pl shape), each
signed (v1 HMAC) and posted with ``--concurrency`` requests in flight. Per request the
endpoint authenticates, parses and dry-runs the mapping, stores the body and answers
202; the pipeline then maps each stored body to a canonical document and routes it to
``wms`` and ``erp`` (the file spool, or RabbitMQ with ``--amqp``). Measured:

* **HTTP accepted/s**: 202 answers per second, first request to last answer;
* **queued docs/s**: payloads per second until every one is ``delivered`` (its canonical
  document published to both destinations), from the first request;
* request latency (p50, p99) of the 202s;
* a baseline in the same run: the same bodies handed to ``Gateway.receive`` directly (no
  HTTP, no signature, no dry run) to the same ``delivered`` state.

    python -m bench.webhook_bench [--count N] [--concurrency C] [--runs R] [--amqp URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from aiohttp import web

from gateway.adapters.webhook import install_webhook, signed_headers
from gateway.config import PipelineSettings, RabbitSettings, Settings
from gateway.domain.runtime.records import ChannelMeta
from gateway.runtime import Gateway

REPO = Path(__file__).resolve().parents[1]
SECRET = "bench-inbound-secret"
SAMPLE: dict[str, Any] = json.loads((REPO / "fixtures/runtime/swift-3pl-shipment.json").read_text())


@dataclass(frozen=True)
class Result:
    accepted_per_s: float
    queued_per_s: float
    p50_ms: float
    p99_ms: float


def bodies(count: int, offset: int) -> list[bytes]:
    out = []
    for n in range(offset, offset + count):
        data = json.loads(json.dumps(SAMPLE))
        data["data"]["shipmentId"] = f"SWL-BENCH-{n:08d}"
        data["data"]["clientOrderRef"] = f"WO-{n:08d}"
        out.append(json.dumps(data, separators=(",", ":")).encode())
    return out


def _partners(folder: Path) -> Path:
    profile: dict[str, Any] = yaml.safe_load((REPO / "partners/swift-3pl.yaml").read_text())
    profile["channels"]["webhook"]["inbound"]["secret"] = "env:EDIGATE_BENCH_WEBHOOK_SECRET"
    profile["channels"]["webhook"].pop("outbound", None)
    folder.mkdir(parents=True)
    (folder / "swift-3pl.yaml").write_text(yaml.safe_dump(profile, sort_keys=False))
    return folder


def _settings(workdir: Path, amqp: str | None) -> Settings:
    extra: dict[str, Any] = {}
    if amqp:
        sfx = uuid.uuid4().hex[:8]
        extra["amqp_url"] = amqp
        extra["rabbit"] = RabbitSettings(
            exchange=f"bench.docs.{sfx}",
            dead_letter_exchange=f"bench.dlx.{sfx}",
            dead_letter_queue=f"bench.dlq.{sfx}",
            outbound_queue=f"bench.out.{sfx}",
            queue_prefix=f"bench.{sfx}.",
        )
    return Settings(
        database_url=f"sqlite:///{workdir}/bench.db",
        partners_dir=_partners(workdir / "partners"),
        mappings_dir=REPO / "mappings",
        var_dir=workdir / "var",
        spool_dir=workdir / "spool",
        filedrop_dir=workdir / "filedrop",
        pipeline=PipelineSettings(poll_seconds=0.05),
        log_level="WARNING",
        instance_id=f"bench-{uuid.uuid4().hex[:8]}",
        **extra,
    )


async def _delivered(gateway: Gateway) -> int:
    rows = await gateway.store.counts_by_state()
    return sum(n for partner, kind, state, n in rows if kind == "payload" and state == "delivered")


async def _until_delivered(gateway: Gateway, count: int, timeout: float = 900.0) -> None:
    deadline = time.monotonic() + timeout
    while await _delivered(gateway) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {await _delivered(gateway)} of {count} delivered")
        await asyncio.sleep(0.1)


async def _delete_topology(settings: Settings) -> None:
    """Remove the run's private exchanges and queues from the broker."""
    import aio_pika

    from gateway.adapters.rabbitmq import delete_topology
    from gateway.runtime import rabbit_topology

    assert settings.amqp_url is not None
    topology = rabbit_topology(settings)
    connection = await aio_pika.connect(settings.amqp_url)
    try:
        await delete_topology(await connection.channel(), topology)
    finally:
        await connection.close()


async def _with_gateway(
    workdir: Path, amqp: str | None, body: Callable[[Gateway], Awaitable[Result]]
) -> Result:
    settings = _settings(workdir, amqp)
    gateway = await Gateway.open(settings)
    try:
        await gateway.start()
        return await body(gateway)
    finally:
        await gateway.stop()
        if amqp:
            await _delete_topology(settings)


async def over_http(payloads: list[bytes], concurrency: int, workdir: Path, amqp: str | None) -> Result:
    async def run(gateway: Gateway) -> Result:
        app = web.Application()
        install_webhook(app, store=gateway.store, profiles=gateway.registry, mapper=gateway.mapper,
                        receive=gateway.receive, channels=gateway.channels)  # fmt: skip
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/webhooks/swift-3pl/shipment_confirmation_json"
        latencies: list[float] = []
        gate = asyncio.Semaphore(concurrency)
        connector = aiohttp.TCPConnector(limit=concurrency)
        try:
            async with aiohttp.ClientSession(connector=connector) as session:

                async def post(body: bytes) -> None:
                    async with gate:
                        headers = {"Content-Type": "application/json",
                                   **signed_headers([SECRET.encode()], body, time.time())}  # fmt: skip
                        began = time.perf_counter()
                        async with session.post(url, data=body, headers=headers) as response:
                            await response.read()
                            if response.status != 202:
                                raise RuntimeError(f"HTTP {response.status}: {await response.text()}")
                        latencies.append(time.perf_counter() - began)

                started = time.perf_counter()
                await asyncio.gather(*(post(b) for b in payloads))
                accepted = time.perf_counter() - started
                await _until_delivered(gateway, len(payloads))
                queued = time.perf_counter() - started
        finally:
            await runner.cleanup()
        latencies.sort()
        return Result(
            len(payloads) / accepted,
            len(payloads) / queued,
            1000 * statistics.median(latencies),
            1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        )

    return await _with_gateway(workdir, amqp, run)


async def direct(payloads: list[bytes], concurrency: int, workdir: Path, amqp: str | None) -> Result:
    async def run(gateway: Gateway) -> Result:
        gate = asyncio.Semaphore(concurrency)

        async def receive(body: bytes) -> None:
            async with gate:
                meta = ChannelMeta("webhook", "swift-3pl", document_type="shipment_confirmation_json")
                await gateway.receive(body, meta)

        started = time.perf_counter()
        await asyncio.gather(*(receive(b) for b in payloads))
        accepted = time.perf_counter() - started
        await _until_delivered(gateway, len(payloads))
        queued = time.perf_counter() - started
        return Result(len(payloads) / accepted, len(payloads) / queued, 0.0, 0.0)

    return await _with_gateway(workdir, amqp, run)


def measure(count: int, concurrency: int, runs: int, amqp: str | None) -> tuple[list[Result], list[Result]]:
    """(HTTP runs, direct runs), interleaved: each run posts new bodies, then hands the same to receive."""
    os.environ.setdefault("EDIGATE_BENCH_WEBHOOK_SECRET", SECRET)
    http_runs: list[Result] = []
    direct_runs: list[Result] = []
    for run in range(runs):
        payloads = bodies(count, 1 + run * count)
        with tempfile.TemporaryDirectory() as tmp:
            http_runs.append(asyncio.run(over_http(payloads, concurrency, Path(tmp) / "h", amqp)))
            direct_runs.append(asyncio.run(direct(payloads, concurrency, Path(tmp) / "d", amqp)))
    return http_runs, direct_runs


def report(http_runs: list[Result], direct_runs: list[Result]) -> str:
    def med(runs: list[Result], name: str) -> float:
        return float(statistics.median(getattr(r, name) for r in runs))

    ratio = med(http_runs, "queued_per_s") / med(direct_runs, "queued_per_s")
    return "\n".join(
        [
            "| path | accepted/s | queued docs/s | p50 ms | p99 ms |",
            "|---|---|---|---|---|",
            f"| webhook HTTP (verify, dry run, store, 202) | {med(http_runs, 'accepted_per_s'):.0f} | "
            f"{med(http_runs, 'queued_per_s'):.0f} | {med(http_runs, 'p50_ms'):.1f} | "
            f"{med(http_runs, 'p99_ms'):.1f} |",
            f"| Gateway.receive directly (baseline) | {med(direct_runs, 'accepted_per_s'):.0f} | "
            f"{med(direct_runs, 'queued_per_s'):.0f} | - | - |",
            "",
            f"queued docs/s, webhook over baseline: {ratio:.2f}",
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--amqp", default=None, help="route to RabbitMQ at this URL, not the file spool")
    args = parser.parse_args()
    os.environ["EDIGATE_BENCH_WEBHOOK_SECRET"] = SECRET
    where = "RabbitMQ" if args.amqp else "file spool"
    print(
        f"webhook: {args.count} shipment confirmations per run, {args.concurrency} in flight, "
        f"{args.runs} runs (medians), SQLite, routed to wms+erp ({where})"
    )
    print(report(*measure(args.count, args.concurrency, args.runs, args.amqp)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
