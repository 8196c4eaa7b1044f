"""JSON documents through the gateway (real store, SQLite): a supplier's JSON acknowledgement posted by
webhook becomes a canonical PurchaseOrderAck, and canonical documents for a partner whose rule is JSON
leave as that partner's JSON (warehouse orders for the 3PL, acks for the marketplace)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import pytest

from gateway.config import Settings
from gateway.domain.canonical import (
    Direction,
    DocumentHeader,
    DocumentType,
    SourceChannel,
    Usage,
    dump_document,
    parse_document,
)
from gateway.domain.mapping import load_json
from gateway.domain.runtime.errors import InvalidDocument
from gateway.domain.runtime.lifecycle import State
from gateway.domain.runtime.ports import OutboundRequest
from gateway.domain.runtime.records import ChannelMeta
from gateway.runtime import Gateway
from tests.gateway.domain.test_mapping_support import FIXTURES, ROOT


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[Gateway]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/gw.db",
        partners_dir=ROOT / "partners",
        mappings_dir=ROOT / "mappings",
        var_dir=tmp_path / "var",
        spool_dir=tmp_path / "spool",
        filedrop_dir=tmp_path / "filedrop",
    )
    gw = await Gateway.open(settings)
    await gw.destination.start()
    yield gw
    await gw.stop()


def _canonical(partner: str, kind: DocumentType, body: Mapping[str, object]) -> bytes:
    head = DocumentHeader(
        partner_id=partner,
        document_type=kind,
        direction=Direction.OUTBOUND,
        source_channel=SourceChannel.BROKER,
        usage=Usage.PRODUCTION,
        correlation_id=f"erp-{partner}",
        received_at=dt.datetime.now(dt.UTC),
    )
    return dump_document(parse_document({"type": kind.value, "header": head.model_dump(mode="json"), **body}))


ORDER = {
    "po_number": "WO-2025-0042",
    "po_date": "2025-03-01",
    "dates": [{"qualifier": "010", "date": "2025-03-02"}],
    "parties": [
        {
            "role": "ST",
            "name": "ACME STORE 12",
            "address": {
                "lines": ["100 MAIN ST"],
                "city": "SPRINGFIELD",
                "state": "OH",
                "postal_code": "45501",
            },
        }
    ],
    "lines": [
        {
            "line_number": "1",
            "item": {"sku": "W-100"},
            "quantity_ordered": {"value": "6", "unit": "EA"},
            "unit_price": {"amount": "12.50"},
        }
    ],
}


async def test_portal_ack_posted_as_json_maps_to_a_purchase_order_ack(gateway: Gateway) -> None:
    body = (FIXTURES / "northwind-poack.json").read_bytes()
    meta = ChannelMeta(
        "webhook", "northwind-supply", content_type="application/json", document_type="poack_json"
    )
    outcome = await gateway.receive(body, meta)
    result = await gateway.process_now(outcome.record.id)
    assert result is not None
    assert result.state is not State.FAILED, result.reason
    [document] = result.documents
    ack = parse_document(document.body)
    assert ack.type == "purchase_order_ack"
    assert (document.business_number, ack.header.partner_id) == ("PO-4711", "northwind-supply")


async def test_a_purchase_order_for_the_3pl_leaves_as_its_warehouse_order_json(gateway: Gateway) -> None:
    record = await gateway.outbound.submit(
        OutboundRequest(_canonical("swift-3pl", DocumentType.PURCHASE_ORDER, ORDER))
    )
    assert record.meta["document_type"] == "warehouse_order_json"
    assert record.meta["content_type"] == "application/json"
    content = load_json(await gateway.store.payload_content(record.id))
    order = content["order"]
    assert (order["clientOrderRef"], order["shipBy"]) == ("WO-2025-0042", "2025-03-02")
    assert order["shipTo"]["street1"] == "100 MAIN ST"
    assert order["lines"] == [{"lineRef": "1", "sku": "W-100", "qty": 6, "unit": "EA"}]


async def test_the_request_picks_the_marketplace_ack_over_the_855(gateway: Gateway) -> None:
    ack = {
        "ack_type": "AT",
        "po_number": "MKT-1001",
        "po_date": "2025-03-01",
        "lines": [{"line_number": "1", "item": {"sku": "W-100"}, "acks": [{"status": "IA"}]}],
    }
    body = _canonical("acme-retail", DocumentType.PURCHASE_ORDER_ACK, ack)
    as_json = await gateway.outbound.submit(OutboundRequest(body, headers={"document_type": "poack_json"}))
    assert as_json.meta["document_type"] == "poack_json"
    sent = json.loads(await gateway.store.payload_content(as_json.id))
    assert sent == {
        "orderId": "MKT-1001",
        "result": "accepted",
        "items": [{"article": "W-100", "state": "accepted"}],
    }
    as_x12 = await gateway.outbound.submit(OutboundRequest(body, message_id="second"))
    assert as_x12.meta["document_type"] == "855"
    assert (await gateway.store.payload_content(as_x12.id)).startswith(b"ISA")
    with pytest.raises(InvalidDocument, match="no outbound po_json is agreed with acme-retail"):
        await gateway.outbound.submit(OutboundRequest(body, headers={"document_type": "po_json"}))


async def test_a_document_the_partner_has_no_json_rule_for_is_rejected(gateway: Gateway) -> None:
    body = _canonical(
        "swift-3pl",
        DocumentType.PURCHASE_ORDER_ACK,
        {
            "ack_type": "AT",
            "po_number": "X",
            "po_date": "2025-03-01",
        },
    )
    with pytest.raises(InvalidDocument, match="no outbound purchase_order_ack is agreed with swift-3pl"):
        await gateway.outbound.submit(OutboundRequest(body))
