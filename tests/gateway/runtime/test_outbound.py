"""Outbound: canonical replies from ERP/WMS become X12 for the partner, and the partner's acks come back."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aio_pika
from sqlalchemy import update

from edi import parse
from gateway.adapters.rabbitmq import ERROR_HEADER, delete_topology
from gateway.adapters.store import tables
from gateway.domain.canonical import (
    DocumentHeader,
    DocumentType,
    SourceChannel,
    Usage,
    dump_document,
    parse_document,
)
from gateway.domain.canonical.header import Direction as DocDirection
from gateway.domain.mapping import Mapper
from gateway.domain.runtime.lifecycle import AckStatus, Direction, State
from gateway.domain.runtime.ports import OutboundRequest
from gateway.domain.runtime.records import ChannelMeta
from gateway.domain.runtime.store import MessageFilter
from gateway.runtime import Gateway, rabbit_topology
from tests.support.services import rabbitmq_url

from .conftest import REPO, make_settings, unique_rabbit
from .helpers import wait_for

ACME_997 = (
    (
        "ISA*00*          *00*          *ZZ*ACMERETAIL     *ZZ*EDIGATE        "
        "*261121*0800*U*00401*000007001*0*P*>~\n"
    )
    + """GS*FA*ACMERETAIL*EDIGATE*20261121*0800*7001*X*004010~
