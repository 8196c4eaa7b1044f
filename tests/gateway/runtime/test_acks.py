"""Acknowledgements of what we send, on SQLite and PostgreSQL: 997 and 999 accepted with errors or
rejected, and TA1 (ISA14 set when the profile expects one; an incoming TA1 settles the expectation
that overdue scanning uses, accepted or rejected)."""

from __future__ import annotations

import functools
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edi import parse
from gateway.domain.runtime.lifecycle import AckStatus, State, Step
from gateway.domain.runtime.ports import OutboundRequest
from gateway.domain.runtime.records import ChannelMeta, PayloadRecord
from gateway.runtime import Gateway

from .conftest import make_settings, truncate
from .helpers import canonical_from_x12, copy_site, partner_ack, partner_ta1

ACME = ("ZZ", "ACMERETAIL")
NORTHWIND = ("01", "0123456789")
_856_ACK_997 = """    mapping:
      variant: x12-856-004010
    ack: {type: "997", overdue_hours: 24}"""


@pytest.fixture
async def gateway(tmp_path: Path, database_url: str) -> AsyncIterator[Gateway]:
    """The example site, with ACME expecting a TA1 (within 2 hours) for the ship notices we send."""
    partners, mappings = copy_site(tmp_path)
    acme = partners / "acme-retail.yaml"
    text = acme.read_text()
    assert _856_ACK_997 in text
    acme.write_text(
        text.replace(
            _856_ACK_997, _856_ACK_997.replace('"997", overdue_hours: 24', '"TA1", overdue_hours: 2')
        )
    )
    gw = await Gateway.open(
        make_settings(tmp_path, database_url, partners_dir=partners, mappings_dir=mappings)
    )
    await truncate(gw)
    await gw.destination.start()
    yield gw
    await gw.stop()


async def _send(gateway: Gateway, body: bytes) -> tuple[PayloadRecord, bytes]:
    record = await gateway.outbound.submit(OutboundRequest(body))
    await gateway.send_pending()
    sent = await gateway.store.get_payload(record.id)
    assert sent is not None
    assert sent.state is State.SENT, sent.reason
    return sent, await gateway.store.payload_content(record.id)


async def _receive(gateway: Gateway, content: bytes, partner: str) -> PayloadRecord:
    outcome = await gateway.receive(content, ChannelMeta("file", partner))
    await gateway.process_now(outcome.record.id)
    record = await gateway.store.get_payload(outcome.record.id)
    assert record is not None
    return record


def _ship_notice(n: int) -> bytes:
    return canonical_from_x12(
        "856-004010.x12", "acme-retail", "ship_notice", f"erp-sh-{n}", shipment_id=f"SH-{n}"
    )


def _purchase_order(n: int) -> bytes:
    return canonical_from_x12(
        "850-005010.x12", "northwind-supply", "purchase_order", f"erp-po-{n}", po_number=f"PO-{n}"
    )


async def test_997_rejected_and_accepted_with_errors(gateway: Gateway) -> None:
    # ACME answers the acknowledgements (855) we send with a 997
    first, _ = await _send(
        gateway, canonical_from_x12("855-004010.x12", "acme-retail", "purchase_order_ack", "c-1")
    )
    second, _ = await _send(
        gateway, canonical_from_x12("855-004010.x12", "acme-retail", "purchase_order_ack", "c-2")
    )
    one = await gateway.store.find_sent_group("acme-retail", "1", "PR")
    two = await gateway.store.find_sent_group("acme-retail", "2", "PR")
    assert one is not None
    assert two is not None
    assert (one.payload_id, two.payload_id) == (first.id, second.id)
    assert (one.ack_kind, one.ack_status) == ("997", AckStatus.PENDING)

    common = functools.partial(
        partner_ack, "997", sender=ACME, gs_sender="ACMERETAIL", functional_id="PR", set_id="855"
    )
    rejected = await _receive(gateway, common(gs06="1", st02="0001", status="R"), "acme-retail")
    assert rejected.state is State.ACK_RECEIVED
    with_errors = await _receive(
        gateway, common(gs06="2", st02="0002", status="E", isa13=7003), "acme-retail"
    )
    assert with_errors.state is State.ACK_RECEIVED

    one = await gateway.store.find_sent_group("acme-retail", "1", "PR")
    two = await gateway.store.find_sent_group("acme-retail", "2", "PR")
    assert one is not None
    assert two is not None
    assert (one.ack_status, two.ack_status) == (AckStatus.REJECTED, AckStatus.ACCEPTED_WITH_ERRORS)
    failed = await gateway.store.get_payload(first.id)
    accepted = await gateway.store.get_payload(second.id)
    assert failed is not None
    assert accepted is not None
    assert (failed.state, failed.failed_step) == (State.FAILED, Step.SEND)
    assert "partner rejected group" in (failed.reason or "")
    assert accepted.state is State.ACK_RECEIVED
    detail = await gateway.store.payload_detail(first.id)
    assert detail is not None
    [env] = detail["envelopes"]
    assert (env["direction"], env["state"], env["ack_status"]) == ("outbound", "failed", "rejected")
    group_trail = [e.state for e in await gateway.store.audit_trail("group", str(one.group_id))]
    assert group_trail == ["received", "sent", "ack-received"]
    assert await gateway.store.overdue_groups(datetime.now(UTC) + timedelta(days=3)) == []


