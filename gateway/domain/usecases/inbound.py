"""The inbound pipeline: receive -> store -> parse and validate -> acknowledge -> map -> route.

One path serves every channel. :meth:`InboundPipeline.receive` commits the
raw bytes (group-committed with concurrent receives) before it returns, so a
channel acknowledges only what is durable. Processing happens afterwards, from
what was stored, by workers that lease payloads; a crash loses nothing, and a
payload whose processing fails stays ``failed`` with the step and the reason,
ready to replay.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from edi.reader import SetValidator
from gateway.domain.mapping import Mapper
from gateway.domain.profiles import Direction as ProfileDirection
from gateway.domain.profiles import PartnerProfile
from gateway.domain.runtime.lifecycle import State, Step
from gateway.domain.runtime.records import (
    ChannelMeta,
    DocumentRecord,
    NewPayload,
    OutboxMessage,
    PayloadRecord,
    ProcessingResult,
    StoreOutcome,
)
from gateway.domain.runtime.store import Store
from gateway.domain.usecases.acks import AckService
from gateway.domain.usecases.analysis import Analysis, analyse
from gateway.domain.usecases.registry import ProfileRegistry
from gateway.domain.usecases.services import Observer

__all__ = ["GroupCommit", "InboundPipeline", "outbox_messages"]

log = logging.getLogger("edigate.pipeline")


class GroupCommit:
    """Batches concurrent ``save_payloads`` calls into one transaction; each caller
    still returns only after its own bytes are committed."""

    def __init__(self, store: Store, max_batch: int = 256) -> None:
        self._store = store
        self._max = max_batch
        self._pending: list[tuple[NewPayload, asyncio.Future[StoreOutcome]]] = []
        self._task: asyncio.Task[None] | None = None

    async def submit(self, new: NewPayload) -> StoreOutcome:
        future: asyncio.Future[StoreOutcome] = asyncio.get_running_loop().create_future()
        self._pending.append((new, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        await asyncio.sleep(0)  # let callers that are ready now join this batch
        while self._pending:
            batch, self._pending = self._pending[: self._max], self._pending[self._max :]
            try:
                outcomes = await self._store.save_payloads([new for new, _ in batch])
            except Exception as exc:  # the store's failure is every caller's failure
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), outcome in zip(batch, outcomes, strict=True):
                if not future.done():
                    future.set_result(outcome)


def outbox_messages(
    documents: list[DocumentRecord], partner: PartnerProfile, routing_key_of: dict[str, str], known: list[str]
) -> tuple[list[OutboxMessage], list[str]]:
    """Outbox rows for each document's destinations; also the documents with no route."""
    rows: list[OutboxMessage] = []
    unrouted: list[str] = []
    for doc in documents:
        key = routing_key_of.get(doc.id, doc.document_type)
        destinations = [d for d in partner.destinations(key) if d in known]
        if not destinations:
            unrouted.append(doc.id)
            continue
        headers: dict[str, str | int | bool] = {
            "partner": partner.partner_id,
            "document_type": doc.document_type,
            "schema_version": doc.schema_version,
            "test": doc.test,
            "replay_count": doc.replay_count,
        }
        for dest in destinations:
            rows.append(
                OutboxMessage(
                    id=str(uuid.uuid4()),
                    document_id=doc.id,
                    destination=dest,
                    routing_key=f"{dest}.{doc.document_type}.{partner.partner_id}",
                    body=doc.body,
                    correlation_id=doc.correlation_id,
                    headers=headers,
                )
            )
    return rows, unrouted


