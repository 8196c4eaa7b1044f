"""Canonical building blocks: exact decimals, strictness, extensions, the shipment tree and ack results."""

from __future__ import annotations

import ast
import datetime as dt
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

import gateway.domain.canonical as canonical
from gateway.domain.canonical import (
    AckStatus,
    ConfirmationStatus,
    DateRef,
    Direction,
    DocumentHeader,
    DocumentType,
    FieldExtension,
    FunctionalAck,
    GroupResult,
    HlInfo,
    Invoice,
    InvoiceLine,
    ItemIdentifiers,
    ItemLevel,
    Money,
    OrderLevel,
    OrderLine,
    OtherLevel,
    PackLevel,
    PurchaseOrder,
    QualifiedId,
    Quantity,
    Reference,
    SegmentExtension,
    SetResult,
    ShipmentConfirmation,
    ShipmentLevel,
    ShipNotice,
    SourceChannel,
    Totals,
    Usage,
    children,
    parse_document,
    walk,
)

D = Decimal
RECEIVED = dt.datetime(2024, 3, 11, 9, 0, tzinfo=dt.UTC)


def make_header(doc_type: DocumentType = DocumentType.PURCHASE_ORDER, **kw: Any) -> DocumentHeader:
    values: dict[str, Any] = {
        "partner_id": "acme",
        "document_type": doc_type,
        "direction": Direction.INBOUND,
        "source_channel": SourceChannel.SFTP,
        "usage": Usage.TEST,
        "correlation_id": "corr-1",
        "received_at": RECEIVED,
    }
    values.update(kw)
    return DocumentHeader(**values)


def order_line(number: str | None = "1", qty: str = "1") -> OrderLine:
    return OrderLine(
        line_number=number, item=ItemIdentifiers(sku="A-1"), quantity_ordered=Quantity(value=D(qty))
    )


def po_dict() -> dict[str, Any]:
    po = PurchaseOrder(
        header=make_header(), po_number="PO-1", po_date=dt.date(2024, 3, 1), lines=[order_line()]
    )
    data: dict[str, Any] = json.loads(po.model_dump_json())
    return data


# --- exact decimals -------------------------------------------------------------------------------


def test_decimal_arithmetic_stays_exact() -> None:
    a = Quantity.model_validate({"value": "0.1", "unit": "EA"})
    b = Quantity.model_validate({"value": "0.2", "unit": "EA"})
    total = Quantity(value=a.value + b.value, unit="EA")
    assert total.value == D("0.3")
    assert json.loads(total.model_dump_json())["value"] == "0.3"
    assert 0.1 + 0.2 != 0.3  # what a float model would have given the ERP


@pytest.mark.parametrize("value", [0.1, 1.0, float("nan"), True])
def test_floats_and_bools_are_rejected_in_python(value: object) -> None:
    with pytest.raises(ValidationError, match=r"not exact|not a decimal"):
        Money.model_validate({"amount": value})


@pytest.mark.parametrize("text", ['{"amount": 0.1}', '{"amount": 285.66}', '{"amount": 1e2}'])
def test_json_non_integer_numbers_are_rejected(text: str) -> None:
    with pytest.raises(ValidationError, match="binary floats are not exact"):
        Money.model_validate_json(text)


@pytest.mark.parametrize("text", ['"NaN"', '"Infinity"', '"-inf"', '""', '"12,50"'])
def test_non_finite_and_malformed_decimal_strings_are_rejected(text: str) -> None:
    with pytest.raises(ValidationError):
        Money.model_validate_json(f'{{"amount": {text}}}')


def test_integers_and_strings_are_accepted_and_written_as_fixed_point_strings() -> None:
    assert Money.model_validate_json('{"amount": 5}').amount == D(5)
    money = Money.model_validate_json('{"amount": "285.660"}')
    assert money.amount == D("285.660")
    assert money.model_dump_json() == '{"amount":"285.660","currency":null}'  # scale kept
    assert json.loads(Money(amount=D("1E-7")).model_dump_json())["amount"] == "0.0000001"
    assert json.loads(Money(amount=D("1E+2")).model_dump_json())["amount"] == "100"
    assert Money(amount=D("0.10")).model_dump()["amount"] == D("0.10")  # Python mode keeps Decimal


def test_assignment_is_validated() -> None:
    qty = Quantity(value=D(1), unit="EA")
    with pytest.raises(ValidationError, match="binary floats"):
        qty.value = 0.5  # type: ignore[assignment]
    qty.value = "2.5"  # type: ignore[assignment]
    assert qty.value == D("2.5")


