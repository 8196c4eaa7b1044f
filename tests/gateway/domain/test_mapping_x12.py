"""X12 <-> canonical for 850/855/856/810 in 004010 and 005010: round trips, content, errors, acks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from edi import parse
from edi.model import Segment, TransactionSet
from gateway.domain.canonical import (
    AckStatus,
    DocumentType,
    Extensions,
    FunctionalAck,
    Invoice,
    ItemLevel,
    OrderLevel,
    OtherLevel,
    PackLevel,
    PurchaseOrder,
    PurchaseOrderAck,
    SegmentExtension,
    ShipNotice,
    find_party,
)
from gateway.domain.mapping import MappingError, functional_id_for, set_id_for
from gateway.domain.mapping import __all__ as mapping_all
from tests.gateway.domain.test_mapping_support import (
    assert_valid,
    envelope,
    fixture,
    header,
    mapper,
    plain,
    profiles,
    read_x12,
    sets,
)


def segs(extensions: Extensions, namespace: str = "x12") -> list[SegmentExtension]:
    return [e for e in extensions.get(namespace, []) if isinstance(e, SegmentExtension)]


CASES = [(set_id, version) for set_id in ("850", "855", "856", "810") for version in ("004010", "005010")]


def test_public_api_is_pinned() -> None:
    assert mapping_all == [
        "CANONICAL_JSON", "CODE_LISTS", "DEFAULT_SHAPES", "JSON_TYPES", "STANDARD_REFERENCES", "JsonType",
        "Mapper", "MappingError", "Rules", "Variant", "functional_id_for", "load_json", "load_variants",
        "set_id_for",
    ]  # fmt: skip


@pytest.mark.parametrize(("set_id", "version"), CASES)
def test_round_trip_keeps_business_content(set_id: str, version: str) -> None:
    [first] = read_x12(fixture(f"{set_id}-{version}.x12"))
    assert_valid(first)
    profile = profiles()["acme-retail"]
    ts = mapper().canonical_to_x12(first, profile=profile, policy=None, control_number="0042")
    assert ts.segments[0].elements[:2] == [set_id, "0042"]
    assert ts.segments[-1].elements == [str(len(ts.segments)), "0042"]
    [second] = read_x12(envelope(ts, version))
    assert plain(second) == plain(first)


@pytest.mark.parametrize("version", ["004010", "005010"])
def test_850_content(version: str) -> None:
    [po] = read_x12(fixture(f"850-{version}.x12"))
    assert isinstance(po, PurchaseOrder)
    assert (po.po_number, po.po_date, po.order_type, po.contract_number) == (
        "PO-4711",
        dt.date(2025, 1, 15),
        "SA",
        "CT-9",
    )
    assert po.currency == "USD"
    assert [(r.qualifier, r.value) for r in po.references] == [("DP", "038"), ("IA", "VEND-77")]
    ship_to = find_party(po.parties, "ST")
    assert ship_to is not None
    assert ship_to.address is not None
    assert ship_to.name == "ACME STORE 12"
    assert ship_to.additional_names == ["RECEIVING DOCK 4"]
    assert ship_to.address.lines == ["100 MAIN ST", "SUITE 5"]
    assert ship_to.address.postal_code == "45501"
    assert ship_to.contacts[0].channels[1].value == "dock@acme.example"
    assert po.carrier is not None
    assert (po.carrier.scac, po.carrier.mode) == ("UPSN", "M")
    assert po.terms[0].discount_percent == Decimal("2")
    assert po.terms[0].net_days == 30
    assert po.fob is not None
    assert po.fob.location == "FACTORY"
    assert po.allowances_charges[0].amount == Decimal("15.00")
    assert [(d.qualifier, d.date, d.time) for d in po.dates] == [
        ("002", dt.date(2025, 3, 1), None), ("010", dt.date(2025, 2, 20), dt.time(9, 30)),
    ]  # fmt: skip
    first, second = po.lines
    assert first.quantity_ordered.value == Decimal("24")
    assert first.quantity_ordered.unit == "EA"
    assert first.unit_price is not None
    assert first.unit_price.amount == Decimal("12.50")
    assert (first.item.upc, first.item.vendor_part, first.item.buyer_part) == (
        "012345678905",
        "W-100",
        "B-100",
    )
    assert first.item.description == "BLUE WIDGET"
    assert first.pack is not None
    assert first.pack.gross_weight is not None
    assert (first.pack.pack, first.pack.gross_weight.value, first.pack.packaging_code) == (
        6,
        Decimal("3.5"),
        "CTN25",
    )
    assert [e.segment for e in segs(first.extensions)] == ["SDQ"]
    assert second.item.other[0].qualifier == "IN"
    assert second.allowances_charges[0].indicator.value == "allowance"
    assert po.totals is not None
    assert (po.totals.line_count, po.totals.quantity_total) == (2, Decimal("34"))
    assert po.totals.amounts[0].amount == Decimal("1300")
    kept = {e.segment: e for e in segs(po.extensions)}
    assert set(kept) == {"REF", "PER"}
    assert kept["REF"].value == "PROMO-SPRING"


def test_855_line_acks_and_kept_cur_entity() -> None:
    [ack] = read_x12(fixture("855-004010.x12"))
    assert isinstance(ack, PurchaseOrderAck)
    assert (ack.ack_type.value, ack.ack_number, ack.ack_date) == ("AC", "SO-889", dt.date(2025, 1, 16))
    first = ack.lines[0]
    assert [(a.status.value, a.quantity.value if a.quantity else None) for a in first.acks] == [
        ("IA", Decimal("20")), ("IB", Decimal("4")),
    ]  # fmt: skip
    assert first.acks[1].date is not None
    assert first.acks[1].date.date == dt.date(2025, 3, 15)
    assert ack.lines[1].acks[0].status.value == "IR"
    # CUR01 "SE" has no canonical field: kept as the unmapped elements of CUR.
    assert [(e.segment, e.elements) for e in segs(ack.extensions, "x12.elements")] == [("CUR", ["SE"])]


def test_856_hierarchy() -> None:
    [asn] = read_x12(fixture("856-005010.x12"))
    assert isinstance(asn, ShipNotice)
    shipment = asn.shipment
    assert shipment.carrier is not None
    assert (shipment.carrier.bill_of_lading, shipment.carrier.pro_number) == ("BOL-1", "PRO-2")
    assert shipment.carrier.equipment[0].number == "12345"
    assert shipment.totals is not None
    assert shipment.totals.weight is not None
    assert (shipment.totals.package_count, shipment.totals.weight.value, shipment.totals.line_count) == (
        3, Decimal("42.5"), 7,
    )  # fmt: skip
    [order] = shipment.orders
    assert isinstance(order, OrderLevel)
    assert order.po_number == "PO-4711"
    assert order.po_date == dt.date(2025, 1, 15)
    [tare] = order.packs
    assert tare.level == "tare"
    assert tare.sscc == "00000123450000000017"
    [pack] = tare.packs
    assert isinstance(pack, PackLevel)
    assert pack.sscc == "00000123450000000024"
    [item] = pack.items
    assert isinstance(item, ItemLevel)
    assert item.item.upc == "012345678905"
    assert item.status == "AC"
    assert item.quantity_ordered is not None
    assert item.quantity_ordered.value == Decimal("24")
    [other] = item.other_levels
    assert isinstance(other, OtherLevel)
    assert other.hl.level_code == "F"
    assert other.segments[0].value == "LOT-7"
    assert [i.line_number for i in asn.items()] == ["1", "2"]
    assert [level.hl.id for level, _ in asn.levels() if level.hl] == ["1", "2", "3", "4", "5", "6", "7"]
    assert [e.segment for e in segs(asn.extensions)] == ["DTM"]


def test_810_summary() -> None:
    [invoice] = read_x12(fixture("810-004010.x12"))
    assert isinstance(invoice, Invoice)
    assert (invoice.invoice_number, invoice.po_number, invoice.transaction_type) == ("INV-5", "PO-4711", "DI")
    assert invoice.total_amount.amount == Decimal("1301.25")
    assert [(a.qualifier, a.amount) for a in invoice.totals.amounts] == [("TDS02", Decimal("1300.00"))]
    assert invoice.taxes[0].amount == Decimal("65.06")
    assert invoice.lines[1].taxes[0].percent == Decimal("5")
    assert invoice.carrier is not None
    assert (invoice.carrier.scac, invoice.carrier.routing) == (
        "UPSN",
        "UPS GROUND",
    )
    assert invoice.allowances_charges[0].handling == "06"
    assert invoice.totals.weight is not None
    assert invoice.totals.package_count == 34


def test_outbound_850_segments() -> None:
    [po] = read_x12(fixture("850-004010.x12"))
    ts = mapper().canonical_to_x12(po, profile=profiles()["acme-retail"], policy=None, control_number="0001")
    ids = [s.id for s in ts.segments]
    assert ids[:3] == ["ST", "BEG", "CUR"]
    assert ids[-3:] == ["CTT", "AMT", "SE"]
    beg = ts.segments[1]
    assert beg.elements == ["00", "SA", "PO-4711", "", "20250115", "CT-9"]
    po1 = next(s for s in ts.segments if s.id == "PO1")
    assert po1.elements == [
        "1",
        "24",
        "EA",
        "12.50",
        "PE",
        "UP",
        "012345678905",
        "VP",
        "W-100",
        "BP",
        "B-100",
    ]
    sac = next(s for s in ts.segments if s.id == "SAC")
    assert sac.get(5) == "1500"
    assert sac.get(15) == "FREIGHT"


def test_renumbers_hl_when_levels_have_no_hl() -> None:
    [asn] = read_x12(fixture("856-004010.x12"))
    assert isinstance(asn, ShipNotice)
    data = asn.model_dump()
    stack = [data["shipment"]]
    while stack:  # forget every HL (and the Q level, which needs one): the writer numbers the tree itself
        level = stack.pop()
        level["hl"], level["other_levels"] = None, []
        for key in ("orders", "packs", "items"):
            stack.extend(level.get(key, []))
    stripped = ShipNotice.model_validate(data)
    ts = mapper().canonical_to_x12(
        stripped, profile=profiles()["acme-retail"], policy=None, control_number="0001"
    )
    hls = [s.elements for s in ts.segments if s.id == "HL"]
    assert hls == [["1", "", "S", "1"], ["2", "1", "O", "1"], ["3", "2", "T", "1"], ["4", "3", "P", "1"],
                   ["5", "4", "I", "0"], ["6", "2", "I", "0"]]  # fmt: skip


def test_functional_acks_map() -> None:
    data = (
        b"ISA*00*          *00*          *ZZ*ACMERETAIL     *ZZ*EDIGATE        *250115*1200*U*00401"
        b"*000000201*0*P*>~"
        b"GS*FA*ACMERETAIL*EDIGATE*20250115*1200*201*X*004010~ST*997*0001~AK1*IN*55~AK2*810*0001~"
        b"AK3*IT1*12**8~AK4*2**7*ZZ~AK5*R*5~AK9*R*1*1*0~SE*8*0001~GE*1*201~IEA*1*000000201~"
    )
    [ack] = read_x12(data)
    assert isinstance(ack, FunctionalAck)
    assert ack.ack_kind == "997"
    [group] = ack.groups
    assert (group.functional_id, group.control_number, group.status) == ("IN", "55", AckStatus.REJECTED)
    [result] = group.sets
    assert (result.set_id, result.control_number, result.error_codes) == ("810", "0001", ["5"])
    assert result.segment_errors[0].elements[0].bad_value == "ZZ"
    assert mapper().business_number(ack) == "810 0001"


@pytest.mark.parametrize(
    ("segment", "replacement", "message"),
    [
        ("PO1*1*24*EA", "PO1*1*ABC*EA", "PO102 (quantity) 'ABC' is not a number at segment 20 PO1"),
        (
            "BEG*00*SA*PO-4711**20250115",
            "BEG*00*SA*PO-4711**20251315",
            "BEG05 (po_date) '20251315' is not a date",
        ),
        ("N4*SPRINGFIELD*OH*45501*US", "N4*SPRINGFIELD*oh*45501*US", "N402 (state) 'oh' does not match"),
        ("PO4*6*1*EA*CTN25", "PO4*0*1*EA*CTN25", "PO401 (pack) '0' must be at least 1 at segment 22 PO4"),
    ],
)
def test_errors_name_segment_and_element(segment: str, replacement: str, message: str) -> None:
    data = fixture("850-004010.x12").replace(segment.encode(), replacement.encode(), 1)
    with pytest.raises(MappingError) as caught:
        read_x12(data)
    assert message in str(caught.value)
    assert caught.value.segment_id == replacement[:3].rstrip("*")


def test_error_carries_position() -> None:
    data = fixture("850-004010.x12").replace(b"PO1*2*10*CA", b"PO1*2*1X*CA")
    with pytest.raises(MappingError) as caught:
        read_x12(data)
    assert (caught.value.segment_id, caught.value.segment_position, caught.value.element) == ("PO1", 25, 2)


def test_unknown_and_mismatched_sets_are_errors() -> None:
    [(ix, group, ts)] = sets(fixture("850-004010.x12"))
    with pytest.raises(MappingError, match="does not fit ST01 850"):
        mapper().x12_to_canonical(
            ts, interchange=ix, group=group, profile=None, header=header(DocumentType.INVOICE)
        )
    odd = TransactionSet([Segment("ST", ["940", "0001"]), Segment("SE", ["2", "0001"])])
    with pytest.raises(MappingError, match="ST01 '940'"):
        mapper().x12_to_canonical(
            odd, interchange=ix, group=group, profile=None, header=header(DocumentType.INVOICE)
        )


def test_writer_refuses_delimiters_in_values() -> None:
    [po] = read_x12(fixture("850-004010.x12"))
    assert isinstance(po, PurchaseOrder)
    po.po_number = "PO*1"
    with pytest.raises(MappingError, match=r"BEG03 'PO\*1' holds an X12 delimiter"):
        mapper().canonical_to_x12(po, profile=profiles()["acme-retail"], policy=None, control_number="0001")


def test_helpers() -> None:
    assert [set_id_for(t) for t in ("purchase_order", "purchase_order_ack", "ship_notice", "invoice")] == [
        "850", "855", "856", "810",
    ]  # fmt: skip
    assert [functional_id_for(s) for s in ("850", "855", "856", "810", "997", "999")] == [
        "PO", "PR", "SH", "IN", "FA", "FA",
    ]  # fmt: skip
    assert mapper().canonical_type_for("po_json") is DocumentType.PURCHASE_ORDER
    assert mapper().canonical_type_for("TA1") is DocumentType.FUNCTIONAL_ACK
    assert mapper().canonical_type_for("shipment_confirmation_json") is DocumentType.SHIPMENT_CONFIRMATION
    assert mapper().canonical_type_for("warehouse_order_json") is DocumentType.PURCHASE_ORDER
    assert mapper().canonical_type_for("poack_json") is DocumentType.PURCHASE_ORDER_ACK
    with pytest.raises(MappingError):
        mapper().canonical_type_for("canonical_json")  # any type: not one to read
    with pytest.raises(MappingError):
        mapper().canonical_type_for("invoice_json")
    with pytest.raises(MappingError):
        set_id_for("shipment_confirmation")


def test_received_ta1_segments_map_to_one_functional_ack() -> None:
    data = (
        b"ISA*00*          *00*          *ZZ*ACMERETAIL     *ZZ*EDIGATE        "
        b"*250301*0900*U*00401*000000777*0*P*>~"
        b"TA1*000000041*250228*1530*A*000~TA1*000000042*250228*1531*E*024~IEA*0*000000777~"
    )
    [ix] = parse(data).interchanges
    doc = mapper().ta1_to_canonical(ix, header=header(DocumentType.FUNCTIONAL_ACK))
    assert isinstance(doc, FunctionalAck)
    assert doc.ack_kind == "TA1"
    assert [(r.control_number, r.status, r.note_code) for r in doc.interchanges] == [
        ("000000041", AckStatus.ACCEPTED, "000"), ("000000042", AckStatus.ACCEPTED_WITH_ERRORS, "024"),
    ]  # fmt: skip
    [(fixture_ix, _, _)] = sets(fixture("850-004010.x12"))
    assert mapper().ta1_to_canonical(fixture_ix, header=header(DocumentType.FUNCTIONAL_ACK)) is None
    [bad] = parse(data.replace(b"*250228*1531*", b"*20250228*1531*")).interchanges
    message = r"TA102 \(date\) '20250228' is not a date \(YYMMDD\) at segment 2 TA1"
    with pytest.raises(MappingError, match=message):
        mapper().ta1_to_canonical(bad, header=header(DocumentType.FUNCTIONAL_ACK))
