"""Canonical -> X12: what the gateway sends must pass its own schema validation (``edigate x12 validate``),
for every type and version, whether the document came from X12, from ERP/WMS or from supplier JSON."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from edi import parse
from edi.validator import schema_validator
from gateway.domain.canonical import (
    CanonicalDocument,
    Direction,
    DocumentType,
    Invoice,
    Note,
    PurchaseOrder,
    PurchaseOrderAck,
    SegmentExtension,
    ShipNotice,
    parse_document,
)
from gateway.domain.mapping import MappingError
from gateway.domain.profiles import PartnerProfile
from tests.gateway.domain.test_mapping_support import (
    envelope,
    fixture,
    header,
    mapper,
    plain,
    profiles,
    read_x12,
)

CASES = [(set_id, version) for set_id in ("850", "855", "856", "810") for version in ("004010", "005010")]


def schema_errors(data: bytes) -> list[str]:
    """Error findings of the project's own validator (what ``edigate x12 validate`` reports)."""
    return [
        f"{f.location.segment_id}: {f.message}"
        for f in parse(data, validator=schema_validator).findings
        if f.is_error
    ]


def written(
    doc: CanonicalDocument, version: str = "004010", profile: PartnerProfile | None = None, set_id: str = ""
) -> tuple[bytes, list[list[str]]]:
    partner = profile or profiles()["acme-retail"]
    policy = partner.document_policy("outbound", set_id) if set_id else None
    ts = mapper().canonical_to_x12(doc, profile=partner, policy=policy, control_number="0001")
    return envelope(ts, version), [[s.id, *s.elements] for s in ts.segments]


def erp(kind: DocumentType, body: dict[str, Any]) -> CanonicalDocument:
    """A canonical document as ERP/WMS would publish it (never seen as X12)."""
    head = header(kind, direction=Direction.OUTBOUND).model_dump(mode="json")
    return parse_document({"type": kind.value, "header": head, **body})


LINE = {
    "line_number": "1",
    "item": {"upc": "012345678905"},
    "quantity_ordered": {"value": "10", "unit": "EA"},
    "unit_price": {"amount": "1.50"},
}


@pytest.mark.parametrize(("set_id", "version"), CASES)
def test_x12_round_trip_writes_valid_x12(set_id: str, version: str) -> None:
    source = fixture(f"{set_id}-{version}.x12")
    assert schema_errors(source) == []
    [doc] = read_x12(source)
    data, _ = written(doc, version)
    assert schema_errors(data) == []
    [again] = read_x12(data)
    assert plain(again) == plain(doc)


def test_extensions_go_back_where_the_table_puts_them() -> None:
    [po] = read_x12(fixture("850-004010.x12"))
    _, segments = written(po)
    ids = [s[0] for s in segments]
    # The kept REF*ZZ sits with the other REFs, the heading PER after them; SDQ before the line's DTM.
    assert ids[:8] == ["ST", "BEG", "CUR", "REF", "REF", "REF", "PER", "FOB"]
    assert ["REF", "ZZ", "PROMO-SPRING"] in segments[3:6]
    first_line = ids[ids.index("PO1") : ids.index("PO1", ids.index("PO1") + 1)]
    assert first_line == ["PO1", "PID", "PO4", "SDQ", "DTM"]


def test_810_parties_come_before_terms() -> None:
    [invoice] = read_x12(fixture("810-004010.x12"))
    _, segments = written(invoice)
    ids = [s[0] for s in segments]
    assert ids.index("N1") < ids.index("ITD") < ids.index("IT1")
    assert ids[ids.index("TDS") :] == ["TDS", "TXI", "CAD", "SAC", "ISS", "CTT", "SE"]


