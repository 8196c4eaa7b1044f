"""Payload persistence: raw bytes first, claims, state changes, replay resets, duplicate lookups.

Writing a pipeline run's results lives in :mod:`.finishing`; the bulk writes of envelope
records, documents and outbox rows in :mod:`.envelopes`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, bindparam, delete, insert, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.adapters.store import tables as t
from gateway.adapters.store.bulk import BulkInserter, insert_rows
from gateway.adapters.store.envelopes import advance_envelopes
from gateway.adapters.store.rows import now, payload_from_row
from gateway.domain.runtime.errors import Conflict, NotFound
from gateway.domain.runtime.ids import new_uuid
from gateway.domain.runtime.lifecycle import Direction, State, Step
from gateway.domain.runtime.records import NewPayload, PayloadRecord, StoreOutcome

__all__ = ["NOT_ORIGINAL", "PAYLOAD_COLUMNS", "PayloadOps", "RowView", "insert_keys"]

PAYLOAD_COLUMNS = [c for c in t.payloads.c if c.name != "content"]
#: States of payloads that are never the original of a duplicate.
NOT_ORIGINAL = (State.FAILED.value, State.REJECTED.value, State.DUPLICATE.value)


class PayloadOps:
    engine: AsyncEngine
    bulk: BulkInserter

    def _is_pg(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    async def _existing(self, conn: AsyncConnection, new: NewPayload) -> Any | None:
        m = new.meta
        if m.partner_id is None:
            return None
        p = t.payloads.c
        if m.idempotency_key:
            row = (
                await conn.execute(_by_idempotency_key(m.partner_id, m.channel, m.idempotency_key))
            ).first()
            if row is not None:
                return row
        if m.as2_message_id:
            row = (
                await conn.execute(
                    select(*PAYLOAD_COLUMNS).where(
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
        pid = new.payload_id or str(new_uuid())
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
            "failed_step": new.failed_step.value if new.failed_step else None,
            "replay_count": 0,
            "attempts": 0,
        }

    async def save_payloads(self, batch: Sequence[NewPayload]) -> list[StoreOutcome]:
        """One transaction for the batch: one multi-row ``INSERT ... ON CONFLICT DO NOTHING``.

        The unique indexes on (partner, AS2 Message-ID, direction) and (partner, channel,
        idempotency key) decide what is a repeat, atomically, on SQLite and PostgreSQL alike:
        a row they turn away (by an earlier payload, a concurrent transaction that committed
        first, or an earlier row of the same batch) is looked up and returned as the original,
        with ``created=False``. Only that rare path costs a query per payload.
        """
        rows: list[dict[str, Any]] = []
        mains: list[tuple[NewPayload, dict[str, Any], dict[str, Any] | None]] = []
        for new in batch:
            row = self._row(new)
            companion = self._row(new.companion) if new.companion is not None else None
            mains.append((new, row, companion))
            rows.append(row)
            if companion is not None:
                rows.append(companion)
        # A stable order of unique keys: concurrent batches on PostgreSQL wait on each other's
        # index entries in the same order (no deadlock), and the first of equal keys wins.
        rows.sort(key=_unique_key)
        outcomes: list[StoreOutcome] = []
        events: list[dict[str, Any]] = []
        keys: list[dict[str, Any]] = []
        async with self.engine.begin() as conn:
            inserted = set(await self.bulk.insert(conn, t.payloads, rows, returning_new_ids=True))
            orphans: list[str] = []
            for new, row, companion in mains:
                if row["id"] not in inserted:
                    existing = await self._existing(conn, new)
                    if existing is None:  # no repeat: the primary key itself was taken
                        raise Conflict(f"a payload with ID {row['id']} is stored already")
                    outcomes.append(StoreOutcome(payload_from_row(existing), created=False))
                    if companion is not None and companion["id"] in inserted:
                        orphans.append(companion["id"])
                    continue
                outcomes.append(StoreOutcome(payload_from_row(RowView(row)), created=True))
                stored = [(row, new)]
                if companion is not None and new.companion is not None and companion["id"] in inserted:
                    stored.append((companion, new.companion))
                for r, n in stored:
                    events.append(_receipt_event(r))
                    keys.append(
                        {"payload_id": r["id"], "kind": "correlation_id", "value": r["correlation_id"]}
                    )
                    if n.meta.as2_message_id:
                        keys.append(
                            {"payload_id": r["id"], "kind": "as2_message_id", "value": n.meta.as2_message_id}
                        )
                    keys += [{"payload_id": r["id"], "kind": k, "value": v} for k, v in n.keys]
            if orphans:  # the companion of a repeat is not kept
                await conn.execute(delete(t.payloads).where(t.payloads.c.id.in_(orphans)))
            await self.bulk.insert(conn, t.audit_events, events)
            await self.bulk.insert(conn, t.correlation_keys, keys)
        return outcomes

    async def get_payload(self, payload_id: str) -> PayloadRecord | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(*PAYLOAD_COLUMNS).where(t.payloads.c.id == payload_id))).first()
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
        self,
        worker: str,
        limit: int,
        lease_seconds: float,
        direction: Direction = Direction.INBOUND,
        *,
        max_bytes: int | None = None,
    ) -> list[PayloadRecord]:
        p = t.payloads.c
        at = now()
        free = or_(p.claim_until.is_(None), p.claim_until < at)
        due = or_(p.not_before.is_(None), p.not_before <= at)
        pick = (
            select(p.id) if max_bytes is None else select(p.id, p.size)
        ).where(p.state == State.RECEIVED.value, p.direction == direction.value, free, due)
        pick = pick.order_by(p.received_at).limit(limit)
        if self._is_pg():
            pick = pick.with_for_update(skip_locked=True)
        lease = {"claimed_by": worker, "claim_until": at + timedelta(seconds=lease_seconds)}
        async with self.engine.begin() as conn:
            if max_bytes is None:
                chosen: Any = pick.scalar_subquery()
            else:  # the oldest payloads up to max_bytes in all (at least one), then lease those
                chosen, total = [], 0
                for payload_id, size in (await conn.execute(pick)).all():
                    if chosen and total + size > max_bytes:
                        break
                    chosen.append(payload_id)
                    total += size
                if not chosen:
                    return []
            stmt = (
                update(t.payloads)
                .where(p.id.in_(chosen), free)
                .values(**lease, attempts=p.attempts + 1)
                .returning(*PAYLOAD_COLUMNS)
            )
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
            .returning(*PAYLOAD_COLUMNS)
        )
        async with self.engine.begin() as conn:
            row = (await conn.execute(stmt)).first()
        return payload_from_row(row) if row is not None else None

    async def payload_contents(self, payload_ids: Sequence[str]) -> dict[str, bytes]:
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(t.payloads.c.id, t.payloads.c.content).where(t.payloads.c.id.in_(payload_ids))
                )
            ).all()
        return {pid: bytes(content) for pid, content in rows}

    async def find_by_idempotency_key(
        self, partner_id: str, channel: str, idempotency_key: str
    ) -> PayloadRecord | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(_by_idempotency_key(partner_id, channel, idempotency_key))).first()
        return payload_from_row(row) if row is not None else None

    async def find_by_key(
        self, partner_id: str, direction: Direction, kind: str, value: str, *, since: datetime | None = None
    ) -> PayloadRecord | None:
        k, p = t.correlation_keys.c, t.payloads.c
        stmt = (
            select(*PAYLOAD_COLUMNS)
            .join(t.correlation_keys, k.payload_id == p.id)
            .where(k.kind == kind, k.value == value)
            .where(p.partner_id == partner_id, p.direction == direction.value)
            .where(p.received_at >= since if since is not None else true())
            .order_by(p.received_at.desc())
            .limit(1)
        )
        async with self.engine.connect() as conn:
            row = (await conn.execute(stmt)).first()
        return payload_from_row(row) if row is not None else None

    async def find_duplicates(self, candidates: Sequence[tuple[str, str, str]]) -> dict[str, str]:
        """(payload id, partner, sha256) candidates -> {payload id: its original, if any}."""
        if not candidates:
            return {}
        async with self.engine.connect() as conn:
            rows = await originals(conn, [(partner, sha) for _, partner, sha in candidates])
        out: dict[str, str] = {}
        for pid, partner, sha in candidates:
            original = original_of(pid, rows.get((partner, sha), []))
            if original is not None:
                out[pid] = original
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
                    .returning(*PAYLOAD_COLUMNS)
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
                    detail="replay from raw" if row.direction == Direction.INBOUND.value else "resend",
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
            await _envelopes_follow(conn, [(payload_id, state)], at)

    async def set_payload_states(
        self,
        updates: Sequence[tuple[str, State, str, Step | None]],
        keys: Sequence[tuple[str, str, str]] = (),
    ) -> None:
        """Several :meth:`set_payload_state` calls in one transaction: (payload id, state, detail, step)."""
        if not updates:
            await self.add_correlation_keys(keys)
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
            await _envelopes_follow(conn, [(pid, state) for pid, state, _, _ in updates], at)
            await insert_keys(conn, keys)

    async def add_correlation_keys(self, keys: Sequence[tuple[str, str, str]]) -> None:
        if not keys:
            return
        async with self.engine.begin() as conn:
            await insert_keys(conn, keys)

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


def _by_idempotency_key(partner_id: str, channel: str, idempotency_key: str) -> Select[Any]:
    p = t.payloads.c
    return select(*PAYLOAD_COLUMNS).where(
        p.partner_id == partner_id, p.channel == channel, p.idempotency_key == idempotency_key
    )


async def insert_keys(conn: AsyncConnection, keys: Sequence[tuple[str, str, str]]) -> None:
    """Correlation keys: (payload id, kind, value)."""
    rows = [{"payload_id": p, "kind": k, "value": v} for p, k, v in keys]
    await insert_rows(conn, t.correlation_keys, rows)


async def _envelopes_follow(conn: AsyncConnection, changes: Sequence[tuple[str, State]], at: Any) -> None:
    """Envelope records of outbound payloads follow them when they are sent or fail to send."""
    for state in (State.SENT, State.FAILED):
        ids = [pid for pid, s in changes if s is state]
        await advance_envelopes(conn, ids, state, f"payload {state.value}", at, only_from=(State.RECEIVED,))


async def originals(
    conn: AsyncConnection, keys: Sequence[tuple[str | None, str]]
) -> dict[tuple[str | None, str], list[Any]]:
    """Inbound payloads that may be originals for (partner, sha256) keys, oldest first."""
    p = t.payloads.c
    shas = list({sha for _, sha in keys})
    partners = list({partner for partner, _ in keys if partner is not None})
    wanted = set(keys)
    stmt = (
        select(p.id, p.partner_id, p.sha256, p.state, p.received_at)
        .where(
            p.partner_id.in_(partners),  # (partner_id, sha256) is indexed
            p.sha256.in_(shas),
            p.direction == Direction.INBOUND.value,
            p.state.notin_(NOT_ORIGINAL),
        )
        .order_by(p.received_at, p.id)
    )
    out: dict[tuple[str | None, str], list[Any]] = {}
    for row in (await conn.execute(stmt)).all():
        if (row.partner_id, row.sha256) in wanted:
            out.setdefault((row.partner_id, row.sha256), []).append(row)
    return out


def original_of(payload_id: str, rows: Sequence[Any]) -> str | None:
    """The original for ``payload_id`` among candidate rows (oldest first): the oldest other one
    that was processed. One still waiting or being processed is not an original yet."""
    for row in rows:
        if row.id != payload_id and row.state != State.RECEIVED.value:
            return str(row.id)
    return None


def _unique_key(row: dict[str, Any]) -> tuple[str, str, str]:
    return (row["partner_id"] or "", row["as2_message_id"] or "", row["idempotency_key"] or "")


def _receipt_event(row: dict[str, Any]) -> dict[str, Any]:
    detail = f"{row['size']} bytes via {row['channel']}" + (f": {row['reason']}" if row["reason"] else "")
    return {
        "entity_type": "payload",
        "entity_id": row["id"],
        "state": row["state"],
        "at": row["received_at"],
        "detail": detail,
    }


class RowView:
    """Attribute access over a dict, for records built from rows we just inserted."""

    def __init__(self, row: dict[str, Any]) -> None:
        self.__dict__.update(row)
        self.__dict__.setdefault("failed_step", None)
        self.__dict__.setdefault("duplicate_of", None)