async def test_999_rejected_and_accepted_with_errors(gateway: Gateway) -> None:
    first, content = await _send(gateway, _purchase_order(1))
    second, _ = await _send(gateway, _purchase_order(2))
    [ix] = parse(content).interchanges
    assert (ix.control_number, ix.groups[0].control_number) == ("000000100", "100")  # northwind starts at 100
    common = functools.partial(
        partner_ack, "999", sender=NORTHWIND, gs_sender="NWSUPPLY", functional_id="PO", set_id="850",
        usage="T",  # northwind is a test partner: its interchanges say T
    )
    rejected = common(gs06="100", st02="0001", status="R", version="005010")
    with_errors = common(gs06="101", st02="0002", status="E", isa13=7005, version="005010")
    await _receive(gateway, rejected, "northwind-supply")
    await _receive(gateway, with_errors, "northwind-supply")
    one = await gateway.store.find_sent_group("northwind-supply", "100", "PO")
    two = await gateway.store.find_sent_group("northwind-supply", "101", "PO")
    assert one is not None
    assert two is not None
    assert (one.ack_kind, one.ack_status) == ("999", AckStatus.REJECTED)
    assert (two.ack_kind, two.ack_status) == ("999", AckStatus.ACCEPTED_WITH_ERRORS)
    failed = await gateway.store.get_payload(first.id)
    assert failed is not None
    assert failed.state is State.FAILED
    detail = await gateway.store.payload_detail(second.id)
    assert detail is not None
    assert detail["payload"].state is State.ACK_RECEIVED
    assert [e["ack_status"] for e in detail["envelopes"]] == ["accepted-with-errors"]


async def test_a_ta1_is_asked_for_and_settles_what_overdue_scanning_tracks(gateway: Gateway) -> None:
    accepted_sent, content = await _send(gateway, _ship_notice(1))
    rejected_sent, _ = await _send(gateway, _ship_notice(2))
    waiting_sent, _ = await _send(gateway, _ship_notice(3))
    [ix] = parse(content).interchanges
    assert ix.ack_requested  # ISA14 = 1: the profile expects a TA1
    group = await gateway.store.find_sent_group("acme-retail", "1", "SH")
    assert group is not None
    assert (group.ack_kind, group.ack_status) == ("TA1", AckStatus.PENDING)
    assert group.ack_due_at is not None
    assert group.ack_due_at < datetime.now(UTC) + timedelta(hours=3)

    await _receive(
        gateway,
        partner_ta1(sender=ACME, acknowledged_isa13="000000001", status="A", note="000"),
        "acme-retail",
    )
    ta1 = partner_ta1(sender=ACME, acknowledged_isa13="000000002", status="R", note="022", isa13=7004)
    rejected_ack = await _receive(gateway, ta1, "acme-retail")
    assert rejected_ack.state is State.ACK_RECEIVED
    # the TA1 is also kept as a canonical FunctionalAck, like a 997/999
    detail = await gateway.store.payload_detail(rejected_ack.id)
    assert detail is not None
    [doc] = detail["documents"]
    assert doc["document_type"] == "functional_ack"
    body = await gateway.store.document_body(doc["id"])
    assert body is not None
    ack = json.loads(body)
    assert ack["ack_kind"] == "TA1"
    assert [(r["control_number"], r["status_code"], r["note_code"]) for r in ack["interchanges"]] == [
        ("000000002", "R", "022")
    ]
    assert ack["header"]["isa13"] == "000007004"

    accepted = await gateway.store.get_payload(accepted_sent.id)
    rejected = await gateway.store.get_payload(rejected_sent.id)
    assert accepted is not None
    assert rejected is not None
    assert accepted.state is State.ACK_RECEIVED
    assert (rejected.state, rejected.failed_step) == (State.FAILED, Step.SEND)
    assert "partner rejected interchange 000000002" in (rejected.reason or "")
    assert "022" in (rejected.reason or "")
    settled = {
        g.gs06: g.ack_status
        for g in [await gateway.store.find_sent_group("acme-retail", str(n), "SH") for n in (1, 2, 3)]
        if g is not None
    }
    assert settled == {"1": AckStatus.ACCEPTED, "2": AckStatus.REJECTED, "3": AckStatus.PENDING}
    # only the shipment nobody acknowledged becomes overdue
    overdue = await gateway.store.overdue_groups(datetime.now(UTC) + timedelta(hours=3))
    assert [g.payload_id for g in overdue] == [waiting_sent.id]
    detail = await gateway.store.payload_detail(rejected_sent.id)
    assert detail is not None
    ix_trail = [e for e in detail["audit"] if "interchange 000000002" in (e.detail or "")]
    assert ix_trail
    assert ix_trail[-1].state == "failed"
