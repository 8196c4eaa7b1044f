"""Writing pipeline results in bulk: envelope records, documents, outbox rows and correlation keys.

A batch of results is written with a handful of multi-row statements, whatever
its size: that is what lets the pipeline reach thousands of documents per
second on SQLite and PostgreSQL alike.

Envelope records (interchange, group, transaction set) carry a lifecycle state with one
audit event per step they take (entity types ``interchange``, ``group``, ``set``, keyed by
row id). A replay from raw keeps the records of the earlier run, stamped ``superseded_at``
with a ``replayed`` event, and adds new ones: history is never rewritten.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, BigInteger, String, and_, bindparam, delete, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.adapters.store import tables as t
from gateway.adapters.store.bulk import insert_rows
from gateway.domain.runtime.lifecycle import AckStatus, Direction, OutboxState, State
from gateway.domain.runtime.records import EnvelopeRecord, OutboxMessage, ProcessingResult

__all__ = [
    "DERIVED_KEYS",
    "Deferred",
    "advance_envelopes",
    "audit_rows",
    "outbox_row",
    "supersede",
    "write_results",
]

Item = tuple[str, ProcessingResult]

#: Correlation keys worked out by processing; a replay replaces them (channel keys stay).
DERIVED_KEYS = ("isa13", "gs06", "st02", "business_number")
_LEVELS = (("interchange", t.interchanges), ("group", t.groups), ("set", t.transaction_sets))


def audit_rows(entity: str, events: Sequence[tuple[Any, str, str]], at: datetime) -> list[dict[str, Any]]:
    """Audit-event rows for (entity id, state, detail) triples."""
    return [
        {"entity_type": entity, "entity_id": str(eid), "state": state, "at": at, "detail": detail}
        for eid, state, detail in events
    ]


@dataclass(slots=True)
class Deferred:
    """Audit events and correlation keys a transaction writes at its end, one statement each,
    however many steps produced them (fewer round trips: what a batch costs on PostgreSQL)."""

    audit: list[dict[str, Any]] = field(default_factory=list)
    keys: list[dict[str, Any]] = field(default_factory=list)

    async def flush(self, conn: AsyncConnection) -> None:
        if self.keys:
            await _bulk_insert(conn, t.correlation_keys, self.keys)
        if self.audit:
            await _bulk_insert(conn, t.audit_events, self.audit)
        self.keys, self.audit = [], []


async def _bulk_insert(conn: AsyncConnection, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert rows of plain columns (text, numbers, timestamps). On PostgreSQL as one
    ``INSERT ... SELECT FROM unnest(arrays)``: a short statement with one array per column,
    instead of a thousand-row VALUES list built and parsed again for every batch. Rows that
    name different columns go through :func:`insert_rows` (a statement per run of the same
    columns), so a column a row leaves out gets its default, as on SQLite."""
    if not rows:
        return
    first = rows[0].keys()
    if conn.dialect.name != "postgresql" or any(row.keys() != first for row in rows):
        await insert_rows(conn, table, rows)
        return
    names = sorted(first)
    columns = ", ".join(f'"{name}"' for name in names)
    params = ", ".join(f":c{i}" for i in range(len(names)))
    stmt = text(f'INSERT INTO "{table.name}" ({columns}) SELECT * FROM unnest({params})').bindparams(
        *(bindparam(f"c{i}", type_=ARRAY(table.c[name].type)) for i, name in enumerate(names))
    )
    await conn.execute(stmt, {f"c{i}": [row.get(name) for row in rows] for i, name in enumerate(names)})


