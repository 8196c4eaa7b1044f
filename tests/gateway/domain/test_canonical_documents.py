"""Canonical documents: realistic instances of every type round-trip through JSON and the tagged union.

The data follows real corpus files (blueseer ACME 850/855, gozer asn856, stupidedi IN810,
blueseer 997, imsweb 999, a TA1) so the models are exercised with what partners actually send.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from gateway.domain.canonical import (
    AckLine,
    AckStatus,
    AckType,
    Address,
    AllowanceCharge,
    AllowanceChargeIndicator,
    CarrierDetails,
    ConfirmationStatus,
    Contact,
    ContactChannel,
    DateRef,
    Direction,
    DocumentHeader,
    DocumentType,
    ElementError,
    Equipment,
    FieldExtension,
    FobTerms,
    FunctionalAck,
    GroupResult,
    HlInfo,
    InterchangeResult,
    Invoice,
    InvoiceLine,
    ItemIdentifiers,
    ItemLevel,
    LineAck,
    LineStatus,
    Mark,
    Measurement,
    Money,
    Note,
    OrderLevel,
    OrderLine,
    OtherLevel,
    PackInfo,
    PackLevel,
    Party,
    PartyIdentifier,
    Price,
    PurchaseOrder,
    PurchaseOrderAck,
    QualifiedAmount,
    QualifiedId,
    Quantity,
    Reference,
    SegmentError,
    SegmentExtension,
    SetResult,
    ShipmentConfirmation,
    ShipmentLevel,
    ShipNotice,
    SourceChannel,
    Tax,
    TermsOfSale,
    Totals,
    Usage,
    document_model,
    dump_document,
    parse_document,
)
from gateway.domain.canonical.documents import UnknownDocumentType

UTC = dt.UTC
D = Decimal


def header(doc_type: DocumentType, **kw: Any) -> DocumentHeader:
    values: dict[str, Any] = {
        "partner_id": "acme",
        "document_type": doc_type,
        "direction": Direction.INBOUND,
        "source_channel": SourceChannel.AS2,
        "usage": Usage.PRODUCTION,
        "correlation_id": "c0ffee00-0000-4000-8000-000000000001",
        "received_at": dt.datetime(2020, 6, 1, 14, 44, 5, tzinfo=UTC),
        "isa13": "001150061",
        "gs06": "1150061",
        "st02": "0001",
        "x12_version": "004010",
        "raw_document_id": "raw-2020-06-01-000042",
    }
    values.update(kw)
    return DocumentHeader(**values)


def ship_to() -> Party:
    return Party(
        role="ST",
        role_name="Ship To",
        name="ACME Ship Dock",
        identifiers=[
            PartyIdentifier(qualifier="92", value="111"),
            PartyIdentifier(qualifier="UL", value="0614141000005"),
        ],
        address=Address(
            lines=["WILEY LOOP ROAD"], city="KINGSPORT", state="TN", postal_code="37662", country="US"
        ),
        contacts=[
            Contact(
                function="BD",
                name="Jane Buyer",
                channels=[
                    ContactChannel(qualifier="TE", value="+1 423 555 0100"),
                    ContactChannel(qualifier="EM", value="jane@acme.example"),
                ],
            )
        ],
    )


def purchase_order() -> PurchaseOrder:
    ref_zz = SegmentExtension.from_elements("REF", ["ZZ", "PROMO-7", "spring promo"])
    return PurchaseOrder(
        header=header(DocumentType.PURCHASE_ORDER),
        purpose="00",
        order_type="SA",
        po_number="PO12345",
        po_date=dt.date(2020, 6, 1),
        currency="USD",
        parties=[
            ship_to(),
            Party(role="VN", name="BLUESEER", address=Address(lines=["123 DUSTY CANYON WAY"])),
        ],
        dates=[DateRef(qualifier="002", date=dt.date(2020, 6, 15), time=dt.time(9, 30), time_zone="ET")],
        references=[Reference(qualifier="DP", value="042", description="Bikes")],
        terms=[
            TermsOfSale(
                type_code="08", basis_date_code="3", discount_percent=D("2"), discount_days=10, net_days=30
            )
        ],
        fob=FobTerms(payment_method="PP", location_qualifier="OR", location="Dillon SC"),
        carrier=CarrierDetails(scac="UPSN", mode="U", routing="UPS GROUND"),
        allowances_charges=[
            AllowanceCharge(
                indicator=AllowanceChargeIndicator.CHARGE,
                code="D240",
                amount=D("12.50"),
                description="freight",
            )
        ],
        notes=[Note(code="GEN", text="Deliver to dock 4")],
        lines=[
            OrderLine(
                line_number="1",
                item=ItemIdentifiers(vendor_part="433332", buyer_part="BR549", description="BICYCLE"),
                quantity_ordered=Quantity(value=D("5"), unit="PE"),
                unit_price=Price(amount=D("125.00"), basis="PE"),
                pack=PackInfo(pack=1, size=D("1"), size_unit="EA", packaging_code="CTN25"),
                dates=[DateRef(qualifier="010", date=dt.date(2020, 6, 10))],
                extensions={
                    "x12": [
                        SegmentExtension.from_elements("MSG", ["assemble before delivery"], qualified=False)
                    ]
                },
            ),
            OrderLine(
                line_number="2",
                item=ItemIdentifiers(upc="012345678905", other=[QualifiedId(qualifier="MG", value="HLM-22")]),
                quantity_ordered=Quantity(value=D("12"), unit="EA"),
                unit_price=Price(amount=D("0.10"), currency="USD"),
                parties=[
                    Party(
                        role="ST", name="Store 22", identifiers=[PartyIdentifier(qualifier="92", value="022")]
                    )
                ],
            ),
        ],
        totals=Totals(
            line_count=2,
            quantity_total=D("17"),
            amounts=[QualifiedAmount(qualifier="TT", amount=D("626.20"))],
        ),
        extensions={"x12": [ref_zz]},
    )


def purchase_order_ack() -> PurchaseOrderAck:
    return PurchaseOrderAck(
        header=header(DocumentType.PURCHASE_ORDER_ACK, direction=Direction.OUTBOUND, source_channel="broker"),
        purpose="00",
        ack_type=AckType.ACCEPTED_WITH_DETAIL_AND_CHANGE,
        po_number="PO12345",
        po_date=dt.date(2020, 6, 1),
        ack_number="SO-88213",
        ack_date=dt.date(2020, 6, 2),
        parties=[ship_to()],
        dates=[DateRef(qualifier="067", date=dt.date(2020, 6, 1))],
        lines=[
            AckLine(
                line_number="1",
                item=ItemIdentifiers(vendor_part="433332", buyer_part="BR549", description="BICYCLE"),
                quantity_ordered=Quantity(value=D("5"), unit="PE"),
                unit_price=Price(amount=D("125.00"), basis="PE"),
                acks=[
                    LineAck(
                        status=LineStatus.ACCEPTED,
                        quantity=Quantity(value=D("3"), unit="PE"),
                        date=DateRef(qualifier="068", date=dt.date(2020, 6, 5)),
                    ),
                    LineAck(status=LineStatus.BACKORDERED, quantity=Quantity(value=D("2"), unit="PE")),
                ],
            ),
            AckLine(
                line_number="2",
                item=ItemIdentifiers(upc="012345678905"),
                acks=[
                    LineAck(
                        status=LineStatus.ACCEPTED_SUBSTITUTION_MADE,
                        quantity=Quantity(value=D("12"), unit="EA"),
                        item=ItemIdentifiers(upc="012345678912"),
                    )
                ],
            ),
        ],
        totals=Totals(line_count=2, amounts=[QualifiedAmount(qualifier="TT", amount=D("626.20"))]),
    )


def ship_notice() -> ShipNotice:
    def carton(hl: str, parent: str, sscc: str, upc: str, weight: str | None) -> PackLevel:
        return PackLevel(
            hl=HlInfo(id=hl, parent_id=parent, level_code="P"),
            marks=[Mark(qualifier="GM", value=sscc)],
            pack=PackInfo(gross_weight=Measurement(value=D(weight), unit="LB")) if weight else None,
            items=[
                ItemLevel(
                    hl=HlInfo(id=str(int(hl) + 1), parent_id=hl, level_code="I"),
                    item=ItemIdentifiers(upc=upc),
                    quantity_shipped=Quantity(value=D("12"), unit="EA"),
                )
            ],
        )

    order_1 = OrderLevel(
        hl=HlInfo(id="2", parent_id="1", level_code="O"),
        po_number="POREF00",
        totals=Totals(packaging_code="CTN", package_count=4),
        references=[Reference(qualifier="IV", value="0000021")],
        parties=[Party(role="BY", name="STORE", identifiers=[PartyIdentifier(qualifier="92", value="002")])],
        packs=[
            carton("3", "2", "00000715670002152360", "0000000000642", "6"),
            carton("5", "2", "00000715670002152377", "0000000000831", None),
            carton("7", "2", "00000715670002152384", "0000000000283", "6"),
            carton("9", "2", "00000715670002152391", "0000000000203", "6"),
        ],
    )
    order_2 = OrderLevel(
        hl=HlInfo(id="11", parent_id="1", level_code="O"),
        po_number="POREF01",
        totals=Totals(packaging_code="CTN", package_count=1),
        packs=[carton("12", "11", "00000715670002152111", "0000000000642", "6")],
        other_levels=[
            OtherLevel(
                hl=HlInfo(id="14", parent_id="11", level_code="Q"),
                segments=[SegmentExtension.from_elements("REF", ["LT", "LOT-9"])],
            )
        ],
    )
    shipment = ShipmentLevel(
        hl=HlInfo(id="1", level_code="S", child_code="1"),
        totals=Totals(
            packaging_code="CTN",
            package_count=5,
            weight=Measurement(value=D("24"), unit="LB", qualifier="G"),
            volume=Measurement(value=D("123"), unit="CF"),
        ),
        carrier=CarrierDetails(
            mode="2",
            routing="OVERNITE",
            bill_of_lading="000001",
            pro_number="0000000008741",
            equipment=[Equipment(type_code="TL", number="1234567890")],
        ),
        references=[Reference(qualifier="SE", value="0000000008741")],
        dates=[
            DateRef(qualifier="011", date=dt.date(2009, 9, 21)),
            DateRef(qualifier="017", date=dt.date(2009, 9, 25)),
        ],
        fob=FobTerms(payment_method="PP"),
        parties=[
            Party(
                role="SF", name="SOME COMPANY", identifiers=[PartyIdentifier(qualifier="92", value="000009")]
            ),
            Party(role="ST", name="RETAILER", identifiers=[PartyIdentifier(qualifier="92", value="0001")]),
        ],
        orders=[order_1, order_2],
    )
    return ShipNotice(
        header=header(DocumentType.SHIP_NOTICE, isa13="000000091", gs06="91", st02="0001"),
        purpose="00",
        shipment_id="000009",
        shipment_date=dt.date(2009, 9, 21),
        shipment_time=dt.time(8, 1),
        structure_code="0001",
        shipment=shipment,
    )


def shipment_confirmation() -> ShipmentConfirmation:
    return ShipmentConfirmation(
        header=header(
            DocumentType.SHIPMENT_CONFIRMATION,
            partner_id="fastlane-3pl",
            source_channel=SourceChannel.WEBHOOK,
            isa13=None,
            gs06=None,
            st02=None,
            x12_version=None,
        ),
        confirmation_id="FL-CONF-20240311-0007",
        shipping_order_number="SO-4471",
        status=ConfirmationStatus.PARTIALLY_SHIPPED,
        shipped_at=dt.datetime(2024, 3, 11, 16, 5, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
        shipment=ShipmentLevel(
            carrier=CarrierDetails(scac="FDEG", mode="U", tracking_numbers=["794612345678", "794612345679"]),
            packs=[
                PackLevel(
                    level="tare",
                    marks=[Mark(qualifier="GM", value="00106141411234567897")],
                    packs=[
                        PackLevel(
                            marks=[Mark(qualifier="CP", value="794612345678")],
                            items=[
                                ItemLevel(
                                    line_number="10",
                                    item=ItemIdentifiers(sku="SKU-RED-M", gtin="00614141000012"),
                                    quantity_shipped=Quantity(value=D("6"), unit="EA"),
                                    quantity_ordered=Quantity(value=D("8"), unit="EA"),
                                    references=[Reference(qualifier="LT", value="L2024-03")],
                                )
                            ],
                        )
                    ],
                )
            ],
        ),
        extensions={"fastlane": [FieldExtension(path="/shipment/dock_door", value="D7")]},
    )


def invoice() -> Invoice:
    return Invoice(
        header=header(
            DocumentType.INVOICE, usage=Usage.TEST, isa13="005639689", gs06="5639689", st02="5639689"
        ),
        invoice_number="00237058",
        invoice_date=dt.date(2021, 11, 18),
        po_number="0691-0014403",
        po_date=dt.date(2021, 11, 2),
        currency="USD",
        parties=[
            Party(
                role="ST",
                name="Store Shipping Address",
                identifiers=[PartyIdentifier(qualifier="ZZ", value="1091581")],
                address=Address(
                    lines=["123 address_1", "address_2"], city="SAVANNAH", state="GA", postal_code="314014245"
                ),
            )
        ],
        terms=[TermsOfSale(basis_date_code="3", net_days=30)],
        taxes=[Tax(type_code="ST", amount=D("0.00"), percent=D("0"), jurisdiction="GA")],
        lines=[
            InvoiceLine(
                item=ItemIdentifiers(ean="9781501331978", description="Retail Buying From Basics to Fashion"),
                quantity_invoiced=Quantity(value=D("4")),
                unit_price=Price(amount=D("70")),
                amount=D("280.00"),
                references=[Reference(qualifier="GC", value="01")],
            ),
            InvoiceLine(
                item=ItemIdentifiers(ean="9780316154680", description="When You Are Engulfed in Flames"),
                quantity_invoiced=Quantity(value=D("1")),
                unit_price=Price(amount=D("5.66")),
                amount=D("5.66"),
            ),
        ],
        totals=Totals(
            line_count=2, quantity_total=D("5"), total_amount=Money(amount=D("285.66"), currency="USD")
        ),
    )


def functional_ack_997() -> FunctionalAck:
    return FunctionalAck(
        header=header(DocumentType.FUNCTIONAL_ACK, isa13="000002376", gs06="2376", st02="023760001"),
        ack_kind="997",
        groups=[
            GroupResult(
                functional_id="PO",
                control_number="100043",
                status=AckStatus.PARTIALLY_ACCEPTED,
                status_code="P",
                sets_included=2,
                sets_received=2,
                sets_accepted=1,
                sets=[
                    SetResult(
                        set_id="850", control_number="000100043", status=AckStatus.ACCEPTED, status_code="A"
                    ),
                    SetResult(
                        set_id="850",
                        control_number="000100044",
                        status=AckStatus.REJECTED,
                        status_code="R",
                        error_codes=["5"],
                        segment_errors=[
                            SegmentError(
                                segment_id="PO1",
                                position=12,
                                loop_id="PO1",
                                error_code="8",
                                elements=[
                                    ElementError(position=2, reference="330", error_code="6", bad_value="5X"),
                                    ElementError(position=7, component=1, error_code="1"),
                                ],
                            )
                        ],
                    ),
                ],
            )
        ],
    )


def functional_ack_999() -> FunctionalAck:
    return FunctionalAck(
        header=header(DocumentType.FUNCTIONAL_ACK, x12_version="005010X231A1", isa13="000000286", gs06="1"),
        ack_kind="999",
        groups=[
            GroupResult(
                functional_id="HC",
                control_number="17456",
                version="005010X223A2",
                status=AckStatus.ACCEPTED,
                status_code="A",
                sets_included=1,
                sets_received=1,
                sets_accepted=1,
                sets=[
                    SetResult(
                        set_id="837",
                        control_number="0001",
                        implementation_reference="005010X223A2",
                        status=AckStatus.ACCEPTED,
                        status_code="A",
                    )
                ],
            )
        ],
    )


def functional_ack_ta1() -> FunctionalAck:
    return FunctionalAck(
        header=header(DocumentType.FUNCTIONAL_ACK, gs06=None, st02=None, x12_version=None),
        ack_kind="TA1",
        interchanges=[
            InterchangeResult(
                control_number="000000905",
                date=dt.date(2010, 1, 1),
                time=dt.time(12, 0),
                status=AckStatus.REJECTED,
                status_code="R",
                note_code="022",
            )
        ],
    )


SAMPLES = {
    "purchase_order": purchase_order,
    "purchase_order_ack": purchase_order_ack,
    "ship_notice": ship_notice,
    "shipment_confirmation": shipment_confirmation,
    "invoice": invoice,
    "functional_ack_997": functional_ack_997,
    "functional_ack_999": functional_ack_999,
    "functional_ack_ta1": functional_ack_ta1,
}


@pytest.mark.parametrize("name", list(SAMPLES))
def test_json_round_trip_is_lossless(name: str) -> None:
    original = SAMPLES[name]()
    text = original.model_dump_json()
    again = parse_document(text.encode())
    assert type(again) is type(original)
    assert again == original
    assert again.model_dump_json() == text
    # the dict route (e.g. a message body already decoded by the consumer) gives the same document
    assert parse_document(json.loads(text)) == original


@pytest.mark.parametrize("name", list(SAMPLES))
def test_union_picks_the_type_named_by_the_tag(name: str) -> None:
    original = SAMPLES[name]()
    data = json.loads(dump_document(original))  # type: ignore[arg-type]
    parsed = parse_document(data)
    assert isinstance(parsed, document_model(data["type"]))
    assert parsed.header.document_type == data["type"]


def test_union_rejects_unknown_and_missing_tags() -> None:
    data = json.loads(invoice().model_dump_json())
    data["type"] = "delivery_note"
    with pytest.raises(ValidationError, match="does not match any of the expected tags"):
        parse_document(data)
    del data["type"]
    with pytest.raises(ValidationError, match="Unable to extract tag using discriminator 'type'"):
        parse_document(data)


def test_union_validates_against_the_tagged_type_only() -> None:
    data = json.loads(invoice().model_dump_json())
    data["type"] = "purchase_order"
    data["header"]["document_type"] = "purchase_order"
    with pytest.raises(ValidationError) as info:
        parse_document(data)
    locs = {err["loc"][0] for err in info.value.errors()}
    assert locs == {"purchase_order"}
    by_field = {err["loc"][1]: err["type"] for err in info.value.errors()}
    assert by_field["invoice_number"] == "extra_forbidden"
    assert by_field["invoice_date"] == "extra_forbidden"
    assert "po_number" not in by_field  # both types have it: validated as a purchase order field


def test_header_document_type_must_match_the_tag() -> None:
    data = json.loads(purchase_order().model_dump_json())
    data["header"]["document_type"] = "invoice"
    with pytest.raises(ValidationError, match="does not match type 'purchase_order'"):
        parse_document(data)


@pytest.mark.parametrize(
    ("key", "model"),
    [
        ("purchase_order", PurchaseOrder),
        ("850", PurchaseOrder),
        ("855", PurchaseOrderAck),
        ("856", ShipNotice),
        ("shipment_confirmation", ShipmentConfirmation),
        ("810", Invoice),
        ("997", FunctionalAck),
        ("999", FunctionalAck),
        ("TA1", FunctionalAck),
        (DocumentType.INVOICE, Invoice),
    ],
)
def test_document_model_lookup(key: str, model: type[BaseModel]) -> None:
    assert document_model(key) is model


def test_document_model_unknown() -> None:
    with pytest.raises(UnknownDocumentType, match="'940'"):
        document_model("940")


def test_json_is_exact_and_uses_strings_for_decimals() -> None:
    data = json.loads(purchase_order().model_dump_json())
    line = data["lines"][0]
    assert line["unit_price"]["amount"] == "125.00"  # scale kept: ERP sees exactly what was sent
    assert line["quantity_ordered"] == {"value": "5", "unit": "PE"}
    assert data["lines"][1]["unit_price"]["amount"] == "0.10"
    assert data["schema_version"] == "1.0"
    assert data["header"]["received_at"] == "2020-06-01T14:44:05Z"


def test_extensions_survive_and_keep_order() -> None:
    po = parse_document(purchase_order().model_dump_json())
    assert isinstance(po, PurchaseOrder)
    ext = po.extensions["x12"][0]
    assert isinstance(ext, SegmentExtension)
    assert (ext.segment, ext.qualifier, ext.value, ext.elements) == (
        "REF",
        "ZZ",
        "PROMO-7",
        ["ZZ", "PROMO-7", "spring promo"],
    )
    line_ext = po.lines[0].extensions["x12"][0]
    assert isinstance(line_ext, SegmentExtension)
    assert line_ext.qualifier is None
    assert line_ext.elements == ["assemble before delivery"]


def test_ship_notice_tree_keeps_hl_order_and_parents() -> None:
    asn = parse_document(ship_notice().model_dump_json())
    assert isinstance(asn, ShipNotice)
    ids = [level.hl.id for level, _ in asn.levels() if level.hl is not None]
    assert ids == [str(n) for n in range(1, 15)]
    parents = {
        level.hl.id: parent.hl.id for level, parent in asn.levels() if parent and level.hl and parent.hl
    }
    assert parents["4"] == "3"
    assert parents["14"] == "11"
    assert [i.item.upc for i in asn.items()] == [
        "0000000000642",
        "0000000000831",
        "0000000000283",
        "0000000000203",
        "0000000000642",
    ]
    assert asn.shipment.orders[0].packs[0].sscc == "00000715670002152360"


def test_shipment_confirmation_shares_the_tree() -> None:
    conf = parse_document(shipment_confirmation().model_dump_json())
    assert isinstance(conf, ShipmentConfirmation)
    levels = [level.level for level, _ in conf.levels()]
    assert levels == ["shipment", "tare", "pack", "item"]
    assert conf.items()[0].quantity_shipped.value == Decimal("6")
    assert conf.header.isa13 is None


def test_ack_line_accepted_quantity_sums_accepting_acks_only() -> None:
    ack = purchase_order_ack()
    assert ack.lines[0].quantity_accepted() == Quantity(value=Decimal("3"), unit="PE")  # IA 3 + IB 2
    ack.lines[0].acks[1].status = LineStatus.ACCEPTED_DATE_RESCHEDULED
    assert ack.lines[0].quantity_accepted() == Quantity(value=Decimal("5"), unit="PE")
    ack.lines[0].acks[1].quantity = Quantity(value=D("2"), unit="CA")
    assert ack.lines[0].quantity_accepted() is None  # mixed units are not added up
    ack.lines[0].acks[1].status = LineStatus.REJECTED
    ack.lines[0].acks[0].status = LineStatus.REJECTED_INVALID_ITEM
    assert ack.lines[0].quantity_accepted() is None


def test_functional_ack_results() -> None:
    fa = functional_ack_997()
    rejected = [
        (g.control_number, s.control_number) for g, s in fa.set_results() if s.status is AckStatus.REJECTED
    ]
    assert rejected == [("100043", "000100044")]
    element = fa.groups[0].sets[1].segment_errors[0].elements[0]
    assert (element.position, element.reference, element.error_code, element.bad_value) == (
        2,
        "330",
        "6",
        "5X",
    )


def test_invoice_total() -> None:
    assert invoice().total_amount == Money(amount=Decimal("285.66"), currency="USD")
    lines_total = sum((line.amount or Decimal(0) for line in invoice().lines), Decimal(0))
    assert lines_total == Decimal("285.66")