# --- strictness -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [(), ("header",), ("lines", 0), ("lines", 0, "quantity_ordered"), ("lines", 0, "item")],
)
def test_unknown_fields_are_rejected_everywhere(path: tuple[str | int, ...]) -> None:
    data = po_dict()
    target: Any = data
    for key in path:
        target = target[key]
    target["colour"] = "red"
    with pytest.raises(ValidationError) as info:
        parse_document(data)
    [error] = info.value.errors()
    assert error["type"] == "extra_forbidden"
    assert error["loc"] == ("purchase_order", *path, "colour")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("po_number", "PO-1   "),  # ISA-style padding
        ("po_number", "PO\x1d1"),  # a stray group separator
        ("po_number", ""),
        ("currency", "usd"),
        ("purpose", "oo"),
        ("schema_version", "2.0"),
    ],
)
def test_garbage_strings_are_rejected(field: str, value: str) -> None:
    data = po_dict()
    data[field] = value
    with pytest.raises(ValidationError) as info:
        parse_document(data)
    assert info.value.errors()[0]["loc"] == ("purchase_order", field)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("received_at", "2024-03-11T09:00:00"),  # naive
        ("isa13", "91"),
        ("gs06", "0000000001"),
        ("st02", "1"),
        ("usage", "T"),
        ("partner_id", "acme corp"),
        ("x12_version", "4010"),
    ],
)
def test_header_fields_are_constrained(field: str, value: str) -> None:
    data = po_dict()
    data["header"][field] = value
    with pytest.raises(ValidationError) as info:
        parse_document(data)
    assert info.value.errors()[0]["loc"] == ("purchase_order", "header", field)


def test_usage_from_isa15() -> None:
    assert Usage.from_x12("T") is Usage.TEST
    assert Usage.from_x12("P") is Usage.PRODUCTION
    assert Usage.PRODUCTION.x12 == "P"
    with pytest.raises(ValueError, match="T or P"):
        Usage.from_x12("I")


def test_lines_are_required_and_line_numbers_unique() -> None:
    with pytest.raises(ValidationError, match="at least 1 item"):
        PurchaseOrder(header=make_header(), po_number="PO-1", po_date=dt.date(2024, 3, 1), lines=[])
    with pytest.raises(ValidationError, match="duplicate line number '1'"):
        PurchaseOrder(
            header=make_header(),
            po_number="PO-1",
            po_date=dt.date(2024, 3, 1),
            lines=[order_line("1"), order_line("1")],
        )
    # lines without numbers (IT101/PO101 omitted) are fine
    PurchaseOrder(
        header=make_header(),
        po_number="PO-1",
        po_date=dt.date(2024, 3, 1),
        lines=[order_line(None), order_line(None)],
    )


def test_small_rules() -> None:
    with pytest.raises(ValidationError, match="needs a value or a description"):
        Reference(qualifier="ZZ")
    with pytest.raises(ValidationError, match="is before date"):
        DateRef(qualifier="002", date=dt.date(2024, 3, 2), end_date=dt.date(2024, 3, 1))
    with pytest.raises(ValidationError, match="time_zone needs a time"):
        DateRef(qualifier="002", date=dt.date(2024, 3, 2), time_zone="ET")
    with pytest.raises(ValidationError, match="at least one identifier or a description"):
        ItemIdentifiers()
    with pytest.raises(ValidationError, match=r"should match pattern"):
        ItemIdentifiers(upc="N/A")


def test_invoice_needs_a_total() -> None:
    line = InvoiceLine(item=ItemIdentifiers(sku="A"), quantity_invoiced=Quantity(value=D(1)))
    with pytest.raises(ValidationError, match=r"totals.total_amount"):
        Invoice(
            header=make_header(DocumentType.INVOICE),
            invoice_number="INV-1",
            invoice_date=dt.date(2024, 3, 1),
            lines=[line],
            totals=Totals(line_count=1),
        )


def test_shipped_confirmation_needs_a_time() -> None:
    with pytest.raises(ValidationError, match="shipped confirmation needs shipped_at"):
        ShipmentConfirmation(
            header=make_header(DocumentType.SHIPMENT_CONFIRMATION),
            confirmation_id="C-1",
            shipping_order_number="SO-1",
            status=ConfirmationStatus.SHIPPED,
            shipment=ShipmentLevel(),
        )


# --- item identifiers and extensions --------------------------------------------------------------