async def supersede(conn: AsyncConnection, payload_ids: list[str], at: datetime) -> None:
    """Keep the envelope records of an earlier run (a replay), marked superseded, and audit it."""
    events: list[dict[str, Any]] = []
    for entity, table in _LEVELS:
        c = table.c
        ids = (
            (
                await conn.execute(
                    update(table)
                    .where(c.payload_id.in_(payload_ids), c.superseded_at.is_(None))
                    .values(superseded_at=at)
                    .returning(c.id)
                )
            )
            .scalars()
            .all()
        )
        events += audit_rows(entity, [(i, State.REPLAYED.value, "superseded by a replay") for i in ids], at)
    if events:
        await insert_rows(conn, t.audit_events, events)
    k = t.correlation_keys.c
    await conn.execute(
        delete(t.correlation_keys).where(k.payload_id.in_(payload_ids), k.kind.in_(DERIVED_KEYS))
    )


async def _insert_current(
    conn: AsyncConnection, table: Any, rows: list[dict[str, Any]], key: Callable[[Any], tuple[Any, ...]]
) -> dict[tuple[Any, ...], int]:
    """Insert envelope rows (one multi-row statement) and read back their IDs by ``key``.

    On PostgreSQL ``INSERT ... RETURNING`` gives them back in the same round trip. An
    ``INSERT ... RETURNING`` kept in parameter order runs row by row on SQLite; there, reading
    the current rows of the batch's payloads back is one more query, whatever the size.
    """
    if not rows:
        return {}
    if conn.dialect.name == "postgresql":
        returning = insert(table).returning(*table.c, sort_by_parameter_order=True)
        return {key(row): row.id for row in (await conn.execute(returning, rows)).all()}
    await insert_rows(conn, table, rows)
    c = table.c
    stmt = select(table).where(c.payload_id.in_({r["payload_id"] for r in rows}), c.superseded_at.is_(None))
    return {key(row): row.id for row in (await conn.execute(stmt)).all()}


def _outer_state(r: ProcessingResult) -> tuple[str, str]:
    """State and audit detail of an interchange or group after one processing run."""
    if r.direction is Direction.OUTBOUND:
        return State.RECEIVED.value, "stored, to send"
    if r.state in (State.FAILED, State.DUPLICATE, State.REJECTED) and not r.documents:
        return r.state.value, f"parsed; {r.state.value}: {r.reason or ''}".rstrip(": ")
    if r.outbound:
        return State.ACKNOWLEDGED.value, "parsed; acknowledgement to send"
    return State.PARSED.value, "parsed"


def _set_state(r: ProcessingResult, e: EnvelopeRecord, doc_state: State | None) -> tuple[str, str]:
    where = f"{e.set_id} {e.st02}"
    if r.direction is Direction.OUTBOUND:
        return State.RECEIVED.value, f"{where}: stored, to send"
    if not e.valid:
        return State.REJECTED.value, f"{where}: parsed; rejected by validation"
    if doc_state is not None:
        steps = ["parsed", "mapped"] + (["routed"] if doc_state is not State.MAPPED else [])
        return doc_state.value, f"{where}: {', '.join(steps)}"
    if r.state in (State.FAILED, State.DUPLICATE):
        return r.state.value, f"{where}: parsed; {r.state.value}"
    return State.PARSED.value, f"{where}: parsed"


