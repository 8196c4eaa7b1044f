"""Receive batches on SQLite and PostgreSQL: repeats inside one batch and across concurrent
transactions, companions (the AS2 archive copy) kept only with a new payload, taken IDs."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import func, select

from gateway.adapters.store import SqlStore, open_store, payloads
from gateway.adapters.store import tables as t
from gateway.domain.runtime.errors import Conflict, TransientFailure
from gateway.domain.runtime.lifecycle import State
from gateway.domain.runtime.records import ChannelMeta, NewPayload
from gateway.domain.runtime.store import MessageFilter


def _new(
    content: bytes,
    *,
    channel: str = "as2",
    message_id: str | None = None,
    key: str | None = None,
    companion: NewPayload | None = None,
    payload_id: str | None = None,
) -> NewPayload:
    meta = ChannelMeta(channel, "acme", as2_message_id=message_id, idempotency_key=key)
    return NewPayload(content, meta, companion=companion, payload_id=payload_id)


def _archive(content: bytes) -> NewPayload:
    return NewPayload(content, ChannelMeta("as2-raw", "acme"), state=State.DELIVERED, reason="as received")


async def _count(store: SqlStore, channel: str) -> int:
    return len(await store.list_payloads(MessageFilter(partner_id="acme", channel=channel, limit=1000)))


async def _keys(store: SqlStore, payload_id: str) -> set[tuple[str, str]]:
    k = t.correlation_keys.c
    async with store.engine.connect() as conn:
        rows = (await conn.execute(select(k.kind, k.value).where(k.payload_id == payload_id))).all()
    return {(kind, value) for kind, value in rows}


async def test_repeats_inside_one_batch_return_the_first(store: SqlStore) -> None:
    outcomes = await store.save_payloads(
        [
            _new(b"a", message_id="<m1@acme>"),
            _new(b"b", message_id="<m2@acme>"),
            _new(b"c", message_id="<m1@acme>"),
            _new(b"d"),
            _new(b"e", channel="webhook", key="k1"),
            _new(b"f", channel="webhook", key="k1"),
            _new(b"g", channel="webhook", key="k1", message_id="<m2@acme>"),
        ]
    )
    assert [o.created for o in outcomes] == [True, True, False, True, True, False, False]
    a, b, c, d, e, f, g = (o.record for o in outcomes)
    assert (c.id, f.id) == (a.id, e.id)
    assert g.id in (b.id, e.id)  # a repeat of both keys returns one of their originals
    assert [c.channel, f.channel] == ["as2", "webhook"]
    assert len({a.id, b.id, d.id, e.id}) == 4
    assert (await _count(store, "as2"), await _count(store, "webhook")) == (3, 1)
    assert await store.payload_content(a.id) == b"a"
    assert [e.state for e in await store.audit_trail("payload", a.id)] == ["received"]
    assert await _keys(store, a.id) == {("correlation_id", a.correlation_id), ("as2_message_id", "<m1@acme>")}


async def test_a_repeat_of_an_earlier_batch_returns_the_stored_original(store: SqlStore) -> None:
    [first] = await store.save_payloads([_new(b"one", message_id="<m1@acme>")])
    again = await store.save_payloads(
        [_new(b"new", message_id="<m2@acme>"), _new(b"two", message_id="<m1@acme>")]
    )
    assert [o.created for o in again] == [True, False]
    assert again[1].record == first.record  # the stored record, as it was received
    assert await store.payload_content(first.record.id) == b"one"


async def test_a_companion_is_kept_only_with_a_new_payload(store: SqlStore) -> None:
    [new] = await store.save_payloads(
        [_new(b"EDI-1", message_id="<m1@acme>", companion=_archive(b"TRANSMISSION-1"))]
    )
    assert new.created
    [archive] = await store.list_payloads(MessageFilter(partner_id="acme", channel="as2-raw"))
    assert archive.state is State.DELIVERED
    assert await store.payload_content(archive.id) == b"TRANSMISSION-1"
    assert [e.state for e in await store.audit_trail("payload", archive.id)] == ["delivered"]
    assert await _keys(store, archive.id) == {("correlation_id", archive.correlation_id)}

    # a repeat in a later batch, and one inside the same batch, add no second copy
    outcomes = await store.save_payloads(
        [
            _new(b"EDI-1", message_id="<m1@acme>", companion=_archive(b"TRANSMISSION-1b")),
            _new(b"EDI-2", message_id="<m2@acme>", companion=_archive(b"TRANSMISSION-2")),
            _new(b"EDI-2", message_id="<m2@acme>", companion=_archive(b"TRANSMISSION-2b")),
        ]
    )
    assert [o.created for o in outcomes] == [False, True, False]
    assert outcomes[0].record.id == new.record.id
    assert outcomes[2].record.id == outcomes[1].record.id
    archives = await store.list_payloads(MessageFilter(partner_id="acme", channel="as2-raw"))
    contents = sorted([await store.payload_content(r.id) for r in archives])
    assert contents == [b"TRANSMISSION-1", b"TRANSMISSION-2"]
    async with store.engine.connect() as conn:
        events = (await conn.execute(select(func.count()).select_from(t.audit_events))).scalar_one()
    assert events == 4  # two EDI payloads and their two archive copies, nothing for the repeats


async def test_concurrent_repeats_store_one_payload(store: SqlStore) -> None:
    """Several transactions at once (separate connections on PostgreSQL) with the same
    Message-IDs: each is stored once, and every caller gets that one record."""
    batches = [
        [
            _new(b"x%d" % i, message_id=f"<m{(i + j) % 3}@acme>", companion=_archive(b"raw%d" % i))
            for j in range(3)
        ]
        for i in range(8)
    ]
    results = await asyncio.gather(*(store.save_payloads(b) for b in batches))
    created = [o for outcomes in results for o in outcomes if o.created]
    assert len(created) == 3
    by_id = {o.record.meta["as2_message_id"]: o.record.id for o in created}
    for outcomes in results:
        for o in outcomes:
            assert o.record.id == by_id[o.record.meta["as2_message_id"]]
    assert (await _count(store, "as2"), await _count(store, "as2-raw")) == (3, 3)


async def test_a_taken_payload_id_is_a_conflict_not_a_repeat(store: SqlStore) -> None:
    await store.save_payloads([_new(b"a", payload_id="p-1")])
    with pytest.raises(Conflict):
        await store.save_payloads([_new(b"b", payload_id="p-1")])
    assert await store.payload_content("p-1") == b"a"


async def test_a_failure_after_the_insert_rolls_the_whole_batch_back(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(row: dict[str, object]) -> dict[str, object]:
        raise RuntimeError("audit row refused")

    monkeypatch.setattr(payloads, "_receipt_event", broken)
    with pytest.raises(RuntimeError, match="audit row refused"):
        await store.save_payloads([_new(b"a", message_id="<m1@acme>", companion=_archive(b"raw"))])
    monkeypatch.undo()
    assert (await _count(store, "as2"), await _count(store, "as2-raw")) == (0, 0)
    [again] = await store.save_payloads([_new(b"b", message_id="<m1@acme>")])
    assert again.created  # the Message-ID was not taken by the rolled-back insert


async def test_a_locked_sqlite_database_is_a_transient_failure_of_the_receive_batch(tmp_path: Path) -> None:
    """The bulk inserts talk to the SQLite driver directly; its errors still read as transient."""
    db = tmp_path / "locked.db"
    store = await open_store(f"sqlite:///{db}")
    try:
        async with store.engine.connect() as conn:  # the pooled connection gives up after 0.2 s
            await conn.exec_driver_sql("PRAGMA busy_timeout=200")
        other = sqlite3.connect(db, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another writer holds the lock (e.g. `edigate ingest`)
        try:
            with pytest.raises(TransientFailure):
                await store.save_payloads([_new(b"ISA*locked", message_id="<locked@x>")])
        finally:
            other.execute("ROLLBACK")
            other.close()
        [outcome] = await store.save_payloads([_new(b"ISA*locked", message_id="<locked@x>")])
        assert outcome.created  # nothing was half-written: the retry stores it once
    finally:
        await store.close()
