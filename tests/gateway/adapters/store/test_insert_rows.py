"""``insert_rows``: the pipeline's multi-row inserts store exactly what SQLAlchemy Core's
``executemany`` stores, on SQLite (driver-level statements) and PostgreSQL (Core)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select

from gateway.adapters.store import SqlStore
from gateway.adapters.store import tables as t
from gateway.adapters.store.bulk import insert_rows

_AT = datetime(2026, 12, 5, 9, 30, 15, 123456, tzinfo=UTC)


def _outbox(prefix: str, count: int) -> list[dict[str, Any]]:
    return [
        {
            "id": f"{prefix}-{i}",
            "document_id": f"doc-{i}",
            "destination": "erp",
            "routing_key": f"erp.850.acme-{i}",
            "body": bytes(range(256)) * (i + 1),  # binary, not text
            "correlation_id": f"corr-{i}",
            "headers": {"partner": "acme", "n": i, "nested": {"none": None}},
            "state": "pending",
            "created_at": _AT + timedelta(seconds=i),
            "not_before": None if i else _AT,
        }
        for i in range(count)
    ]


async def _read(store: SqlStore, prefix: str) -> list[dict[str, Any]]:
    o = t.outbox.c
    async with store.engine.connect() as conn:
        rows = (await conn.execute(select(t.outbox).where(o.id.like(f"{prefix}-%")).order_by(o.id))).all()
    return [{k: v for k, v in row._mapping.items() if k != "id"} for row in rows]


async def test_rows_read_back_as_core_writes_them(store: SqlStore) -> None:
    rows = _outbox("bulk", 3)
    core = [dict(r, id=r["id"].replace("bulk", "core")) for r in rows]
    async with store.engine.begin() as conn:
        await insert_rows(conn, t.outbox, rows)
        await conn.execute(insert(t.outbox), core)
    ours, theirs = await _read(store, "bulk"), await _read(store, "core")
    assert len(ours) == 3
    assert ours == theirs
    assert ours[2]["body"] == bytes(range(256)) * 3
    assert ours[0]["created_at"].replace(tzinfo=UTC) == _AT
    assert ours[1]["not_before"] is None
    assert ours[0]["attempts"] == 0  # the server default of a column the rows leave out


async def test_rows_with_different_columns_and_rollback(store: SqlStore) -> None:
    e = t.audit_events.c
    events = [
        {"entity_type": "payload", "entity_id": "p1", "state": "received", "at": _AT},
        {"entity_type": "payload", "entity_id": "p1", "state": "parsed", "at": _AT, "detail": "1 set"},
    ]
    async with store.engine.begin() as conn:
        await insert_rows(conn, t.audit_events, events)  # keys differ: nothing is dropped
        await insert_rows(conn, t.audit_events, [])
    try:
        async with store.engine.begin() as conn:
            await insert_rows(conn, t.audit_events, [dict(events[0], entity_id="p2")])
            raise RuntimeError("abandon the transaction")
    except RuntimeError:
        pass
    async with store.engine.connect() as conn:
        got = (await conn.execute(select(e.entity_id, e.state, e.detail).order_by(e.id))).all()
    assert [tuple(r) for r in got] == [("p1", "received", None), ("p1", "parsed", "1 set")]


async def test_one_timestamp_object_in_many_rows_and_columns(store: SqlStore) -> None:
    """The SQLite path formats a shared timestamp once; every row still gets its own values."""
    later = _AT + timedelta(hours=1)
    rows = _outbox("shared", 4)
    for i, row in enumerate(rows):
        row["created_at"] = _AT  # one object, many rows
        row["not_before"] = _AT if i % 2 else later
    async with store.engine.begin() as conn:
        await insert_rows(conn, t.outbox, rows)
    got = await _read(store, "shared")
    assert [r["created_at"].replace(tzinfo=UTC) for r in got] == [_AT] * 4
    assert [r["not_before"].replace(tzinfo=UTC) for r in got] == [later, _AT, later, _AT]


async def test_rows_leaving_out_a_column_get_its_default_on_both_stores(store: SqlStore) -> None:
    """The deferred writes (PostgreSQL: one ``unnest`` statement for rows naming the same
    columns) with rows naming different ones: the row without ``attempts`` gets the server
    default, not NULL."""
    from gateway.adapters.store.envelopes import _bulk_insert

    rows = _outbox("mixed", 2)
    rows[1]["attempts"] = 5
    async with store.engine.begin() as conn:
        await _bulk_insert(conn, t.outbox, rows)
    got = await _read(store, "mixed")
    assert [r["attempts"] for r in got] == [0, 5]


async def test_python_side_defaults_are_left_to_core(store: SqlStore) -> None:
    """A column whose default SQLAlchemy computes in Python is filled in when rows leave it out."""
    from sqlalchemy import Column, Integer, MetaData, String, Table

    from gateway.adapters.store.bulk import BulkInserter

    metadata = MetaData()
    table = Table(
        "bulk_pydefault",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("label", String(20), nullable=False, default="from python"),
    )
    async with store.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    try:
        async with store.engine.begin() as conn:
            await insert_rows(conn, table, [{"id": 1}, {"id": 2}])
            if store.dialect == "sqlite":
                with pytest.raises(ValueError, match="label"):  # never a silent NULL
                    await BulkInserter(conn.dialect).insert(conn, table, [{"id": 3}])
        async with store.engine.connect() as conn:
            labels = (await conn.execute(select(table.c.label).order_by(table.c.id))).scalars().all()
        assert labels == ["from python", "from python"]
    finally:
        async with store.engine.begin() as conn:
            await conn.run_sync(metadata.drop_all)