async def write_results(
    conn: AsyncConnection,
    dialect: str,
    items: Sequence[Item],
    at: datetime,
    *,
    quiet: Collection[str] = (),
    deferred: Deferred | None = None,
) -> None:
    """Write the results of ``items`` (records of an earlier run are the caller's to
    :func:`supersede` first); ``quiet``: payload IDs whose envelope records get no audit events
    (our own acks, whose payload trail says everything); ``deferred``: audit events and
    correlation keys are left there for the caller to write."""
    if not items:
        return
    own = deferred is None
    if deferred is None:
        deferred = Deferred()
    keys: list[dict[str, Any]] = []
    events: dict[str, list[tuple[Any, str, str]]] = {"interchange": [], "group": [], "set": []}
    ix_rows: list[dict[str, Any]] = []
    ix_keys: list[tuple[str, int]] = []
    ix_audit: list[tuple[str, str]] = []
    for pid, r in items:
        state, detail = _outer_state(r)
        seen: set[int] = set()
        for e in r.envelopes:
            if e.interchange_index in seen:
                continue
            seen.add(e.interchange_index)
            ta1 = e.ack_kind == "TA1"
            ix_keys.append((pid, e.interchange_index))
            ix_audit.append((state, f"ISA13 {e.isa13} from {e.sender_qualifier}:{e.sender}: {detail}"))
            ix_rows.append(
                {
                    "payload_id": pid,
                    "direction": r.direction.value,
                    "partner_id": r.partner_id,
                    "index": e.interchange_index,
                    "sender_qualifier": e.sender_qualifier[:2],
                    "sender": e.sender[:15],
                    "receiver_qualifier": e.receiver_qualifier[:2],
                    "receiver": e.receiver[:15],
                    "isa13": e.isa13[:9],
                    "version": e.version[:5],
                    "usage": e.usage[:1],
                    "state": state,
                    "ack_kind": e.ack_kind if ta1 else None,
                    "ack_status": AckStatus.PENDING.value if ta1 else None,
                    "ack_due_at": e.ack_due_at if ta1 else None,
                }
            )
            keys.append({"payload_id": pid, "document_id": None, "kind": "isa13", "value": e.isa13})
    ix_ids = await _insert_current(conn, t.interchanges, ix_rows, lambda r: (r.payload_id, r.index))
    events["interchange"] = [(ix_ids[k], s, d) for k, (s, d) in zip(ix_keys, ix_audit, strict=True)]
    g_rows: list[dict[str, Any]] = []
    g_keys: list[tuple[str, int, int]] = []
    g_audit: list[tuple[str, str]] = []
    for pid, r in items:
        state, detail = _outer_state(r)
        for e in r.envelopes:
            key = (pid, e.interchange_index, e.group_index)
            if not e.has_group or key in g_keys:
                continue
            g_keys.append(key)
            g_audit.append((state, f"{e.functional_id} GS06 {e.gs06}: {detail}"))
            pending = e.ack_kind is not None and e.ack_kind != "none"
            g_rows.append(
                {
                    "interchange_id": ix_ids[(pid, e.interchange_index)],
                    "payload_id": pid,
                    "direction": r.direction.value,
                    "partner_id": r.partner_id,
                    "index": e.group_index,
                    "functional_id": e.functional_id[:2],
                    "gs06": e.gs06[:9],
                    "version": e.version[:12],
                    "state": state,
                    "ack_kind": e.ack_kind,
                    "ack_status": AckStatus.PENDING.value if pending else None,
                    "ack_due_at": e.ack_due_at,
                }
            )
            keys.append({"payload_id": pid, "document_id": None, "kind": "gs06", "value": e.gs06})
    ix_index = {row_id: key for key, row_id in ix_ids.items()}
    g_ids = await _insert_current(
        conn, t.groups, g_rows, lambda r: (r.payload_id, ix_index[r.interchange_id][1], r.index)
    )
    events["group"] = [(g_ids[k], s, d) for k, (s, d) in zip(g_keys, g_audit, strict=True)]
    set_rows: list[dict[str, Any]] = []
    set_audit: list[tuple[str, str]] = []
    for pid, r in items:
        docs = {
            (d.envelope.interchange_index, d.envelope.group_index, d.envelope.set_index): d
            for d in r.documents
            if d.envelope is not None
        }
        for e in r.envelopes:
            if not e.has_group:
                continue
            doc = docs.get((e.interchange_index, e.group_index, e.set_index))
            state, detail = _set_state(r, e, doc.state if doc is not None else None)
            set_audit.append((state, detail))
            set_rows.append(
                {
                    "group_id": g_ids[(pid, e.interchange_index, e.group_index)],
                    "payload_id": pid,
                    "index": e.set_index,
                    "set_id": e.set_id[:3],
                    "st02": e.st02[:9],
                    "valid": e.valid,
                    "state": state,
                    "document_id": doc.id if doc is not None else None,
                    "ack_status": None,
                }
            )
            keys.append({"payload_id": pid, "document_id": None, "kind": "st02", "value": e.st02})
        keys += _business_keys(pid, r)
    set_ids = await _insert_current(
        conn, t.transaction_sets, set_rows, lambda r: (r.payload_id, r.group_id, r.index)
    )
    events["set"] = [
        (set_ids[(row["payload_id"], row["group_id"], row["index"])], s, d)
        for row, (s, d) in zip(set_rows, set_audit, strict=True)
    ]
    owners = {
        "interchange": [pid for pid, _ in ix_keys],
        "group": [pid for pid, _, _ in g_keys],
        "set": [row["payload_id"] for row in set_rows],
    }
    for entity, evs in events.items():
        kept = [ev for ev, pid in zip(evs, owners[entity], strict=True) if pid not in quiet]
        deferred.audit += audit_rows(entity, kept, at)
    deferred.keys += keys
    await link_control_numbers(conn, items)
    replay_counts = await _documents(conn, dialect, items, at, deferred)
    outbox = [outbox_row(m, replay_counts.get(m.document_id, 0), at) for _, r in items for m in r.outbox]
    if outbox:
        await insert_rows(conn, t.outbox, outbox)
    if own:
        await deferred.flush(conn)


