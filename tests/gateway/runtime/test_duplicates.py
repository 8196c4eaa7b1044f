"""Duplicate detection on SQLite and PostgreSQL: identical content is routed once, even when the copies
are processed at the same time; duplicates are acknowledged again with the original ack; a profile
that allows resends gets every copy routed."""

from __future__ import annotations

import asyncio
from pathlib import Path

from gateway.adapters.store import tables
from gateway.domain.runtime.lifecycle import Direction, State
from gateway.domain.runtime.records import ChannelMeta, ProcessingResult
from gateway.domain.runtime.store import MessageFilter
from gateway.domain.usecases.analysis import content_key, document_id
from gateway.runtime import Gateway

from .helpers import REPO
from .samples import SAMPLE_850

NORTHWIND_810 = (
    (REPO / "fixtures/mapping/810-005010.x12")
    .read_bytes()
    .replace(b"ZZ*ACMERETAIL     ", b"01*0123456789     ")
    .replace(b"GS*IN*ACMERETAIL*", b"GS*IN*NWSUPPLY*")
    .replace(b"*000000101*0*P*", b"*000000101*0*T*")  # northwind is a test partner
)


def _spooled(gateway: Gateway, destination: str) -> list[Path]:
    return sorted((Path(gateway.settings.spool_dir) / destination).glob("*.json"))


async def _acks_for(gateway: Gateway, payload_id: str) -> list[bytes]:
    k, p = tables.correlation_keys.c, tables.payloads.c
    from sqlalchemy import select

    async with gateway.store.engine.connect() as conn:
        rows = (
            (
                await conn.execute(
                    select(p.content)
                    .join(tables.correlation_keys, k.payload_id == p.id)
                    .where(k.kind == "ack_for", k.value == payload_id)
                )
            )
            .scalars()
            .all()
        )
    return [bytes(r) for r in rows]


async def test_identical_payloads_processed_at_the_same_time_are_routed_once(gateway: Gateway) -> None:
    outcomes = await asyncio.gather(
        *(gateway.receive(SAMPLE_850, ChannelMeta("file", "acme-retail")) for _ in range(4))
    )
    ids = [o.record.id for o in outcomes]
    assert len(set(ids)) == 4  # four copies stored
    records = [await gateway.store.claim_payload(pid, f"worker-{n}", 60) for n, pid in enumerate(ids)]
    assert all(r is not None for r in records)
    # four workers process one copy each, concurrently: every pre-check sees no processed original
    await asyncio.gather(
        *(gateway.inbound.process_batch([r], f"worker-{n}") for n, r in enumerate(records) if r is not None)
    )
    stored = [await gateway.store.get_payload(pid) for pid in ids]
    originals = [r for r in stored if r is not None and r.state is not State.DUPLICATE]
    duplicates = [r for r in stored if r is not None and r.state is State.DUPLICATE]
    assert len(originals) == 1, [(r.state, r.reason) for r in stored if r is not None]
    [original] = originals
    assert original.state is State.ROUTED
    assert {d.duplicate_of for d in duplicates} == {original.id}
    assert await gateway.store.outbox_backlog() == 1  # one document for the erp, not four
    detail = await gateway.store.payload_detail(original.id)
    assert detail is not None
    [doc] = detail["documents"]
    # the document ID derives from the partner and the content: a copy would carry the same message_id
    assert doc["id"] == document_id(content_key("acme-retail", original.sha256), 0, 0, 0)
    await gateway.flush_outbox()
    await gateway.send_pending()
    assert len(_spooled(gateway, "erp")) == 1
    # every copy is acknowledged: the duplicates get the original's 997 again, byte for byte
    [original_ack] = await _acks_for(gateway, original.id)
    for dup in duplicates:
        assert await _acks_for(gateway, dup.id) == [original_ack]
    sent = await gateway.store.list_payloads(MessageFilter(direction=Direction.OUTBOUND, state=State.SENT))
    assert len(sent) == 4


async def test_the_store_turns_a_racing_copy_into_a_duplicate_when_it_finishes(gateway: Gateway) -> None:
    first = await gateway.receive(SAMPLE_850, ChannelMeta("file", "acme-retail"))
    second = await gateway.receive(SAMPLE_850, ChannelMeta("file", "acme-retail"))
    a = await gateway.store.claim_payload(first.record.id, "w1", 60)
    b = await gateway.store.claim_payload(second.record.id, "w2", 60)
    assert a is not None
    assert b is not None
    # both analysed while neither was finished, as two workers would
    result_a = (await gateway.inbound.process_batch([a], "w1"))[0]
    assert result_a.state is State.ROUTED
    assert result_a.check_duplicate
    late = ProcessingResult(
        State.ROUTED,
        "acme-retail",
        envelopes=result_a.envelopes,
        documents=result_a.documents,
        outbox=result_a.outbox,
        check_duplicate=True,
    )
    assert await gateway.store.finish_processing(b.id, "w2", late)
    racing = await gateway.store.get_payload(b.id)
    assert racing is not None
    assert (racing.state, racing.duplicate_of) == (State.DUPLICATE, a.id)
    assert await gateway.store.outbox_backlog() == 1
    detail = await gateway.store.payload_detail(b.id)
    assert detail is not None
    assert detail["documents"] == []
    assert [e["st02"] for e in detail["envelopes"]] == ["0001"]  # still findable by control number


async def test_a_profile_that_allows_resends_routes_every_copy(gateway: Gateway) -> None:
    ids = []
    for _ in range(2):
        outcome = await gateway.receive(NORTHWIND_810, ChannelMeta("sftp", "northwind-supply"))
        result = await gateway.process_now(outcome.record.id)
        assert result is not None
        assert result.state is State.ROUTED, result.reason
        ids.append(outcome.record.id)
    await gateway.flush_outbox()
    assert len(_spooled(gateway, "erp")) == 2
    docs = []
    for pid in ids:
        detail = await gateway.store.payload_detail(pid)
        assert detail is not None
        docs += [d["id"] for d in detail["documents"]]
    assert len(set(docs)) == 2  # each resend is its own document (IDs from the payload)
    assert docs[0] == document_id(ids[0], 0, 0, 0)


async def test_a_copy_in_the_same_batch_is_a_duplicate_and_gets_the_original_ack(gateway: Gateway) -> None:
    first = await gateway.receive(SAMPLE_850, ChannelMeta("file", "acme-retail"))
    second = await gateway.receive(SAMPLE_850, ChannelMeta("file", "acme-retail"))
    batch = await gateway.store.claim_payloads("w", 10, 60)
    assert [r.id for r in batch] == [first.record.id, second.record.id]
    results = await gateway.inbound.process_batch(batch, "w")
    assert [r.state for r in results] == [State.ROUTED, State.DUPLICATE]
    assert results[1].duplicate_of == first.record.id
    [ack] = await _acks_for(gateway, first.record.id)
    assert await _acks_for(gateway, second.record.id) == [ack]
    assert await gateway.store.outbox_backlog() == 1
