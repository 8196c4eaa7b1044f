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
    NewPayload,
    OutboxMessage,
    PayloadRecord,
    ProcessingResult,
    StoreOutcome,
)

__all__ = ["AuditEvent", "MessageFilter", "SentGroup", "Store"]


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
        self, worker: str, limit: int, lease_seconds: float, direction: Direction = Direction.INBOUND
    ) -> list[PayloadRecord]:
        """Lease payloads in ``received`` whose previous lease (if any) has expired."""
        ...

    async def claim_payload(self, payload_id: str, worker: str, lease_seconds: float) -> PayloadRecord | None:
        """Lease one specific payload in ``received`` if nobody holds it."""
        ...

    async def finish_processing(self, payload_id: str, worker: str, result: ProcessingResult) -> bool:
        """Write everything a pipeline run produced, atomically; False if the lease was lost."""
        ...

    async def finish_many(self, worker: str, items: Sequence[tuple[str, ProcessingResult]]) -> list[bool]:
        """:meth:`finish_processing` for a batch, in one transaction."""
        ...

    async def payload_contents(self, payload_ids: Sequence[str]) -> dict[str, bytes]: ...

    async def find_duplicates(self, candidates: Sequence[tuple[str, str, str]]) -> dict[str, str]:
        """(payload id, partner, sha256) -> {payload id: an earlier inbound payload with that content}."""
        ...

    async def find_duplicate(self, partner_id: str, sha256: str, exclude_id: str) -> str | None:
        """An earlier inbound payload from the partner with the same content, if any."""
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

    async def set_payload_states(self, updates: Sequence[tuple[str, State, str, Step | None]]) -> None:
        """Several state changes in one transaction: (payload id, state, detail, failed step)."""
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

    async def fail_outbox(self, outbox_id: str, reason: str) -> None: ...

    async def outbox_backlog(self) -> int: ...

    async def requeue_documents(self, document_ids: Sequence[str], *, reason: str, actor: str) -> int:
        """Replay from canonical: new outbox rows for the same document IDs."""
        ...

    # --- control numbers -------------------------------------------------------
    async def next_control_numbers(
        self, partner_id: str, kind: str, count: int = 1, *, start: int = 1, maximum: int = 999_999_999
    ) -> list[int]:
        """Allocate numbers atomically across instances; each issue is recorded (gap audit)."""
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
        self, partner_id: str, isa13: str, status: AckStatus, detail: dict[str, Any]
    ) -> int: ...

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
