"""The SQL store on SQLite and PostgreSQL: raw first, claims, results, outbox, sequences, acks."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from gateway.adapters.store import SqlStore
from gateway.domain.runtime.errors import SequenceExhausted
from gateway.domain.runtime.lifecycle import AckStatus, Direction, State, Step
from gateway.domain.runtime.records import (
    ChannelMeta,
    DocumentRecord,
    EnvelopeRecord,
    NewPayload,
    OutboxMessage,
    ProcessingResult,
)
from gateway.domain.runtime.store import MessageFilter, NumberRequest


def _payload(
    content: bytes = b"ISA*...",
    partner: str | None = "acme",
    *,
    channel: str = "file",
    filename: str | None = None,
    correlation_id: str | None = None,
    idempotency_key: str | None = None,
    as2_message_id: str | None = None,
) -> NewPayload:
    meta = ChannelMeta(
        channel,
        partner,
        filename=filename,
        correlation_id=correlation_id,
        idempotency_key=idempotency_key,
        as2_message_id=as2_message_id,
    )
    return NewPayload(content, meta)


def _envelope(
    i: int = 0,
    g: int = 0,
    s: int = 0,
    *,
    gs06: str = "7",
    ack: str | None = None,
    due: datetime | None = None,
) -> EnvelopeRecord:
    return EnvelopeRecord(
        i,
        g,
        s,
        "ZZ",
        "ACME",
        "ZZ",
        "US",
        "000000007",
        gs06,
        f"{s + 1:04d}",
        "PO",
        "850",
        "004010",
        "P",
        True,
        ack,
        due,
    )


def _result(payload_id: str, n_docs: int = 2, destinations: tuple[str, ...] = ("erp",)) -> ProcessingResult:
    docs, outbox = [], []
    for s in range(n_docs):
        doc_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{payload_id}/0/0/{s}"))
        docs.append(
            DocumentRecord(
                doc_id,
                payload_id,
                "acme",
                "purchase_order",
                Direction.INBOUND,
                "1.0",
                f"PO-{s}",
                "corr-1",
                False,
                b'{"po": %d}' % s,
                State.ROUTED,
                _envelope(s=s),
            )
        )
        for dest in destinations:
            outbox.append(
                OutboxMessage(
                    str(uuid.uuid4()),
                    doc_id,
                    dest,
                    f"{dest}.purchase_order.acme",
                    b'{"po": %d}' % s,
                    "corr-1",
                    {"partner": "acme", "replay_count": 0},
                )
            )
    return ProcessingResult(
        State.ROUTED,
        "acme",
        envelopes=[_envelope(s=s) for s in range(n_docs)],
        documents=docs,
        outbox=outbox,
        business_numbers=[d.business_number or "" for d in docs],
    )


async def test_payload_is_stored_with_metadata_and_audit(store: SqlStore) -> None:
    [out] = await store.save_payloads([_payload(b"hello", filename="po.edi", correlation_id="c-1")])
    assert out.created
    rec = await store.get_payload(out.record.id)
    assert rec is not None
    assert rec.state is State.RECEIVED
    assert rec.size == 5
    assert rec.meta["filename"] == "po.edi"
    assert rec.correlation_id == "c-1"
    assert await store.payload_content(rec.id) == b"hello"
    trail = await store.audit_trail("payload", rec.id)
    assert [e.state for e in trail] == ["received"]


async def test_idempotency_key_and_as2_message_id_repeat_return_the_original(store: SqlStore) -> None:
    [a] = await store.save_payloads([_payload(b"1", channel="webhook", idempotency_key="k1")])
    [b] = await store.save_payloads([_payload(b"2", channel="webhook", idempotency_key="k1")])
    assert not b.created
    assert b.record.id == a.record.id
    [c] = await store.save_payloads([_payload(b"x", channel="as2", as2_message_id="<m1@acme>")])
    [d] = await store.save_payloads([_payload(b"x", channel="as2", as2_message_id="<m1@acme>")])
    assert (c.created, d.created, d.record.id) == (True, False, c.record.id)
    # the same key from another partner is a different message
    [e] = await store.save_payloads(
        [_payload(b"x", partner="other", channel="as2", as2_message_id="<m1@acme>")]
    )
    assert e.created


async def test_claims_are_leases(store: SqlStore) -> None:
    outs = await store.save_payloads([_payload(b"%d" % i) for i in range(5)])
    first = await store.claim_payloads("w1", 3, lease_seconds=60)
    second = await store.claim_payloads("w2", 10, lease_seconds=60)
    assert len(first) == 3
    assert len(second) == 2
    assert {r.id for r in first} | {r.id for r in second} == {o.record.id for o in outs}
    assert await store.claim_payloads("w3", 10, lease_seconds=60) == []
    expired = await store.claim_payloads("w4", 10, lease_seconds=-1)  # nothing free to take yet
    assert expired == []


async def test_a_claim_stops_at_max_bytes_and_a_big_payload_goes_alone(store: SqlStore) -> None:
    sizes = [600, 600, 600, 3000, 100]
    outs = []
    for n, size in enumerate(sizes):  # one at a time: received in this order
        outs += await store.save_payloads([_payload(bytes([65 + n]) * size)])
    ids = [o.record.id for o in outs]
    batches = []
    while claimed := await store.claim_payloads("w", 10, 60, max_bytes=1500):
        batches.append([r.id for r in claimed])
    assert batches == [ids[0:2], ids[2:3], ids[3:4], ids[4:5]]  # 1,200; 600 (+3,000 > 1,500); 3,000; 100


async def test_expired_lease_is_taken_over_and_the_old_worker_cannot_finish(store: SqlStore) -> None:
    [out] = await store.save_payloads([_payload()])
    [mine] = await store.claim_payloads("crashed", 1, lease_seconds=0.01)
    await asyncio.sleep(0.05)
    [again] = await store.claim_payloads("w2", 1, lease_seconds=60)
    assert again.id == mine.id == out.record.id
    assert not await store.finish_processing(out.record.id, "crashed", _result(out.record.id))
    assert await store.finish_processing(out.record.id, "w2", _result(out.record.id))


async def test_finish_processing_writes_everything_and_delivery_completes(store: SqlStore) -> None:
    [out] = await store.save_payloads([_payload()])
    pid = out.record.id
    await store.claim_payloads("w", 1, 60)
    assert await store.finish_processing(pid, "w", _result(pid, n_docs=2, destinations=("erp", "wms")))
    detail = await store.payload_detail(pid)
    assert detail is not None
    assert detail["payload"].state is State.ROUTED
    assert sorted(d["business_number"] for d in detail["documents"]) == ["PO-0", "PO-1"]
    assert [e["st02"] for e in detail["envelopes"]] == ["0001", "0002"]
    assert await store.outbox_backlog() == 4
    claimed = await store.claim_outbox("relay", 10, 60)
    assert len(claimed) == 4
    assert await store.claim_outbox("relay2", 10, 60) == []
    await store.mark_published([m.id for m in claimed[:3]])
    rec = await store.get_payload(pid)
    assert rec is not None
    assert rec.state is State.ROUTED  # one document still has an unconfirmed destination
    await store.mark_published([claimed[3].id])
    rec = await store.get_payload(pid)
    assert rec is not None
    assert rec.state is State.DELIVERED
    assert await store.outbox_backlog() == 0
    found = await store.list_payloads(MessageFilter(business_number="PO-1"))
    assert [r.id for r in found] == [pid]


async def test_outbox_retry_waits_and_failure_marks_the_document(store: SqlStore) -> None:
    [out] = await store.save_payloads([_payload()])
    await store.claim_payloads("w", 1, 60)
    await store.finish_processing(out.record.id, "w", _result(out.record.id, n_docs=2))
    a, b = await store.claim_outbox("r", 10, 60)
    await store.retry_outbox([a.id], "broker down", delay_seconds=30)
    assert await store.claim_outbox("r", 10, 60) == []
    await store.fail_outbox(b.id, "unroutable: NO_ROUTE")
    detail = await store.payload_detail(out.record.id)
    assert detail is not None
    states = {d["id"]: d["state"] for d in detail["documents"]}
    assert states[b.document_id] == "failed"
    trail = await store.audit_trail("document", b.document_id)
    assert trail[-1].detail == "publish: unroutable: NO_ROUTE"


async def test_replay_from_canonical_adds_outbox_rows_with_replay_count(store: SqlStore) -> None:
    [out] = await store.save_payloads([_payload()])
    await store.claim_payloads("w", 1, 60)
    await store.finish_processing(out.record.id, "w", _result(out.record.id, n_docs=1))
    [m] = await store.claim_outbox("r", 10, 60)
    await store.mark_published([m.id])
    copy = OutboxMessage(
        str(uuid.uuid4()), m.document_id, m.destination, m.routing_key, m.body, m.correlation_id, m.headers
    )
    assert await store.requeue_documents([copy], reason="ERP lost it", actor="alice") == 1
    [again] = await store.claim_outbox("r", 10, 60)
    assert again.document_id == m.document_id
    assert again.id != m.id
    assert again.headers["replay_count"] == 1
    trail = await store.audit_trail("document", m.document_id)
    assert (trail[-1].state, trail[-1].actor, trail[-1].reason) == ("replayed", "alice", "ERP lost it")


async def test_replay_from_raw_resets_and_keeps_document_ids(store: SqlStore) -> None:
    [out] = await store.save_payloads([_payload()])
    pid = out.record.id
    await store.claim_payloads("w", 1, 60)
    await store.finish_processing(pid, "w", _result(pid, n_docs=1))
    rec = await store.reset_for_replay(pid, reason="mapping fixed", actor="bob")
    assert (rec.state, rec.replay_count) == (State.RECEIVED, 1)
    assert len(await store.claim_payloads("w", 1, 60)) == 1
    assert await store.finish_processing(pid, "w", _result(pid, n_docs=1))
    detail = await store.payload_detail(pid)
    assert detail is not None
    assert len(detail["documents"]) == 1  # upserted under the same ID, not duplicated
    assert detail["documents"][0]["replay_count"] == 1
    assert len(detail["envelopes"]) == 1
    assert "replayed" in [e.state for e in detail["audit"]]


async def test_control_numbers_are_unique_under_concurrency_and_wrap(store: SqlStore) -> None:
    results = await asyncio.gather(*(store.next_control_numbers("acme", "isa") for _ in range(30)))
    numbers = [n for r in results for n in r]
    assert sorted(numbers) == list(range(1, 31))
    assert await store.next_control_numbers("acme", "isa", 3) == [31, 32, 33]
    assert await store.next_control_numbers("other", "isa") == [1]
    assert await store.next_control_numbers("acme", "st", 4, start=1, maximum=3) == [1, 2, 3, 1]


async def test_a_sequence_without_wrap_refuses_to_pass_its_max_and_moves_nothing(store: SqlStore) -> None:
    def st(count: int = 1, wrap: bool = False, allocation: str = "a") -> NumberRequest:
        return NumberRequest("acme", "st", count, start=1, maximum=2, allocation=allocation, wrap=wrap)

    assert await store.allocate_control_numbers([st()]) == [[1]]
    assert await store.allocate_control_numbers([st()]) == [[2]]
    for count in (1, 2):
        with pytest.raises(SequenceExhausted) as raised:
            await store.allocate_control_numbers([NumberRequest("acme", "isa", allocation="b"), st(count)])
        message = raised.value.message
        assert "transaction (ST02) of partner acme would pass its max 2" in message
        assert "reset the sequence or raise its max" in message
        assert (raised.value.partner_id, raised.value.kind, raised.value.maximum) == ("acme", "st", 2)
    # nothing of the refused calls was issued, and no counter moved (not even the other request's)
    assert sorted((n.kind, n.value) for n in await store.control_numbers("acme")) == [("st", 1), ("st", 2)]
    assert await store.next_control_numbers("acme", "isa") == [1]
    # a request that would cross max in the middle gets nothing either
    assert await store.allocate_control_numbers(
        [NumberRequest("zeta", "gs", 2, start=5, maximum=7, wrap=False)]
    ) == [[5, 6]]
    with pytest.raises(SequenceExhausted, match="group \\(GS06\\) of partner zeta would pass its max 7"):
        await store.allocate_control_numbers([NumberRequest("zeta", "gs", 2, start=5, maximum=7, wrap=False)])
    assert await store.allocate_control_numbers([NumberRequest("zeta", "gs", 1, start=5, maximum=7)]) == [[7]]
    # with wrap (the default) the same sequence restarts at start, as it always did
    assert await store.allocate_control_numbers([st(wrap=True)]) == [[1]]
    assert await store.allocate_control_numbers([st()]) == [[2]]  # wrap off again: on to max ...
    with pytest.raises(SequenceExhausted):
        await store.allocate_control_numbers([st()])  # ... and not past it a second time
    # an operator resets it: it runs from start to max once more, and the reset is on record
    assert await store.reset_control_sequence("acme", "st", actor="bob", reason="partner agreed")
    assert await store.allocate_control_numbers([st(2)]) == [[1, 2]]
    with pytest.raises(SequenceExhausted):
        await store.allocate_control_numbers([st()])
    [event] = await store.audit_trail("sequence", "acme/st")
    assert (event.state, event.actor, event.reason) == ("reset", "bob", "partner agreed")
    assert not await store.reset_control_sequence("nobody", "st", actor="bob", reason="typo")


async def test_several_allocations_in_one_call_keep_their_order_and_sequences(store: SqlStore) -> None:
    await store.next_control_numbers("acme", "isa", 2)
    got = await store.allocate_control_numbers(
        [
            NumberRequest("acme", "isa", 2, allocation="a-9"),
            NumberRequest("acme", "gs", 3, start=5, maximum=6, allocation="a-9"),
            NumberRequest("zeta", "isa", 0),
            NumberRequest("beta", "st", 1, start=100, allocation="a-9"),
        ]
    )
    assert got == [[3, 4], [5, 6, 5], [], [100]]
    assert await store.next_control_numbers("acme", "gs", start=5, maximum=6) == [6]
    issued = await store.control_numbers("acme")
    assert sorted((n.kind, n.value) for n in issued) == [
        ("gs", 5), ("gs", 5), ("gs", 6), ("gs", 6), ("isa", 1), ("isa", 2), ("isa", 3), ("isa", 4)
    ]  # fmt: skip
    assert [(n.kind, n.value) for n in await store.control_numbers("beta")] == [("st", 100)]


async def test_ack_tracking_and_overdue(store: SqlStore) -> None:
    past = datetime.now(UTC) - timedelta(hours=1)
    [out] = await store.save_payloads(
        [NewPayload(b"ISA", ChannelMeta("filedrop", "acme"), Direction.OUTBOUND)]
    )
    pid = out.record.id
    await store.claim_payloads("s", 1, 60, direction=Direction.OUTBOUND)
    result = ProcessingResult(
        State.SENT,
        "acme",
        envelopes=[_envelope(gs06="41", ack="997", due=past), _envelope(g=1, gs06="42", ack="997", due=None)],
        direction=Direction.OUTBOUND,
    )
    assert await store.finish_processing(pid, "s", result)
    sent = await store.find_sent_group("acme", "0041", "PO")
    assert sent is not None
    assert (sent.ack_status, sent.st02s) == (AckStatus.PENDING, ("0001",))
    overdue = await store.overdue_groups(datetime.now(UTC))
    assert [g.gs06 for g in overdue] == ["41"]
    assert [(g.gs06, g.st02s) for g in await store.list_overdue()] == [("41", ("0001",))]
    other = await store.find_sent_group("acme", "42", None)
    assert other is not None
    await store.record_ack(other.group_id, AckStatus.ACCEPTED, {"sets": {"0001": "accepted"}}, "ack-1")
    again = await store.find_sent_group("acme", "42", None)
    assert again is not None
    assert again.ack_status is AckStatus.ACCEPTED


async def test_failure_state_keeps_step_and_reason(store: SqlStore) -> None:
    [out] = await store.save_payloads([_payload(partner=None)])
    await store.set_payload_state(
        out.record.id, State.FAILED, detail="unknown partner ZZ:NOBODY", step=Step.PARSE
    )
    rec = await store.get_payload(out.record.id)
    assert rec is not None
    assert (rec.state, rec.failed_step, rec.reason) == (State.FAILED, Step.PARSE, "unknown partner ZZ:NOBODY")
    failed = await store.list_payloads(MessageFilter(state=State.FAILED))
    assert [r.id for r in failed] == [out.record.id]


async def test_locks_are_exclusive_until_they_expire(store: SqlStore) -> None:
    assert await store.try_lock("sftp-poll:acme", "i1", 60)
    assert not await store.try_lock("sftp-poll:acme", "i2", 60)
    assert await store.try_lock("sftp-poll:acme", "i1", 60)  # the owner renews
    await store.release_lock("sftp-poll:acme", "i1")
    assert await store.try_lock("sftp-poll:acme", "i2", 0.01)
    await asyncio.sleep(0.05)
    assert await store.try_lock("sftp-poll:acme", "i3", 60)


async def test_migrations_are_idempotent(store: SqlStore) -> None:
    from sqlalchemy import inspect

    from gateway.adapters.store import upgrade

    await upgrade(store.engine)  # a second upgrade is a no-op
    async with store.engine.connect() as conn:
        names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert {"payloads", "documents", "outbox", "audit_events", "alembic_version"} <= names


async def test_a_refused_publish_fails_the_document_and_its_payload_with_the_step(store: SqlStore) -> None:
    [out] = await store.save_payloads([_payload()])
    await store.claim_payloads("w", 1, 60)
    await store.finish_processing(out.record.id, "w", _result(out.record.id, n_docs=1))
    [m] = await store.claim_outbox("r", 10, 60)
    await store.fail_outbox(m.id, "unroutable: NO_ROUTE")
    rec = await store.get_payload(out.record.id)
    assert rec is not None
    assert (rec.state, rec.failed_step) == (State.FAILED, Step.PUBLISH)
    assert rec.reason == f"document {m.document_id}: unroutable: NO_ROUTE"
    assert [r.id for r in await store.list_payloads(MessageFilter(state=State.FAILED))] == [rec.id]
    detail = await store.payload_detail(rec.id)
    assert detail is not None
    [doc] = detail["documents"]
    assert (doc["state"], doc["failed_step"], doc["reason"]) == ("failed", "publish", "unroutable: NO_ROUTE")


async def test_control_numbers_name_the_payload_that_used_them(store: SqlStore) -> None:
    [isa] = await store.next_control_numbers("acme", "isa", allocation="a-1")
    [gs] = await store.next_control_numbers("acme", "gs", allocation="a-1")
    [st] = await store.next_control_numbers("acme", "st", allocation="a-1")
    await store.next_control_numbers("acme", "isa", allocation="a-2")  # allocated, never used: a gap
    numbers = (f"{isa:09d}", str(gs), f"{st:04d}")
    envelope = EnvelopeRecord(
        0, 0, 0, "ZZ", "US", "ZZ", "ACME", *numbers, "SH", "856", "004010", "P", True, allocation="a-1"
    )  # fmt: skip
    new = NewPayload(b"ISA*856", ChannelMeta("filedrop", "acme"), Direction.OUTBOUND)
    outcome = await store.record_outbound(
        new, ProcessingResult(State.RECEIVED, "acme", envelopes=[envelope], direction=Direction.OUTBOUND)
    )
    used = {(n.kind, n.value): n.payload_id for n in await store.control_numbers("acme")}
    assert used == {("isa", 1): outcome.record.id, ("gs", 1): outcome.record.id, ("st", 1): outcome.record.id,
                    ("isa", 2): None}  # fmt: skip
    [gap] = await store.control_numbers("acme", unused_only=True)
    assert (gap.kind, gap.value) == ("isa", 2)
    detail = await store.payload_detail(outcome.record.id)
    assert detail is not None
    assert detail["envelopes"][0]["direction"] == "outbound"


async def test_what_we_sent_is_findable_by_its_remote_reference(store: SqlStore) -> None:
    new = NewPayload(b"ISA*856", ChannelMeta("as2", "acme"), Direction.OUTBOUND)
    [out] = await store.save_payloads([new])
    await store.claim_payloads("s", 1, 60, direction=Direction.OUTBOUND)
    await store.set_payload_states(
        [(out.record.id, State.SENT, "via as2", None)],
        [(out.record.id, "as2_message_id", "<edigate-1@EDIGATE>")],
    )
    found = await store.list_payloads(MessageFilter(business_number="<edigate-1@EDIGATE>"))
    assert [r.id for r in found] == [out.record.id]
    await store.add_correlation_keys([(out.record.id, "remote_reference", "acme-856-1.x12")])
    found = await store.list_payloads(MessageFilter(business_number="acme-856-1.x12"))
    assert [r.id for r in found] == [out.record.id]
