"""Plain records passed between use cases and ports (no ORM, no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gateway.domain.runtime.lifecycle import AckStatus, Direction, OutboxState, State, Step

__all__ = [
    "AckExpectation",
    "ChannelMeta",
    "DocumentRecord",
    "EnvelopeRecord",
    "NewPayload",
    "OutboxMessage",
    "PayloadRecord",
    "ProcessingResult",
    "PublishResult",
    "SentEnvelope",
    "StoreOutcome",
]

HeaderValue = str | int | bool


@dataclass(frozen=True, slots=True)
class ChannelMeta:
    """What a channel knows about a payload when it hands it over. Never holds secrets."""

    channel: str  # as2 | sftp | webhook | file | cli | api
    partner_id: str | None = None  # None when the channel could not identify the sender
    filename: str | None = None
    content_type: str | None = None
    document_type: str | None = None  # e.g. a webhook's path says "shipment_confirmation_json"
    as2_message_id: str | None = None
    idempotency_key: str | None = None
    correlation_id: str | None = None
    remote: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "partner_id": self.partner_id,
            "filename": self.filename,
            "content_type": self.content_type,
            "document_type": self.document_type,
            "as2_message_id": self.as2_message_id,
            "idempotency_key": self.idempotency_key,
            "correlation_id": self.correlation_id,
            "remote": self.remote,
            "headers": dict(self.headers),
        }


@dataclass(frozen=True, slots=True)
class NewPayload:
    content: bytes
    meta: ChannelMeta
    direction: Direction = Direction.INBOUND
    state: State = State.RECEIVED
    reason: str | None = None  # why it was rejected at the door, for support
    failed_step: Step | None = None  # with state failed: the step it failed in (e.g. envelope)
    #: The ID to store it under; None: the store assigns one. Outbound use cases name it up
    #: front so what they derive from it (canonical document IDs) is stable and unique.
    payload_id: str | None = None
    #: Envelope records of what we send (our 997/999/TA1 acks), stored with the payload.
    envelopes: tuple[EnvelopeRecord, ...] = ()
    #: Extra correlation keys (kind, value), e.g. ("ack_for", <the payload acknowledged>).
    keys: tuple[tuple[str, str], ...] = ()
    #: Stored in the same transaction, and only when this payload is new (not a repeat of an
    #: idempotency key or AS2 Message-ID): e.g. an AS2 transmission archived as received
    #: beside its EDI content.
    companion: NewPayload | None = None


@dataclass(frozen=True, slots=True)
class PayloadRecord:
    id: str
    received_at: datetime
    direction: Direction
    channel: str
    partner_id: str | None
    size: int
    sha256: str
    state: State
    correlation_id: str
    meta: dict[str, Any]
    reason: str | None = None
    failed_step: Step | None = None
    duplicate_of: str | None = None
    replay_count: int = 0
    business_numbers: tuple[str, ...] = ()
    attempts: int = 0  # how many times a worker has leased it (since its last replay)


@dataclass(frozen=True, slots=True)
class StoreOutcome:
    record: PayloadRecord
    created: bool  # False: an idempotent repeat, the earlier record is returned


@dataclass(frozen=True, slots=True)
class EnvelopeRecord:
    """One transaction set as received or sent, with its envelope coordinates."""

    interchange_index: int
    group_index: int
    set_index: int
    sender_qualifier: str
    sender: str
    receiver_qualifier: str
    receiver: str
    isa13: str
    gs06: str
    st02: str
    functional_id: str
    set_id: str
    version: str
    usage: str
    valid: bool
    ack_kind: str | None = None  # what we expect back for something we send
    ack_due_at: datetime | None = None
    #: The allocation our control numbers came from (what we send): links each issued number
    #: to the payload that used it, so numbers issued but never used show as gaps.
    allocation: str | None = None

    @property
    def has_group(self) -> bool:
        """False for an interchange without groups (a TA1 on its own)."""
        return self.group_index >= 0


@dataclass(frozen=True, slots=True)
class DocumentRecord:
    """A canonical document; ``id`` is stable across replays (the AMQP message_id)."""

    id: str
    payload_id: str
    partner_id: str
    document_type: str
    direction: Direction
    schema_version: str
    business_number: str | None
    correlation_id: str
    test: bool
    body: bytes  # canonical JSON
    state: State = State.MAPPED
    envelope: EnvelopeRecord | None = None
    replay_count: int = 0
    #: The partner-profile document type it came from ("850", "shipment_confirmation_json"):
    #: what routing is looked up by, again, when it is replayed from canonical.
    source_type: str | None = None


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    id: str
    document_id: str
    destination: str
    routing_key: str  # <destination>.<document_type>.<partner_id>
    body: bytes
    correlation_id: str
    headers: Mapping[str, HeaderValue]
    attempts: int = 0
    state: OutboxState = OutboxState.PENDING


@dataclass(frozen=True, slots=True)
class PublishResult:
    outbox_id: str
    ok: bool
    reason: str | None = None  # e.g. "unroutable" or "nacked by broker"
    #: A refusal worth another try later (a broker nack); False: a permanent refusal (unroutable).
    retryable: bool = False


@dataclass(frozen=True, slots=True)
class SentEnvelope:
    """Control numbers of something we sent, for matching the partner's ack."""

    payload_id: str
    partner_id: str
    isa13: str
    gs06: str | None
    st02s: tuple[str, ...]
    functional_id: str | None
    expectation: AckExpectation


@dataclass(frozen=True, slots=True)
class AckExpectation:
    kind: str  # 997 | 999 | TA1 | none
    due_at: datetime | None
    status: AckStatus = AckStatus.PENDING


@dataclass(slots=True)
class ProcessingResult:
    """Everything one pipeline run produced, written by the store in one transaction."""

    state: State
    partner_id: str | None
    envelopes: list[EnvelopeRecord] = field(default_factory=list)
    documents: list[DocumentRecord] = field(default_factory=list)
    outbox: list[OutboxMessage] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)
    business_numbers: list[str] = field(default_factory=list)
    duplicate_of: str | None = None
    failed_step: Step | None = None
    reason: str | None = None
    events: list[tuple[State, str]] = field(default_factory=list)
    #: Payloads to send to the partner, stored in the same transaction (e.g. our 997).
    outbound: list[NewPayload] = field(default_factory=list)
    direction: Direction = Direction.INBOUND
    #: Routed content: the store checks again, atomically with the write, that no other payload
    #: with the same content from the partner was processed meanwhile (else: a duplicate of it).
    check_duplicate: bool = False
    #: A duplicate whose original was acknowledged: send the partner the original's ack again.
    reacknowledge: bool = False
    #: Not finished: release the lease and try again after this many seconds (the store failed
    #: after the analysis, so nothing could be decided).
    retry_after: float | None = None
