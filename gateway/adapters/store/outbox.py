"""Outbox persistence: claims, confirmations, retries, and replay from canonical."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.adapters.store import tables as t
from gateway.adapters.store.bulk import insert_rows
from gateway.adapters.store.envelopes import audit_rows, outbox_row
from gateway.adapters.store.rows import now, outbox_from_row
from gateway.domain.runtime.errors import NotFound
from gateway.domain.runtime.lifecycle import Direction, OutboxState, State, Step
from gateway.domain.runtime.records import DocumentRecord, OutboxMessage

__all__ = ["OutboxOps"]


class OutboxOps:
    engine: AsyncEngine

    async def claim_outbox(self, worker: str, limit: int, lease_seconds: float) -> list[OutboxMessage]:
        o = t.outbox.c
        at = now()
        free = or_(o.claim_until.is_(None), o.claim_until < at)
        due = or_(o.not_before.is_(None), o.not_before <= at)
        pick = (
            select(o.id)
            .where(o.state == OutboxState.PENDING.value, free, due)
            .order_by(o.created_at)
            .limit(limit)
        )
        if self.engine.dialect.name == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        stmt = (
            update(t.outbox)
            .where(o.id.in_(pick.scalar_subquery()), free)
            .values(
                claimed_by=worker, claim_until=at + timedelta(seconds=lease_seconds), attempts=o.attempts + 1
            )
            .returning(*t.outbox.c)
        )
        async with self.engine.begin() as conn:
            rows = (await conn.execute(stmt)).all()
        return [outbox_from_row(r) for r in sorted(rows, key=lambda r: r.created_at)]

    async def mark_published(self, outbox_ids: Sequence[str]) -> None:
        if not outbox_ids:
            return
        o, _d = t.outbox.c, t.documents.c
        at = now()
        async with self.engine.begin() as conn:
            await conn.execute(
                update(t.outbox)
                .where(o.id.in_(outbox_ids))
                .values(state=OutboxState.PUBLISHED.value, published_at=at, claimed_by=None, claim_until=None)
            )
            doc_ids = (
                (await conn.execute(select(o.document_id).where(o.id.in_(outbox_ids)).distinct()))
                .scalars()
                .all()
            )
            # a document is delivered when the newest message for each of its destinations is
            # published (a failed one that a replay sent again no longer counts)
            rows = (
                await conn.execute(
                    select(o.document_id, o.destination, o.state)
                    .where(o.document_id.in_(doc_ids))
                    .order_by(o.created_at, o.id)
                )
            ).all()
            newest: dict[tuple[str, str], str] = {}
            for doc_id, destination, state in rows:
                newest[(doc_id, destination)] = state
            pending = {
                doc_id for (doc_id, _), state in newest.items() if state != OutboxState.PUBLISHED.value
            }
            done = [i for i in doc_ids if i not in pending]
            if done:
                await self._documents_delivered(conn, done, at)

    async def _documents_delivered(self, conn: AsyncConnection, doc_ids: list[str], at: Any) -> None:
        d, p, s = t.documents.c, t.payloads.c, t.transaction_sets.c
        # the payloads of these documents, from the same statement
        payload_ids = list(
            dict.fromkeys(
                (
                    await conn.execute(
                        update(t.documents)
                        .where(d.id.in_(doc_ids))
                        .values(state=State.DELIVERED.value, updated_at=at)
                        .returning(d.payload_id)
                    )
                )
                .scalars()
                .all()
            )
        )
        sets = (
            (
                await conn.execute(
                    update(t.transaction_sets)
                    .where(s.document_id.in_(doc_ids), s.superseded_at.is_(None))
                    .values(state=State.DELIVERED.value)
                    .returning(s.id)
                )
            )
            .scalars()
            .all()
        )
        # the audit events of sets, documents and payloads go in one statement, at the end
        events = audit_rows(
            "set", [(i, State.DELIVERED.value, "its document was delivered") for i in sets], at
        )
        events += audit_rows(
            "document", [(i, State.DELIVERED.value, "every destination confirmed") for i in doc_ids], at
        )
        open_payloads = set(
            (
                await conn.execute(
                    select(d.payload_id).where(
                        d.payload_id.in_(payload_ids), d.state != State.DELIVERED.value
                    )
                )
            )
            .scalars()
            .all()
        )
        finished = [i for i in payload_ids if i not in open_payloads]
        if finished:
            publish_failed = and_(p.state == State.FAILED.value, p.failed_step == Step.PUBLISH.value)
            # a payload that failed at publishing recovers once everything is delivered
            delivered = (
                (
                    await conn.execute(
                        update(t.payloads)
                        .where(p.id.in_(finished), or_(p.state == State.ROUTED.value, publish_failed))
                        .values(state=State.DELIVERED.value, reason=None, failed_step=None, updated_at=at)
                        .returning(p.id)
                    )
                )
                .scalars()
                .all()
            )
            events += audit_rows(
                "payload", [(i, State.DELIVERED.value, "all documents delivered") for i in delivered], at
            )
            await _outer_delivered(conn, delivered, at)
        await insert_rows(conn, t.audit_events, events)

    async def retry_outbox(self, outbox_ids: Sequence[str], reason: str, delay_seconds: float) -> None:
        if not outbox_ids:
            return
        o = t.outbox.c
        at = now()
        async with self.engine.begin() as conn:
            await conn.execute(
                update(t.outbox)
                .where(o.id.in_(outbox_ids))
                .values(
                    claimed_by=None,
                    claim_until=None,
                    not_before=at + timedelta(seconds=delay_seconds),
                    last_error=reason,
                )
            )

    async def fail_outbox(self, outbox_id: str, reason: str) -> None:
        o, d, p = t.outbox.c, t.documents.c, t.payloads.c
        at = now()
        step = Step.PUBLISH.value
        async with self.engine.begin() as conn:
            doc = (
                await conn.execute(
                    update(t.outbox)
                    .where(o.id == outbox_id)
                    .values(
                        state=OutboxState.FAILED.value, last_error=reason, claimed_by=None, claim_until=None
                    )
                    .returning(o.document_id)
                )
            ).scalar_one_or_none()
            if doc is None:
                return
            payload_id = (
                await conn.execute(
                    update(t.documents)
                    .where(d.id == doc)
                    .values(state=State.FAILED.value, reason=reason, failed_step=step, updated_at=at)
                    .returning(d.payload_id)
                )
            ).scalar_one_or_none()
            events = [(doc, State.FAILED.value, f"{step}: {reason}")]
            await conn.execute(insert(t.audit_events), audit_rows("document", events, at))
            if payload_id is None:
                return
            why = f"document {doc}: {reason}"
            failed = (
                await conn.execute(
                    update(t.payloads)
                    .where(p.id == payload_id, p.state.in_([State.ROUTED.value, State.DELIVERED.value]))
                    .values(state=State.FAILED.value, reason=why, failed_step=step, updated_at=at)
                    .returning(p.id)
                )
            ).scalar_one_or_none()
            if failed is not None:
                await conn.execute(
                    insert(t.audit_events),
                    audit_rows("payload", [(payload_id, State.FAILED.value, f"{step}: {why}")], at),
                )
                await conn.execute(
                    update(t.transaction_sets)
                    .where(
                        t.transaction_sets.c.document_id == doc, t.transaction_sets.c.superseded_at.is_(None)
                    )
                    .values(state=State.FAILED.value)
                )

    async def outbox_backlog(self) -> int:
        async with self.engine.connect() as conn:
            n = (
                await conn.execute(
                    select(func.count())
                    .select_from(t.outbox)
                    .where(t.outbox.c.state == OutboxState.PENDING.value)
                )
            ).scalar_one()
        return int(n)

    async def documents(self, document_ids: Sequence[str]) -> list[DocumentRecord]:
        d = t.documents.c
        async with self.engine.connect() as conn:
            rows = (await conn.execute(select(t.documents).where(d.id.in_(list(document_ids))))).all()
        return [
            DocumentRecord(
                id=r.id,
                payload_id=r.payload_id,
                partner_id=r.partner_id,
                document_type=r.document_type,
                direction=Direction(r.direction),
                schema_version=r.schema_version,
                business_number=r.business_number,
                correlation_id=r.correlation_id,
                test=r.test,
                body=bytes(r.body),
                state=State(r.state),
                replay_count=r.replay_count,
                source_type=r.source_type,
            )
            for r in rows
        ]

    async def requeue_documents(self, messages: Sequence[OutboxMessage], *, reason: str, actor: str) -> int:
        """Replay from canonical: publish stored documents again (routes worked out by the caller)."""
        if not messages:
            return 0
        d = t.documents.c
        at = now()
        doc_ids = list(dict.fromkeys(m.document_id for m in messages))
        async with self.engine.begin() as conn:
            counts = dict((await conn.execute(select(d.id, d.replay_count).where(d.id.in_(doc_ids)))).all())
            missing = [i for i in doc_ids if i not in counts]
            if missing:
                raise NotFound(f"no stored document {missing[0]}")
            rows = [
                outbox_row(m if m.id else replace(m, id=str(uuid.uuid4())), counts[m.document_id] + 1, at)
                for m in messages
            ]
            await conn.execute(insert(t.outbox), rows)
            await conn.execute(
                update(t.documents)
                .where(d.id.in_(doc_ids))
                .values(
                    replay_count=d.replay_count + 1,
                    state=State.ROUTED.value,
                    reason=None,
                    failed_step=None,
                    updated_at=at,
                )
            )
            destinations = {
                i: sorted({m.destination for m in messages if m.document_id == i}) for i in doc_ids
            }
            await conn.execute(
                insert(t.audit_events),
                [
                    {
                        "entity_type": "document",
                        "entity_id": doc_id,
                        "state": State.REPLAYED.value,
                        "at": at,
                        "detail": f"replay from canonical to {destinations[doc_id]}",
                        "actor": actor,
                        "reason": reason,
                    }
                    for doc_id in doc_ids
                ],
            )
        return len(rows)


async def _outer_delivered(conn: AsyncConnection, payload_ids: Sequence[str], at: Any) -> None:
    """Interchanges and groups of delivered payloads are delivered too (their sets say so in
    their own trails; these move state only)."""
    if not payload_ids:
        return
    for table in (t.interchanges, t.groups):
        c = table.c
        await conn.execute(
            update(table)
            .where(
                c.payload_id.in_(payload_ids),
                c.superseded_at.is_(None),
                c.state.in_([State.PARSED.value, State.ACKNOWLEDGED.value]),
            )
            .values(state=State.DELIVERED.value)
        )