def test_856_pack_marks_come_after_references() -> None:
    asn = erp(
        DocumentType.SHIP_NOTICE,
        {
            "shipment_id": "S1",
            "shipment_date": "2025-01-02",
            "shipment": {
                "level": "shipment",
                "carrier": {"scac": "UPSN"},
                "orders": [
                    {
                        "level": "order",
                        "po_number": "PO-1",
                        "packs": [
                            {
                                "level": "pack",
                                "marks": [{"qualifier": "GM", "value": "00000123450000000017"}],
                                "references": [{"qualifier": "LT", "value": "LOT1"}],
                                "dates": [{"qualifier": "036", "date": "2026-01-01"}],
                                "items": [
                                    {
                                        "level": "item",
                                        "line_number": "1",
                                        "item": {"upc": "012345678905"},
                                        "quantity_shipped": {"value": "10"},
                                    }
                                ],
                            }
                        ],
                    }
                ],
            },
        },
    )
    data, segments = written(asn)
    assert schema_errors(data) == []
    ids = [s[0] for s in segments]
    assert ids.index("REF") < ids.index("MAN") < ids.index("DTM")
    assert ["BSN", "00", "S1", "20250102", "0000"] in segments  # BSN04 is mandatory: 0000 when unknown
    assert ["SN1", "", "10", "EA"] in segments  # SN103 is mandatory: EA when the quantity has no unit
    [again] = read_x12(data)
    assert isinstance(again, ShipNotice)
    assert again.shipment_time == dt.time(0, 0)


def test_erp_invoice_with_parties_terms_and_dates() -> None:
    invoice = erp(
        DocumentType.INVOICE,
        {
            "invoice_number": "INV1",
            "invoice_date": "2025-01-03",
            "po_number": "PO-1",
            "parties": [
                {"role": "RE", "name": "EDIGATE SUPPLY"},
                {
                    "role": "ST",
                    "name": "ACME STORE 12",
                    "identifiers": [{"qualifier": "92", "value": "0012"}],
                },
            ],
            "terms": [{"type_code": "01", "net_days": 30}],
            "dates": [{"qualifier": "011", "date": "2025-01-03"}],
            "notes": [{"code": "GEN", "text": "THANK YOU"}],
            "lines": [
                {
                    "line_number": "1",
                    "item": {"upc": "012345678905"},
                    "quantity_invoiced": {"value": "10", "unit": "EA"},
                    "unit_price": {"amount": "1.50"},
                }
            ],
            "totals": {"total_amount": {"amount": "15.00"}},
        },
    )
    for version in ("004010", "005010"):
        data, segments = written(invoice, version)
        assert schema_errors(data) == []
        assert ["NTE", "GEN", "THANK YOU"] in segments
        [again] = read_x12(data)
        assert isinstance(again, Invoice)
        assert [p.role for p in again.parties] == ["RE", "ST"]
        assert again.total_amount.amount == Decimal("15.00")


def test_erp_purchase_order_without_order_type_or_times() -> None:
    po = erp(
        DocumentType.PURCHASE_ORDER,
        {
            "po_number": "PO-9",
            "po_date": "2025-02-01",
            "lines": [LINE],
            "notes": [{"text": "CALL BEFORE DELIVERY"}, {"code": "PKG", "text": "NO PALLETS OVER 1.5 M"}],
        },
    )
    data, segments = written(po)
    assert schema_errors(data) == []
    assert segments[1] == ["BEG", "00", "SA", "PO-9", "", "20250201"]  # BEG02 is mandatory: SA
    # The 850 has no NTE: notes travel in N9/MSG loops, a note without a code under N9*L1*GEN.
    assert [s for s in segments if s[0] in ("N9", "MSG")] == [
        ["N9", "L1", "GEN"],
        ["MSG", "CALL BEFORE DELIVERY"],
        ["N9", "L1", "PKG"],
        ["MSG", "NO PALLETS OVER 1.5 M"],
    ]
    [again] = read_x12(data)
    assert isinstance(again, PurchaseOrder)
    assert again.notes == [
        Note(code="GEN", text="CALL BEFORE DELIVERY"),
        Note(code="PKG", text="NO PALLETS OVER 1.5 M"),
    ]