class InboundPipeline:
    def __init__(
        self,
        store: Store,
        profiles: ProfileRegistry,
        mapper: Mapper,
        *,
        validator: SetValidator | None,
        destinations: list[str],
        observer: Observer | None = None,
        ack_channel: Callable[[PartnerProfile], str] = lambda _p: "filedrop",
        max_payload_bytes: int = 100 * 1024 * 1024,
    ) -> None:
        self._store = store
        self._profiles = profiles
        self._mapper = mapper
        self._validator = validator
        self._destinations = destinations
        self._observer = observer
        self._ack_channel = ack_channel
        self._acks = AckService(store)
        self._commit = GroupCommit(store)
        self._max_bytes = max_payload_bytes
        self.wake = asyncio.Event()

    async def receive(self, content: bytes, meta: ChannelMeta) -> StoreOutcome:
        """Store the bytes first. Oversized payloads are stored too (truncated never), flagged rejected."""
        new = NewPayload(content, meta)
        if len(content) > self._max_bytes:
            new = NewPayload(
                content,
                meta,
                state=State.REJECTED,
                reason=f"payload of {len(content)} bytes is over the limit of {self._max_bytes}",
            )
        outcome = await self._commit.submit(new)
        if outcome.created and outcome.record.state is State.RECEIVED:
            self.wake.set()
        return outcome

    async def process(self, record: PayloadRecord, worker: str) -> ProcessingResult:
        """Run every step after storage for one leased payload, and store the outcome atomically."""
        started = time.perf_counter()
        try:
            result = await self._process(record)
        except Exception as exc:  # an unexpected bug must not lose the payload: fail it, replayably
            log.exception(
                "pipeline error", extra={"payload_id": record.id, "correlation_id": record.correlation_id}
            )
            result = ProcessingResult(
                State.FAILED,
                record.partner_id,
                failed_step=Step.PARSE,
                reason=f"unexpected error: {type(exc).__name__}: {exc}",
            )
        if not await self._store.finish_processing(record.id, worker, result):
            log.warning("lease lost; another worker owns the payload now", extra={"payload_id": record.id})
        if self._observer is not None:
            self._observer.pipeline_finished(time.perf_counter() - started, result.state.value)
        return result

    async def _process(self, record: PayloadRecord) -> ProcessingResult:
        content = await self._store.payload_content(record.id)
        profiles = self._profiles.current
        analysis = await asyncio.to_thread(analyse, content, record, profiles, self._mapper, self._validator)
        result = ProcessingResult(
            state=analysis.state,
            partner_id=analysis.partner.partner_id if analysis.partner else None,
            envelopes=analysis.envelopes,
            findings=analysis.findings,
            events=list(analysis.events),
            failed_step=analysis.step,
            reason=analysis.reason,
        )
        partner = analysis.partner
        if partner is None or (analysis.state is State.FAILED and not analysis.documents):
            return result
        duplicate = await self._duplicate_of(record, analysis, partner)
        if duplicate is not None:
            result.state, result.duplicate_of = State.DUPLICATE, duplicate
            result.reason = f"same content from {partner.partner_id} as payload {duplicate}: not routed again"
            return result
        if analysis.parsed is not None:
            result.outbound = await self._acks.owed(
                partner, analysis.parsed, record, self._ack_channel(partner), datetime.now(UTC)
            )
            if result.outbound:
                result.events.append(
                    (State.ACKNOWLEDGED, f"{len(result.outbound)} acknowledgement(s) to send")
                )
            if analysis.inbound_acks:
                for note in await self._acks.reconcile(partner, analysis.inbound_acks, record.id):
                    result.events.append((State.ACK_RECEIVED, note))
        self._route(result, analysis, partner)
        return result

    async def _duplicate_of(
        self, record: PayloadRecord, analysis: Analysis, partner: PartnerProfile
    ) -> str | None:
        types = {e.set_id for e in analysis.envelopes} or set(analysis.document_types.values())
        policies = [partner.document_policy(ProfileDirection.INBOUND, t) for t in types]
        if policies and all(p is not None and p.allow_resend for p in policies):
            return None
        return await self._store.find_duplicate(partner.partner_id, record.sha256, record.id)

    def _route(self, result: ProcessingResult, analysis: Analysis, partner: PartnerProfile) -> None:
        rows, unrouted = outbox_messages(
            analysis.documents, partner, analysis.document_types, self._destinations
        )
        result.outbox = rows
        routed = {m.document_id for m in rows}
        result.documents = [
            _with_state(d, State.ROUTED if d.id in routed else State.MAPPED) for d in analysis.documents
        ]
        result.business_numbers = [d.business_number for d in result.documents if d.business_number]
        if rows:
            result.events.append(
                (State.ROUTED, f"{len(rows)} message(s) to {sorted({m.destination for m in rows})}")
            )
        if unrouted:
            result.events.append(
                (State.MAPPED, f"{len(unrouted)} document(s) with no route for {partner.partner_id}")
            )
        if analysis.set_errors:
            result.state, result.failed_step = State.FAILED, Step.MAP
            result.reason = "; ".join(analysis.set_errors)
        elif analysis.state is State.REJECTED:
            result.state, result.reason = State.REJECTED, analysis.reason
        elif rows:
            result.state = State.ROUTED
        elif analysis.inbound_acks:
            result.state = State.ACK_RECEIVED
        elif analysis.documents:
            result.state = State.MAPPED


def _with_state(doc: DocumentRecord, state: State) -> DocumentRecord:
    from dataclasses import replace

    return replace(doc, state=state)
