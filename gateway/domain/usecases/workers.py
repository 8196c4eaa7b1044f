"""The background loops of a running gateway. Each is a small lease-driven loop over the store.

* :func:`pipeline_worker`: leases received inbound payloads and runs the pipeline;
* :func:`outbox_relay`: leases outbox rows and publishes them (transactional outbox);
* :func:`sender_worker`: leases stored outbound payloads and hands them to channels;
* :func:`overdue_scanner`: marks acknowledgements we expected and did not get as overdue.

All of them survive restarts and run side by side on several instances: leases
decide who works on what, and an expired lease is picked up by anyone.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from gateway.domain.runtime.errors import TransientFailure
from gateway.domain.runtime.lifecycle import Direction
from gateway.domain.runtime.ports import Destination
from gateway.domain.runtime.store import Store
from gateway.domain.usecases.inbound import InboundPipeline
from gateway.domain.usecases.outbound import Sender
from gateway.domain.usecases.services import Observer

__all__ = ["outbox_relay", "overdue_scanner", "pipeline_worker", "sender_worker"]

log = logging.getLogger("edigate.workers")


async def _idle(event: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(event.wait(), timeout=seconds)
    except TimeoutError:
        pass
    event.clear()


async def pipeline_worker(
    pipeline: InboundPipeline,
    store: Store,
    worker: str,
    *,
    batch: int,
    lease_seconds: float,
    poll_seconds: float,
    relay_wake: asyncio.Event,
) -> None:
    while True:
        try:
            records = await store.claim_payloads(worker, batch, lease_seconds, Direction.INBOUND)
        except TransientFailure as exc:
            log.warning("store unavailable, retrying", extra={"reason": exc.message})
            await asyncio.sleep(poll_seconds)
            continue
        if not records:
            await _idle(pipeline.wake, poll_seconds)
            continue
        await pipeline.process_batch(records, worker)
        relay_wake.set()


async def outbox_relay(
    store: Store,
    destination: Destination,
    worker: str,
    *,
    wake: asyncio.Event,
    batch: int = 256,
    lease_seconds: float = 30.0,
    poll_seconds: float = 0.5,
    observer: Observer | None = None,
    max_backoff: float = 30.0,
) -> None:
    backoff = 0.5
    while True:
        messages = await store.claim_outbox(worker, batch, lease_seconds)
        if not messages:
            await _idle(wake, poll_seconds)
            continue
        try:
            results = await destination.publish(messages)
        except TransientFailure as exc:
            log.warning(
                "destination unavailable; messages stay in the outbox",
                extra={"reason": exc.message, "backlog": len(messages)},
            )
            await store.retry_outbox([m.id for m in messages], exc.message, backoff)
            await asyncio.sleep(backoff)
            backoff = min(max_backoff, backoff * 2)
            continue
        backoff = 0.5
        ok = [r.outbox_id for r in results if r.ok]
        await store.mark_published(ok)
        for r in results:
            if not r.ok:
                log.error(
                    "message refused by destination", extra={"outbox_id": r.outbox_id, "reason": r.reason}
                )
                await store.fail_outbox(r.outbox_id, r.reason or "refused")
        if observer is not None and ok:
            by_dest: dict[str, int] = {}
            ids = set(ok)
            for m in messages:
                if m.id in ids:
                    by_dest[m.destination] = by_dest.get(m.destination, 0) + 1
            for dest, count in by_dest.items():
                observer.published(count, dest)


async def sender_worker(
    sender: Sender,
    store: Store,
    worker: str,
    *,
    wake: asyncio.Event,
    lease_seconds: float,
    poll_seconds: float,
) -> None:
    while True:
        records = await store.claim_payloads(worker, 64, lease_seconds, Direction.OUTBOUND)
        if not records:
            await _idle(wake, poll_seconds)
            continue
        try:
            await sender.send_batch(records, worker)
        except Exception as exc:  # a store hiccup must not kill the loop; the leases will expire
            log.exception(
                "send failed unexpectedly", extra={"payloads": [r.id for r in records], "error": str(exc)}
            )


async def overdue_scanner(store: Store, *, every_seconds: float, observer: Observer | None = None) -> None:
    while True:
        overdue = await store.overdue_groups(datetime.now(UTC))
        counts: dict[str, int] = {}
        for group in overdue:
            counts[group.partner_id] = counts.get(group.partner_id, 0) + 1
            log.warning(
                "acknowledgement overdue",
                extra={
                    "partner": group.partner_id,
                    "gs06": group.gs06,
                    "ack": group.ack_kind,
                    "due": group.ack_due_at.isoformat() if group.ack_due_at else None,
                    "payload_id": group.payload_id,
                },
            )
        if observer is not None:
            for partner, count in counts.items():
                observer.overdue(partner, count)
        await asyncio.sleep(every_seconds)
