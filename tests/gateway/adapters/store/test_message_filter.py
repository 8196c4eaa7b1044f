"""The support filter of ``list_payloads`` on SQLite and PostgreSQL: the document type in both
spellings (canonical type, X12 set ID) over documents and transaction sets, superseded
envelope records, and times with an offset or without one."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, timedelta, timezone

import pytest

from gateway.adapters.store import SqlStore
from gateway.domain.runtime.lifecycle import Direction, State, Step
from gateway.domain.runtime.records import (
    ChannelMeta,
    DocumentRecord,
    EnvelopeRecord,
    NewPayload,
    PayloadRecord,
    ProcessingResult,
)
from gateway.domain.runtime.store import MessageFilter
from gateway.domain.runtime.type_filter import TypeSelection, type_selection


def _set(set_id: str, s: int = 0, *, valid: bool = True) -> EnvelopeRecord:
    return EnvelopeRecord(
        0,
        0,
        s,
        "ZZ",
        "ACME",
        "ZZ",
        "US",
        "000000007",
        "7",
        f"{s + 1:04d}",
        "PO",
        set_id,
        "004010",
        "P",
        valid,
    )


def _document(payload_id: str, document_type: str, s: int = 0) -> DocumentRecord:
    return DocumentRecord(
        str(uuid.uuid5(uuid.NAMESPACE_URL, f"{payload_id}/{s}")), payload_id, "acme", document_type,
        Direction.INBOUND, "1.0", f"N-{s}", "corr", False, b"{}", State.MAPPED, None,
    )  # fmt: skip


async def _stored(store: SqlStore, content: bytes) -> PayloadRecord:
    [out] = await store.save_payloads([NewPayload(content, ChannelMeta("file", "acme"))])
    await asyncio.sleep(0.002)  # distinct received_at, newest first
    return out.record


async def _process(store: SqlStore, record: PayloadRecord, result: ProcessingResult) -> None:
    """One pipeline run of ``record`` (the only payload waiting) with ``result``."""
    [claimed] = await store.claim_payloads("w", 1, 60)
    assert claimed.id == record.id
    assert await store.finish_processing(record.id, "w", result)


async def _seeded(
    store: SqlStore, *sets: str, docs: tuple[str, ...] = (), state: State = State.MAPPED
) -> str:
    record = await _stored(store, b"payload %s %s %f" % (",".join(sets).encode(), ",".join(docs).encode(),
                                                            time.time()))  # fmt: skip
    failed = None if state is State.MAPPED else Step.VALIDATE if state is State.REJECTED else Step.MAP
    result = ProcessingResult(
        state,
        "acme",
        envelopes=[_set(set_id, s, valid=state is not State.REJECTED) for s, set_id in enumerate(sets)],
        documents=[_document(record.id, t, s) for s, t in enumerate(docs)],
        failed_step=failed,
        reason=None if failed is None else f"{failed.value}: seeded failure",
    )
    await _process(store, record, result)
    return record.id


async def _ids(store: SqlStore, **criteria: object) -> set[str]:
    return {r.id for r in await store.list_payloads(MessageFilter(limit=500, **criteria))}  # type: ignore[arg-type]


def test_type_selection_maps_both_spellings() -> None:
    assert type_selection("purchase_order") == TypeSelection(
        frozenset({"purchase_order"}), frozenset({"850"})
    )
    assert type_selection(" 850 ") == TypeSelection(frozenset({"purchase_order"}), frozenset({"850"}))
    assert type_selection("Invoice") == TypeSelection(frozenset({"invoice"}), frozenset({"810"}))
    acks = type_selection("functional_ack")
    assert acks == TypeSelection(frozenset({"functional_ack"}), frozenset({"997", "999", "TA1"}))
    assert type_selection("997") == TypeSelection(frozenset(), frozenset({"997"}))  # 999s are acks too
    assert type_selection("ta1") == TypeSelection(frozenset(), frozenset({"TA1"}))
    assert type_selection("864") == TypeSelection(frozenset({"864"}), frozenset({"864"}))


async def test_type_matches_documents_or_transaction_sets_in_either_spelling(store: SqlStore) -> None:
    routed = await _seeded(store, "850", docs=("purchase_order",))
    rejected = await _seeded(store, "850", state=State.REJECTED)  # failed validation: no document
    unmapped = await _seeded(store, "810", state=State.FAILED)  # failed mapping: no document
    unknown = await _seeded(store, "864", state=State.FAILED)  # a set we do not map
    both = await _seeded(store, "850", "810", docs=("purchase_order",), state=State.FAILED)  # 810 failed
    json_ack = await _seeded(store, docs=("purchase_order_ack",))  # JSON: a document, no X12 sets
    ack997 = await _seeded(store, "997")
    ack999 = await _seeded(store, "999")
    unparsed = await _stored(store, b"not EDI")
    await store.set_payload_state(unparsed.id, State.FAILED, detail="no ISA segment", step=Step.PARSE)

    expected = {
        "purchase_order": {routed, rejected, both},
        "850": {routed, rejected, both},
        "PURCHASE_ORDER": {routed, rejected, both},
        "invoice": {unmapped, both},
        "810": {unmapped, both},
        "864": {unknown},
        "855": {json_ack},
        "purchase_order_ack": {json_ack},
        "997": {ack997},
        "functional_ack": {ack997, ack999},
        "ship_notice": set(),
        "nonsense": set(),
    }
    for value, ids in expected.items():
        assert await _ids(store, document_type=value) == ids, value
    assert await _ids(store, document_type="850", state=State.REJECTED) == {rejected}
    assert await _ids(store, document_type="810", partner_id="someone-else") == set()


async def test_type_counts_the_sets_a_payload_was_last_read_into(store: SqlStore) -> None:
    """A replay supersedes envelope records; they count only while no later reading exists."""
    record = await _stored(store, b"ISA*read three times")
    await _process(store, record, ProcessingResult(State.MAPPED, "acme", envelopes=[_set("850")]))
    assert await _ids(store, document_type="850") == {record.id}

    # Replayed after a parser fix that reads the set as an 810: the old 850 must not match.
    await store.reset_for_replay(record.id, reason="parser fix", actor="sam")
    assert await _ids(store, document_type="850") == {record.id}  # waiting: its last reading counts
    await _process(store, record, ProcessingResult(State.MAPPED, "acme", envelopes=[_set("810")]))
    assert await _ids(store, document_type="850") == set()
    assert await _ids(store, document_type="810") == {record.id}

    # Replayed again and failed before any envelope: the latest superseded reading (810) counts.
    await store.reset_for_replay(record.id, reason="mapping fix", actor="sam")
    failed = ProcessingResult(State.FAILED, "acme", failed_step=Step.PARSE, reason="parse: broken")
    await _process(store, record, failed)
    assert await _ids(store, document_type="810") == {record.id}
    assert await _ids(store, document_type="invoice") == {record.id}
    assert await _ids(store, document_type="850") == set()


@pytest.mark.usefixtures("local_time_five_hours_behind_utc")
async def test_times_with_an_offset_or_none_are_compared_in_utc(store: SqlStore) -> None:
    first = await _stored(store, b"first")
    await asyncio.sleep(0.01)
    second = await _stored(store, b"second")
    await asyncio.sleep(0.01)
    third = await _stored(store, b"third")
    at = second.received_at.astimezone(UTC)
    for since in (
        at,
        at.replace(tzinfo=None),  # naive: UTC
        at.astimezone(timezone(timedelta(hours=2))),  # same instant, 2 hours ahead
        at.astimezone(timezone(timedelta(hours=-7))),
    ):
        assert await _ids(store, since=since) == {second.id, third.id}, since
        assert await _ids(store, until=since) == {first.id}, since
    until = third.received_at.astimezone(timezone(timedelta(hours=5, minutes=30)))
    assert await _ids(store, since=at.replace(tzinfo=None), until=until) == {second.id}


async def test_payload_ids_select_what_list_selects_all_at_once_oldest_first(store: SqlStore) -> None:
    """What a bulk replay works through: every match in one query, limit and offset aside."""
    from gateway.domain.runtime.records import ChannelMeta, NewPayload

    outcomes = []
    for n in range(7):
        [o] = await store.save_payloads([NewPayload(b"ISA*%d" % n, ChannelMeta("file", "acme-retail"))])
        outcomes.append(o.record.id)
    [other] = await store.save_payloads([NewPayload(b"ISA*x", ChannelMeta("file", "northwind-supply"))])
    flt = MessageFilter(partner_id="acme-retail", limit=2, offset=1)
    ids = await store.payload_ids(flt)
    assert sorted(ids) == sorted(outcomes)  # the limit and offset do not apply
    assert other.record.id not in ids
    listed = await store.list_payloads(MessageFilter(partner_id="acme-retail", limit=100))
    assert ids == [r.id for r in reversed(listed)]  # the same selection, oldest first
