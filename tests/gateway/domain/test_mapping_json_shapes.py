"""Partner JSON in each partner's own shape: exact numbers, purchase orders (acme-retail's marketplace),
acknowledgements (poack_json, default and Northwind's portal), date formats and fixed values as data,
and the outbound side: canonical JSON as is, or the partner's shape (warehouse orders, acks)."""

from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest

from gateway.domain.canonical import (
    AckType,
    CanonicalDocument,
    DocumentType,
    FieldExtension,
    LineStatus,
    PurchaseOrder,
    PurchaseOrderAck,
    ShipmentConfirmation,
    find_party,
    parse_document,
)
from gateway.domain.mapping import Mapper, MappingError, load_json
from gateway.domain.profiles import PartnerProfile
from tests.gateway.domain.test_mapping_support import FIXTURES, assert_valid, header, mapper, profiles


def load(name: str) -> Any:
    return load_json((FIXTURES / name).read_bytes())


def read(
    data: Any, document_type: str, partner: str | None = None, profile: PartnerProfile | None = None
) -> Any:
    profile = profile or (profiles()[partner] if partner else None)
    kind = Mapper.canonical_type_for(document_type)
    doc = mapper().json_to_canonical(
        data, document_type=document_type, profile=profile, header=header(kind, partner or "acme-retail")
    )
    assert_valid(doc)
    return doc


def json_partner(
    document_type: str, deviations: dict[str, Any], direction: str = "inbound"
) -> PartnerProfile:
    return PartnerProfile.model_validate(
        {
            "partner_id": "json-partner",
            "name": "JSON partner",
            "environment": "test",
            "channels": {"webhook": {"inbound": {"secret": "env:JSON_PARTNER_SECRET"}}},
            "documents": [
                {
                    "direction": direction,
                    "type": document_type,
                    "format": "json",
                    "mapping": {"deviations": deviations},
                }
            ],
        }
    )


def extensions(doc: Any, namespace: str) -> dict[str, Any]:
    return {e.path: e.value for e in doc.extensions.get(namespace, []) if isinstance(e, FieldExtension)}


# --- numbers are exact ---------------------------------------------------------------------------------


def test_json_numbers_are_read_as_the_exact_decimals_sent() -> None:
    data = load_json(
        b'{"po_number": "P1", "po_date": "2025-01-01", "extra": 1.5, "lines": ['
        b'{"sku": "A", "quantity": 12345678.123456789, "unit_price": 19.990},'
        b'{"sku": "B", "quantity": 0.00001, "unit_price": 1E-2},'
        b'{"sku": "C", "quantity": 3, "unit_price": 0.10}]}'
    )
    po = read(data, "po_json")
    assert isinstance(po, PurchaseOrder)
    quantities = [str(line.quantity_ordered.value) for line in po.lines]
    assert quantities == ["12345678.123456789", "0.00001", "3"]
    prices = [line.unit_price.amount for line in po.lines if line.unit_price is not None]
    assert [str(p) for p in prices] == ["19.990", "0.01", "0.10"]  # trailing zeros kept
    assert json.loads(po.model_dump_json())["lines"][0]["unit_price"]["amount"] == "19.990"
    assert extensions(po, "json") == {"/extra": 1.5}  # a leftover number stays a JSON number


def test_a_json_number_that_is_not_finite_is_refused() -> None:
    data = {"po_number": "P1", "po_date": "2025-01-01", "lines": [{"sku": "A", "quantity": Decimal("NaN")}]}
    with pytest.raises(MappingError, match=r"lines.0.quantity 'NaN': is not a finite number"):
        read(data, "po_json")


# --- purchase orders in a partner's own shape ----------------------------------------------------------


def test_acme_marketplace_po_in_its_own_shape() -> None:
    po = read(load("acme-marketplace-po.json"), "po_json", "acme-retail")
    assert isinstance(po, PurchaseOrder)
    assert (po.po_number, po.po_date, po.currency, po.order_type) == (
        "MKT-1001",
        dt.date(2025, 3, 1),
        "USD",
        "DS",
    )
    assert [(d.qualifier, d.date) for d in po.dates] == [
        ("002", dt.date(2025, 3, 5))
    ]  # json_formats %m/%d/%Y
    ship_to = find_party(po.parties, "ST")
    assert ship_to is not None
    assert ship_to.address is not None
    assert (ship_to.name, ship_to.address.state, ship_to.address.country) == ("JANE DOE", "OH", "US")
    assert [(line.item.sku, line.quantity_ordered.unit) for line in po.lines] == [
        ("W-100", "EA"),
        ("W-200", "CA"),
    ]
    assert po.lines[0].item.gtin == "00012345678905"
    assert po.lines[1].unit_price is not None
    assert str(po.lines[1].unit_price.amount) == "100.00"
    assert extensions(po, "acme-retail") == {"/items/1/giftWrap": True, "/channel": "web"}


