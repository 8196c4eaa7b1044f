"""Admin API test helpers: the tokens each role sends, and seeding the real store by hand.

Seeded payloads are taken through a pipeline run by hand (save, claim, finish), as the
pipeline would, so the store holds real envelopes, documents, outbox rows and audit events.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gateway.config import Role
from gateway.domain.runtime.lifecycle import Direction, State, Step
from gateway.domain.runtime.records import (
    ChannelMeta,
    DocumentRecord,
    EnvelopeRecord,
    NewPayload,
    OutboxMessage,
    PayloadRecord,
    ProcessingResult,
)
from gateway.domain.runtime.store import Store

__all__ = [
    "ACTORS",
    "REPO",
    "TOKENS",
    "bearer",
    "envelope",
    "seed_failed",
    "seed_overdue",
    "seed_rejected",
    "seed_routed",
]

#: The repository root (example profiles, test-only keys, fixtures).
REPO = Path(__file__).resolve().parents[4]

#: Token values by role, as the tests send them (configured by env reference, never inline).
TOKENS = {
    Role.SUPPORT: "support-token-5f0c9d2e8b",
    Role.ONBOARDING: "onboarding-token-77aa1c03e4",
    Role.ADMIN: "admin-token-c4e19b6d20f3",
}
#: The token name, i.e. the actor written to audit trails, by role.
ACTORS = {Role.SUPPORT: "sam-support", Role.ONBOARDING: "olga-onboarding", Role.ADMIN: "ada-admin"}


def bearer(role: Role) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[role]}"}


#: GS01 by set ID, for the envelopes seeded here.
_FUNCTIONAL = {"850": "PO", "855": "PR", "856": "SH", "810": "IN", "997": "FA", "999": "FA"}


def envelope(
    s: int = 0,
    *,
    gs06: str = "7",
    ack: str | None = None,
    due: datetime | None = None,
    set_id: str = "850",
    valid: bool = True,
) -> EnvelopeRecord:
    return EnvelopeRecord(
        0, 0, s, "ZZ", "ACMERETAIL", "ZZ", "EDIGATE", "000000007", gs06, f"{s + 1:04d}",
        _FUNCTIONAL.get(set_id, "ZZ"), set_id, "004010", "P", valid, ack, due,
    )  # fmt: skip


async def _stored(store: Store, content: bytes, meta: ChannelMeta, direction: Direction) -> PayloadRecord:
    [out] = await store.save_payloads([NewPayload(content, meta, direction)])
    return out.record


async def seed_routed(
    store: Store,
    content: bytes,
    *,
    partner: str = "acme-retail",
    business_numbers: tuple[str, ...] = ("PO-1",),
    document_type: str = "purchase_order",
    set_id: str = "850",
    channel: str = "as2",
    filename: str | None = "po.edi",
    content_type: str | None = "application/edi-x12",
    correlation_id: str | None = None,
) -> PayloadRecord:
    """An inbound payload parsed into one document per business number, routed to the ERP."""
    meta = ChannelMeta(
        channel, partner, filename=filename, content_type=content_type, correlation_id=correlation_id
    )
    record = await _stored(store, content, meta, Direction.INBOUND)
    [claimed] = await store.claim_payloads("seed", 1, 60)
    assert claimed.id == record.id
    docs, outbox = [], []
    for s, number in enumerate(business_numbers):
        doc_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{record.id}/0/0/{s}"))
        body = b'{"po": "%s"}' % number.encode()
        docs.append(
            DocumentRecord(
                doc_id, record.id, partner, document_type, Direction.INBOUND, "1.0", number,
                record.correlation_id, False, body, State.ROUTED, envelope(s, set_id=set_id),
            )
        )  # fmt: skip
        outbox.append(
            OutboxMessage(
                str(uuid.uuid4()), doc_id, "erp", f"erp.{document_type}.{partner}", body,
                record.correlation_id, {"partner": partner, "replay_count": 0},
            )
        )  # fmt: skip
    result = ProcessingResult(
        State.ROUTED,
        partner,
        envelopes=[envelope(s, set_id=set_id) for s in range(len(business_numbers))],
        documents=docs,
        outbox=outbox,
        findings=[{"code": "element_too_long", "segment_id": "BEG", "element": 3}],
        business_numbers=list(business_numbers),
    )
    assert await store.finish_processing(record.id, "seed", result)
    return record


async def seed_failed(store: Store, content: bytes, *, partner: str = "acme-retail") -> PayloadRecord:
    """An inbound payload that failed to parse (nothing claimed it afterwards)."""
    record = await _stored(store, content, ChannelMeta("sftp", partner), Direction.INBOUND)
    await store.set_payload_state(record.id, State.FAILED, detail="parse: no ISA segment", step=Step.PARSE)
    return record


async def seed_rejected(
    store: Store, content: bytes, *, set_id: str = "850", partner: str = "acme-retail"
) -> PayloadRecord:
    """An inbound payload whose envelopes were read but whose one set failed validation: it has a
    transaction set record and no canonical document."""
    record = await _stored(store, content, ChannelMeta("as2", partner), Direction.INBOUND)
    [claimed] = await store.claim_payloads("seed", 1, 60)
    assert claimed.id == record.id
    result = ProcessingResult(
        State.REJECTED,
        partner,
        envelopes=[envelope(set_id=set_id, valid=False)],
        failed_step=Step.VALIDATE,
        reason="set 0001: mandatory element BEG03 missing",
    )
    assert await store.finish_processing(record.id, "seed", result)
    return record


async def seed_overdue(store: Store, *, partner: str = "acme-retail", gs06: str = "41") -> PayloadRecord:
    """An outbound payload whose 997 was due an hour ago, marked overdue by the ack scan."""
    past = datetime.now(UTC) - timedelta(hours=1)
    record = await _stored(store, b"ISA*outbound", ChannelMeta("as2", partner), Direction.OUTBOUND)
    await store.claim_payloads("sender", 1, 60, direction=Direction.OUTBOUND)
    envelopes = [envelope(gs06=gs06, ack="997", due=past)]
    result = ProcessingResult(State.SENT, partner, envelopes=envelopes, direction=Direction.OUTBOUND)
    assert await store.finish_processing(record.id, "sender", result)
    assert [g.gs06 for g in await store.overdue_groups(datetime.now(UTC))] == [gs06]
    return record
