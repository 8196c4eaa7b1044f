"""Supplier JSON -> canonical: purchase orders (``po_json``) and 3PL shipment confirmations
(``shipment_confirmation_json``), each in the partner's own shape.

The default shapes below name each canonical field and where it is read from; a variant
(``mappings/json-*.yaml``) or the profile's ``json_fields`` move any of them. Names under a
list (``lines.*``, ``packages.*``) are relative to each element; package lines use the
``lines.*`` names. Every JSON leaf that is not read is kept in ``extensions`` under the
partner's namespace as a JSON pointer and value.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from gateway.domain.canonical import ConfirmationStatus, DocumentHeader, PurchaseOrder, ShipmentConfirmation
from gateway.domain.mapping.construct import Invalid, build
from gateway.domain.mapping.errors import MappingError
from gateway.domain.mapping.json_source import JsonSource
from gateway.domain.mapping.rules import Rules

__all__ = ["DEFAULT_SHAPES", "JSON_DOCUMENT_TYPES", "read_json"]

Doc = dict[str, Any]

_LINE = {
    f"lines.{n}": n
    for n in (
        "line_number",
        "sku",
        "upc",
        "gtin",
        "ean",
        "vendor_part",
        "buyer_part",
        "description",
        "quantity",
        "unit",
        "unit_price",
        "quantity_ordered",
        "lot",
    )
}
_PARTY = ("name", "id", "address1", "address2", "city", "state", "postal_code", "country")
_PARTIES = {"buyer": "BY", "ship_to": "ST", "bill_to": "BT", "vendor": "VN", "ship_from": "SF"}

#: Default shape per JSON document type: canonical field name -> dotted path in the JSON.
DEFAULT_SHAPES: dict[str, dict[str, str]] = {
    "shipment_confirmation_json": {
        **{
            n: n
            for n in (
                "shipment_id",
                "order_number",
                "po_number",
                "status",
                "shipped_at",
                "carrier",
                "carrier_name",
                "service_level",
                "tracking_number",
                "tracking_numbers",
                "bill_of_lading",
                "pro_number",
                "notes",
                "lines",
                "packages",
            )
        },
        **{f"ship_to.{n}": f"ship_to.{n}" for n in _PARTY},
        **_LINE,
        **{f"packages.{n}": n for n in ("sscc", "tracking_number", "weight", "weight_unit", "lines")},
    },
    "po_json": {
        **{
            n: n
            for n in (
                "po_number",
                "po_date",
                "purpose",
                "order_type",
                "release_number",
                "contract_number",
                "currency",
                "requested_delivery_date",
                "ship_date",
                "cancel_date",
                "notes",
                "total_amount",
                "lines",
            )
        },
        **{f"{role}.{n}": f"{role}.{n}" for role in _PARTIES if role != "ship_from" for n in _PARTY},
        **_LINE,
    },
}

#: JSON document type -> canonical model.
JSON_DOCUMENT_TYPES: dict[str, type[BaseModel]] = {
    "shipment_confirmation_json": ShipmentConfirmation,
    "po_json": PurchaseOrder,
}

_DIGITS = {"upc": "UP", "gtin": "UK", "ean": "EN"}
_STATUSES = frozenset(s.value for s in ConfirmationStatus)


class _Builder:
    def __init__(self, src: JsonSource, rules: Rules) -> None:
        self.src = src
        self.rules = rules
        self.origins: dict[int, dict[str, str]] = {}

    def note(self, data: Doc, src: JsonSource, fields: dict[str, str]) -> Doc:
        self.origins[id(data)] = {key: src.where(name) for key, name in fields.items()}
        return data

    def item(self, line: JsonSource) -> Doc:
        item: Doc = {}
        other: list[Doc] = []
        for name in ("sku", "vendor_part", "buyer_part", "description"):
            if (value := line.text(name)) is not None:
                item[name] = value
        for name, qualifier in _DIGITS.items():
            if (value := line.text(name)) is not None:
                if value.isdigit() and 6 <= len(value) <= 14:
                    item[name] = value
                else:
                    other.append({"qualifier": qualifier, "value": value})
        if other:
            item["other"] = other
        return self.note(
            item, line, {n: n for n in ("sku", "vendor_part", "buyer_part", "description", *_DIGITS)}
        )

    def quantity(self, line: JsonSource, name: str, *, required: bool) -> Doc | None:
        value = line.decimal(name, required=required)
        if value is None:
            return None
        qty: Doc = {"value": value}
        if (unit := line.text("unit")) is not None:
            qty["unit"] = self.rules.code("uom", unit.upper())
        return self.note(qty, line, {"value": name, "unit": "unit"})

    def party(self, role: str) -> Doc | None:
        src = self.src
        if not any(src.has(f"{role}.{n}") for n in _PARTY):
            return None
        party: Doc = {"role": _PARTIES[role]}
        if (name := src.text(f"{role}.name")) is not None:
            party["name"] = name
        if (ident := src.text(f"{role}.id")) is not None:
            party["identifiers"] = [{"qualifier": "ZZ", "value": ident}]
        address: Doc = {}
        lines = [v for n in ("address1", "address2") if (v := src.text(f"{role}.{n}")) is not None]
        if lines:
            address["lines"] = lines
        for name in ("city", "state", "postal_code"):
            if (value := src.text(f"{role}.{name}")) is not None:
                address[name] = value.upper() if name == "state" else value
        if (country := src.text(f"{role}.country")) is not None:
            address["country"] = self.rules.code("country", country.upper())
        if address:
            party["address"] = self.note(
                address, src, {n: f"{role}.{n}" for n in ("city", "state", "postal_code", "country")}
            )
        return self.note(party, src, {"name": f"{role}.name", "identifiers": f"{role}.id"})

    def extensions(self, doc: Doc, namespace: str) -> None:
        rest = self.src.leftovers()
        if rest:
            doc["extensions"] = {namespace: [{"kind": "field", "path": p, "value": v} for p, v in rest]}

    def validate(self, model: type[BaseModel], doc: Doc) -> BaseModel:
        try:
            built: BaseModel = build(model, doc)
        except Invalid as exc:
            paths = self.origins.get(id(exc.data), {})
            where = paths.get(exc.field)
            if where is None:  # a whole-object rule: name the object the fields came from
                where = next(iter(paths.values()), exc.field).rpartition(".")[0] or exc.field
            raise MappingError.in_json(
                where, exc.problem, exc.value if isinstance(exc.value, str) else None
            ) from None
        return built


def _shipment_confirmation(b: _Builder, header: DocumentHeader) -> Doc:
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
            {"qualifier": q, "value": v}
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
    doc["shipment"] = shipment
    notes = src.strings("notes")
    if notes:
        doc["notes"] = [{"text": n} for n in notes]
    return doc


def _item_level(b: _Builder, line: JsonSource) -> Doc:
    level: Doc = {"level": "item", "item": b.item(line)}
    if (number := line.text("line_number")) is not None:
        level["line_number"] = number
    level["quantity_shipped"] = b.quantity(line, "quantity", required=True)
    if (ordered := b.quantity(line, "quantity_ordered", required=False)) is not None:
        level["quantity_ordered"] = ordered
    if (lot := line.text("lot")) is not None:
        level["references"] = [{"qualifier": "LT", "value": lot}]
    return b.note(level, line, {"line_number": "line_number", "item": "sku", "quantity_shipped": "quantity"})


def _purchase_order(b: _Builder, header: DocumentHeader) -> Doc:
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
    b.note(
        doc,
        src,
        {
            n: n
            for n in (
                "po_number",
                "po_date",
                "purpose",
                "order_type",
                "release_number",
                "contract_number",
                "currency",
            )
        },
    )
    parties = [p for role in _PARTIES if role != "ship_from" and (p := b.party(role)) is not None]
    if parties:
        doc["parties"] = parties
    dates = [
        b.note({"qualifier": q, "date": d}, src, {"date": n})
        for q, n in (("002", "requested_delivery_date"), ("010", "ship_date"), ("001", "cancel_date"))
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
            data["unit_price"] = {"amount": price}
        if (ship_date := line.date("requested_delivery_date")) is not None:
            data["dates"] = [{"qualifier": "002", "date": ship_date}]
        lines.append(
            b.note(data, line, {"line_number": "line_number", "item": "sku", "unit_price": "unit_price"})
        )
    if not lines:
        raise src.fail("lines", "a purchase order needs at least one line")
    doc["lines"] = lines
    if (total := src.decimal("total_amount")) is not None:
        doc["totals"] = {"total_amount": {"amount": total}}
    notes = src.strings("notes")
    if notes:
        doc["notes"] = [{"text": n} for n in notes]
    return doc


def read_json(
    data: object, document_type: str, rules: Rules, header: DocumentHeader, namespace: str
) -> BaseModel:
    """Map ``data`` (parsed JSON) of ``document_type`` through the default shape and ``json_fields``."""
    if document_type not in JSON_DOCUMENT_TYPES:
        known = ", ".join(sorted(JSON_DOCUMENT_TYPES))
        raise MappingError(f"no JSON mapping for {document_type!r}; known: {known}", field=document_type)
    if not isinstance(data, dict):
        raise MappingError.in_json("", f"a {document_type} document must be a JSON object")
    fields = {**DEFAULT_SHAPES[document_type], **rules.json_fields}
    builder = _Builder(JsonSource(data, fields), rules)
    build = _shipment_confirmation if document_type == "shipment_confirmation_json" else _purchase_order
    doc = build(builder, header)
    model = JSON_DOCUMENT_TYPES[document_type]
    for path, value in rules.defaults.items():
        if path in model.model_fields and doc.get(path) is None:
            doc[path] = value
    builder.extensions(doc, namespace)
    return builder.validate(model, doc)
