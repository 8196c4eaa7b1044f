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

from gateway.domain.runtime.correlation import correlation_scope
from gateway.domain.runtime.errors import TransientFailure
from gateway.domain.runtime.lifecycle import Direction
from gateway.domain.runtime.ports import Destination
from gateway.domain.runtime.records import OutboxMessage, PublishResult
from gateway.domain.runtime.store import Store
from gateway.domain.usecases.inbound import InboundPipeline
from gateway.domain.usecases.sender import Sender
from gateway.domain.usecases.services import Observer
from gateway.domain.usecases.supervision import Supervisor

__all__ = ["outbox_relay", "overdue_scanner", "pipeline_worker", "publish_round", "sender_worker"]

log = logging.getLogger("edigate.workers")

#: Publish attempts of one outbox message a destination refused with a retryable answer
#: (a broker nack) before the message - and its document and payload - are failed.
PUBLISH_ATTEMPTS = 10


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
    supervisor: Supervisor,
    name: str = "pipeline",
    batch_bytes: int | None = None,
) -> None:
    async def round_() -> bool:
        records = await store.claim_payloads(
            worker, batch, lease_seconds, Direction.INBOUND, max_bytes=batch_bytes
        )
        if not records:
            return False
        await pipeline.process_batch(records, worker)
        relay_wake.set()
        return True

    await supervisor.loop(name, round_, lambda: _idle(pipeline.wake, poll_seconds))


async def publish_round(
    store: Store,
    destination: Destination,
    worker: str,
    *,
    batch: int = 256,
    lease_seconds: float = 30.0,
    observer: Observer | None = None,
    max_attempts: int = PUBLISH_ATTEMPTS,
) -> bool:
    """Claim a batch of outbox messages and publish it; True when there was something to publish.

    A destination that is down raises :class:`TransientFailure`: the batch is released for the
    next round and the error propagates (the supervisor backs off). A message the destination
    refused is retried later when the refusal is retryable (a broker nack), up to
    ``max_attempts``; otherwise its document and payload fail at step ``publish``.
    """
    messages = await store.claim_outbox(worker, batch, lease_seconds)
    if not messages:
        return False
    try:
        results = await destination.publish(messages)
    except TransientFailure as exc:
        log.warning(
            "destination unavailable; messages stay in the outbox",
            extra={"reason": exc.message, "backlog": len(messages)},
        )
        await store.retry_outbox([m.id for m in messages], exc.message, 0.0)
        raise
    by_id = {m.id: m for m in messages}
    ok = [r.outbox_id for r in results if r.ok]
    try:
        await store.mark_published(ok)
    except TransientFailure as exc:  # published but not marked: they are published again later,
        await _release(store, messages, exc)  # with the same message_id (at-least-once)
        raise
    for r in results:
        if not r.ok:
            await _refused(store, by_id[r.outbox_id], r, max_attempts)
    if observer is not None and ok:
        by_dest: dict[str, int] = {}
        for outbox_id in ok:
            dest = by_id[outbox_id].destination
            by_dest[dest] = by_dest.get(dest, 0) + 1
        for dest, count in by_dest.items():
            observer.published(count, dest)
    return True


async def _release(store: Store, messages: list[OutboxMessage], exc: TransientFailure) -> None:
    try:
        await store.retry_outbox([m.id for m in messages], exc.message, 0.0)
    except Exception as again:  # the store is still down: the leases expire instead
        log.debug("releasing outbox leases failed: %s", again)


async def _refused(store: Store, message: OutboxMessage, result: PublishResult, max_attempts: int) -> None:
    reason = result.reason or "refused"
    with correlation_scope(message.correlation_id):
        if result.retryable and message.attempts < max_attempts:
            delay = min(300.0, 2.0**message.attempts)
            log.warning(
                "message refused by destination; retrying",
                extra={"outbox_id": message.id, "document_id": message.document_id, "reason": reason,
                       "attempt": message.attempts, "retry_in_seconds": delay},
            )  # fmt: skip
            await store.retry_outbox([message.id], reason, delay)
            return
        if result.retryable:
            reason = f"gave up after {message.attempts} attempts: {reason}"
        log.error(
            "message refused by destination",
            extra={"outbox_id": message.id, "document_id": message.document_id, "reason": reason},
        )
        await store.fail_outbox(message.id, reason)


async def outbox_relay(
    store: Store,
    destination: Destination,
    worker: str,
    *,
    wake: asyncio.Event,
    supervisor: Supervisor,
    batch: int = 256,
    lease_seconds: float = 30.0,
    poll_seconds: float = 0.5,
    observer: Observer | None = None,
    name: str = "outbox-relay",
) -> None:
    async def round_() -> bool:
        return await publish_round(
            store, destination, worker, batch=batch, lease_seconds=lease_seconds, observer=observer
        )

    await supervisor.loop(name, round_, lambda: _idle(wake, poll_seconds))


async def sender_worker(
    sender: Sender,
    store: Store,
    worker: str,
    *,
    wake: asyncio.Event,
    lease_seconds: float,
    poll_seconds: float,
    supervisor: Supervisor,
    name: str = "sender",
    batch: int = 64,
) -> None:
    async def round_() -> bool:
        records = await store.claim_payloads(worker, batch, lease_seconds, Direction.OUTBOUND)
        if not records:
            return False
        try:
            await sender.send_batch(records, worker)
        except TransientFailure as exc:  # give the leases back if the store allows it already
            for record in records:
                try:
                    await store.retry_payload_later(record.id, worker, 1.0, exc.message)
                except Exception:  # still down: the leases expire instead
                    break
            raise
        return True

    await supervisor.loop(name, round_, lambda: _idle(wake, poll_seconds))


async def scan_overdue(store: Store, observer: Observer | None = None) -> int:
    """Mark acknowledgements that are past due as overdue, log each and count them by partner."""
    overdue = await store.overdue_groups(datetime.now(UTC))
    counts: dict[str, int] = {}
    for group in overdue:
        counts[group.partner_id] = counts.get(group.partner_id, 0) + 1
        with correlation_scope(group.correlation_id):
            log.warning(
                "acknowledgement overdue",
                extra={
                    "partner": group.partner_id,
                    "isa13": group.isa13,
                    "gs06": group.gs06,
                    "ack": group.ack_kind,
                    "due": group.ack_due_at.isoformat() if group.ack_due_at else None,
                    "payload_id": group.payload_id,
                },
            )
    if observer is not None:
        for partner, count in counts.items():
            observer.overdue(partner, count)
    return len(overdue)


async def overdue_scanner(
    store: Store,
    *,
    every_seconds: float,
    supervisor: Supervisor,
    observer: Observer | None = None,
    name: str = "overdue-scanner",
) -> None:
    async def round_() -> bool:
        await scan_overdue(store, observer)
        return False

    await supervisor.loop(name, round_, lambda: asyncio.sleep(every_seconds))
