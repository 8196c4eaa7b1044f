"""The Store port: durable state for payloads, envelopes, documents, outbox and acks.

Every method is one transaction. Claims are leases (``claimed_by`` +
``claim_until``), so several gateway instances can share one database and a
crashed instance's work is picked up when its lease runs out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from gateway.domain.runtime.lifecycle import AckStatus, Direction, State, Step
from gateway.domain.runtime.records import (
    DocumentRecord,
    NewPayload,
    OutboxMessage,
    PayloadRecord,
    ProcessingResult,
    StoreOutcome,
)

__all__ = [
    "AuditEvent",
    "IssuedNumber",
    "MessageFilter",
    "NumberRequest",
    "SentGroup",
    "Store",
    "StoredReplayJob",
]


@dataclass(frozen=True, slots=True)
class AuditEvent:
    entity_type: str
    entity_id: str
    state: str
    at: datetime
    detail: str | None = None
    actor: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class MessageFilter:
    partner_id: str | None = None
    document_type: str | None = None
    state: State | None = None
    direction: Direction | None = None
    since: datetime | None = None
    until: datetime | None = None
    business_number: str | None = None
    correlation_id: str | None = None
    channel: str | None = None
    limit: int = 50
    offset: int = 0

    @property
    def empty(self) -> bool:
        """No criterion given (paging aside): such a filter selects every stored payload."""
        return not any(getattr(self, name) not in (None, "") for name in _CRITERIA)


_CRITERIA = tuple(n for n in MessageFilter.__dataclass_fields__ if n not in ("limit", "offset"))


@dataclass(frozen=True, slots=True)
class StoredReplayJob:
    """A replay job's summary as last saved, and when (its heartbeat while it runs)."""

    summary: dict[str, Any]
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class SentGroup:
    """A functional group we sent that expects (or received) an acknowledgement."""

    group_id: int
    payload_id: str
    partner_id: str
    isa13: str
    gs06: str
    functional_id: str
    ack_kind: str
    ack_status: AckStatus
    ack_due_at: datetime | None
    st02s: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)
    correlation_id: str | None = None


@dataclass(frozen=True, slots=True)
class IssuedNumber:
    """One control number handed out for a partner, and the payload that used it (None: a gap)."""

    partner_id: str
    kind: str  # isa | gs | st
    value: int
    issued_at: datetime
    payload_id: str | None


@dataclass(frozen=True, slots=True)
class NumberRequest:
    """``count`` control numbers of one (partner, kind) sequence in ``[start, maximum]``.

    ``wrap``: after ``maximum`` the sequence restarts at ``start``; without it, a request that
    would pass ``maximum`` gets nothing (:class:`SequenceExhausted`), so a number is never reused."""

    partner_id: str
    kind: str
    count: int = 1
    start: int = 1
    maximum: int = 999_999_999
    allocation: str | None = None
    wrap: bool = True


