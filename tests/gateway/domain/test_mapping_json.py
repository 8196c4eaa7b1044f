"""Partner JSON -> canonical: default shapes, a partner's own shape (swift-3pl), field-level errors."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest

from gateway.domain.canonical import (
    ConfirmationStatus,
    DocumentType,
    FieldExtension,
    PurchaseOrder,
    ShipmentConfirmation,
    find_party,
)
from gateway.domain.mapping import MappingError
from tests.gateway.domain.test_mapping_support import FIXTURES, assert_valid, header, mapper, profiles


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def confirmation(data: Any, partner: str | None = "swift-3pl") -> ShipmentConfirmation:
    profile = profiles()[partner] if partner else None
    doc = mapper().json_to_canonical(
        data, document_type="shipment_confirmation_json", profile=profile,
        header=header(DocumentType.SHIPMENT_CONFIRMATION, partner or "acme-retail"),
    )  # fmt: skip
    assert isinstance(doc, ShipmentConfirmation)
    assert_valid(doc)
    return doc


def purchase_order(data: Any) -> PurchaseOrder:
    doc = mapper().json_to_canonical(
        data, document_type="po_json", profile=None, header=header(DocumentType.PURCHASE_ORDER)
    )
    assert isinstance(doc, PurchaseOrder)
    assert_valid(doc)
    return doc


def fields(doc: Any, namespace: str) -> dict[str, Any]:
    return {e.path: e.value for e in doc.extensions[namespace] if isinstance(e, FieldExtension)}


def test_swift_shape() -> None:
    doc = confirmation(load("swift-shipment-confirmation.json"))
    assert (doc.confirmation_id, doc.shipping_order_number) == ("SW-SHIP-1001", "WO-2025-0042")
    assert doc.status is ConfirmationStatus.SHIPPED
    assert doc.shipped_at == dt.datetime(2025, 3, 1, 13, 30, tzinfo=dt.UTC)
    carrier = doc.shipment.carrier
    assert carrier is not None
    assert (carrier.scac, carrier.service_level) == ("FDEG", "GROUND")
    assert carrier.tracking_numbers == ["794611111111", "794622222222"]  # every package's
    # The items shipped, and the packages with their weights.
    [item] = doc.shipment.items
    assert (item.item.sku, item.quantity_shipped.value, item.quantity_shipped.unit) == (
        "W-100",
        Decimal("6"),
        "EA",
    )
    packs = doc.shipment.packs
    assert [[(m.qualifier, m.value) for m in p.marks] for p in packs] == [
        [("CP", "794611111111")], [("CP", "794622222222")],
    ]  # fmt: skip
    weights = [p.totals.weight for p in packs if p.totals is not None]
    assert [(w.value, w.unit) for w in weights if w is not None] == [
        (Decimal("2.5"), "KG"),
        (Decimal("1.25"), "KG"),
    ]
    # Everything not in the shape is kept, addressed by JSON pointer.
    assert fields(doc, "swift-3pl") == {"/event": "shipment.confirmed"}


def test_swift_package_weight_errors_name_the_json_path() -> None:
    data = load("swift-shipment-confirmation.json")
    data["data"]["packages"][0]["weight"] = "heavy"
    with pytest.raises(MappingError, match=r"data.packages.0.weight 'heavy': is not a number"):
        confirmation(data)


def test_default_shipment_confirmation_shape() -> None:
    doc = confirmation(load("shipment-confirmation-default.json"), None)
    assert doc.status is ConfirmationStatus.PARTIALLY_SHIPPED
    ship_to = find_party(doc.shipment.parties, "ST")
    assert ship_to is not None
    assert ship_to.address is not None
    assert ship_to.address.city == "SPRINGFIELD"
    assert doc.shipment.carrier is not None
    assert doc.shipment.carrier.tracking_numbers == ["1Z001", "1Z002"]
    [order] = doc.shipment.orders
    assert order.po_number == "PO-4711"
    first, second = order.items
    assert (first.item.sku, first.item.upc, first.quantity_shipped.value) == (
        "W-100",
        "012345678905",
        Decimal(20),
    )
    assert [(r.qualifier, r.value) for r in first.references] == [("LT", "L-1")]
    assert second.quantity_shipped.value == Decimal("4.5")
    assert second.quantity_shipped.unit == "LB"
    [pack] = order.packs
    assert pack.sscc == "00000123450000000017"
    assert [m.qualifier for m in pack.marks] == ["GM", "CP"]
    assert pack.totals is not None
    assert pack.totals.weight is not None
    assert pack.totals.weight.value == Decimal("3.2")
    assert pack.items[0].item.sku == "W-100"
    assert fields(doc, "json") == {"/lines/1/colour": "red"}


def test_default_po_shape() -> None:
    po = purchase_order(load("po-default.json"))
    assert (po.po_number, po.po_date, po.currency) == ("SUP-PO-9", dt.date(2025, 2, 1), "EUR")
    assert [p.role for p in po.parties] == ["BY", "ST"]
    assert po.parties[0].identifiers[0].value == "BUY-1"
    assert [(d.qualifier, d.date) for d in po.dates] == [("002", dt.date(2025, 2, 20))]
    first, second = po.lines
    assert (first.line_number, first.item.sku, first.item.description) == ("1", "A-1", "Bolt M6")
    assert first.unit_price is not None
    assert first.unit_price.amount == Decimal("0.12")
    assert (second.line_number, second.item.gtin, second.quantity_ordered.unit) == (
        "20",
        "04012345678901",
        "KG",
    )
    assert po.totals is not None
    assert po.totals.total_amount is not None
    assert po.totals.total_amount.amount == Decimal("30.50")
    assert [n.text for n in po.notes] == ["Deliver to gate 3"]
    assert fields(po, "json") == {"/internal/approved_by": "ops"}


def test_po_json_round_trips_to_x12() -> None:
    po = purchase_order(load("po-default.json"))
    ts = mapper().canonical_to_x12(po, profile=profiles()["acme-retail"], policy=None, control_number="0009")
    po1 = [s.elements for s in ts.segments if s.id == "PO1"]
    assert po1[1][:5] == ["20", "2.5", "KG", "7.40", ""]
    assert po1[1][5:7] == ["UK", "04012345678901"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["data"].pop("shipmentId"), "data.shipmentId: is missing"),
        (
            lambda d: d["data"].update(shippedAt="2025-03-01T14:30:00"),
            "data.shippedAt '2025-03-01T14:30:00': needs a time zone",
        ),
        (lambda d: d["data"].update(shippedAt="yesterday"), "data.shippedAt 'yesterday': is not an ISO 8601"),
        (
            lambda d: d["data"].update(clientOrderRef={"id": 1}),
            "data.clientOrderRef {'id': 1}: must be a string",
        ),
        (lambda d: d["data"]["carrier"].update(scac="fedex"), "data.carrier.scac 'FEDEX': does not match"),
    ],
)
def test_swift_field_errors_name_the_json_path(change: Any, message: str) -> None:
    data = load("swift-shipment-confirmation.json")
    change(data)
    with pytest.raises(MappingError) as caught:
        confirmation(data)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["lines"][1].update(quantity="lots"), "lines.1.quantity 'lots': is not a number"),
        (lambda d: d["lines"][0].update(quantity=True), "lines.0.quantity True: must be a number"),
        (lambda d: d.update(po_date="01/02/2025"), "po_date '01/02/2025': is not a date"),
        (lambda d: d.update(lines=[]), "lines: a purchase order needs at least one line"),
        (lambda d: d.update(lines={"sku": "A"}), "lines: must be a list"),
        (lambda d: d["lines"][0].update(unit="each unit"), "lines.0.unit 'EACH UNIT': does not match"),
        (lambda d: d["lines"][1].update(gtin=None), "lines.1: an item needs at least one identifier"),
    ],
)
def test_po_field_errors_name_the_json_path(change: Any, message: str) -> None:
    data = load("po-default.json")
    change(data)
    with pytest.raises(MappingError) as caught:
        purchase_order(data)
    assert message in str(caught.value)


def test_float_quantities_are_read_by_their_decimal_text() -> None:
    data = load("po-default.json")
    data["lines"][0]["quantity"] = 0.1
    assert purchase_order(data).lines[0].quantity_ordered.value == Decimal("0.1")


def test_not_an_object_and_unknown_types() -> None:
    with pytest.raises(MappingError, match="must be a JSON object"):
        purchase_order([1, 2])
    with pytest.raises(MappingError, match="no inbound JSON mapping for document type 'canonical_json'"):
        mapper().json_to_canonical(
            {}, document_type="canonical_json", profile=None, header=header(DocumentType.PURCHASE_ORDER)
        )
