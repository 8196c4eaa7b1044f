"""Writing a pipeline result's envelope records, documents and correlation keys."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.adapters.store import tables as t
from gateway.adapters.store.rows import now
from gateway.domain.runtime.lifecycle import AckStatus
from gateway.domain.runtime.records import EnvelopeRecord, ProcessingResult

__all__ = ["write_documents", "write_envelopes"]


async def write_envelopes(conn: AsyncConnection, payload_id: str, result: ProcessingResult) -> None:
    """Replace the payload's interchange/group/set rows (a replay rewrites them)."""
    await conn.execute(delete(t.transaction_sets).where(t.transaction_sets.c.payload_id == payload_id))
    await conn.execute(delete(t.groups).where(t.groups.c.payload_id == payload_id))
    await conn.execute(delete(t.interchanges).where(t.interchanges.c.payload_id == payload_id))
    await conn.execute(
        delete(t.correlation_keys).where(
            t.correlation_keys.c.payload_id == payload_id,
            t.correlation_keys.c.kind != "as2_message_id",
            t.correlation_keys.c.kind != "correlation_id",
        )
    )
    if not result.envelopes:
        await _business_keys(conn, payload_id, result)
        return
    direction = "outbound" if any(e.ack_kind for e in result.envelopes) else "inbound"
    doc_by_set = {
        (d.envelope.interchange_index, d.envelope.group_index, d.envelope.set_index): d.id
        for d in result.documents
        if d.envelope is not None
    }
    state = result.state.value
    interchange_ids: dict[int, int] = {}
    group_ids: dict[tuple[int, int], int] = {}
    sets: list[dict[str, Any]] = []
    keys: list[dict[str, Any]] = []
    for e in result.envelopes:
        if e.interchange_index not in interchange_ids:
            interchange_ids[e.interchange_index] = (
                await conn.execute(
                    insert(t.interchanges)
                    .values(
                        payload_id=payload_id,
                        direction=direction,
                        partner_id=result.partner_id,
                        index=e.interchange_index,
                        sender_qualifier=e.sender_qualifier,
                        sender=e.sender,
                        receiver_qualifier=e.receiver_qualifier,
                        receiver=e.receiver,
                        isa13=e.isa13,
                        version=e.version[:5],
                        usage=e.usage,
                        state=state,
                    )
                    .returning(t.interchanges.c.id)
                )
            ).scalar_one()
            keys.append({"payload_id": payload_id, "kind": "isa13", "value": e.isa13})
        gkey = (e.interchange_index, e.group_index)
        if gkey not in group_ids:
            ack_status = AckStatus.PENDING.value if e.ack_kind and e.ack_kind != "none" else None
            group_ids[gkey] = (
                await conn.execute(
                    insert(t.groups)
                    .values(
                        interchange_id=interchange_ids[e.interchange_index],
                        payload_id=payload_id,
                        direction=direction,
                        partner_id=result.partner_id,
                        index=e.group_index,
                        functional_id=e.functional_id,
                        gs06=e.gs06,
                        version=e.version,
                        state=state,
                        ack_kind=e.ack_kind,
                        ack_status=ack_status,
                        ack_due_at=e.ack_due_at,
                    )
                    .returning(t.groups.c.id)
                )
            ).scalar_one()
            keys.append({"payload_id": payload_id, "kind": "gs06", "value": e.gs06})
        sets.append(
            _set_row(
                e,
                group_ids[gkey],
                payload_id,
                state,
                doc_by_set.get((e.interchange_index, e.group_index, e.set_index)),
            )
        )
        keys.append({"payload_id": payload_id, "kind": "st02", "value": e.st02})
    await conn.execute(insert(t.transaction_sets), sets)
    await conn.execute(insert(t.correlation_keys), keys)
    await _business_keys(conn, payload_id, result)


def _set_row(
    e: EnvelopeRecord, group_id: int, payload_id: str, state: str, doc: str | None
) -> dict[str, Any]:
    return {
        "group_id": group_id,
        "payload_id": payload_id,
        "index": e.set_index,
        "set_id": e.set_id,
        "st02": e.st02,
        "valid": e.valid,
        "state": state if e.valid else "rejected",
        "document_id": doc,
    }


async def _business_keys(conn: AsyncConnection, payload_id: str, result: ProcessingResult) -> None:
    rows: list[dict[str, str | None]] = [
        {"payload_id": payload_id, "document_id": d.id, "kind": "business_number", "value": d.business_number}
        for d in result.documents
        if d.business_number
    ]
    known = {r["value"] for r in rows}
    rows += [
        {"payload_id": payload_id, "document_id": None, "kind": "business_number", "value": n}
        for n in result.business_numbers
        if n not in known
    ]
    if rows:
        await conn.execute(insert(t.correlation_keys), rows)


async def write_documents(
    conn: AsyncConnection, dialect: str, payload_id: str, result: ProcessingResult
) -> None:
    """Upsert canonical documents: a replay keeps each document's ID (the consumer's dedup key)."""
    if not result.documents:
        return
    at = now()
    ids = [d.id for d in result.documents]
    existing = dict(
        (
            await conn.execute(
                select(t.documents.c.id, t.documents.c.replay_count).where(t.documents.c.id.in_(ids))
            )
        ).all()
    )
    rows = [
        {
            "id": d.id,
            "payload_id": payload_id,
            "partner_id": d.partner_id,
            "document_type": d.document_type,
            "direction": d.direction.value,
            "schema_version": d.schema_version,
            "business_number": d.business_number,
            "correlation_id": d.correlation_id,
            "test": d.test,
            "body": d.body,
            "state": d.state.value,
            "replay_count": existing.get(d.id, -1) + 1,
            "created_at": at,
            "updated_at": at,
        }
        for d in result.documents
    ]
    ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(t.documents)
    stmt = ins.on_conflict_do_update(
        index_elements=["id"],
        set_={
            "body": ins.excluded.body,
            "state": ins.excluded.state,
            "replay_count": ins.excluded.replay_count,
            "updated_at": ins.excluded.updated_at,
            "business_number": ins.excluded.business_number,
        },
    )
    await conn.execute(stmt, rows)
    await conn.execute(
        insert(t.audit_events),
        [
            {
                "entity_type": "document",
                "entity_id": d.id,
                "state": d.state.value,
                "at": at,
                "detail": f"{d.document_type} {d.business_number or ''}".strip(),
            }
            for d in result.documents
        ],
    )
