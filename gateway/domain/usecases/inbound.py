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
from gateway.domain.profiles import PartnerProfile, ProfileSet
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
        return (await self.process_batch([record], worker))[0]

    async def process_batch(self, records: list[PayloadRecord], worker: str) -> list[ProcessingResult]:
        """Process leased payloads together: one read, one analysis hop, one write transaction.

        Batching is what makes the pipeline fast; every payload still gets its own result,
        and an unexpected error fails only the payload it happened in.
        """
        started = time.perf_counter()
        contents = await self._store.payload_contents([r.id for r in records])
        profiles = self._profiles.current
        analyses = await asyncio.to_thread(
            lambda: [self._analyse(contents.get(r.id, b""), r, profiles) for r in records]
        )
        results = [self._result(a) for a in analyses]
        try:
            await self._after_analysis(records, analyses, results)
        except Exception as exc:  # a store or ack failure: fail the batch's payloads, replayably
            log.exception("pipeline error", extra={"payloads": [r.id for r in records]})
            results = [_failed(r, Step.ACKNOWLEDGE, exc) for r in records]
        owned = await self._store.finish_many(
            worker, [(r.id, res) for r, res in zip(records, results, strict=True)]
        )
        for record, ok in zip(records, owned, strict=True):
            if not ok:
                log.warning(
                    "lease lost; another worker owns the payload now", extra={"payload_id": record.id}
                )
        if self._observer is not None:
            per_item = (time.perf_counter() - started) / max(1, len(records))
            for res in results:
                self._observer.pipeline_finished(per_item, res.state.value)
        return results

    def _analyse(self, content: bytes, record: PayloadRecord, profiles: ProfileSet) -> Analysis:
        try:
            return analyse(content, record, profiles, self._mapper, self._validator)
        except Exception as exc:  # an unexpected bug must not lose the payload: fail it, replayably
            log.exception(
                "pipeline error", extra={"payload_id": record.id, "correlation_id": record.correlation_id}
            )
            partner = profiles.get(record.partner_id) if record.partner_id else None
            return Analysis(State.FAILED, partner).fail(
                Step.PARSE, f"unexpected error: {type(exc).__name__}: {exc}"
            )

    @staticmethod
    def _result(analysis: Analysis) -> ProcessingResult:
        return ProcessingResult(
            state=analysis.state,
            partner_id=analysis.partner.partner_id if analysis.partner else None,
            envelopes=analysis.envelopes,
            findings=analysis.findings,
            events=list(analysis.events),
            failed_step=analysis.step,
            reason=analysis.reason,
        )

    async def _after_analysis(
        self, records: list[PayloadRecord], analyses: list[Analysis], results: list[ProcessingResult]
    ) -> None:
        live = [
            (r, a, res)
            for r, a, res in zip(records, analyses, results, strict=True)
            if a.partner is not None and not (a.state is State.FAILED and not a.documents)
        ]
        duplicates = await self._duplicates([(r, a) for r, a, _ in live])
        plans = []
        for record, analysis, result in live:
            partner = analysis.partner
            assert partner is not None
            earlier = duplicates.get(record.id)
            if earlier is not None:
                result.state, result.duplicate_of = State.DUPLICATE, earlier
                result.reason = (
                    f"same content from {partner.partner_id} as payload {earlier}: not routed again"
                )
                continue
            plans.append((record, analysis, result, partner))
        await self._acknowledge(plans)
        for record, analysis, result, partner in plans:
            if analysis.inbound_acks:
                for note in await self._acks.reconcile(partner, analysis.inbound_acks, record.id):
                    result.events.append((State.ACK_RECEIVED, note))
            self._route(result, analysis, partner)

    async def _duplicates(self, items: list[tuple[PayloadRecord, Analysis]]) -> dict[str, str]:
        candidates: list[tuple[str, str, str]] = []
        for record, analysis in items:
            assert analysis.partner is not None
            types = {e.set_id for e in analysis.envelopes} or set(analysis.document_types.values())
            policies = [analysis.partner.document_policy(ProfileDirection.INBOUND, t) for t in types]
            if policies and all(p is not None and p.allow_resend for p in policies):
                continue
            candidates.append((record.id, analysis.partner.partner_id, record.sha256))
        out = await self._store.find_duplicates(candidates)
        first_in_batch: dict[tuple[str, str], str] = {}
        for pid, partner, sha in candidates:  # the same content twice in one batch
            if pid in out:
                continue
            earlier = first_in_batch.setdefault((partner, sha), pid)
            if earlier != pid:
                out[pid] = earlier
        return out

    async def _acknowledge(
        self, plans: list[tuple[PayloadRecord, Analysis, ProcessingResult, PartnerProfile]]
    ) -> None:
        wanted = [(record, a, res, p) for record, a, res, p in plans if a.parsed is not None]
        numbers = await self._acks.allocate([(p, a.parsed) for _, a, _, p in wanted if a.parsed is not None])
        now = datetime.now(UTC)
        for record, analysis, result, partner in wanted:
            assert analysis.parsed is not None
            result.outbound = self._acks.build(
                partner, analysis.parsed, record, self._ack_channel(partner), now, numbers[partner.partner_id]
            )
            if result.outbound:
                result.events.append(
                    (State.ACKNOWLEDGED, f"{len(result.outbound)} acknowledgement(s) to send")
                )

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


def _failed(record: PayloadRecord, step: Step, exc: Exception) -> ProcessingResult:
    return ProcessingResult(
        State.FAILED,
        record.partner_id,
        failed_step=step,
        reason=f"unexpected error: {type(exc).__name__}: {exc}",
    )


def _with_state(doc: DocumentRecord, state: State) -> DocumentRecord:
    from dataclasses import replace

    return replace(doc, state=state)
