"""Supplier JSON -> canonical: purchase orders (``po_json``, ``warehouse_order_json``), purchase order
acknowledgements (``poack_json``, see :mod:`.json_ack`) and 3PL shipment confirmations
(``shipment_confirmation_json``), each in the partner's own shape.

The default shapes (:data:`~.json_shapes.DEFAULT_SHAPES`) name each canonical field and where
it is read from; a variant (``mappings/json-*.yaml``) or the profile's ``json_fields`` move any
of them, and ``json_formats`` give non-ISO date formats. Every JSON leaf that is not read is
kept in ``extensions`` under the partner's namespace as a JSON pointer and value.
"""

from __future__ import annotations

from pydantic import BaseModel

from gateway.domain.canonical import (
    DOCUMENT_MODELS,
    ConfirmationStatus,
    DocumentHeader,
    PurchaseOrderAck,
    ShipmentConfirmation,
)
from gateway.domain.mapping.errors import MappingError
from gateway.domain.mapping.json_ack import purchase_order_ack
from gateway.domain.mapping.json_build import Builder, Doc
from gateway.domain.mapping.json_shapes import DEFAULT_SHAPES, JSON_TYPES
from gateway.domain.mapping.json_source import JsonSource
from gateway.domain.mapping.rules import Rules

__all__ = ["DEFAULT_SHAPES", "JSON_DOCUMENT_TYPES", "ORDER_DATES", "read_json"]

#: JSON document type -> canonical model, for the types that are read.
JSON_DOCUMENT_TYPES: dict[str, type[BaseModel]] = {
    t.name: DOCUMENT_MODELS[t.canonical] for t in JSON_TYPES.values() if t.reads and t.canonical is not None
}
#: Order-level dates of the order shapes: JSON name -> DTM01 qualifier.
ORDER_DATES = {"requested_delivery_date": "002", "ship_date": "010", "cancel_date": "001"}
_ORDER_ROLES = ("buyer", "ship_to", "bill_to", "vendor")
_STATUSES = frozenset(s.value for s in ConfirmationStatus)


def _shipment_confirmation(b: Builder, header: DocumentHeader) -> Doc:
    src, rules = b.src, b.rules
    status = rules.code("status", (src.text("status") or "shipped").lower())
    if status not in _STATUSES:
        raise src.fail("status", f"is not one of {', '.join(sorted(_STATUSES))}", status)
    doc: Doc = {
        "header": header,
        "confirmation_id": src.text("shipment_id", required=True),
        "shipping_order_number": src.text("order_number", required=True),
        "status": status,
    }
    if (shipped_at := src.timestamp("shipped_at")) is not None:
        doc["shipped_at"] = shipped_at
    b.note(
        doc,
        src,
        {
            "confirmation_id": "shipment_id",
            "shipping_order_number": "order_number",
            "shipped_at": "shipped_at",
            "status": "status",
        },
    )
    carrier: Doc = {}
    if (scac := src.text("carrier")) is not None:
        carrier["scac"] = rules.code("carrier", scac.upper())
    for name in ("carrier_name", "service_level", "bill_of_lading", "pro_number"):
        if (value := src.text(name)) is not None:
            carrier[name] = value
    tracking = [t for t in [src.text("tracking_number"), *src.strings("tracking_numbers")] if t]
    if tracking:
        carrier["tracking_numbers"] = list(dict.fromkeys(tracking))
    shipment: Doc = {}
    if carrier:
        shipment["carrier"] = b.note(
            carrier,
            src,
            {
                "scac": "carrier",
                "tracking_numbers": "tracking_number",
                **{n: n for n in ("carrier_name", "service_level")},
            },
        )
    if (ship_to := b.party("ship_to")) is not None:
        shipment["parties"] = [ship_to]
    container = shipment
    if (po_number := src.text("po_number")) is not None:
        container = b.note({"po_number": po_number}, src, {"po_number": "po_number"})
        shipment["orders"] = [container]
    items = [_item_level(b, line) for line in src.each("lines")]
    if items:
        container["items"] = items
    packs = []
    for package in src.each("packages"):
        pack: Doc = {"level": "pack"}
        marks = [
            b.note({"qualifier": q, "value": v}, package, {"value": n})
            for q, n in (("GM", "sscc"), ("CP", "tracking_number"))
            if (v := package.text(n)) is not None
        ]
        if marks:
            pack["marks"] = marks
        if (weight := package.decimal("weight")) is not None:
            unit = package.text("weight_unit", required=True)
            pack["totals"] = {
                "weight": b.note(
                    {"value": weight, "unit": rules.code("uom", (unit or "").upper())},
                    package,
                    {"value": "weight", "unit": "weight_unit"},
                )
            }
        pack_items = [_item_level(b, line) for line in package.each("lines", shape="lines")]
        if pack_items:
            pack["items"] = pack_items
        packs.append(b.note(pack, package, {"marks": "sscc"}))
    if packs:
        container["packs"] = packs
    # A package's tracking number is one of the shipment's too.
    tracked = [m["value"] for pack in packs for m in pack.get("marks", []) if m["qualifier"] == "CP"]
    if tracked:
        carrier["tracking_numbers"] = list(dict.fromkeys([*carrier.get("tracking_numbers", []), *tracked]))
        shipment.setdefault("carrier", b.note(carrier, src, {"tracking_numbers": "packages"}))
    doc["shipment"] = shipment
    notes = src.strings("notes")
    if notes:
        doc["notes"] = [{"text": n} for n in notes]
    return doc


