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
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from edi.reader import SetValidator
from gateway.domain.mapping import Mapper
from gateway.domain.profiles import PartnerProfile, ProfileSet
from gateway.domain.runtime.correlation import correlation_scope, current_correlation_id
from gateway.domain.runtime.errors import SequenceExhausted, TransientFailure
from gateway.domain.runtime.lifecycle import State, Step
from gateway.domain.runtime.records import (
    ChannelMeta,
    DocumentRecord,
    NewPayload,
    PayloadRecord,
    ProcessingResult,
    StoreOutcome,
)
from gateway.domain.runtime.store import Store
from gateway.domain.usecases.acks import AckService, ack_owed
from gateway.domain.usecases.analysis import Analysis, analyse_safely
from gateway.domain.usecases.analysis_pool import AnalysisPool
from gateway.domain.usecases.registry import ProfileRegistry
from gateway.domain.usecases.routing import outbox_messages
from gateway.domain.usecases.services import Observer

__all__ = ["GroupCommit", "InboundPipeline", "outbox_messages"]  # outbox_messages: re-exported

log = logging.getLogger("edigate.pipeline")

#: How long a batch waits when the store failed after analysis (nothing was written).
STORE_RETRY_SECONDS = 1.0


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


class InboundPipeline:
    def __init__(
        self,
        store: Store,
        profiles: ProfileRegistry,
        mapper: Mapper | None = None,
        *,
        validator: SetValidator | None,
        destinations: list[str],
        observer: Observer | None = None,
        ack_channel: Callable[[PartnerProfile], str] = lambda _p: "filedrop",
        max_payload_bytes: int = 100 * 1024 * 1024,
        analysis_pool: AnalysisPool | None = None,
    ) -> None:
        self._store = store
        self._profiles = profiles
        self._mapper = mapper  # None: the registry's current mappings (reloaded with the profiles)
        self._validator = validator
        self._destinations = destinations
        self._observer = observer
        self._ack_channel = ack_channel
        self._acks = AckService(store)
        self._commit = GroupCommit(store)
        self._max_bytes = max_payload_bytes
        self._pool = analysis_pool
        self.wake = asyncio.Event()

    async def receive(
        self, content: bytes, meta: ChannelMeta, *, companion: NewPayload | None = None
    ) -> StoreOutcome:
        """Store the bytes first. Oversized payloads are stored too (truncated never), flagged rejected.

        A channel that names no correlation ID gets the one of the task it runs in (an HTTP
        request's ``X-Correlation-ID``, set by the middleware), so its log lines and the stored
        payload share it. A ``companion`` (e.g. the AS2 transmission as received) is committed
        in the same transaction, and only when the payload is new.
        """
        if meta.correlation_id is None and (current := current_correlation_id()) is not None:
            meta = replace(meta, correlation_id=current)
        new = NewPayload(content, meta, companion=companion)
        if len(content) > self._max_bytes:
            new = NewPayload(
                content,
                meta,
                state=State.REJECTED,
                reason=f"payload of {len(content)} bytes is over the limit of {self._max_bytes}",
                companion=companion,
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

        Batching is what makes the pipeline fast; every payload still gets its own result.
        An unexpected error fails only the payload it happened in (the batch is retried one
        payload at a time to find it); a database outage fails none: their leases are
        released (or expire) and the payloads are processed when the database is back.
        """
        started = time.perf_counter()
        if any(r.replay_count for r in records):  # a replay from raw uses the current files
            self._profiles.refresh_if_changed()
        try:
            contents = await self._store.payload_contents([r.id for r in records])
            analyses = await self._analyse_batch(records, contents)
            results = await self._complete(records, analyses)
            await self._finish(records, results, worker)
        except TransientFailure:
            await self._release(records, worker)
            raise
        if self._observer is not None:
            per_item = (time.perf_counter() - started) / max(1, len(records))
            now = datetime.now(UTC)
            for record, res in zip(records, results, strict=True):
                if res.retry_after is None:
                    self._observer.pipeline_finished(per_item, res.state.value)
                    if not record.replay_count:  # a replay's receipt may be days old
                        waited = (now - record.received_at).total_seconds()  # stored times are UTC
                        self._observer.payload_settled(max(0.0, waited), res.state.value)
        return results

    async def _complete(
        self, records: list[PayloadRecord], analyses: list[Analysis]
    ) -> list[ProcessingResult]:
        """The steps after analysis (duplicates, acks, routing) for the batch, isolating failures."""
        results = [self._result(a) for a in analyses]
        try:
            await self._after_analysis(records, analyses, results)
            return results
        except TransientFailure as exc:  # the store is unavailable: nothing failed, try again later
            log.warning("store unavailable after analysis; the batch waits", extra={"reason": exc.message})
            return [_later(r) for r in records]
        except Exception as exc:
            if len(records) == 1:  # this payload's own failure: fail it, replayably
                with correlation_scope(records[0].correlation_id):
                    log.exception("pipeline error", extra={"payload_id": records[0].id})
                return [_failed(records[0], Step.ACKNOWLEDGE, exc)]
            log.exception("pipeline error in a batch; retrying its payloads one by one")
        out: list[ProcessingResult] = []
        for record, analysis in zip(records, analyses, strict=True):
            out += await self._complete([record], [analysis])
        return out

    async def _finish(
        self, records: list[PayloadRecord], results: list[ProcessingResult], worker: str
    ) -> None:
        items = [(r.id, res) for r, res in zip(records, results, strict=True)]
        try:
            owned = await self._store.finish_many(worker, items)
        except TransientFailure:
            raise  # nothing was written; the leases are released (or expire) by process_batch
        except Exception as exc:
            if len(items) == 1:
                record = records[0]
                log.exception("storing a pipeline result failed", extra={"payload_id": record.id})
                owned = await self._store.finish_many(worker, [(record.id, _failed(record, Step.STORE, exc))])
            else:
                log.exception("storing a batch failed; storing its results one by one")
                for record, result in zip(records, results, strict=True):
                    with correlation_scope(record.correlation_id):
                        await self._finish([record], [result], worker)
                return
        detailed = log.isEnabledFor(logging.DEBUG)
        for record, result, ok in zip(records, results, owned, strict=True):
            if not ok:
                log.warning(
                    "lease lost; another worker owns the payload now",
                    extra={"payload_id": record.id, "correlation_id": record.correlation_id},
                )
            elif detailed or result.state is State.FAILED:
                with correlation_scope(record.correlation_id):
                    log.log(
                        logging.WARNING if result.state is State.FAILED else logging.DEBUG,
                        "payload processed",
                        extra={"payload_id": record.id, "state": result.state.value,
                               "step": result.failed_step, "reason": result.reason},
                    )  # fmt: skip

    async def _release(self, records: list[PayloadRecord], worker: str) -> None:
        """Best effort after a store failure: give the leases back (a killed connection is
        often replaced at once), so the payloads need not wait for their leases to expire."""
        try:
            await self._store.finish_many(worker, [(r.id, _later(r)) for r in records])
        except Exception as exc:  # the store is still down: the leases expire instead
            log.debug("releasing leases failed: %s", exc)

    def _analyse(
        self, content: bytes, record: PayloadRecord, profiles: ProfileSet, mapper: Mapper
    ) -> Analysis:
        return analyse_safely(content, record, profiles, mapper, self._validator)

    async def _analyse_batch(
        self, records: list[PayloadRecord], contents: dict[str, bytes]
    ) -> list[Analysis]:
        """In the analysis processes when there are some (and no mapper was imposed), else in a thread."""
        if self._pool is not None and self._mapper is None:
            done = await self._pool.analyse([(contents.get(r.id, b""), r) for r in records])
            if done is not None:
                return done
        profiles = self._profiles.current
        mapper = self._mapper or self._profiles.mapper
        return await asyncio.to_thread(
            lambda: [self._analyse(contents.get(r.id, b""), r, profiles, mapper) for r in records]
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
            original = duplicates.get(record.id)
            if original is not None:
                result.state, result.duplicate_of = State.DUPLICATE, original
                result.reason = (
                    f"same content from {partner.partner_id} as payload {original}: not routed again"
                )
                result.reacknowledge = analysis.parsed is not None and ack_owed(partner, analysis.parsed)
                continue
            plans.append((record, analysis, result, partner))
        await self._acknowledge(plans)
        for record, analysis, result, partner in plans:
            if result.failed_step is Step.ACKNOWLEDGE:  # held whole: replayed from raw once numbered
                continue
            if analysis.inbound_acks:
                with correlation_scope(record.correlation_id):
                    notes = await self._acks.reconcile(partner, analysis.inbound_acks, record.id)
                result.events += [(State.ACK_RECEIVED, note) for note in notes]
            self._route(result, analysis, partner)
            result.check_duplicate = analysis.dedupe and result.state is not State.FAILED

    async def _duplicates(self, items: list[tuple[PayloadRecord, Analysis]]) -> dict[str, str]:
        candidates: list[tuple[str, str, str]] = []
        for record, analysis in items:
            assert analysis.partner is not None
            if analysis.dedupe:
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
            channel, owned = self._ack_channel(partner), numbers[partner.partner_id]
            try:
                result.outbound = self._acks.build(partner, analysis.parsed, record, channel, now, owned)
            except SequenceExhausted as exc:
                # The ack we owe cannot be numbered: nothing of the payload is routed either, so a
                # replay from raw (after the sequence is reset or raised) does everything once.
                result.state, result.failed_step, result.reason = State.FAILED, Step.ACKNOWLEDGE, exc.message
                continue
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


def _failed(record: PayloadRecord, step: Step, exc: BaseException) -> ProcessingResult:
    return ProcessingResult(
        State.FAILED,
        record.partner_id,
        failed_step=step,
        reason=f"unexpected error: {type(exc).__name__}: {exc}",
    )


def _later(record: PayloadRecord) -> ProcessingResult:
    return ProcessingResult(State.RECEIVED, record.partner_id, retry_after=STORE_RETRY_SECONDS)


def _with_state(doc: DocumentRecord, state: State) -> DocumentRecord:
    return replace(doc, state=state)