def test_acme_marketplace_date_in_another_format_names_the_path_and_format() -> None:
    data = load("acme-marketplace-po.json")
    data["order"]["placed"] = "2025-03-01"
    with pytest.raises(
        MappingError, match=r"order.placed '2025-03-01': is not a date in the format '%m/%d/%Y'"
    ):
        read(data, "po_json", "acme-retail")


def test_timestamp_format_with_a_time_zone_as_data() -> None:
    profile = json_partner(
        "shipment_confirmation_json",
        {
            "json_fields": {"shipped_at": "when"},
            "json_formats": {"shipped_at": "%d.%m.%Y %H:%M@Europe/Berlin"},
        },
    )
    data = {
        "shipment_id": "S1",
        "order_number": "WO-1",
        "when": "01.07.2025 14:30",
        "lines": [{"sku": "A", "quantity": 1}],
    }
    doc = read(data, "shipment_confirmation_json", profile=profile)
    assert isinstance(doc, ShipmentConfirmation)
    assert doc.shipped_at == dt.datetime(2025, 7, 1, 12, 30, tzinfo=dt.UTC)  # CEST is UTC+2
    naive = json_partner("shipment_confirmation_json", {"json_formats": {"shipped_at": "%d.%m.%Y %H:%M"}})
    with pytest.raises(MappingError, match=r"shipped_at '01.07.2025 14:30': needs a time zone \(add %z"):
        read({**data, "shipped_at": data["when"]}, "shipment_confirmation_json", profile=naive)


def test_a_weight_whose_unit_is_in_the_key_name() -> None:
    profile = json_partner(
        "shipment_confirmation_json",
        {"json_fields": {"packages.weight": "weightKg", "packages.weight_unit": "=KG"}},
    )
    data = {"shipment_id": "S1", "order_number": "WO-1", "shipped_at": "2025-03-01T10:00:00Z",
            "packages": [{"tracking_number": "1Z1", "weightKg": 2.50}]}  # fmt: skip
    doc = read(
        load_json(json.dumps(data).replace("2.5", "2.50")), "shipment_confirmation_json", profile=profile
    )
    assert isinstance(doc, ShipmentConfirmation)
    [pack] = doc.shipment.packs
    assert pack.totals is not None
    assert pack.totals.weight is not None
    assert (str(pack.totals.weight.value), pack.totals.weight.unit) == ("2.50", "KG")
    assert extensions(doc, "json-partner") == {}  # weightKg was read; nothing left over
    heavy = json.loads(json.dumps(data).replace("2.5", '"heavy"'))
    with pytest.raises(MappingError, match=r"packages.0.weightKg 'heavy': is not a number"):
        read(heavy, "shipment_confirmation_json", profile=profile)


def test_a_fixed_value_fills_a_field_the_partner_states_in_a_key_name() -> None:
    profile = json_partner("po_json", {"json_fields": {"lines.quantity": "qtyCases", "lines.unit": "=CA"}})
    po = read(
        {"po_number": "P1", "po_date": "2025-01-01", "lines": [{"sku": "A", "qtyCases": 4}]},
        "po_json",
        profile=profile,
    )
    assert isinstance(po, PurchaseOrder)
    assert (po.lines[0].quantity_ordered.value, po.lines[0].quantity_ordered.unit) == (Decimal("4"), "CA")


# --- acknowledgements from JSON (poack_json) -----------------------------------------------------------


def test_default_poack_shape() -> None:
    ack = read(load("poack-default.json"), "poack_json")
    assert isinstance(ack, PurchaseOrderAck)
    assert (ack.po_number, ack.ack_type, ack.ack_number) == (
        "PO-4711",
        AckType.ACCEPTED_WITH_DETAIL_AND_CHANGE,
        "SO-88",
    )
    first, second, third = ack.lines
    assert [(a.status, a.quantity.value if a.quantity else None) for a in first.acks] == [
        (LineStatus.ACCEPTED, Decimal("20")),
        (LineStatus.BACKORDERED, Decimal("4")),
    ]
    assert [(a.date.qualifier, a.date.date) for a in first.acks if a.date] == [
        ("068", dt.date(2025, 1, 20)),
        ("067", dt.date(2025, 2, 10)),
    ]
    assert [a.status for a in second.acks] == [LineStatus.REJECTED]
    assert third.acks == []  # acknowledged by the document's ack_type alone
    assert first.quantity_accepted() is not None