def outbox_row(m: OutboxMessage, replay_count: int, at: datetime) -> dict[str, Any]:
    """The row of a message to publish; its ``replay_count`` header says how often its document
    was published again, as the document's row does."""
    return {
        "id": m.id,
        "document_id": m.document_id,
        "destination": m.destination,
        "routing_key": m.routing_key,
        "body": m.body,
        "correlation_id": m.correlation_id,
        "headers": {**dict(m.headers), "replay_count": replay_count},
        "state": OutboxState.PENDING.value,
        "attempts": 0,
        "created_at": at,
    }


def _business_keys(pid: str, r: ProcessingResult) -> list[dict[str, Any]]:
    keys: list[dict[str, Any]] = []
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
        for n in dict.fromkeys(r.business_numbers)
        if n not in known
    ]
    return keys


def _numeric(value: str) -> int | None:
    text = value.strip()
    return int(text) if text.isdigit() else None


_LINK_PG = text(
    "UPDATE control_numbers_issued AS c SET payload_id = v.pid"
    " FROM unnest(:partners, :allocs, :kinds, :vals, :pids) AS v(partner, alloc, kind, value, pid)"
    " WHERE c.partner_id = v.partner AND c.allocation = v.alloc AND c.kind = v.kind"
    " AND c.value = v.value AND c.payload_id IS NULL"
).bindparams(
    bindparam("partners", type_=ARRAY(String)),
    bindparam("allocs", type_=ARRAY(String)),
    bindparam("kinds", type_=ARRAY(String)),
    bindparam("vals", type_=ARRAY(BigInteger)),
    bindparam("pids", type_=ARRAY(String)),
)


async def link_control_numbers(conn: AsyncConnection, items: Sequence[Item]) -> None:
    """Name the payload that used each control number its envelopes were issued under."""
    params: list[dict[str, Any]] = []
    for pid, r in items:
        seen: set[tuple[str, int]] = set()
        for e in r.envelopes:
            if e.allocation is None:
                continue
            used = [("isa", _numeric(e.isa13))]
            if e.has_group:
                used += [("gs", _numeric(e.gs06)), ("st", _numeric(e.st02))]
            for kind, value in used:
                if value is None or (kind, value) in seen:
                    continue
                seen.add((kind, value))
                params.append(
                    {"b_partner": r.partner_id, "b_alloc": e.allocation, "b_kind": kind, "b_value": value,
                     "b_pid": pid}
                )  # fmt: skip
    if not params:
        return
    if conn.dialect.name == "postgresql":  # one statement, not one execution per number
        await conn.execute(
            _LINK_PG,
            {
                "partners": [x["b_partner"] for x in params],
                "allocs": [x["b_alloc"] for x in params],
                "kinds": [x["b_kind"] for x in params],
                "vals": [x["b_value"] for x in params],
                "pids": [x["b_pid"] for x in params],
            },
        )
        return
    c = t.control_numbers_issued.c
    await conn.execute(
        update(t.control_numbers_issued)
        .where(
            and_(
                c.partner_id == bindparam("b_partner"),  # (partner, kind, value) is indexed: no scan
                c.allocation == bindparam("b_alloc"),
                c.kind == bindparam("b_kind"),
                c.value == bindparam("b_value"),
                c.payload_id.is_(None),
            )
        )
        .values(payload_id=bindparam("b_pid")),
        params,
    )