def test_item_identifiers_from_x12_pairs_and_back() -> None:
    pairs = [("VN", "V-77"), ("UP", "012345678905"), ("BP", "BR549"), ("UP", "012345678912"), ("MG", "M-1")]
    item = ItemIdentifiers.from_qualified(pairs, description="BICYCLE")
    assert (item.upc, item.buyer_part, item.description) == ("012345678905", "BR549", "BICYCLE")
    assert item.other == [
        QualifiedId(qualifier="VN", value="V-77"),
        QualifiedId(qualifier="UP", value="012345678912"),
        QualifiedId(qualifier="MG", value="M-1"),
    ]
    assert sorted(item.qualified()) == sorted(pairs)


def test_segment_extension_copies_must_agree() -> None:
    ext = SegmentExtension.from_elements("REF", ["ZZ", "ABC"], loop="N1")
    assert (ext.qualifier, ext.value, ext.loop) == ("ZZ", "ABC", "N1")
    composite = SegmentExtension.from_elements("SLN", ["1", "", "I", ["EA", "2"]], qualified=False)
    assert composite.elements[3] == ["EA", "2"]
    with pytest.raises(ValidationError, match="is not element 01"):
        SegmentExtension(segment="REF", elements=["ZZ", "ABC"], qualifier="IA")
    with pytest.raises(ValidationError, match="is not element 02"):
        SegmentExtension(segment="REF", elements=["ZZ"], value="ABC")
    with pytest.raises(ValidationError):
        SegmentExtension(segment="ref", elements=["ZZ"])


def test_extension_shape_is_checked() -> None:
    data = po_dict()
    data["extensions"] = {"x12": [{"kind": "segment", "segment": "REF", "elements": ["ZZ", "1"]}]}
    assert isinstance(parse_document(data).extensions["x12"][0], SegmentExtension)
    data["extensions"] = {
        "supplier.acme": [{"kind": "field", "path": "/lines/0/colour", "value": {"rgb": [1, 2]}}]
    }
    ext = parse_document(data).extensions["supplier.acme"][0]
    assert isinstance(ext, FieldExtension)
    assert ext.value == {"rgb": [1, 2]}
    for bad in (
        {"X12": [{"kind": "segment", "segment": "REF", "elements": ["ZZ"]}]},  # namespace not lower-case
        {"x12": [{"segment": "REF", "elements": ["ZZ"]}]},  # no kind
        {"x12": [{"kind": "field", "path": "lines/0", "value": 1}]},  # not a JSON pointer
        {"x12": [{"kind": "segment", "segment": "REF", "elements": []}]},
    ):
        data["extensions"] = bad
        with pytest.raises(ValidationError):
            parse_document(data)


# --- shipment hierarchy ---------------------------------------------------------------------------


def _item(hl: str, parent: str) -> ItemLevel:
    return ItemLevel(
        hl=HlInfo(id=hl, parent_id=parent, level_code="I"),
        item=ItemIdentifiers(sku=f"SKU-{hl}"),
        quantity_shipped=Quantity(value=D(1), unit="EA"),
    )


def test_children_follow_hl_order_across_lists() -> None:
    order = OrderLevel(
        hl=HlInfo(id="2", parent_id="1", level_code="O"),
        po_number="PO-1",
        items=[_item("3", "2"), _item("10", "2")],
        packs=[PackLevel(hl=HlInfo(id="4", parent_id="2", level_code="P"), items=[_item("5", "4")])],
        other_levels=[OtherLevel(hl=HlInfo(id="6", parent_id="2", level_code="Q"))],
    )
    assert [k.hl.id for k in children(order) if k.hl] == ["3", "4", "6", "10"]
    assert [lvl.hl.id for lvl, _ in walk(order) if lvl.hl] == ["2", "3", "4", "5", "6", "10"]


def test_children_without_hl_keep_list_order() -> None:
    pack = PackLevel(items=[ItemLevel(item=ItemIdentifiers(sku="B"), quantity_shipped=Quantity(value=D(1)))])
    shipment = ShipmentLevel(
        packs=[pack], items=[ItemLevel(item=ItemIdentifiers(sku="A"), quantity_shipped=Quantity(value=D(2)))]
    )
    assert [lvl.level for lvl, _ in walk(shipment)] == ["shipment", "pack", "item", "item"]


