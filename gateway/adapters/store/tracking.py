"""Control-number sequences, sent-envelope ack tracking and named locks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, delete, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.adapters.store import tables as t
from gateway.adapters.store.envelopes import audit_rows
from gateway.adapters.store.rows import aware, now
from gateway.domain.runtime.errors import SEQUENCE_NAMES, SequenceExhausted
from gateway.domain.runtime.lifecycle import AckStatus, State, Step
from gateway.domain.runtime.store import IssuedNumber, NumberRequest, SentGroup

__all__ = ["TrackingOps"]


class TrackingOps:
    engine: AsyncEngine

    async def next_control_numbers(
        self,
        partner_id: str,
        kind: str,
        count: int = 1,
        *,
        start: int = 1,
        maximum: int = 999_999_999,
        allocation: str | None = None,
    ) -> list[int]:
        """Monotonic per (partner, kind) across restarts and instances.

        The stored counter only ever grows (one atomic UPDATE ... RETURNING) until an operator
        resets it; the numbers handed out wrap into ``[start, maximum]``. Every number issued is
        recorded under ``allocation``; storing the payload that uses it links the two,
        so gaps (issued but never used, e.g. after a crash) show in :meth:`control_numbers`.
        """
        [numbers] = await self.allocate_control_numbers(
            [NumberRequest(partner_id, kind, count, start, maximum, allocation)]
        )
        return numbers

    async def allocate_control_numbers(self, requests: Sequence[NumberRequest]) -> list[list[int]]:
        """Several :meth:`next_control_numbers` allocations in one transaction, in order.

        A request without ``wrap`` whose numbers would cross from ``maximum`` back to ``start``
        raises :class:`SequenceExhausted` inside the transaction, which rolls back: no counter
        moves and nothing is recorded as issued, for any request of the call."""
        out: list[list[int]] = [[] for _ in requests]
        wanted = [(i, r) for i, r in enumerate(requests) if r.count >= 1]
        if not wanted:
            return out
        s = t.control_sequences.c
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        at = now()
        issued: list[dict[str, Any]] = []
        async with self.engine.begin() as conn:
            # one (partner, kind) after the other in a fixed order: two batches never deadlock
            for i, r in sorted(wanted, key=lambda x: (x[1].partner_id, x[1].kind, x[0])):
                ins = dialect.insert(t.control_sequences).values(
                    partner_id=r.partner_id, kind=r.kind, value=r.start - 1
                )
                top: int | None = None
                while top is None:  # again if a reset deleted the counter between the two statements
                    await conn.execute(ins.on_conflict_do_nothing(index_elements=["partner_id", "kind"]))
                    top = (
                        await conn.execute(
                            update(t.control_sequences)
                            .where(s.partner_id == r.partner_id, s.kind == r.kind)
                            .values(value=s.value + r.count)
                            .returning(s.value)
                        )
                    ).scalar_one_or_none()
                span = r.maximum - r.start + 1
                if not r.wrap and _cycle(top, r.start, span) > max(0, _cycle(top - r.count, r.start, span)):
                    raise SequenceExhausted(r.partner_id, r.kind, r.maximum)
                out[i] = [r.start + ((n - r.start) % span) for n in range(top - r.count + 1, top + 1)]
                issued += [
                    {"partner_id": r.partner_id, "kind": r.kind, "value": n, "issued_at": at,
                     "allocation": r.allocation}
                    for n in out[i]
                ]  # fmt: skip
            await conn.execute(insert(t.control_numbers_issued), issued)
        return out

    async def reset_control_sequence(self, partner_id: str, kind: str, *, actor: str, reason: str) -> bool:
        """Forget the counter: the next allocation starts it again at ``start - 1``, so it hands
        out ``start`` and, without wrap, runs up to ``max`` once more. Issued numbers stay listed."""
        s = t.control_sequences.c
        async with self.engine.begin() as conn:
            gone = await conn.execute(
                delete(t.control_sequences).where(s.partner_id == partner_id, s.kind == kind)
            )
            name = SEQUENCE_NAMES.get(kind, kind)
            await conn.execute(
                insert(t.audit_events).values(
                    entity_type="sequence",
                    entity_id=f"{partner_id}/{kind}",
                    state="reset",
                    at=now(),
                    detail=f"{name} sequence restarts at its start with the next number",
                    actor=actor,
                    reason=reason,
                )
            )
        return bool(gone.rowcount)

    async def control_numbers(
        self, partner_id: str, *, kind: str | None = None, unused_only: bool = False, limit: int = 100
    ) -> list[IssuedNumber]:
        c = t.control_numbers_issued.c
        stmt = select(c.partner_id, c.kind, c.value, c.issued_at, c.payload_id).where(
            c.partner_id == partner_id
        )
        if kind:
            stmt = stmt.where(c.kind == kind)
        if unused_only:
            stmt = stmt.where(c.payload_id.is_(None))
        stmt = stmt.order_by(c.id.desc()).limit(limit)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return [
            IssuedNumber(r.partner_id, r.kind, int(r.value), aware(r.issued_at) or now(), r.payload_id)
            for r in rows
        ]

    async def find_sent_group(
        self, partner_id: str, gs06: str, functional_id: str | None
    ) -> SentGroup | None:
        g = t.groups.c
        stmt = (
            _sent_groups()
            .where(
                g.partner_id == partner_id,
                g.direction == "outbound",
                g.gs06 == (gs06.lstrip("0") or "0"),
                g.superseded_at.is_(None),
                g.ack_kind.isnot(None),
            )
            .order_by(g.id.desc())
            .limit(1)
        )
        if functional_id:
            stmt = stmt.where(g.functional_id == functional_id)
        async with self.engine.connect() as conn:
            row = (await conn.execute(stmt)).first()
            if row is None:
                return None
            st02s = (
                (
                    await conn.execute(
                        select(t.transaction_sets.c.st02).where(t.transaction_sets.c.group_id == row.id)
                    )
                )
                .scalars()
                .all()
            )
        return _sent(row, tuple(st02s))

    async def find_sent_interchange(self, partner_id: str, isa13: str) -> str | None:
        i = t.interchanges.c
        async with self.engine.connect() as conn:
            return (
                await conn.execute(
                    select(i.payload_id)
                    .where(i.partner_id == partner_id, i.direction == "outbound", i.isa13 == isa13)
                    .order_by(i.id.desc())
                    .limit(1)
                )
            ).scalar_one_or_none()

    async def record_ack(
        self, group_id: int, status: AckStatus, detail: dict[str, Any], ack_payload_id: str
    ) -> None:
        g, ts = t.groups.c, t.transaction_sets.c
        at = now()
        rejected = status is AckStatus.REJECTED
        state = State.FAILED.value if rejected else State.ACK_RECEIVED.value
        async with self.engine.begin() as conn:
            payload_id = (
                await conn.execute(
                    update(t.groups)
                    .where(g.id == group_id)
                    .values(
                        ack_status=status.value,
                        ack_detail={**detail, "ack_payload_id": ack_payload_id},
                        state=state,
                    )
                    .returning(g.payload_id)
                )
            ).scalar_one()
            set_events: list[tuple[Any, str, str]] = []
            for st02, set_status in (detail.get("sets") or {}).items():
                set_state = (
                    State.FAILED.value if set_status == AckStatus.REJECTED.value else State.ACK_RECEIVED.value
                )
                ids = (
                    (
                        await conn.execute(
                            update(t.transaction_sets)
                            .where(ts.group_id == group_id, ts.st02 == st02)
                            .values(ack_status=set_status, state=set_state)
                            .returning(ts.id)
                        )
                    )
                    .scalars()
                    .all()
                )
                set_events += [(i, set_state, f"{detail.get('kind', 'ack')}: {set_status}") for i in ids]
            events = audit_rows(
                "group", [(group_id, State.ACK_RECEIVED.value, f"{status.value} by {ack_payload_id}")], at
            )
            events += audit_rows("set", set_events, at)
            events += audit_rows("payload", [(payload_id, state, f"group {group_id}: {status.value}")], at)
            await conn.execute(insert(t.audit_events), events)
            await conn.execute(
                update(t.payloads)
                .where(t.payloads.c.id == payload_id)
                .values(
                    state=state,
                    reason=f"partner rejected group {group_id}" if rejected else None,
                    failed_step=Step.SEND.value if rejected else None,
                    updated_at=at,
                )
            )

    async def record_interchange_ack(
        self, partner_id: str, isa13: str, status: AckStatus, detail: dict[str, Any], ack_payload_id: str
    ) -> int:
        """A TA1: settle the interchange, its groups' TA1 expectations and, if rejected, everything."""
        i, g, p = t.interchanges.c, t.groups.c, t.payloads.c
        at = now()
        rejected = status is AckStatus.REJECTED
        state = State.FAILED.value if rejected else State.ACK_RECEIVED.value
        note = f"TA1 {status.value} by {ack_payload_id}"
        async with self.engine.begin() as conn:
            matched = (
                await conn.execute(
                    update(t.interchanges)
                    .where(
                        i.partner_id == partner_id,
                        i.direction == "outbound",
                        i.isa13 == isa13.strip().zfill(9),
                        i.superseded_at.is_(None),
                    )
                    .values(
                        ack_status=status.value,
                        ack_detail={**detail, "ack_payload_id": ack_payload_id},
                        state=state,
                    )
                    .returning(i.id, i.payload_id)
                )
            ).all()
            if not matched:
                return 0
            ix_ids = [m.id for m in matched]
            open_ = [AckStatus.PENDING.value, AckStatus.OVERDUE.value]
            # A TA1 settles the groups waiting for it; a rejecting one also every group still waiting
            # for a 997/999, which will never come for an interchange the partner refused.
            settles = (
                g.ack_status.in_(open_) if rejected else and_(g.ack_status.in_(open_), g.ack_kind == "TA1")
            )
            groups = (
                (
                    await conn.execute(
                        update(t.groups)
                        .where(g.interchange_id.in_(ix_ids), settles)
                        .values(
                            ack_status=status.value,
                            ack_detail={**detail, "ack_payload_id": ack_payload_id},
                            state=state,
                        )
                        .returning(g.id)
                    )
                )
                .scalars()
                .all()
            )
            payload_ids = sorted({m.payload_id for m in matched})
            events = audit_rows("interchange", [(x, state, note) for x in ix_ids], at)
            events += audit_rows("group", [(x, State.ACK_RECEIVED.value, note) for x in groups], at)
            events += audit_rows(
                "payload", [(x, state, f"interchange {isa13}: {note}") for x in payload_ids], at
            )
            await conn.execute(insert(t.audit_events), events)
            if rejected:
                note_code, meaning = detail.get("note_code"), detail.get("note")
                why = f"partner rejected interchange {isa13} (TA1 note {note_code}: {meaning})"
                await conn.execute(
                    update(t.payloads)
                    .where(p.id.in_(payload_ids))
                    .values(state=State.FAILED.value, reason=why, failed_step=Step.SEND.value, updated_at=at)
                )
            elif groups:
                waiting = (
                    (
                        await conn.execute(
                            select(g.payload_id).where(
                                g.payload_id.in_(payload_ids),
                                g.superseded_at.is_(None),
                                g.ack_status.in_(open_),
                            )
                        )
                    )
                    .scalars()
                    .all()
                )
                done = [x for x in payload_ids if x not in set(waiting)]
                if done:
                    await conn.execute(
                        update(t.payloads)
                        .where(p.id.in_(done), p.state == State.SENT.value)
                        .values(state=State.ACK_RECEIVED.value, updated_at=at)
                    )
        return len(matched)

    async def overdue_groups(self, at: datetime) -> list[SentGroup]:
        g, i, p = t.groups.c, t.interchanges.c, t.payloads.c
        async with self.engine.begin() as conn:
            rows = (
                await conn.execute(
                    update(t.groups)
                    .where(
                        g.ack_status == AckStatus.PENDING.value,
                        g.ack_due_at.isnot(None),
                        g.ack_due_at < at,
                        g.superseded_at.is_(None),
                    )
                    .values(ack_status=AckStatus.OVERDUE.value)
                    .returning(
                        g.id,
                        g.payload_id,
                        g.partner_id,
                        g.gs06,
                        g.functional_id,
                        g.ack_kind,
                        g.ack_status,
                        g.ack_due_at,
                        # the interchange's ISA13 and the payload's correlation ID, in the same statement
                        select(i.isa13).where(i.id == g.interchange_id).scalar_subquery().label("isa13"),
                        select(p.correlation_id)
                        .where(p.id == g.payload_id)
                        .scalar_subquery()
                        .label("correlation_id"),
                    )
                )
            ).all()
            out = [
                SentGroup(
                    r.id,
                    r.payload_id,
                    r.partner_id or "",
                    r.isa13,
                    r.gs06,
                    r.functional_id,
                    r.ack_kind or "",
                    AckStatus(r.ack_status),
                    aware(r.ack_due_at),
                    correlation_id=r.correlation_id,
                )
                for r in rows
            ]
            if rows:
                await conn.execute(
                    insert(t.audit_events),
                    [
                        {
                            "entity_type": "group",
                            "entity_id": str(r.id),
                            "state": AckStatus.OVERDUE.value,
                            "at": at,
                            "detail": f"{r.ack_kind} for GS06 {r.gs06} was due {r.ack_due_at}",
                        }
                        for r in rows
                    ],
                )
        return out

    async def list_overdue(self) -> list[SentGroup]:
        g = t.groups.c
        stmt = _sent_groups().where(g.ack_status == AckStatus.OVERDUE.value).order_by(g.ack_due_at)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
            sets = (
                await conn.execute(
                    select(t.transaction_sets.c.group_id, t.transaction_sets.c.st02)
                    .where(t.transaction_sets.c.group_id.in_([r.id for r in rows]))
                    .order_by(t.transaction_sets.c.id)
                )
            ).all()
        st02s: dict[int, list[str]] = {}
        for group_id, st02 in sets:
            st02s.setdefault(group_id, []).append(st02)
        return [_sent(r, tuple(st02s.get(r.id, ()))) for r in rows]

    async def stop_awaiting_acks(
        self, payload_id: str, detail: str, *, actor: str | None = None, reason: str | None = None
    ) -> int:
        g = t.groups.c
        at = now()
        waiting = [AckStatus.PENDING.value, AckStatus.OVERDUE.value]
        async with self.engine.begin() as conn:
            ids = (
                (
                    await conn.execute(
                        update(t.groups)
                        .where(g.payload_id == payload_id, g.superseded_at.is_(None))
                        .where(g.ack_status.in_(waiting))
                        .values(ack_status=AckStatus.NOT_EXPECTED.value, ack_due_at=None)
                        .returning(g.id)
                    )
                )
                .scalars()
                .all()
            )
            if ids:
                events = audit_rows("group", [(i, State.REPLAYED.value, detail) for i in ids], at)
                by_whom = [dict(e, actor=actor, reason=reason) for e in events]
                await conn.execute(insert(t.audit_events), by_whom)
        return len(ids)

    async def try_lock(self, name: str, owner: str, ttl_seconds: float) -> bool:
        lk = t.locks.c
        at = now()
        until = at + timedelta(seconds=ttl_seconds)
        async with self.engine.begin() as conn:
            taken = await conn.execute(
                update(t.locks)
                .where(lk.name == name, or_(lk.owner == owner, lk.until < at))
                .values(owner=owner, until=until)
            )
            if taken.rowcount == 1:
                return True
            exists = (await conn.execute(select(lk.name).where(lk.name == name))).first()
            if exists is not None:
                return False
        try:
            async with self.engine.begin() as conn:
                await conn.execute(insert(t.locks).values(name=name, owner=owner, until=until))
        except IntegrityError:
            return False
        return True

    async def release_lock(self, name: str, owner: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(delete(t.locks).where(t.locks.c.name == name, t.locks.c.owner == owner))


def _cycle(counter: int, start: int, span: int) -> int:
    """How many times the sequence had wrapped when the stored counter was at ``counter``.

    The counter keeps growing across wraps (``start + span`` hands out ``start`` again), so
    numbers crossing into a later cycle are the ones a sequence without wrap must refuse;
    ``start - 1`` (never used, or just reset) is cycle -1, and the first cycle is 0."""
    return (counter - start) // span


def _sent_groups() -> Select[Any]:
    """Groups with their interchange's ISA13: the columns a :class:`SentGroup` is built from."""
    g, i = t.groups.c, t.interchanges.c
    return select(
        g.id,
        g.payload_id,
        g.partner_id,
        i.isa13,
        g.gs06,
        g.functional_id,
        g.ack_kind,
        g.ack_status,
        g.ack_due_at,
    ).join(t.interchanges, i.id == g.interchange_id)


def _sent(row: Any, st02s: tuple[str, ...]) -> SentGroup:
    return SentGroup(
        group_id=row.id,
        payload_id=row.payload_id,
        partner_id=row.partner_id or "",
        isa13=row.isa13,
        gs06=row.gs06,
        functional_id=row.functional_id,
        ack_kind=row.ack_kind or "",
        ack_status=AckStatus(row.ack_status) if row.ack_status else AckStatus.NOT_EXPECTED,
        ack_due_at=aware(row.ack_due_at),
        st02s=st02s,
    )