def test_northwind_portal_ack_in_its_own_shape() -> None:
    ack = read(load("northwind-poack.json"), "poack_json", "northwind-supply")
    assert isinstance(ack, PurchaseOrderAck)
    assert (ack.po_number, ack.po_date, ack.ack_number) == ("PO-4711", dt.date(2025, 1, 15), "NW-ACK-77")
    assert ack.ack_type is AckType.ACCEPTED_WITH_DETAIL_AND_CHANGE  # code_maps.ack_type
    assert [[a.status for a in line.acks] for line in ack.lines] == [
        [LineStatus.ACCEPTED],
        [LineStatus.BACKORDERED],
    ]
    ordered = ack.lines[1].quantity_ordered
    assert ordered is not None
    assert (ordered.value, ordered.unit) == (Decimal("10"), "CA")  # code_maps.uom: their CS is our CA
    assert extensions(ack, "northwind-supply") == {
        "/items/1/reason": "supplier delay",
        "/portalUser": "l.ortega",
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(decision="maybe"), "decision 'maybe': is not a BAK02 acknowledgement type"),
        (lambda d: d.pop("decision"), r"decision: is missing \(or set defaults.ack_type\)"),
        (lambda d: d["items"][0].update(status="lost"), "items.0.status 'lost': is not an ACK01 line status"),
        (
            lambda d: d["items"][0].pop("status"),
            "items.0.status: is missing: a quantity or date acknowledged",
        ),
        (lambda d: d["items"][0].update(qty="many"), "items.0.qty 'many': is not a number"),
    ],
)
def test_northwind_portal_ack_errors_name_the_json_path(change: Any, message: str) -> None:
    data = load("northwind-poack.json")
    change(data)
    with pytest.raises(MappingError, match=message):
        read(data, "poack_json", "northwind-supply")


# --- outbound JSON ---------------------------------------------------------------------------------------


def _outbound(doc: CanonicalDocument, profile: PartnerProfile, wanted: str | None = None) -> tuple[str, Any]:
    policy = Mapper.outbound_policy(profile, doc.type, wanted)
    assert policy is not None
    return policy.type, load_json(mapper().canonical_to_json(doc, profile=profile, policy=policy))


def test_a_warehouse_order_for_the_3pl_in_its_shape() -> None:
    po = read(load("po-default.json"), "po_json")
    swift = profiles()["swift-3pl"]
    kind, body = _outbound(po, swift)
    assert kind == "warehouse_order_json"
    order = body["order"]
    assert (order["clientOrderRef"], order["orderDate"]) == ("SUP-PO-9", "2025-02-01")
    assert order["shipTo"] == {
        "name": "MAIN DC",
        "street1": "1 DOCK RD",
        "city": "ROTTERDAM",
        "zip": "3011",
        "country": "NL",
    }
    assert order["lines"] == [
        {"lineRef": "1", "sku": "A-1", "description": "Bolt M6", "qty": 100, "unit": "EA"},
        {"lineRef": "20", "qty": 2.5, "unit": "KG"},
    ]
    assert order["instructions"] == ["Deliver to gate 3"]
    assert set(body) == {"order"}  # only what the shape lists: no prices, no buyer


def test_outbound_numbers_are_exact_json_numbers() -> None:
    data = (
        b'{"po_number": "P", "po_date": "2025-01-01", '
        b'"lines": [{"sku": "A", "quantity": 0.00001}, {"sku": "B", "quantity": 2.50}]}'
    )
    po = read(load_json(data), "po_json")
    swift = profiles()["swift-3pl"]
    policy = Mapper.outbound_policy(swift, "purchase_order")
    assert policy is not None
    raw = mapper().canonical_to_json(po, profile=swift, policy=policy)
    assert b'"qty":0.00001' in raw
    assert b'"qty":2.50' in raw