def test_supplier_json_po_becomes_a_valid_850() -> None:
    po = mapper().json_to_canonical(
        {
            "po_number": "J-1",
            "po_date": "2025-03-01",
            "currency": "usd",
            "notes": "leave at dock",
            "ship_to": {
                "name": "STORE 5",
                "address1": "1 MAIN ST",
                "city": "DAYTON",
                "state": "oh",
                "postal_code": "45402",
                "country": "us",
            },
            "lines": [
                {"sku": "A-1", "quantity": 3, "unit": "ea", "unit_price": "2.50", "description": "Widget"}
            ],
        },
        document_type="po_json",
        profile=None,
        header=header(DocumentType.PURCHASE_ORDER),
    )
    assert isinstance(po, PurchaseOrder)
    assert po.order_type is None
    for version in ("004010", "005010"):
        data, _ = written(po, version)
        assert schema_errors(data) == []
        [again] = read_x12(data)
        assert isinstance(again, PurchaseOrder)
        assert (again.po_number, again.lines[0].item.sku, again.notes[0].text) == (
            "J-1",
            "A-1",
            "leave at dock",
        )


def test_855_from_erp_with_line_status_and_schedule() -> None:
    ack = erp(
        DocumentType.PURCHASE_ORDER_ACK,
        {
            "ack_type": "AC",
            "po_number": "PO-1",
            "po_date": "2025-01-01",
            "notes": [{"text": "PARTIAL"}],
            "lines": [
                {
                    **LINE,
                    "acks": [
                        {"status": "IA", "quantity": {"value": "6", "unit": "EA"}},
                        {
                            "status": "IB",
                            "quantity": {"value": "4", "unit": "EA"},
                            "date": {"qualifier": "068", "date": "2025-02-01"},
                        },
                    ],
                },
                {**LINE, "line_number": "2"},
            ],
        },
    )
    data, _ = written(ack)
    assert schema_errors(data) == []
    [again] = read_x12(data)
    assert isinstance(again, PurchaseOrderAck)
    assert [[a.status.value for a in line.acks] for line in again.lines] == [["IA", "IB"], []]


def test_northwind_outbound_850_is_valid_005010() -> None:
    northwind = profiles()["northwind-supply"]
    [po] = read_x12(fixture("850-005010.x12"))
    data, segments = written(po, "005010", northwind, "850")
    assert schema_errors(data) == []
    refs = [s for s in segments if s[0] == "REF"]
    assert refs[0] == ["REF", "DP", "038"] and ["REF", "PO", "PO-4711"] in refs  # noqa: PT018 - REF*PO among the REFs


def test_amounts_with_more_decimals_than_the_element_holds_are_refused() -> None:
    [invoice] = read_x12(fixture("810-004010.x12"))
    assert isinstance(invoice, Invoice)
    assert invoice.totals.total_amount is not None
    invoice.totals.total_amount.amount = Decimal("1301.255")
    with pytest.raises(
        MappingError, match=r"TDS01 \(totals.total_amount\) 1301.255 has more than 2 decimal"
    ) as caught:
        written(invoice)
    assert (caught.value.segment_id, caught.value.element) == ("TDS", 1)
    [po] = read_x12(fixture("850-004010.x12"))
    assert isinstance(po, PurchaseOrder)
    po.allowances_charges[0].amount = Decimal("15.005")
    with pytest.raises(MappingError, match=r"SAC05 \(amount\) 15.005 has more than 2 decimal places"):
        written(po)
    po.allowances_charges[0].amount = Decimal("15.0000")  # more places, but nothing is lost
    written(po)


def test_ctt_kept_as_extension_keeps_amt_in_the_totals() -> None:
    data = fixture("850-004010.x12").replace(b"CTT*2*34~", b"CTT*2*34*9*LB~")  # CTT03/04: no canonical home
    [po] = read_x12(data)
    assert isinstance(po, PurchaseOrder)
    assert po.totals is not None
    assert po.totals.line_count is None
    assert [a.qualifier for a in po.totals.amounts] == ["TT"]
    out, segments = written(po)
    assert schema_errors(out) == []
    assert segments[-3:-1] == [["CTT", "2", "34", "9", "LB"], ["AMT", "TT", "1300"]]
    [again] = read_x12(out)
    assert plain(again) == plain(po)