async def _documents(
    conn: AsyncConnection, dialect: str, items: Sequence[Item], at: Any, deferred: Deferred
) -> dict[str, int]:
    """Upsert canonical documents: a replay keeps each document's ID (the consumer's dedup key).

    A document row belongs to one payload: an upsert never moves another payload's document.
    Returns each document's replay count (0 when new, one more on every replay).
    """
    docs = [(pid, d) for pid, r in items for d in r.documents]
    if not docs:
        return {}
    existing = dict(
        (
            await conn.execute(
                select(t.documents.c.id, t.documents.c.replay_count).where(
                    t.documents.c.id.in_([d.id for _, d in docs])
                )
            )
        ).all()
    )
    counts = {d.id: existing[d.id] + 1 if d.id in existing else 0 for _, d in docs}
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
            "replay_count": counts[d.id],
            "created_at": at,
            "updated_at": at,
            "source_type": d.source_type,
            "reason": None,
            "failed_step": None,
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
                "source_type": ins.excluded.source_type,
                "reason": None,
                "failed_step": None,
            },
            where=t.documents.c.payload_id == ins.excluded.payload_id,
        )
        await conn.execute(stmt, rows)
    else:
        await insert_rows(conn, t.documents, rows)
    deferred.audit += audit_rows(
        "document",
        [(d.id, d.state.value, f"{d.document_type} {d.business_number or ''}".strip()) for _, d in docs],
        at,
    )
    return counts


async def advance_envelopes(
    conn: AsyncConnection,
    payload_ids: Sequence[str],
    state: State,
    detail: str,
    at: datetime,
    *,
    only_from: Sequence[State] = (),
) -> None:
    """Move the current envelope records of outbound payloads to ``state``.

    Groups that expect an acknowledgement, their sets and their interchange get an audit event
    each (what ack tracking follows); the records of what expects nothing back (our own
    997/999/TA1) only change state, their payload's trail already says it was sent.
    """
    if not payload_ids:
        return

    async def move(table: Any, *returning: Any) -> Sequence[Any]:
        c = table.c
        where = and_(c.payload_id.in_(payload_ids), c.superseded_at.is_(None))
        if only_from:
            where = and_(where, c.state.in_([x.value for x in only_from]))
        stmt = update(table).where(where).values(state=state.value).returning(*returning)
        return (await conn.execute(stmt)).all()

    g, s, i = t.groups.c, t.transaction_sets.c, t.interchanges.c
    groups = await move(t.groups, g.id, g.interchange_id, g.ack_kind)
    tracked = {row.id for row in groups if row.ack_kind}
    interchanges_tracked = {row.interchange_id for row in groups if row.ack_kind}
    sets = await move(t.transaction_sets, s.id, s.group_id)
    ixs = await move(t.interchanges, i.id, i.ack_kind)
    events = audit_rows("group", [(x, state.value, detail) for x in sorted(tracked)], at)
    events += audit_rows(
        "set", [(row.id, state.value, detail) for row in sets if row.group_id in tracked], at
    )
    events += audit_rows(
        "interchange",
        [(row.id, state.value, detail) for row in ixs if row.ack_kind or row.id in interchanges_tracked],
        at,
    )
    if events:
        await insert_rows(conn, t.audit_events, events)