ST*997*0001~
AK1*SH*{gs06}~
AK2*856*0001~
AK5*A~
AK9*A*1*1*1~
SE*6*0001~
GE*1*7001~
IEA*1*000007001~
"""
)


def _ship_notice(shipment_id: str) -> bytes:
    """A canonical 856 for ACME, as an ERP would publish it (from the mapping fixture)."""
    x12 = parse((REPO / "fixtures/mapping/856-004010.x12").read_bytes())
    ix = x12.interchanges[0]
    group = ix.groups[0]
    header = DocumentHeader(
        partner_id="acme-retail",
        document_type=DocumentType.SHIP_NOTICE,
        direction=DocDirection.OUTBOUND,
        source_channel=SourceChannel.BROKER,
        usage=Usage.PRODUCTION,
        correlation_id=f"erp-{shipment_id}",
        received_at=datetime.now(UTC),
    )
    doc = Mapper.load(REPO / "mappings").x12_to_canonical(
        group.transactions[0], interchange=ix, group=group, profile=None, header=header
    )
    data = json.loads(dump_document(doc))
    data["shipment_id"] = shipment_id
    return dump_document(parse_document(data))


def _sent(gateway: Gateway) -> list[Path]:
    return sorted(
        (Path(gateway.settings.filedrop_dir) / "acme-retail" / "outbox").glob("acme-retail-856-*.x12")
    )


async def test_canonical_856_dropped_in_the_spool_is_sent_as_x12_with_the_next_control_numbers(
    gateway: Gateway,
) -> None:
    inbox = Path(gateway.settings.spool_dir) / "outbound"
    inbox.mkdir(parents=True, exist_ok=True)
    await gateway.start()
    (inbox / "asn-1.json").write_bytes(_ship_notice("SH-1001"))

    async def one() -> bool:
        return len(_sent(gateway)) == 1

    await wait_for(one)
    (inbox / "asn-2.json").write_bytes(_ship_notice("SH-1002"))

    async def two() -> bool:
        # The file lands before the sender commits SENT: wait for both.
        sent = await gateway.store.list_payloads(
            MessageFilter(direction=Direction.OUTBOUND, state=State.SENT)
        )
        done = inbox / "done"
        handled = len(list(done.iterdir())) if done.is_dir() else 0
        return len(_sent(gateway)) == 2 and len(sent) == 2 and handled == 2

    await wait_for(two)
    first, second = (parse(p.read_bytes()) for p in _sent(gateway))
    for result, n in ((first, 1), (second, 2)):
        assert not result.has_errors
        [ix] = result.interchanges
        assert (ix.sender_qualifier, ix.sender, ix.receiver_qualifier, ix.receiver) == (
            "ZZ",
            "EDIGATE",
            "ZZ",
            "ACMERETAIL",
        )
        assert ix.control_number == f"{n:09d}"
        [group] = ix.groups
        assert (group.functional_id, group.control_number, group.version) == ("SH", str(n), "004010")
        [ts] = group.transactions
        assert (ts.set_id, ts.control_number) == ("856", f"{n:04d}")
        bsn = next(s for s in ts.segments if s.id == "BSN")
        assert bsn.get(2) == f"SH-100{n}"
    sent = await gateway.store.list_payloads(MessageFilter(direction=Direction.OUTBOUND, state=State.SENT))
    assert len(sent) == 2
    assert sorted(p.name for p in (inbox / "done").iterdir()) == ["asn-1.json", "asn-2.json"]


async def test_partner_997_marks_the_sent_group_accepted_and_missing_acks_become_overdue(
    gateway: Gateway,
) -> None:
    record = await gateway.outbound.submit(OutboundRequest(_ship_notice("SH-2001")))
    await gateway.send_pending()
    other = await gateway.outbound.submit(OutboundRequest(_ship_notice("SH-2002")))
    await gateway.send_pending()
    sent = await gateway.store.find_sent_group("acme-retail", "1", "SH")
    assert sent is not None
    assert (sent.payload_id, sent.ack_kind, sent.ack_status) == (record.id, "997", AckStatus.PENDING)
    assert sent.ack_due_at is not None
    assert sent.ack_due_at > datetime.now(UTC) + timedelta(hours=23)
    outcome = await gateway.receive(ACME_997.format(gs06=1).encode(), ChannelMeta("file", "acme-retail"))
    await gateway.process_now(outcome.record.id)
    acked = await gateway.store.find_sent_group("acme-retail", "1", "SH")
    assert acked is not None
    assert acked.ack_status is AckStatus.ACCEPTED
    inbound = await gateway.store.get_payload(outcome.record.id)
    assert inbound is not None
    assert inbound.state is State.ACK_RECEIVED
    # the second shipment's 997 never comes: once its due time has passed it is overdue
    async with gateway.store.engine.begin() as conn:
        await conn.execute(
            update(tables.groups)
            .where(tables.groups.c.payload_id == other.id)
            .values(ack_due_at=datetime.now(UTC) - timedelta(minutes=1))
        )
    overdue = await gateway.store.overdue_groups(datetime.now(UTC))
    assert [g.payload_id for g in overdue] == [other.id]
    assert [g.payload_id for g in await gateway.store.list_overdue()] == [other.id]


async def test_outbound_over_rabbitmq_and_invalid_requests_are_dead_lettered_with_the_reason(
    tmp_path: Path,
) -> None:
    rabbit = unique_rabbit()
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path}/gw.db", amqp_url=rabbitmq_url(), rabbit=rabbit)
    gateway = await Gateway.open(settings)
    await gateway.start()
    connection = await aio_pika.connect(rabbitmq_url())
    channel = await connection.channel()
    try:
        await channel.default_exchange.publish(
            aio_pika.Message(
                _ship_notice("SH-3001"), content_type="application/json", message_id="erp-msg-1"
            ),
            routing_key=rabbit.outbound_queue,
        )
        await channel.default_exchange.publish(
            aio_pika.Message(b'{"type": "ship_notice", "header": {}}', content_type="application/json"),
            routing_key=rabbit.outbound_queue,
        )

        async def sent() -> bool:
            done = await gateway.store.list_payloads(
                MessageFilter(direction=Direction.OUTBOUND, state=State.SENT)
            )
            return len(_sent(gateway)) == 1 and len(done) == 1

        await wait_for(sent)
        [file] = _sent(gateway)
        x12 = parse(file.read_bytes())
        assert not x12.has_errors
        [ix] = x12.interchanges
        [group] = ix.groups
        [ts] = group.transactions
        assert (ix.control_number, group.control_number, ts.control_number) == ("000000001", "1", "0001")
        assert (ix.sender, ix.receiver, group.functional_id, ts.set_id) == (
            "EDIGATE",
            "ACMERETAIL",
            "SH",
            "856",
        )
        assert next(seg for seg in ts.segments if seg.id == "BSN").get(2) == "SH-3001"
        [stored] = await gateway.store.list_payloads(
            MessageFilter(direction=Direction.OUTBOUND, state=State.SENT)
        )
        assert stored.meta["idempotency_key"] == "erp-msg-1"
        issued = await gateway.store.control_numbers("acme-retail")
        assert sorted((n.kind, n.value, n.payload_id) for n in issued) == [
            ("gs", 1, stored.id),
            ("isa", 1, stored.id),
            ("st", 1, stored.id),
        ]
        dlq = await channel.declare_queue(rabbit.dead_letter_queue, passive=True)
        dead = None
        for _ in range(200):
            dead = await dlq.get(fail=False)
            if dead is not None:
                break
            await asyncio.sleep(0.05)
        assert dead is not None
        await dead.ack()
        reason = str(dead.headers[ERROR_HEADER])
        assert "not a valid canonical document" in reason
        rejected = await gateway.store.list_payloads(MessageFilter(state=State.REJECTED))
        assert len(rejected) == 1
        assert "not a valid canonical document" in (rejected[0].reason or "")
    finally:
        await gateway.stop()
        await delete_topology(channel, rabbit_topology(settings))
        await connection.close()


async def test_a_spool_file_name_used_again_for_other_content_is_a_new_request(gateway: Gateway) -> None:
    inbox = Path(gateway.settings.spool_dir) / "outbound"
    inbox.mkdir(parents=True, exist_ok=True)
    await gateway.start()

    async def sent(count: int) -> bool:
        done = await gateway.store.list_payloads(
            MessageFilter(direction=Direction.OUTBOUND, state=State.SENT)
        )
        return len(done) == count and not (inbox / "asn.json").exists()

    (inbox / "asn.json").write_bytes(_ship_notice("SH-5001"))
    await wait_for(lambda: sent(1))
    (inbox / "asn.json").write_bytes(_ship_notice("SH-5002"))  # the ERP reuses the name
    await wait_for(lambda: sent(2))
    numbers = sorted(
        next(
            s
            for s in parse(p.read_bytes()).interchanges[0].groups[0].transactions[0].segments
            if s.id == "BSN"
        ).get(2)
        for p in _sent(gateway)
    )
    assert numbers == ["SH-5001", "SH-5002"]


async def test_a_rejected_request_is_found_under_the_partner_its_body_names(gateway: Gateway) -> None:
    """No ``partner`` header: the rejected request is still listed under the partner the body
    names (if it is one of ours), so support finds it with the partner filter."""
    import pytest

    from gateway.domain.runtime.errors import InvalidDocument

    good = json.loads(_ship_notice("SH-4001"))
    del good["shipment_id"]  # a required field: the request is invalid
    stranger = json.loads(_ship_notice("SH-4002"))
    stranger["header"]["partner_id"] = "nobody-we-know"
    for body in (good, stranger, b"not json at all"):
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        with pytest.raises(InvalidDocument):
            await gateway.outbound.handle(OutboundRequest(raw))
    rejected = await gateway.store.list_payloads(MessageFilter(state=State.REJECTED, limit=10))
    assert sorted(str(r.partner_id) for r in rejected) == ["None", "None", "acme-retail"]
    [acme] = await gateway.store.list_payloads(MessageFilter(partner_id="acme-retail", state=State.REJECTED))
    assert "shipment_id" in (acme.reason or "")


async def test_a_redelivered_request_without_a_message_id_is_recognised_by_its_body(gateway: Gateway) -> None:
    """An ERP that sets no message ID: a redelivery (after a crash before the broker ack) is the
    request stored before, not a second send with new control numbers; a first delivery of the
    same body is a deliberate second send."""
    body = _ship_notice("SH-5001")
    first = await gateway.outbound.submit(OutboundRequest(body))
    again = await gateway.outbound.submit(OutboundRequest(body, redelivered=True))
    assert again.id == first.id
    on_purpose = await gateway.outbound.submit(OutboundRequest(body))
    assert on_purpose.id != first.id
    latest = await gateway.outbound.submit(OutboundRequest(body, redelivered=True))
    assert latest.id == on_purpose.id  # the latest of them
    other = await gateway.outbound.submit(OutboundRequest(_ship_notice("SH-5002"), redelivered=True))
    assert other.id not in (first.id, on_purpose.id)  # a redelivery of something never stored is new
    stored = await gateway.store.list_payloads(MessageFilter(direction=Direction.OUTBOUND, limit=10))
    assert len(stored) == 3
    numbers = await gateway.store.control_numbers("acme-retail")
    assert len([n for n in numbers if n.kind == "isa"]) == 3  # no numbers spent on redeliveries

    # only what was stored since the message was first published counts (an earlier payload with
    # the same body was a deliberate send): by the AMQP timestamp, or else within the last hour
    after = datetime.now(UTC) + timedelta(seconds=5)
    late = await gateway.outbound.submit(OutboundRequest(body, redelivered=True, first_seen=after))
    assert late.id not in (first.id, on_purpose.id)
    async with gateway.store.engine.begin() as conn:
        await conn.execute(
            update(tables.payloads)
            .where(tables.payloads.c.direction == "outbound")
            .values(received_at=datetime.now(UTC) - timedelta(hours=2))
        )
    old_news = await gateway.outbound.submit(OutboundRequest(body, redelivered=True))
    assert old_news.id not in (first.id, on_purpose.id, late.id)