def test_ctt_without_line_count_gets_the_number_of_lines() -> None:
    [po] = read_x12(fixture("850-004010.x12").replace(b"CTT*2*34~", b"CTT**34~"))
    assert isinstance(po, PurchaseOrder)
    assert po.totals is not None
    assert (po.totals.line_count, po.totals.quantity_total) == (None, Decimal("34"))
    assert [a.qualifier for a in po.totals.amounts] == ["TT"]
    out, segments = written(po)
    assert schema_errors(out) == []
    assert segments[-3:-1] == [["CTT", "2", "34"], ["AMT", "TT", "1300"]]
    [again] = read_x12(out)
    assert isinstance(again, PurchaseOrder)
    assert again.totals is not None
    assert [a.qualifier for a in again.totals.amounts] == ["TT"]


@pytest.mark.parametrize(
    ("kind", "change", "message"),
    [
        ("856", lambda d: d["notes"].append({"text": "FRAGILE"}), "the 856 has no note segment"),
        ("810", lambda d: d["lines"][0]["notes"].append({"text": "X"}), "an 810 line has no note segment"),
        ("850", lambda d: d["parties"].append({"role": "ST"}), r"N1 needs a name \(N102\) or an identifier"),
        (
            "856",
            lambda d: d["shipment"]["orders"][0]["items"][0].update(item={"description": "LOOSE"}),
            r"LIN needs a product ID \(LIN02/LIN03\)",
        ),
        (
            "850",
            lambda d: d["notes"].append({"text": "DELIVER 10:00-12:00"}),
            r"MSG01 at segment \d+: simple element 933 contains the component separator ':'",
        ),
    ],
)
def test_content_without_an_x12_home_is_refused_with_a_reason(kind: str, change: Any, message: str) -> None:
    [doc] = read_x12(fixture(f"{kind}-004010.x12"))
    data = doc.model_dump(mode="json")
    if kind == "856":
        data["shipment"]["orders"][0].setdefault("items", []).append(
            {"level": "item", "item": {"sku": "S"}, "quantity_shipped": {"value": "1"}}
        )
    change(data)
    with pytest.raises(MappingError, match=message):
        written(parse_document(copy.deepcopy(data)))


def test_a_005010_855_with_schedules_notes_and_no_line_acks() -> None:
    """005010 content beyond the shared fixtures: header-level acceptance (no ACK on any line), SCH
    schedules kept with their line, N9/MSG notes on the document and a line, CS units mapped."""
    northwind = profiles()["northwind-supply"]
    source = fixture("855-005010-schedules.x12")
    assert schema_errors(source) == []
    [ack] = read_x12(source, northwind)
    assert isinstance(ack, PurchaseOrderAck)
    assert (ack.ack_type.value, ack.po_number) == ("AT", "PO-4712")
    assert [n.text for n in ack.notes] == ["ALL LINES ACCEPTED AS ORDERED", "SHIPPING IN TWO LOADS"]
    first, second = ack.lines
    assert (first.acks, second.acks) == ([], [])
    assert first.quantity_ordered is not None
    assert first.quantity_ordered.unit == "CA"  # their CS is our CA
    assert [e.segment for e in first.extensions["x12"] if isinstance(e, SegmentExtension)] == ["SCH", "SCH"]
    assert [(n.code, n.text) for n in second.notes] == [("PKG", "PALLETIZE SEPARATELY")]
    ts = mapper().canonical_to_x12(ack, profile=northwind, policy=None, control_number="0002")
    data = envelope(ts, "005010")
    assert schema_errors(data) == []
    ids = [s.id for s in ts.segments]
    assert ids[ids.index("PO1") : ids.index("PO1") + 4] == ["PO1", "PID", "SCH", "SCH"]
    [again] = read_x12(data, northwind)
    assert plain(again) == plain(ack)
