"""Storing what a pipeline run produced, atomically, for a whole batch of payloads.

One transaction per batch writes every owned payload's new state, its envelope records,
documents, outbox rows, the acknowledgements to send and the audit trail. Before that,
inside the same transaction, results that route content are checked against earlier
payloads with the same content (``check_duplicate``): on PostgreSQL under an advisory lock
per (partner, content), so two workers or two instances can never both route the same
content. A result that finds a payload with that content processed meanwhile becomes a
duplicate of it: whichever copy commits first is the original, the others are duplicates,
however their processing interleaves. (SQLite has a single writer: its transactions are
serialised anyway.)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ARRAY, BigInteger, String, bindparam, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.adapters.store import tables as t
from gateway.adapters.store.bulk import insert_rows
from gateway.adapters.store.envelopes import Deferred, audit_rows, supersede, write_results
from gateway.adapters.store.payloads import PayloadOps, RowView, insert_keys, original_of, originals
from gateway.adapters.store.rows import now, payload_from_row
from gateway.domain.runtime.lifecycle import Direction, State
from gateway.domain.runtime.records import ChannelMeta, NewPayload, ProcessingResult, StoreOutcome

__all__ = ["FinishOps"]

Item = tuple[str, ProcessingResult]


_RESULTS_PG = text(
    "UPDATE payloads AS p SET state = v.state, reason = v.reason, failed_step = v.step,"
    " duplicate_of = v.dup, partner_id = v.partner, findings = CAST(v.findings AS json),"
    " claimed_by = NULL, claim_until = NULL, not_before = NULL, updated_at = :at"
    " FROM unnest(:ids, :states, :reasons, :steps, :dups, :partners, :findings)"
    " AS v(id, state, reason, step, dup, partner, findings) WHERE p.id = v.id"
).bindparams(
    *(bindparam(name, type_=ARRAY(String)) for name in
      ("ids", "states", "reasons", "steps", "dups", "partners", "findings")),
    bindparam("at", type_=t.TS),
)  # fmt: skip


def _lock_key(partner: str | None, sha256: str) -> int:
    digest = hashlib.sha256(f"{partner}:{sha256}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class FinishOps(PayloadOps):
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
            owned_q = select(p.id, p.sha256).where(p.id.in_(ids), p.claimed_by == worker)
            if self._is_pg():
                owned_q = owned_q.with_for_update()
            owned: dict[str, str] = dict((await conn.execute(owned_q)).all())
            mine = [(pid, r) for pid, r in items if pid in owned]
            if not mine:
                return [False] * len(items)
            mine = await self._settle_duplicates(conn, mine, owned)
            waiting = [(pid, r) for pid, r in mine if r.retry_after is not None]
            done = [(pid, r) for pid, r in mine if r.retry_after is None]
            if waiting:
                await conn.execute(
                    update(t.payloads)
                    .where(p.id == bindparam("b_id"))
                    .values(
                        claimed_by=None, claim_until=None, not_before=bindparam("b_until"), updated_at=at
                    ),
                    [
                        {"b_id": pid, "b_until": at + timedelta(seconds=r.retry_after or 0.0)}
                        for pid, r in waiting
                    ],
                )
            if done:
                await self._write_done(conn, done, at)
        return [pid in owned for pid in ids]

    async def _write_done(self, conn: AsyncConnection, done: list[Item], at: datetime) -> None:
        await self._payload_results(conn, done, at)
        # Our acks (and acks sent again for duplicates) are payloads of their own: their rows and
        # keys first (a duplicate's original may be in this very batch: its ack is looked up).
        outbound = [(pid, new, self._row(new)) for pid, r in done for new in r.outbound]
        await self._insert_outbound(conn, outbound)
        again = await self._acks_again(conn, done)
        await self._insert_outbound(conn, again)
        outbound += again
        # Then every envelope record, document, outbox row, key and audit event of the batch,
        # inbound and outbound together: one statement per table.
        await supersede(conn, [pid for pid, _ in done], at)
        acks = [
            (row["id"], ProcessingResult(State.RECEIVED, row["partner_id"], envelopes=list(new.envelopes),
                                         direction=new.direction))
            for _, new, row in outbound
            if new.envelopes
        ]  # fmt: skip
        deferred = Deferred()
        await write_results(
            conn,
            self.engine.dialect.name,
            [*done, *acks],
            at,
            quiet={pid for pid, _ in acks},  # our acks' records: their payload trail says it all
            deferred=deferred,
        )
        deferred.audit += audit_rows(
            "payload",
            [(row["id"], State.RECEIVED.value, f"outbound, produced while processing {pid}")
             for pid, _, row in outbound],
            at,
        )  # fmt: skip
        for pid, r in done:
            trail = [(s.value, d) for s, d in r.events]
            if r.failed_step is not None:
                trail.append((r.state.value, f"{r.failed_step.value}: {r.reason}"))
            elif not trail or trail[-1][0] != r.state.value:
                trail.append((r.state.value, r.reason or r.state.value))
            deferred.audit += audit_rows("payload", [(pid, st, d) for st, d in trail], at)
        await deferred.flush(conn)

    async def _payload_results(self, conn: AsyncConnection, done: list[Item], at: datetime) -> None:
        """Each payload's new state, reason, partner and findings; its lease is given back."""
        if conn.dialect.name == "postgresql":  # one statement, not one execution per payload
            await conn.execute(
                _RESULTS_PG,
                {
                    "ids": [pid for pid, _ in done],
                    "states": [r.state.value for _, r in done],
                    "reasons": [r.reason for _, r in done],
                    "steps": [r.failed_step.value if r.failed_step else None for _, r in done],
                    "dups": [r.duplicate_of for _, r in done],
                    "partners": [r.partner_id for _, r in done],
                    "findings": [json.dumps(r.findings or None) for _, r in done],
                    "at": at,
                },
            )
            return
        p = t.payloads.c
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
                not_before=None,
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
                for pid, r in done
            ],
        )

    async def _insert_outbound(
        self, conn: AsyncConnection, outbound: list[tuple[str, NewPayload, dict[str, Any]]]
    ) -> None:
        """The payload rows and correlation keys of acks to send (their envelopes come later)."""
        if not outbound:
            return
        await insert_rows(conn, t.payloads, [row for _, _, row in outbound])
        await insert_keys(
            conn, [(row["id"], kind, value) for _, new, row in outbound for kind, value in new.keys]
        )

    async def _settle_duplicates(
        self, conn: AsyncConnection, items: list[Item], shas: dict[str, str]
    ) -> list[Item]:
        """Check routed content (``shas``: each payload's sha256) against earlier payloads,
        atomically with the write (see module doc)."""
        checks = [(pid, r) for pid, r in items if r.check_duplicate and r.retry_after is None]
        if not checks:
            return items
        keys = sorted({(r.partner_id, shas[pid]) for pid, r in checks}, key=lambda k: (k[0] or "", k[1]))
        if self._is_pg():  # one content is decided by one transaction at a time, across instances
            stmt = text(
                "SELECT pg_advisory_xact_lock(k) FROM (SELECT unnest(:keys) AS k ORDER BY 1) AS ordered"
            ).bindparams(bindparam("keys", type_=ARRAY(BigInteger)))
            await conn.execute(stmt, {"keys": sorted({_lock_key(*k) for k in keys})})
        candidates = await originals(conn, keys)
        decided: dict[str, ProcessingResult] = {}
        for pid, r in checks:
            original = original_of(pid, candidates.get((r.partner_id, shas[pid]), []))
            if original is None:
                continue
            decided[pid] = ProcessingResult(
                State.DUPLICATE,
                r.partner_id,
                envelopes=r.envelopes,
                findings=r.findings,
                duplicate_of=original,
                reason=f"same content from {r.partner_id} as payload {original}: not routed again",
                events=[(s, d) for s, d in r.events if s is State.PARSED],
                direction=r.direction,
                reacknowledge=bool(r.outbound) or r.reacknowledge,
            )
        return [(pid, decided.get(pid, r)) for pid, r in items]

    async def _acks_again(
        self, conn: AsyncConnection, done: list[Item]
    ) -> list[tuple[str, NewPayload, dict[str, Any]]]:
        """For duplicates whose original was acknowledged: the original's acks, to send again."""
        wanted = {r.duplicate_of: pid for pid, r in done if r.reacknowledge and r.duplicate_of}
        if not wanted:
            return []
        k, p = t.correlation_keys.c, t.payloads.c
        rows = (
            await conn.execute(
                select(k.value, p.id, p.content, p.channel, p.partner_id, p.meta, p.correlation_id)
                .join(t.payloads, p.id == k.payload_id)
                .where(k.kind == "ack_for", k.value.in_(list(wanted)))
                .order_by(p.received_at)
            )
        ).all()
        out: list[tuple[str, NewPayload, dict[str, Any]]] = []
        for row in rows:
            meta = dict(row.meta or {})
            duplicate = wanted[row.value]
            new = NewPayload(
                bytes(row.content),
                ChannelMeta(
                    channel=row.channel,
                    partner_id=row.partner_id,
                    document_type=meta.get("document_type"),
                    filename=meta.get("filename"),
                    content_type=meta.get("content_type"),
                    correlation_id=row.correlation_id,
                ),
                Direction.OUTBOUND,
                keys=(("ack_for", duplicate), ("ack_copy_of", row.id)),
            )
            out.append((duplicate, new, self._row(new)))
        return out

    async def record_outbound(self, new: NewPayload, result: ProcessingResult) -> StoreOutcome:
        """Store a payload to send with its envelopes and documents, ready to send (or, stored
        ``failed`` with its step and reason, kept for support and never sent)."""
        async with self.engine.begin() as conn:
            if new.meta.idempotency_key:
                existing = await self._existing(conn, new)
                if existing is not None:
                    return StoreOutcome(payload_from_row(existing), created=False)
            row = self._row(new)
            await conn.execute(insert(t.payloads).values(**row))
            at = row["received_at"]
            await write_results(conn, self.engine.dialect.name, [(row["id"], result)], at)
            await insert_keys(conn, [(row["id"], kind, value) for kind, value in new.keys])
            events = [(s.value, d) for s, d in result.events]
            if new.state is State.FAILED:  # kept for support, never sent
                step = f"{new.failed_step.value}: " if new.failed_step else ""
                events.append((State.FAILED.value, f"{step}{new.reason}; not sent"))
            else:
                sending = f"{row['size']} bytes to send via {new.meta.channel}"
                events.insert(0, (State.RECEIVED.value, sending))
            await conn.execute(
                insert(t.audit_events), audit_rows("payload", [(row["id"], s, d) for s, d in events], at)
            )
        return StoreOutcome(payload_from_row(RowView(row)), created=True)