def test_acme_gets_its_acknowledgement_back_in_its_shape() -> None:
    head = header(DocumentType.PURCHASE_ORDER_ACK).model_dump(mode="json")
    ack = parse_document(
        {
            "type": "purchase_order_ack",
            "header": head,
            "ack_type": "AT",
            "po_number": "MKT-1001",
            "po_date": "2025-03-01",
            "ack_date": "2025-03-02",
            "lines": [
                {
                    "line_number": "1",
                    "item": {"sku": "W-100"},
                    "quantity_ordered": {"value": "2", "unit": "EA"},
                    "acks": [
                        {
                            "status": "IA",
                            "quantity": {"value": "2", "unit": "EA"},
                            "date": {"qualifier": "068", "date": "2025-03-03"},
                        }
                    ],
                },
                {"line_number": "2", "item": {"sku": "W-200"}, "acks": [{"status": "IR"}]},
            ],
        }
    )
    assert Mapper.outbound_policy(profiles()["acme-retail"], ack.type).type == "855"  # type: ignore[union-attr]
    kind, body = _outbound(ack, profiles()["acme-retail"], "poack_json")  # the request asks for JSON
    assert kind == "poack_json"
    assert body == {
        "orderId": "MKT-1001",
        "result": "accepted",
        "ackedOn": "03/02/2025",
        "items": [
            {"article": "W-100", "state": "accepted", "qty": 2, "uom": "EACH", "shipBy": "03/03/2025"},
            {"article": "W-200", "state": "rejected"},
        ],
    }
    split = ack.model_copy(deep=True)
    assert isinstance(split, PurchaseOrderAck)
    split.lines[1].acks = [*split.lines[1].acks, *split.lines[0].acks]
    with pytest.raises(MappingError, match="line 2 has 2 statuses, but the partner's shape has one per line"):
        _outbound(split, profiles()["acme-retail"], "poack_json")


def test_poack_round_trip_through_the_default_shape() -> None:
    data = load("poack-default.json")
    ack = read(copy.deepcopy(data), "poack_json")
    profile = json_partner("poack_json", {}, direction="outbound")
    kind, body = _outbound(ack, profile)
    assert kind == "poack_json"
    again = read(body, "poack_json")
    assert json.loads(again.model_dump_json(exclude={"header"})) == json.loads(
        ack.model_dump_json(exclude={"header"})
    )


def test_po_round_trip_through_a_partner_shape_keeps_its_own_fields() -> None:
    acme = profiles()["acme-retail"]
    po = read(load("acme-marketplace-po.json"), "po_json", "acme-retail")
    profile = PartnerProfile.model_validate(
        {
            **acme.model_dump(mode="json", exclude={"channels"}),
            "channels": {"webhook": {"inbound": {"secret": "env:X"}}},
            "documents": [
                {**d, "direction": "outbound"}
                for d in acme.model_dump(mode="json")["documents"]
                if d["type"] == "po_json"
            ],
            "routing": {},
            "identity": {},
        }
    )
    kind, body = _outbound(po, profile)
    assert kind == "po_json"
    assert body["order"] == {
        "id": "MKT-1001",
        "placed": "03/01/2025",
        "currency": "USD",
        "deliverBy": "03/05/2025",
    }
    assert body["items"][1] == {
        "line_number": "2",
        "article": "W-200",
        "qty": 1,
        "uom": "CASE",
        "price": 100.00,
        "giftWrap": True,
    }
    assert body["channel"] == "web"  # the partner's own field, kept in extensions, goes back where it was
    again = read(body, "po_json", "acme-retail")
    assert json.loads(again.model_dump_json(exclude={"header"})) == json.loads(
        po.model_dump_json(exclude={"header"})
    )


def test_canonical_json_is_sent_as_it_is_and_x12_rules_win() -> None:
    po = read(load("po-default.json"), "po_json")
    profile = json_partner("canonical_json", {}, direction="outbound")
    kind, body = _outbound(po, profile)
    assert kind == "canonical_json"
    assert parse_document(body).model_dump() == po.model_dump()
    assert Mapper.outbound_policy(profiles()["acme-retail"], "invoice") is not None
    assert Mapper.outbound_policy(profiles()["acme-retail"], "invoice").type == "810"  # type: ignore[union-attr]
    assert Mapper.outbound_policy(profiles()["swift-3pl"], "invoice") is None
    assert Mapper.outbound_policy(profiles()["swift-3pl"], "purchase_order", "po_json") is None


def test_a_fixed_value_is_checked_on_the_way_out() -> None:
    po = read(load("po-default.json"), "po_json")
    profile = json_partner(
        "po_json",
        {"json_fields": {"po_number": "id", "lines": "items", "lines.quantity": "qty", "lines.unit": "=EA"}},
        direction="outbound",
    )
    with pytest.raises(
        MappingError, match=r"json_fields.lines.unit: the partner's JSON fixes 'EA', but .* 'KG'"
    ):
        _outbound(po, profile)


def test_a_document_type_with_no_json_shape_for_it_is_refused() -> None:
    doc = read(load("po-default.json"), "po_json")
    profile = json_partner("poack_json", {}, direction="outbound")
    with pytest.raises(MappingError, match="a purchase_order document is not sent as poack_json"):
        mapper().canonical_to_json(doc, profile=profile, policy=profile.documents[0])
    assert isinstance(doc, PurchaseOrder)
