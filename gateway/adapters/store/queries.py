"""Read side for support: message lists with filters, details with the audit trail, metrics."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, false, func, insert, or_, select, union
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.adapters.store import tables as t
from gateway.adapters.store.payloads import PAYLOAD_COLUMNS
from gateway.adapters.store.rows import aware, now, payload_from_row, utc
from gateway.domain.runtime.records import PayloadRecord
from gateway.domain.runtime.store import AuditEvent, MessageFilter
from gateway.domain.runtime.type_filter import type_selection

__all__ = ["SEARCHABLE_KEYS", "QueryOps"]

#: Correlation keys the "business number" filter searches (PO/shipment/invoice numbers,
#: control numbers, AS2 Message-IDs in and out, channels' references for what we sent).
SEARCHABLE_KEYS = ["business_number", "isa13", "gs06", "st02", "as2_message_id", "remote_reference"]


def _of_type(value: str) -> ColumnElement[bool]:
    """Payloads with a canonical document of the type, or a transaction set of the set ID.

    Transaction sets count as a payload's envelopes were last read: its current rows or, when
    it has none (its latest run, a replay, failed before reading any envelope; a run
    supersedes the earlier rows when it finishes), the rows of its latest superseded run.
    Every run reads the same bytes, so set IDs rarely differ between runs; when a parser fix
    does change them, the latest reading is the one that should count.
    """
    wanted = type_selection(value)
    p, d, s = t.payloads.c, t.documents.c, t.transaction_sets.c
    later = t.transaction_sets.alias("later")
    current = t.transaction_sets.alias("current")
    latest_run = or_(
        s.superseded_at.is_(None),
        and_(
            ~exists().where(current.c.payload_id == s.payload_id, current.c.superseded_at.is_(None)),
            ~exists().where(later.c.payload_id == s.payload_id, later.c.superseded_at > s.superseded_at),
        ),
    )
    # one IN over a UNION (not an OR of two INs): PostgreSQL can then hash the matching IDs once
    # instead of probing both subqueries for every payload row
    selects = []
    if wanted.document_types:
        selects.append(select(d.payload_id).where(d.document_type.in_(wanted.document_types)))
    if wanted.set_ids:
        selects.append(select(s.payload_id).where(s.set_id.in_(wanted.set_ids), latest_run))
    if not selects:
        return false()
    return p.id.in_(union(*selects) if len(selects) > 1 else selects[0])


def _filtered(stmt: Select[Any], flt: MessageFilter) -> Select[Any]:
    """``stmt`` narrowed to the payloads ``flt`` selects."""
    p, k = t.payloads.c, t.correlation_keys.c
    if flt.partner_id:
        stmt = stmt.where(p.partner_id == flt.partner_id)
    if flt.state:
        stmt = stmt.where(p.state == flt.state.value)
    if flt.direction:
        stmt = stmt.where(p.direction == flt.direction.value)
    if flt.channel:
        stmt = stmt.where(p.channel == flt.channel)
    if flt.since:
        stmt = stmt.where(p.received_at >= utc(flt.since))
    if flt.until:
        stmt = stmt.where(p.received_at < utc(flt.until))
    if flt.correlation_id:
        stmt = stmt.where(p.correlation_id == flt.correlation_id)
    if flt.document_type:
        stmt = stmt.where(_of_type(flt.document_type))
    if flt.business_number:
        stmt = stmt.where(
            p.id.in_(
                select(k.payload_id).where(
                    k.value == flt.business_number,
                    k.kind.in_(SEARCHABLE_KEYS),
                )
            )
        )
    return stmt


class QueryOps:
    engine: AsyncEngine

    async def list_payloads(self, flt: MessageFilter) -> list[PayloadRecord]:
        p, d = t.payloads.c, t.documents.c
        stmt = _filtered(select(*PAYLOAD_COLUMNS), flt)
        stmt = stmt.order_by(p.received_at.desc(), p.id).limit(flt.limit).offset(flt.offset)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
            numbers: dict[str, list[str]] = {}
            if rows:
                found = await conn.execute(
                    select(d.payload_id, d.business_number)
                    .where(d.payload_id.in_([r.id for r in rows]), d.business_number.isnot(None))
                    .order_by(d.payload_id, d.id)
                )
                for payload_id, number in found.all():
                    numbers.setdefault(payload_id, []).append(number)
        return [payload_from_row(r, tuple(numbers.get(r.id, ()))) for r in rows]

    async def payload_ids(self, flt: MessageFilter) -> list[str]:
        """Every payload the filter selects (its limit and offset aside), oldest first: one
        query, however many (what a bulk replay works through)."""
        p = t.payloads.c
        stmt = _filtered(select(p.id), flt).order_by(p.received_at, p.id)
        async with self.engine.connect() as conn:
            return list((await conn.execute(stmt)).scalars().all())

    async def payload_detail(self, payload_id: str) -> dict[str, Any] | None:
        p, d, s, g, i = t.payloads.c, t.documents.c, t.transaction_sets.c, t.groups.c, t.interchanges.c
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(*PAYLOAD_COLUMNS).where(p.id == payload_id))).first()
            if row is None:
                return None
            docs = (
                await conn.execute(
                    select(
                        d.id,
                        d.document_type,
                        d.business_number,
                        d.state,
                        d.schema_version,
                        d.replay_count,
                        d.direction,
                        d.reason,
                        d.failed_step,
                    )
                    .where(d.payload_id == payload_id)
                    .order_by(d.created_at, d.id)
                )
            ).all()
            sets = (
                await conn.execute(
                    select(
                        i.index.label("interchange"),
                        i.isa13,
                        i.sender,
                        i.receiver,
                        g.index.label("group"),
                        g.gs06,
                        g.functional_id,
                        g.ack_kind,
                        g.ack_status,
                        g.ack_due_at,
                        s.index.label("set"),
                        s.set_id,
                        s.st02,
                        s.valid,
                        s.state,
                        s.document_id,
                        i.direction,
                        g.state.label("group_state"),
                        i.state.label("interchange_state"),
                    )
                    .join(t.groups, g.id == s.group_id)
                    .join(t.interchanges, i.id == g.interchange_id)
                    .where(s.payload_id == payload_id, s.superseded_at.is_(None))
                    .order_by(i.index, g.index, s.index)
                )
            ).all()
        events = await self.audit_trail("payload", payload_id)
        record = payload_from_row(row, tuple(x.business_number for x in docs if x.business_number))
        return {
            "payload": record,
            "findings": list(row.findings or []),
            "documents": [dict(x._mapping) for x in docs],
            "envelopes": [{**dict(x._mapping), "ack_due_at": aware(x.ack_due_at)} for x in sets],
            "audit": events,
        }

    async def document_body(self, document_id: str) -> bytes | None:
        async with self.engine.connect() as conn:
            body = (
                await conn.execute(select(t.documents.c.body).where(t.documents.c.id == document_id))
            ).scalar_one_or_none()
        return bytes(body) if body is not None else None

    async def audit_trail(self, entity_type: str, entity_id: str) -> list[AuditEvent]:
        a = t.audit_events.c
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(a.entity_type, a.entity_id, a.state, a.at, a.detail, a.actor, a.reason)
                    .where(a.entity_type == entity_type, a.entity_id == entity_id)
                    .order_by(a.id)
                )
            ).all()
        return [
            AuditEvent(r.entity_type, r.entity_id, r.state, aware(r.at) or now(), r.detail, r.actor, r.reason)
            for r in rows
        ]

    async def add_audit(
        self,
        entity_type: str,
        entity_id: str,
        state: str,
        *,
        detail: str | None = None,
        actor: str | None = None,
        reason: str | None = None,
    ) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                insert(t.audit_events).values(
                    entity_type=entity_type,
                    entity_id=entity_id,
                    state=state,
                    at=now(),
                    detail=detail,
                    actor=actor,
                    reason=reason,
                )
            )

    async def counts_by_state(self) -> list[tuple[str | None, str, str, int]]:
        p, d = t.payloads.c, t.documents.c
        async with self.engine.connect() as conn:
            docs = (
                await conn.execute(
                    select(d.partner_id, d.document_type, d.state, func.count()).group_by(
                        d.partner_id, d.document_type, d.state
                    )
                )
            ).all()
            raw = (
                await conn.execute(
                    select(p.partner_id, p.state, func.count()).group_by(p.partner_id, p.state)
                )
            ).all()
        out = [(r[0], r[1], r[2], int(r[3])) for r in docs]
        out += [(r[0], "payload", r[1], int(r[2])) for r in raw]
        return out
