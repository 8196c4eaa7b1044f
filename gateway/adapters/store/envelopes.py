"""Writing pipeline results in bulk: envelope records, documents, outbox rows and correlation keys.

A batch of results is written with a handful of multi-row statements, whatever
its size: that is what lets the pipeline reach thousands of documents per
second on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.adapters.store import tables as t
from gateway.adapters.store.rows import now
from gateway.domain.runtime.lifecycle import AckStatus, OutboxState
from gateway.domain.runtime.records import ProcessingResult

__all__ = ["write_results"]

Item = tuple[str, ProcessingResult]


async def _clear(conn: AsyncConnection, payload_ids: list[str]) -> None:
    """A replay rewrites a payload's envelope rows and keys; remove the old ones."""
    await conn.execute(delete(t.transaction_sets).where(t.transaction_sets.c.payload_id.in_(payload_ids)))
    await conn.execute(delete(t.groups).where(t.groups.c.payload_id.in_(payload_ids)))
    await conn.execute(delete(t.interchanges).where(t.interchanges.c.payload_id.in_(payload_ids)))
    k = t.correlation_keys.c
    await conn.execute(
        delete(t.correlation_keys).where(
            k.payload_id.in_(payload_ids), k.kind.notin_(["as2_message_id", "correlation_id"])
        )
    )


async def _insert_returning_ids(conn: AsyncConnection, table: Any, rows: list[dict[str, Any]]) -> list[int]:
    if not rows:
        return []
    stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list((await conn.execute(stmt, rows)).scalars().all())


async def write_results(conn: AsyncConnection, dialect: str, items: Sequence[Item]) -> None:
    if not items:
        return
    await _clear(conn, [pid for pid, _ in items])
    at = now()
    ix_rows: list[dict[str, Any]] = []
    ix_keys: list[tuple[str, int]] = []
    keys: list[dict[str, Any]] = []
    for pid, r in items:
        direction = "outbound" if any(e.ack_kind for e in r.envelopes) else "inbound"
        seen: set[int] = set()
        for e in r.envelopes:
            if e.interchange_index in seen:
                continue
            seen.add(e.interchange_index)
            ix_keys.append((pid, e.interchange_index))
            ix_rows.append(
                {
                    "payload_id": pid,
                    "direction": direction,
                    "partner_id": r.partner_id,
                    "index": e.interchange_index,
                    "sender_qualifier": e.sender_qualifier,
                    "sender": e.sender,
                    "receiver_qualifier": e.receiver_qualifier,
                    "receiver": e.receiver,
                    "isa13": e.isa13,
                    "version": e.version[:5],
                    "usage": e.usage,
                    "state": r.state.value,
                }
            )
            keys.append({"payload_id": pid, "document_id": None, "kind": "isa13", "value": e.isa13})
    ix_ids = dict(zip(ix_keys, await _insert_returning_ids(conn, t.interchanges, ix_rows), strict=True))
    g_rows: list[dict[str, Any]] = []
    g_keys: list[tuple[str, int, int]] = []
    for pid, r in items:
        direction = "outbound" if any(e.ack_kind for e in r.envelopes) else "inbound"
        for e in r.envelopes:
            key = (pid, e.interchange_index, e.group_index)
            if key in g_keys:
                continue
            g_keys.append(key)
            pending = e.ack_kind is not None and e.ack_kind != "none"
            g_rows.append(
                {
                    "interchange_id": ix_ids[(pid, e.interchange_index)],
                    "payload_id": pid,
                    "direction": direction,
                    "partner_id": r.partner_id,
                    "index": e.group_index,
                    "functional_id": e.functional_id,
                    "gs06": e.gs06,
                    "version": e.version,
                    "state": r.state.value,
                    "ack_kind": e.ack_kind,
                    "ack_status": AckStatus.PENDING.value if pending else None,
                    "ack_due_at": e.ack_due_at,
                }
            )
            keys.append({"payload_id": pid, "document_id": None, "kind": "gs06", "value": e.gs06})
    g_ids = dict(zip(g_keys, await _insert_returning_ids(conn, t.groups, g_rows), strict=True))
    set_rows: list[dict[str, Any]] = []
    for pid, r in items:
        doc_by_set = {
            (d.envelope.interchange_index, d.envelope.group_index, d.envelope.set_index): d.id
            for d in r.documents
            if d.envelope is not None
        }
        for e in r.envelopes:
            set_rows.append(
                {
                    "group_id": g_ids[(pid, e.interchange_index, e.group_index)],
                    "payload_id": pid,
                    "index": e.set_index,
                    "set_id": e.set_id,
                    "st02": e.st02,
                    "valid": e.valid,
                    "state": r.state.value if e.valid else "rejected",
                    "document_id": doc_by_set.get((e.interchange_index, e.group_index, e.set_index)),
                    "ack_status": None,
                }
            )
            keys.append({"payload_id": pid, "document_id": None, "kind": "st02", "value": e.st02})
        known: set[str] = set()
        for d in r.documents:
            if d.business_number:
                known.add(d.business_number)
                keys.append(
                    {
                        "payload_id": pid,
                        "document_id": d.id,
                        "kind": "business_number",
                        "value": d.business_number,
                    }
                )
        keys += [
            {"payload_id": pid, "document_id": None, "kind": "business_number", "value": n}
            for n in r.business_numbers
            if n not in known
        ]
    if set_rows:
        await conn.execute(insert(t.transaction_sets), set_rows)
    if keys:
        await conn.execute(insert(t.correlation_keys), keys)
    await _documents(conn, dialect, items, at)
    outbox = [
        {
            "id": m.id,
            "document_id": m.document_id,
            "destination": m.destination,
            "routing_key": m.routing_key,
            "body": m.body,
            "correlation_id": m.correlation_id,
            "headers": dict(m.headers),
            "state": OutboxState.PENDING.value,
            "attempts": 0,
            "created_at": at,
        }
        for _, r in items
        for m in r.outbox
    ]
    if outbox:
        await conn.execute(insert(t.outbox), outbox)


async def _documents(conn: AsyncConnection, dialect: str, items: Sequence[Item], at: Any) -> None:
    """Upsert canonical documents: a replay keeps each document's ID (the consumer's dedup key)."""
    docs = [(pid, d) for pid, r in items for d in r.documents]
    if not docs:
        return
    existing = dict(
        (
            await conn.execute(
                select(t.documents.c.id, t.documents.c.replay_count).where(
                    t.documents.c.id.in_([d.id for _, d in docs])
                )
            )
        ).all()
    )
    rows = [
        {
            "id": d.id,
            "payload_id": pid,
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
        for pid, d in docs
    ]
    if existing:
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
    else:
        await conn.execute(insert(t.documents), rows)
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
            for _, d in docs
        ],
    )