class Store(Protocol):
    # --- payloads --------------------------------------------------------------
    async def save_payloads(self, batch: Sequence[NewPayload]) -> list[StoreOutcome]:
        """Commit raw bytes and channel metadata (one transaction for the batch).

        A repeat of an idempotency key or AS2 Message-ID from the same partner returns
        the earlier record with ``created=False`` and stores nothing new.
        """
        ...

    async def get_payload(self, payload_id: str) -> PayloadRecord | None: ...

    async def payload_content(self, payload_id: str) -> bytes: ...

    async def claim_payloads(
        self,
        worker: str,
        limit: int,
        lease_seconds: float,
        direction: Direction = Direction.INBOUND,
        *,
        max_bytes: int | None = None,
    ) -> list[PayloadRecord]:
        """Lease payloads in ``received`` whose previous lease (if any) has expired, oldest first.

        With ``max_bytes``, the batch stops before the payload that would take its total size
        past it (the first payload is always taken, however large), so a batch of big files
        is not read into memory all at once."""
        ...

    async def claim_payload(self, payload_id: str, worker: str, lease_seconds: float) -> PayloadRecord | None:
        """Lease one specific payload in ``received`` if nobody holds it."""
        ...

    async def finish_processing(self, payload_id: str, worker: str, result: ProcessingResult) -> bool:
        """Write everything a pipeline run produced, atomically; False if the lease was lost.

        A result with ``retry_after`` only releases the lease until then. A result with
        ``check_duplicate`` is first checked against other payloads with the same content,
        atomically with the write (serialised per content across workers and instances): if
        one was processed meanwhile, the result is stored as a duplicate of it instead, so the
        same content is never routed twice however the processing of copies interleaves.
        """
        ...

    async def finish_many(self, worker: str, items: Sequence[tuple[str, ProcessingResult]]) -> list[bool]:
        """:meth:`finish_processing` for a batch, in one transaction."""
        ...

    async def payload_contents(self, payload_ids: Sequence[str]) -> dict[str, bytes]: ...

    async def find_duplicates(self, candidates: Sequence[tuple[str, str, str]]) -> dict[str, str]:
        """(payload id, partner, sha256) -> {payload id: the original with that content}.

        The original is the earliest other inbound payload from the partner with the same
        content that was processed. Payloads still waiting or being processed are not
        originals yet: two of them racing are settled by :meth:`finish_many`, atomically.
        Failed, rejected and duplicate payloads are never originals.
        """
        ...

    async def find_by_idempotency_key(
        self, partner_id: str, channel: str, idempotency_key: str
    ) -> PayloadRecord | None:
        """The payload stored earlier under this key, if any (checked before allocating anything)."""
        ...

    async def find_by_key(
        self, partner_id: str, direction: Direction, kind: str, value: str, *, since: datetime | None = None
    ) -> PayloadRecord | None:
        """The latest payload of the partner, in that direction, with this correlation key
        (received at or after ``since``, when given)."""
        ...

    async def reset_for_replay(self, payload_id: str, *, reason: str, actor: str) -> PayloadRecord:
        """Put a payload back to ``received`` (replay from raw), with an audit event."""
        ...

    async def record_outbound(self, new: NewPayload, result: ProcessingResult) -> StoreOutcome:
        """Store a payload to send with its envelopes and documents, in ``received`` (ready to send).

        A repeat of ``meta.idempotency_key`` (e.g. the ERP's message ID) returns the earlier record.
        """
        ...

    async def retry_payload_later(
        self, payload_id: str, worker: str, delay_seconds: float, reason: str
    ) -> None:
        """Release a lease and keep the payload waiting for ``delay_seconds``."""
        ...

    async def set_payload_states(
        self,
        updates: Sequence[tuple[str, State, str, Step | None]],
        keys: Sequence[tuple[str, str, str]] = (),
    ) -> None:
        """Several state changes in one transaction: (payload id, state, detail, failed step).

        The envelope records of a payload that became ``sent`` or ``failed`` follow it.
        ``keys`` adds correlation keys in the same transaction: (payload id, kind, value).
        """
        ...

    async def add_correlation_keys(self, keys: Sequence[tuple[str, str, str]]) -> None:
        """Lookup keys for stored payloads: (payload id, kind, value), e.g. the AS2 Message-ID of
        what we sent (kind ``as2_message_id``) or a channel's remote reference."""
        ...

    async def set_payload_state(
        self,
        payload_id: str,
        state: State,
        *,
        detail: str,
        step: Step | None = None,
        actor: str | None = None,
    ) -> None: ...

    # --- outbox ----------------------------------------------------------------
    async def claim_outbox(self, worker: str, limit: int, lease_seconds: float) -> list[OutboxMessage]: ...

    async def mark_published(self, outbox_ids: Sequence[str]) -> None: ...

    async def retry_outbox(self, outbox_ids: Sequence[str], reason: str, delay_seconds: float) -> None: ...

    async def fail_outbox(self, outbox_id: str, reason: str) -> None:
        """A destination refused the message for good: the outbox row, its document and its
        payload become ``failed`` at step ``publish`` with ``reason`` (replayable)."""
        ...

    async def outbox_backlog(self) -> int: ...

    async def documents(self, document_ids: Sequence[str]) -> list[DocumentRecord]:
        """Stored canonical documents (with their bodies), in no particular order."""
        ...

    async def requeue_documents(self, messages: Sequence[OutboxMessage], *, reason: str, actor: str) -> int:
        """Replay from canonical: store these outbox rows for documents published before, mark
        their documents routed with ``replay_count`` + 1 and audit it; returns the rows added."""
        ...

    # --- control numbers -------------------------------------------------------
    async def next_control_numbers(
        self,
        partner_id: str,
        kind: str,
        count: int = 1,
        *,
        start: int = 1,
        maximum: int = 999_999_999,
        allocation: str | None = None,
    ) -> list[int]:
        """Allocate numbers atomically across instances; each issue is recorded under
        ``allocation``, and linked to the payload that uses it when that payload is stored
        (an :class:`EnvelopeRecord` naming the allocation). Always wraps (see ``NumberRequest``)."""
        ...

    async def allocate_control_numbers(self, requests: Sequence[NumberRequest]) -> list[list[int]]:
        """Several :meth:`next_control_numbers` allocations in one transaction (one list each).

        All or nothing: when a request with ``wrap=False`` would pass its maximum, raise
        :class:`SequenceExhausted` (naming that partner and sequence); no number of the call is
        issued and no counter moves."""
        ...

    async def reset_control_sequence(self, partner_id: str, kind: str, *, actor: str, reason: str) -> bool:
        """Restart one (partner, kind) sequence at its ``start`` with the next allocation (what an
        operator does for a sequence without wrap at its max, once the partner agrees); recorded
        in the audit trail (entity ``sequence``, ``<partner>/<kind>``). False: it was never used."""
        ...

    async def control_numbers(
        self, partner_id: str, *, kind: str | None = None, unused_only: bool = False, limit: int = 100
    ) -> list[IssuedNumber]:
        """Issued numbers, newest first; ``unused_only``: the gaps (issued, used by no payload)."""
        ...

    # --- acknowledgements ------------------------------------------------------
    async def find_sent_group(
        self, partner_id: str, gs06: str, functional_id: str | None
    ) -> SentGroup | None: ...

    async def find_sent_interchange(self, partner_id: str, isa13: str) -> str | None: ...

    async def record_ack(
        self, group_id: int, status: AckStatus, detail: dict[str, Any], ack_payload_id: str
    ) -> None: ...

    async def record_interchange_ack(
        self, partner_id: str, isa13: str, status: AckStatus, detail: dict[str, Any], ack_payload_id: str
    ) -> int:
        """A TA1 for an interchange we sent: settles the TA1 expectation of its groups (and,
        when rejected, every ack expectation and the payload); returns interchanges matched."""
        ...

    async def overdue_groups(self, now: datetime) -> list[SentGroup]:
        """Groups whose ack is still pending after its due time; they are marked overdue."""
        ...

    async def list_overdue(self) -> list[SentGroup]: ...

    # --- queries and audit -----------------------------------------------------
    async def list_payloads(self, flt: MessageFilter) -> list[PayloadRecord]: ...

    async def payload_detail(self, payload_id: str) -> dict[str, Any] | None: ...

    async def document_body(self, document_id: str) -> bytes | None:
        """A stored canonical document's JSON."""
        ...

    async def audit_trail(self, entity_type: str, entity_id: str) -> list[AuditEvent]: ...

    async def stop_awaiting_acks(
        self, payload_id: str, detail: str, *, actor: str | None = None, reason: str | None = None
    ) -> int:
        """The partner's acknowledgement of a payload we sent is no longer awaited (it was sent
        again with new control numbers): its pending or overdue groups become ``not-expected``
        and leave the overdue list, with an audit event each. A late ack still reconciles."""
        ...

    # --- replay jobs ------------------------------------------------------------
    async def payload_ids(self, flt: MessageFilter) -> list[str]:
        """Every payload ID ``flt`` selects (its limit and offset aside), oldest first."""
        ...

    async def save_replay_job(
        self, job_id: str, summary: dict[str, Any], *, started_at: datetime, finished_at: datetime | None
    ) -> None:
        """Create or update a replay job's summary (only the instance running it writes it)."""
        ...

    async def replay_job(self, job_id: str) -> StoredReplayJob | None: ...

    async def replay_jobs(self, limit: int = 100) -> list[StoredReplayJob]:
        """The latest jobs, newest first."""
        ...

    async def add_audit(
        self,
        entity_type: str,
        entity_id: str,
        state: str,
        *,
        detail: str | None = None,
        actor: str | None = None,
        reason: str | None = None,
    ) -> None: ...

    async def counts_by_state(self) -> list[tuple[str | None, str, str, int]]:
        """(partner, document type, state, count) for metrics."""
        ...

    # --- locks -----------------------------------------------------------------
    async def try_lock(self, name: str, owner: str, ttl_seconds: float) -> bool: ...

    async def release_lock(self, name: str, owner: str) -> None: ...

    async def close(self) -> None: ...
