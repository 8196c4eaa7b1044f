"""Payload persistence: raw bytes first, claims, pipeline results, replay resets."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, bindparam, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.adapters.store import tables as t
from gateway.adapters.store.rows import now, payload_from_row
from gateway.domain.runtime.errors import NotFound
from gateway.domain.runtime.lifecycle import Direction, State, Step
from gateway.domain.runtime.records import NewPayload, PayloadRecord, ProcessingResult, StoreOutcome

__all__ = ["OutboundOps", "PayloadOps"]

_PAYLOAD_COLUMNS = [c for c in t.payloads.c if c.name != "content"]


class PayloadOps:
    engine: AsyncEngine

    def _is_pg(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    async def _existing(self, conn: AsyncConnection, new: NewPayload) -> Any | None:
        m = new.meta
        if m.partner_id is None:
            return None
        p = t.payloads.c
        if m.idempotency_key:
            row = (
                await conn.execute(
                    select(*_PAYLOAD_COLUMNS).where(
                        p.partner_id == m.partner_id,
                        p.channel == m.channel,
                        p.idempotency_key == m.idempotency_key,
                    )
                )
            ).first()
            if row is not None:
                return row
        if m.as2_message_id:
            row = (
                await conn.execute(
                    select(*_PAYLOAD_COLUMNS).where(
                        p.partner_id == m.partner_id,
                        p.as2_message_id == m.as2_message_id,
                        p.direction == new.direction.value,
                    )
                )
            ).first()
            if row is not None:
                return row
        return None

    def _row(self, new: NewPayload) -> dict[str, Any]:
        at = now()
        pid = str(uuid.uuid4())
        return {
            "id": pid,
            "received_at": at,
            "updated_at": at,
            "direction": new.direction.value,
            "channel": new.meta.channel,
            "partner_id": new.meta.partner_id,
            "content": new.content,
            "size": len(new.content),
            "sha256": hashlib.sha256(new.content).hexdigest(),
            "meta": new.meta.as_dict(),
            "correlation_id": new.meta.correlation_id or pid,
            "as2_message_id": new.meta.as2_message_id,
            "idempotency_key": new.meta.idempotency_key,
            "state": new.state.value,
            "reason": new.reason,
            "replay_count": 0,
            "attempts": 0,
        }

    async def save_payloads(self, batch: Sequence[NewPayload]) -> list[StoreOutcome]:
        try:
            return await self._save(batch)
        except IntegrityError:
            # A concurrent repeat of the same idempotency key won the race: go one by one.
            return [(await self._save([new]))[0] for new in batch]

    async def _save(self, batch: Sequence[NewPayload]) -> list[StoreOutcome]:
        outcomes: list[StoreOutcome | None] = [None] * len(batch)
        rows: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        keys: list[dict[str, Any]] = []
        async with self.engine.begin() as conn:
            for i, new in enumerate(batch):
                if new.meta.idempotency_key or new.meta.as2_message_id:
                    existing = await self._existing(conn, new)
                    if existing is not None:
                        outcomes[i] = StoreOutcome(payload_from_row(existing), created=False)
                        continue
                row = self._row(new)
                rows.append(row)
                at = row["received_at"]
                detail = f"{row['size']} bytes via {new.meta.channel}" + (
                    f": {new.reason}" if new.reason else ""
                )
                events.append(
                    {
                        "entity_type": "payload",
                        "entity_id": row["id"],
                        "state": new.state.value,
                        "at": at,
                        "detail": detail,
                    }
                )
                keys.append(
                    {"payload_id": row["id"], "kind": "correlation_id", "value": row["correlation_id"]}
                )
                if new.meta.as2_message_id:
                    keys.append(
                        {"payload_id": row["id"], "kind": "as2_message_id", "value": new.meta.as2_message_id}
                    )
                outcomes[i] = StoreOutcome(payload_from_row(_RowView(row)), created=True)
            if rows:
                await conn.execute(insert(t.payloads), rows)
                await conn.execute(insert(t.audit_events), events)
                await conn.execute(insert(t.correlation_keys), keys)
        return [o for o in outcomes if o is not None]

    async def get_payload(self, payload_id: str) -> PayloadRecord | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(*_PAYLOAD_COLUMNS).where(t.payloads.c.id == payload_id))).first()
            if row is None:
                return None
            numbers = (
                (
                    await conn.execute(
                        select(t.documents.c.business_number).where(
                            t.documents.c.payload_id == payload_id, t.documents.c.business_number.isnot(None)
                        )
                    )
                )
                .scalars()
                .all()
            )
        return payload_from_row(row, tuple(n for n in numbers if n))

    async def payload_content(self, payload_id: str) -> bytes:
        async with self.engine.connect() as conn:
            content = (
                await conn.execute(select(t.payloads.c.content).where(t.payloads.c.id == payload_id))
            ).scalar_one_or_none()
        if content is None:
            raise NotFound(f"no stored payload {payload_id}")
        return bytes(content)

    async def claim_payloads(
        self, worker: str, limit: int, lease_seconds: float, direction: Direction = Direction.INBOUND
    ) -> list[PayloadRecord]:
        p = t.payloads.c
        at = now()
        free = or_(p.claim_until.is_(None), p.claim_until < at)
        due = or_(p.not_before.is_(None), p.not_before <= at)
        pick = (
            select(p.id)
            .where(p.state == State.RECEIVED.value, p.direction == direction.value, free, due)
            .order_by(p.received_at)
            .limit(limit)
        )
        if self._is_pg():
            pick = pick.with_for_update(skip_locked=True)
        stmt = (
            update(t.payloads)
            .where(p.id.in_(pick.scalar_subquery()), free)
            .values(
                claimed_by=worker, claim_until=at + timedelta(seconds=lease_seconds), attempts=p.attempts + 1
            )
            .returning(*_PAYLOAD_COLUMNS)
        )
        async with self.engine.begin() as conn:
            rows = (await conn.execute(stmt)).all()
        return sorted((payload_from_row(r) for r in rows), key=lambda r: r.received_at)

    async def claim_payload(self, payload_id: str, worker: str, lease_seconds: float) -> PayloadRecord | None:
        """Lease one payload in ``received`` (if nobody holds it)."""
        p = t.payloads.c
        at = now()
        stmt = (
            update(t.payloads)
            .where(
                p.id == payload_id,
                p.state == State.RECEIVED.value,
                or_(p.claim_until.is_(None), p.claim_until < at),
            )
            .values(
                claimed_by=worker, claim_until=at + timedelta(seconds=lease_seconds), attempts=p.attempts + 1
            )
            .returning(*_PAYLOAD_COLUMNS)
        )
        async with self.engine.begin() as conn:
            row = (await conn.execute(stmt)).first()
        return payload_from_row(row) if row is not None else None

    async def find_duplicate(self, partner_id: str, sha256: str, exclude_id: str) -> str | None:
        p = t.payloads.c
        stmt = (
            select(p.id)
            .where(
                p.partner_id == partner_id,
                p.sha256 == sha256,
                p.id != exclude_id,
                p.direction == Direction.INBOUND.value,
                p.state.notin_([State.FAILED.value, State.RECEIVED.value, State.REJECTED.value]),
            )
            .order_by(p.received_at)
            .limit(1)
        )
        async with self.engine.connect() as conn:
            return (await conn.execute(stmt)).scalar_one_or_none()

    async def finish_processing(self, payload_id: str, worker: str, result: ProcessingResult) -> bool:
        return (await self.finish_many(worker, [(payload_id, result)]))[0]

    async def finish_many(self, worker: str, items: Sequence[tuple[str, ProcessingResult]]) -> list[bool]:
        """Write many pipeline results in one transaction; False for payloads whose lease was lost."""
        if not items:
            return []
        at = now()
        p = t.payloads.c
        ids = [pid for pid, _ in items]
        async with self.engine.begin() as conn:
            owned_q = select(p.id).where(p.id.in_(ids), p.claimed_by == worker)
            if self._is_pg():
                owned_q = owned_q.with_for_update()
            owned = set((await conn.execute(owned_q)).scalars().all())
            mine = [(pid, r) for pid, r in items if pid in owned]
            if not mine:
                return [False] * len(items)
            await conn.execute(
                update(t.payloads)
                .where(p.id == bindparam("b_id"))
                .values(
                    state=bindparam("b_state"),
                    reason=bindparam("b_reason"),
                    failed_step=bindparam("b_step"),
                    duplicate_of=bindparam("b_dup"),
                    partner_id=bindparam("b_partner"),
                    findings=bindparam("b_findings"),
                    claimed_by=None,
                    claim_until=None,
                    updated_at=at,
                ),
                [
                    {
                        "b_id": pid,
                        "b_state": r.state.value,
                        "b_reason": r.reason,
                        "b_step": r.failed_step.value if r.failed_step else None,
                        "b_dup": r.duplicate_of,
                        "b_partner": r.partner_id,
                        "b_findings": r.findings or None,
                    }
                    for pid, r in mine
                ],
            )
            from gateway.adapters.store.envelopes import write_results

            await write_results(conn, self.engine.dialect.name, mine)
            outbound = [(pid, self._row(new)) for pid, r in mine for new in r.outbound]
            if outbound:
                await conn.execute(insert(t.payloads), [row for _, row in outbound])
            events: list[dict[str, Any]] = []
            for pid, r in mine:
                trail = [(s.value, d) for s, d in r.events]
                if r.failed_step is not None:
                    trail.append((r.state.value, f"{r.failed_step.value}: {r.reason}"))
                elif not trail or trail[-1][0] != r.state.value:
                    trail.append((r.state.value, r.reason or r.state.value))
                events += [
                    {"entity_type": "payload", "entity_id": pid, "state": st, "at": at, "detail": d}
                    for st, d in trail
                ]
            events += [
                {
                    "entity_type": "payload",
                    "entity_id": row["id"],
                    "state": State.RECEIVED.value,
                    "at": at,
                    "detail": f"outbound, produced while processing {pid}",
                }
                for pid, row in outbound
            ]
            await conn.execute(insert(t.audit_events), events)
        return [pid in owned for pid in ids]

    async def payload_contents(self, payload_ids: Sequence[str]) -> dict[str, bytes]:
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(t.payloads.c.id, t.payloads.c.content).where(t.payloads.c.id.in_(payload_ids))
                )
            ).all()
        return {pid: bytes(content) for pid, content in rows}

    async def find_duplicates(self, candidates: Sequence[tuple[str, str, str]]) -> dict[str, str]:
        """(payload id, partner, sha256) candidates -> {payload id: earlier payload with that content}."""
        if not candidates:
            return {}
        p = t.payloads.c
        shas = list({sha for _, _, sha in candidates})
        stmt = (
            select(p.id, p.partner_id, p.sha256, p.received_at)
            .where(
                p.sha256.in_(shas),
                p.direction == Direction.INBOUND.value,
                p.state.notin_([State.FAILED.value, State.RECEIVED.value, State.REJECTED.value]),
            )
            .order_by(p.received_at)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        first: dict[tuple[str | None, str], str] = {}
        for row in rows:
            first.setdefault((row.partner_id, row.sha256), row.id)
        out: dict[str, str] = {}
        for pid, partner, sha in candidates:
            earlier = first.get((partner, sha))
            if earlier is not None and earlier != pid:
                out[pid] = earlier
        return out

    async def reset_for_replay(self, payload_id: str, *, reason: str, actor: str) -> PayloadRecord:
        p = t.payloads.c
        at = now()
        async with self.engine.begin() as conn:
            row = (
                await conn.execute(
                    update(t.payloads)
                    .where(p.id == payload_id)
                    .values(
                        state=State.RECEIVED.value,
                        reason=None,
                        failed_step=None,
                        duplicate_of=None,
                        claimed_by=None,
                        claim_until=None,
                        not_before=None,
                        attempts=0,
                        replay_count=p.replay_count + 1,
                        updated_at=at,
                    )
                    .returning(*_PAYLOAD_COLUMNS)
                )
            ).first()
            if row is None:
                raise NotFound(f"no stored payload {payload_id}")
            await conn.execute(
                insert(t.audit_events).values(
                    entity_type="payload",
                    entity_id=payload_id,
                    state=State.REPLAYED.value,
                    at=at,
                    detail="replay from raw",
                    actor=actor,
                    reason=reason,
                )
            )
        return payload_from_row(row)

    async def set_payload_state(
        self,
        payload_id: str,
        state: State,
        *,
        detail: str,
        step: Step | None = None,
        actor: str | None = None,
    ) -> None:
        p = t.payloads.c
        at = now()
        values: dict[str, Any] = {
            "state": state.value,
            "updated_at": at,
            "claimed_by": None,
            "claim_until": None,
        }
        if state is State.FAILED:
            values.update(reason=detail, failed_step=step.value if step else None)
        async with self.engine.begin() as conn:
            await conn.execute(update(t.payloads).where(p.id == payload_id).values(**values))
            await conn.execute(
                insert(t.audit_events).values(
                    entity_type="payload",
                    entity_id=payload_id,
                    state=state.value,
                    at=at,
                    detail=detail if step is None else f"{step.value}: {detail}",
                    actor=actor,
                )
            )

    async def set_payload_states(self, updates: Sequence[tuple[str, State, str, Step | None]]) -> None:
        """Several :meth:`set_payload_state` calls in one transaction: (payload id, state, detail, step)."""
        if not updates:
            return
        p = t.payloads.c
        at = now()
        async with self.engine.begin() as conn:
            await conn.execute(
                update(t.payloads)
                .where(p.id == bindparam("b_id"))
                .values(
                    state=bindparam("b_state"),
                    reason=bindparam("b_reason"),
                    failed_step=bindparam("b_step"),
                    updated_at=at,
                    claimed_by=None,
                    claim_until=None,
                ),
                [
                    {
                        "b_id": pid,
                        "b_state": state.value,
                        "b_reason": detail if state is State.FAILED else None,
                        "b_step": step.value if step is not None and state is State.FAILED else None,
                    }
                    for pid, state, detail, step in updates
                ],
            )
            await conn.execute(
                insert(t.audit_events),
                [
                    {
                        "entity_type": "payload",
                        "entity_id": pid,
                        "state": state.value,
                        "at": at,
                        "detail": detail if step is None else f"{step.value}: {detail}",
                    }
                    for pid, state, detail, step in updates
                ],
            )

    async def retry_payload_later(
        self, payload_id: str, worker: str, delay_seconds: float, reason: str
    ) -> None:
        """Release a claim and keep the payload in ``received`` until ``delay_seconds`` pass."""
        p = t.payloads.c
        at = now()
        async with self.engine.begin() as conn:
            await conn.execute(
                update(t.payloads)
                .where(and_(p.id == payload_id, p.claimed_by == worker))
                .values(
                    claimed_by=None,
                    claim_until=None,
                    not_before=at + timedelta(seconds=delay_seconds),
                    reason=reason,
                    updated_at=at,
                )
            )

    async def delete_derived(self, conn: AsyncConnection, payload_id: str) -> None:
        await conn.execute(delete(t.correlation_keys).where(t.correlation_keys.c.payload_id == payload_id))


class _RowView:
    """Attribute access over a dict, for records built from rows we just inserted."""

    def __init__(self, row: dict[str, Any]) -> None:
        self.__dict__.update(row)
        self.__dict__.setdefault("failed_step", None)
        self.__dict__.setdefault("duplicate_of", None)


class OutboundOps(PayloadOps):
    """Outbound payloads are stored with their envelopes in one transaction, ready to send."""

    async def record_outbound(self, new: NewPayload, result: ProcessingResult) -> StoreOutcome:
        async with self.engine.begin() as conn:
            if new.meta.idempotency_key:
                existing = await self._existing(conn, new)
                if existing is not None:
                    return StoreOutcome(payload_from_row(existing), created=False)
            row = self._row(new)
            row["state"] = State.RECEIVED.value if new.state is State.RECEIVED else new.state.value
            await conn.execute(insert(t.payloads).values(**row))
            from gateway.adapters.store.envelopes import write_results

            await write_results(conn, self.engine.dialect.name, [(row["id"], result)])
            at = row["received_at"]
            events = [(State.RECEIVED.value, f"{row['size']} bytes to send via {new.meta.channel}")]
            events += [(s.value, d) for s, d in result.events]
            await conn.execute(
                insert(t.audit_events),
                [
                    {"entity_type": "payload", "entity_id": row["id"], "state": s, "at": at, "detail": d}
                    for s, d in events
                ],
            )
        return StoreOutcome(payload_from_row(_RowView(row)), created=True)
