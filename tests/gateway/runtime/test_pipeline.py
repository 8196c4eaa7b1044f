"""The inbound pipeline end to end on the embedded default (file spool), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

from edi import parse
from edi.acks import GroupAck, parse_acks
from gateway.domain.runtime.lifecycle import State, Step
from gateway.domain.runtime.records import ChannelMeta
from gateway.runtime import Gateway

from .conftest import REPO

SAMPLE_850 = (REPO / "fixtures/x12/sample-850.edi").read_bytes()


async def _ingest(
    gateway: Gateway, content: bytes, partner: str | None = "acme-retail", document_type: str | None = None
) -> str:
    outcome = await gateway.receive(content, ChannelMeta("file", partner, document_type=document_type))
    assert outcome.created
    await gateway.process_now(outcome.record.id)
    await gateway.flush_outbox()
    await gateway.send_pending()
    return outcome.record.id


def _spooled(gateway: Gateway, destination: str) -> list[dict[str, object]]:
    folder = Path(gateway.settings.spool_dir) / destination
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]


def _sent_files(gateway: Gateway, partner: str) -> list[Path]:
    return sorted((Path(gateway.settings.filedrop_dir) / partner / "outbox").glob("*.x12"))


async def test_850_is_stored_acknowledged_mapped_and_routed(gateway: Gateway) -> None:
    pid = await _ingest(gateway, SAMPLE_850)
    record = await gateway.store.get_payload(pid)
    assert record is not None
    assert record.state is State.DELIVERED
    [message] = _spooled(gateway, "erp")
    assert message["routing_key"] == "erp.purchase_order.acme-retail"
    headers = message["headers"]
    assert headers == {
        "partner": "acme-retail",
        "document_type": "purchase_order",
        "schema_version": "1.0",
        "test": False,
        "replay_count": 0,
    }
    body = message["body"]
    assert isinstance(body, dict)
    assert body["header"]["raw_document_id"] == pid
    assert body["header"]["isa13"] == "000004711"
    assert message["message_id"] != pid
    assert _spooled(gateway, "wms") == []  # ACME routes 850 to erp only
    [ack_file] = _sent_files(gateway, "acme-retail")
    [ack] = parse_acks(ack_file.read_bytes())
    assert isinstance(ack, GroupAck)
    assert (ack.kind, ack.group_control_number, ack.status and ack.status.value) == ("997", "4711", "A")
    detail = await gateway.store.payload_detail(pid)
    assert detail is not None
    states = [e.state for e in detail["audit"]]
    assert states[0] == "received"
    assert states[-1] == "delivered"
    assert {"parsed", "mapped", "acknowledged", "routed"} <= set(states)


async def test_same_content_again_is_a_duplicate_and_not_routed_twice(gateway: Gateway) -> None:
    first = await _ingest(gateway, SAMPLE_850)
    second = await _ingest(gateway, SAMPLE_850)
    record = await gateway.store.get_payload(second)
    assert record is not None
    assert record.state is State.DUPLICATE
    assert record.duplicate_of == first
    assert len(_spooled(gateway, "erp")) == 1
    assert await gateway.store.outbox_backlog() == 0


async def test_unknown_sender_is_kept_flagged_and_replayable(gateway: Gateway) -> None:
    stranger = SAMPLE_850.replace(b"ZZ*ACMERETAIL     ", b"ZZ*NOBODY         ")
    pid = await _ingest(gateway, stranger, partner=None)
    record = await gateway.store.get_payload(pid)
    assert record is not None
    assert (record.state, record.failed_step) == (State.FAILED, Step.PARSE)
    assert "unknown partner" in (record.reason or "")
    assert "ZZ:NOBODY" in (record.reason or "")
    assert await gateway.store.payload_content(pid) == stranger
    assert _spooled(gateway, "erp") == []
    replayed = await gateway.store.reset_for_replay(pid, reason="partner onboarded", actor="support")
    assert replayed.state is State.RECEIVED


async def test_invalid_850_is_rejected_with_a_997_that_says_why(gateway: Gateway) -> None:
    bad = SAMPLE_850.replace(b"DTM*002*20261201~", b"DTM*002*20261341~")
    pid = await _ingest(gateway, bad)
    record = await gateway.store.get_payload(pid)
    assert record is not None
    assert record.state is State.REJECTED
    assert _spooled(gateway, "erp") == []
    [ack_file] = _sent_files(gateway, "acme-retail")
    [ack] = parse_acks(ack_file.read_bytes())
    assert isinstance(ack, GroupAck)
    [set_ack] = ack.sets
    assert set_ack.status is not None
    assert set_ack.status.value == "R"
    [segment_error] = set_ack.segment_errors
    assert segment_error.segment_id == "DTM"
    assert [e.code for e in segment_error.elements] == ["8"]  # invalid date


async def test_json_shipment_confirmation_from_a_3pl_goes_to_wms_and_erp(gateway: Gateway) -> None:
    body = json.loads((REPO / "fixtures/runtime/swift-3pl-shipment.json").read_text())
    pid = await _ingest(
        gateway, json.dumps(body).encode(), partner="swift-3pl", document_type="shipment_confirmation_json"
    )
    record = await gateway.store.get_payload(pid)
    assert record is not None
    assert record.state is State.DELIVERED, record.reason
    [wms] = _spooled(gateway, "wms")
    [erp] = _spooled(gateway, "erp")
    assert wms["message_id"] == erp["message_id"]
    assert wms["routing_key"] == "wms.shipment_confirmation.swift-3pl"


async def test_json_that_does_not_parse_fails_and_stays_replayable(gateway: Gateway) -> None:
    pid = await _ingest(
        gateway, b'{"data": ', partner="swift-3pl", document_type="shipment_confirmation_json"
    )
    record = await gateway.store.get_payload(pid)
    assert record is not None
    assert (record.state, record.failed_step) == (State.FAILED, Step.PARSE)
    assert (record.reason or "").startswith("invalid JSON")


async def test_generated_interchanges_in_the_997_are_well_formed(gateway: Gateway) -> None:
    await _ingest(gateway, SAMPLE_850)
    [ack_file] = _sent_files(gateway, "acme-retail")
    result = parse(ack_file.read_bytes())
    assert not result.has_errors
    [ix] = result.interchanges
    assert (ix.sender, ix.receiver) == ("EDIGATE", "ACMERETAIL")


async def test_an_interchange_naming_another_sender_is_not_processed_as_the_channels_partner(
    gateway: Gateway,
) -> None:
    spoofed = SAMPLE_850.replace(b"ZZ*ACMERETAIL     ", b"ZZ*SOMEONEELSE   ")
    pid = await _ingest(gateway, spoofed, partner="acme-retail")
    record = await gateway.store.get_payload(pid)
    assert record is not None
    assert (record.state, record.failed_step) == (State.FAILED, Step.PARSE)
    assert "ISA sender ZZ:SOMEONEELSE is not acme-retail's identity ZZ:ACMERETAIL" in (record.reason or "")
    assert _spooled(gateway, "erp") == []
    assert _sent_files(gateway, "acme-retail") == []  # nothing acknowledged on someone else's behalf


async def test_json_numbers_reach_the_erp_exactly_as_sent(gateway: Gateway) -> None:
    """A JSON number is a decimal, never a binary float: scale and every digit survive."""
    text = (REPO / "fixtures/runtime/swift-3pl-shipment.json").read_text()
    text = text.replace('"weight": "12.5"', '"weight": 12.340')
    text = text.replace('"quantity": "120"', '"quantity": 1E+2')
    pid = await _ingest(
        gateway, text.encode(), partner="swift-3pl", document_type="shipment_confirmation_json"
    )
    record = await gateway.store.get_payload(pid)
    assert record is not None
    assert record.state is State.DELIVERED, record.reason
    [erp] = _spooled(gateway, "erp")
    body = json.dumps(erp)
    assert '"12.340"' in body  # not 12.34, not 12.339999...
    assert '"100"' in body


async def test_test_data_from_a_production_partner_is_kept_failed_and_not_routed(gateway: Gateway) -> None:
    test_850 = SAMPLE_850.replace(b"*000004711*0*P*", b"*000004711*0*T*")
    assert test_850 != SAMPLE_850
    pid = await _ingest(gateway, test_850)
    record = await gateway.store.get_payload(pid)
    assert record is not None
    assert (record.state, record.failed_step) == (State.FAILED, Step.PARSE)
    assert "ISA15 is 'T'" in (record.reason or ""), record.reason
    assert "accept_test_interchanges" in (record.reason or "")
    assert _spooled(gateway, "erp") == []
    detail = await gateway.store.payload_detail(pid)
    assert detail is not None
    assert [f["code"] for f in detail["findings"] if f["severity"] == "error"] == ["usage-mismatch"]