def test_level_codes_and_parents_are_checked() -> None:
    with pytest.raises(ValidationError, match="a item level needs HL03 'I', not 'P'"):
        ItemLevel(
            hl=HlInfo(id="3", parent_id="2", level_code="P"),
            item=ItemIdentifiers(sku="A"),
            quantity_shipped=Quantity(value=D(1)),
        )
    with pytest.raises(ValidationError, match="a tare level needs HL03 'T'"):
        PackLevel(level="tare", hl=HlInfo(id="3", level_code="P"))
    with pytest.raises(ValidationError, match="HL 5 names parent '9' but sits under HL 2"):
        OrderLevel(
            hl=HlInfo(id="2", parent_id="1", level_code="O"), po_number="PO-1", items=[_item("5", "9")]
        )
    with pytest.raises(ValidationError, match="HL 7 names parent '1' but sits under HL 6"):
        OtherLevel(
            hl=HlInfo(id="6", level_code="Q"),
            children=[OtherLevel(hl=HlInfo(id="7", parent_id="1", level_code="Q"))],
        )


def test_hl_ids_are_unique_in_a_document() -> None:
    shipment = ShipmentLevel(
        hl=HlInfo(id="1", level_code="S"),
        orders=[
            OrderLevel(
                hl=HlInfo(id="2", parent_id="1", level_code="O"), po_number="A", items=[_item("3", "2")]
            ),
            OrderLevel(
                hl=HlInfo(id="4", parent_id="1", level_code="O"), po_number="B", items=[_item("3", "4")]
            ),
        ],
    )
    with pytest.raises(ValidationError, match="HL ID '3' is used twice"):
        ShipNotice(
            header=make_header(DocumentType.SHIP_NOTICE),
            shipment_id="S-1",
            shipment_date=dt.date(2024, 3, 1),
            shipment=shipment,
        )


# --- functional acks ------------------------------------------------------------------------------


def _group(**kw: Any) -> GroupResult:
    values: dict[str, Any] = {
        "functional_id": "PO",
        "control_number": "17",
        "status": AckStatus.ACCEPTED,
        "status_code": "A",
        "sets_included": 1,
        "sets_received": 1,
        "sets_accepted": 1,
    }
    values.update(kw)
    return GroupResult(**values)


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("A", "accepted"),
        ("E", "accepted_with_errors"),
        ("P", "partially_accepted"),
        ("R", "rejected"),
        ("X", "rejected"),
    ],
)
def test_ack_status_codes(code: str, status: str) -> None:
    assert AckStatus.from_x12(code) == status


def test_ack_status_must_match_code() -> None:
    with pytest.raises(ValidationError, match="does not match status code 'R'"):
        SetResult(set_id="850", control_number="0001", status=AckStatus.ACCEPTED, status_code="R")
    with pytest.raises(ValidationError):
        SetResult.model_validate(
            {"set_id": "850", "control_number": "0001", "status": "partially_accepted", "status_code": "P"}
        )
    with pytest.raises(ValidationError, match="2 sets accepted but only 1 received"):
        _group(sets_accepted=2)


def test_functional_ack_shape_follows_its_kind() -> None:
    header = make_header(DocumentType.FUNCTIONAL_ACK)
    with pytest.raises(ValidationError, match="a TA1 carries interchange results"):
        FunctionalAck(header=header, ack_kind="TA1", groups=[_group()])
    with pytest.raises(ValidationError, match="a 997 carries group results"):
        FunctionalAck(header=header, ack_kind="997")
    assert (
        FunctionalAck(header=header, ack_kind="999", groups=[_group()]).groups[0].status is AckStatus.ACCEPTED
    )


# --- public API and layering ----------------------------------------------------------------------


def test_public_api_is_complete() -> None:
    required = {
        "PurchaseOrder", "PurchaseOrderAck", "ShipNotice", "ShipmentConfirmation", "Invoice", "FunctionalAck",
        "Party", "ItemIdentifiers", "Quantity", "Price", "Money", "DateRef", "Reference", "CarrierDetails",
        "Totals", "AllowanceCharge", "TermsOfSale", "DocumentHeader", "CanonicalDocument", "document_model",
        "parse_document", "Extensions", "SegmentExtension", "FieldExtension",
    }  # fmt: skip
    assert required <= set(canonical.__all__)
    assert all(hasattr(canonical, name) for name in canonical.__all__)
    assert len(set(canonical.__all__)) == len(canonical.__all__)


def test_domain_imports_only_pydantic_stdlib_and_edi() -> None:
    package = Path(canonical.__file__).parent
    allowed = set(sys.stdlib_module_names) | {"pydantic", "edi", "gateway"}
    for path in sorted(package.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                assert top in allowed, f"{path.name} imports {name}"
                if top == "gateway":
                    assert name.startswith("gateway.domain"), f"{path.name} imports {name}"