def _item_level(b: Builder, line: JsonSource) -> Doc:
    level: Doc = {"level": "item", "item": b.item(line)}
    if (number := line.text("line_number")) is not None:
        level["line_number"] = number
    level["quantity_shipped"] = b.quantity(line, "quantity", required=True)
    if (ordered := b.quantity(line, "quantity_ordered", required=False)) is not None:
        level["quantity_ordered"] = ordered
    if (lot := line.text("lot")) is not None:
        level["references"] = [b.note({"qualifier": "LT", "value": lot}, line, {"value": "lot"})]
    return b.note(level, line, {"line_number": "line_number", "item": "sku", "quantity_shipped": "quantity"})


def _purchase_order(b: Builder, header: DocumentHeader) -> Doc:
    src, rules = b.src, b.rules
    doc: Doc = {
        "header": header,
        "po_number": src.text("po_number", required=True),
        "po_date": src.date("po_date", required=True),
    }
    for name in ("purpose", "order_type", "release_number", "contract_number"):
        if (value := src.text(name)) is not None:
            doc[name] = value
    if (currency := src.text("currency")) is not None:
        doc["currency"] = rules.code("currency", currency.upper())
    names = ("po_number", "po_date", "purpose", "order_type", "release_number", "contract_number", "currency")
    b.note(doc, src, {n: n for n in names})
    if parties := b.parties(_ORDER_ROLES):
        doc["parties"] = parties
    dates = [
        b.note({"qualifier": q, "date": d}, src, {"date": n})
        for n, q in ORDER_DATES.items()
        if (d := src.date(n)) is not None
    ]
    if dates:
        doc["dates"] = dates
    lines = []
    for index, line in enumerate(src.each("lines"), start=1):
        data: Doc = {
            "line_number": line.text("line_number") or str(index),
            "item": b.item(line),
            "quantity_ordered": b.quantity(line, "quantity", required=True),
        }
        if (price := line.decimal("unit_price")) is not None:
            data["unit_price"] = b.note({"amount": price}, line, {"amount": "unit_price"})
        if (ship_date := line.date("requested_delivery_date")) is not None:
            data["dates"] = [{"qualifier": "002", "date": ship_date}]
        lines.append(
            b.note(data, line, {"line_number": "line_number", "item": "sku", "unit_price": "unit_price"})
        )
    if not lines:
        raise src.fail("lines", "a purchase order needs at least one line")
    doc["lines"] = lines
    if (total := src.decimal("total_amount")) is not None:
        doc["totals"] = {"total_amount": b.note({"amount": total}, src, {"amount": "total_amount"})}
    notes = src.strings("notes")
    if notes:
        doc["notes"] = [{"text": n} for n in notes]
    return doc


def read_json(
    data: object, document_type: str, rules: Rules, header: DocumentHeader, namespace: str
) -> BaseModel:
    """Map ``data`` (parsed JSON) of ``document_type`` through the default shape and ``json_fields``."""
    model = JSON_DOCUMENT_TYPES.get(document_type)
    if model is None:
        known = ", ".join(sorted(JSON_DOCUMENT_TYPES))
        raise MappingError(f"no JSON mapping for {document_type!r}; known: {known}", field=document_type)
    if not isinstance(data, dict):
        raise MappingError.in_json("", f"a {document_type} document must be a JSON object")
    shape = JSON_TYPES[document_type].shape
    assert shape is not None
    fields = {**DEFAULT_SHAPES[shape], **rules.json_fields}
    builder = Builder(JsonSource(data, fields, formats=rules.json_formats), rules)
    if model is ShipmentConfirmation:
        doc = _shipment_confirmation(builder, header)
    elif model is PurchaseOrderAck:
        doc = purchase_order_ack(builder, header, _ORDER_ROLES)
    else:
        doc = _purchase_order(builder, header)
    builder.defaults(doc, model)
    builder.extensions(doc, namespace)
    return builder.validate(model, doc)
