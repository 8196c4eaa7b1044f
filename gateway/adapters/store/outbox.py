"""Outbox persistence: claims, confirmations, retries, and replay from canonical."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.adapters.store import tables as t
from gateway.adapters.store.rows import now, outbox_from_row
from gateway.domain.runtime.errors import NotFound
from gateway.domain.runtime.lifecycle import OutboxState, State
from gateway.domain.runtime.records import OutboxMessage

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
            pending = set(
                (
                    await conn.execute(
                        select(o.document_id).where(
                            o.document_id.in_(doc_ids), o.state != OutboxState.PUBLISHED.value
                        )
                    )
                )
                .scalars()
                .all()
            )
            done = [i for i in doc_ids if i not in pending]
            if done:
                await self._documents_delivered(conn, done, at)

    async def _documents_delivered(self, conn: AsyncConnection, doc_ids: list[str], at: Any) -> None:
        d, p = t.documents.c, t.payloads.c
        await conn.execute(
            update(t.documents).where(d.id.in_(doc_ids)).values(state=State.DELIVERED.value, updated_at=at)
        )
        await conn.execute(
            insert(t.audit_events),
            [
                {
                    "entity_type": "document",
                    "entity_id": i,
                    "state": State.DELIVERED.value,
                    "at": at,
                    "detail": "every destination confirmed",
                }
                for i in doc_ids
            ],
        )
        payload_ids = (
            (await conn.execute(select(d.payload_id).where(d.id.in_(doc_ids)).distinct())).scalars().all()
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
            await conn.execute(
                update(t.payloads)
                .where(p.id.in_(finished), p.state == State.ROUTED.value)
                .values(state=State.DELIVERED.value, updated_at=at)
            )
            await conn.execute(
                insert(t.audit_events),
                [
                    {
                        "entity_type": "payload",
                        "entity_id": i,
                        "state": State.DELIVERED.value,
                        "at": at,
                        "detail": "all documents delivered",
                    }
                    for i in finished
                ],
            )

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
        o, d = t.outbox.c, t.documents.c
        at = now()
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
            await conn.execute(
                update(t.documents).where(d.id == doc).values(state=State.FAILED.value, updated_at=at)
            )
            await conn.execute(
                insert(t.audit_events).values(
                    entity_type="document",
                    entity_id=doc,
                    state=State.FAILED.value,
                    at=at,
                    detail=f"publish: {reason}",
                )
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

    async def requeue_documents(self, document_ids: Sequence[str], *, reason: str, actor: str) -> int:
        """Publish stored canonical documents again, to the destinations they went to before."""
        o, d = t.outbox.c, t.documents.c
        at = now()
        async with self.engine.begin() as conn:
            docs = (await conn.execute(select(d.id, d.replay_count).where(d.id.in_(document_ids)))).all()
            if not docs:
                raise NotFound("none of the documents exist")
            rows: list[dict[str, Any]] = []
            for doc_id, replay_count in docs:
                previous = (
                    await conn.execute(
                        select(o.destination, o.routing_key, o.body, o.correlation_id, o.headers)
                        .where(o.document_id == doc_id)
                        .order_by(o.created_at)
                    )
                ).all()
                seen: set[str] = set()
                for dest, key, body, corr, headers in previous:
                    if dest in seen:
                        continue
                    seen.add(dest)
                    rows.append(
                        {
                            "id": str(uuid.uuid4()),
                            "document_id": doc_id,
                            "destination": dest,
                            "routing_key": key,
                            "body": body,
                            "correlation_id": corr,
                            "headers": {**dict(headers or {}), "replay_count": replay_count + 1},
                            "state": OutboxState.PENDING.value,
                            "attempts": 0,
                            "created_at": at,
                        }
                    )
            if rows:
                await conn.execute(insert(t.outbox), rows)
            await conn.execute(
                update(t.documents)
                .where(d.id.in_([r[0] for r in docs]))
                .values(replay_count=d.replay_count + 1, state=State.ROUTED.value, updated_at=at)
            )
            await conn.execute(
                insert(t.audit_events),
                [
                    {
                        "entity_type": "document",
                        "entity_id": doc_id,
                        "state": State.REPLAYED.value,
                        "at": at,
                        "detail": "replay from canonical",
                        "actor": actor,
                        "reason": reason,
                    }
                    for doc_id, _ in docs
                ],
            )
        return len(rows)
