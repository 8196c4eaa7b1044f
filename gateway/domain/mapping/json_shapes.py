"""The JSON document types the mapping knows, and the default shape of each.

A JSON document type (the profile's ``type`` ending in ``_json``) names a canonical document
and a *shape*: the canonical field names the mapping reads or writes, each at a dotted path in
the JSON. The default shape puts every name at the same path; a variant
(``mappings/json-*.yaml``) or the profile's ``json_fields`` move any of them. Names under a
list (``lines.*``, ``packages.*``, ``lines.acks.*``) are relative to each element.

``canonical_json`` has no shape: the canonical document is sent as it is (outbound only).
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.domain.canonical import DocumentType

__all__ = ["CANONICAL_JSON", "DEFAULT_SHAPES", "JSON_TYPES", "PARTIES", "PARTY_FIELDS", "JsonType"]

#: The JSON type that carries the canonical document itself (any document type, outbound).
CANONICAL_JSON = "canonical_json"

_ITEM = ("sku", "upc", "gtin", "ean", "vendor_part", "buyer_part", "description")
#: Party objects of the order shapes (JSON key -> N101 role) and the fields of each.
PARTIES = {"buyer": "BY", "ship_to": "ST", "bill_to": "BT", "vendor": "VN", "ship_from": "SF"}
PARTY_FIELDS = ("name", "id", "address1", "address2", "city", "state", "postal_code", "country")

_ORDER_HEAD = ("po_number", "po_date", "purpose", "release_number", "contract_number", "currency", "notes")
_ORDER_PARTIES = {
    f"{role}.{n}": f"{role}.{n}" for role in PARTIES if role != "ship_from" for n in PARTY_FIELDS
}


def _same(*names: str) -> dict[str, str]:
    return {n: n for n in names}


def _under(prefix: str, *names: str) -> dict[str, str]:
    return {f"{prefix}.{n}": n for n in names}


_PO = {
    **_same(
        *_ORDER_HEAD, "order_type", "requested_delivery_date", "ship_date", "cancel_date", "total_amount"
    ),
    **_same("lines"),
    **_ORDER_PARTIES,
    **_under("lines", "line_number", *_ITEM, "quantity", "unit", "unit_price", "requested_delivery_date"),
}

_POACK = {
    **_same(*_ORDER_HEAD, "ack_type", "ack_number", "ack_date", "lines"),
    **_ORDER_PARTIES,
    **_under("lines", "line_number", *_ITEM, "quantity_ordered", "unit", "unit_price"),
    # One acknowledgement per line (status, quantity, ship_date, delivery_date), or a list of them.
    **_under("lines", "status", "quantity", "ship_date", "delivery_date", "acks"),
    **_under("lines.acks", "status", "quantity", "unit", "ship_date", "delivery_date"),
}

_CONFIRMATION = {
    **_same(
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
    ),
    **{f"ship_to.{n}": f"ship_to.{n}" for n in PARTY_FIELDS},
    **_under("lines", "line_number", *_ITEM, "quantity", "unit", "quantity_ordered", "lot"),
    **_under("packages", "sscc", "tracking_number", "weight", "weight_unit", "lines"),
}

#: Default shape per JSON document type: canonical field name -> dotted path in the JSON.
DEFAULT_SHAPES: dict[str, dict[str, str]] = {
    "po_json": _PO,
    "poack_json": _POACK,
    "shipment_confirmation_json": _CONFIRMATION,
    "warehouse_order_json": _PO,
}


@dataclass(frozen=True, slots=True)
class JsonType:
    """What a JSON document type is: its canonical document, its shape, and the directions it maps."""

    name: str
    canonical: DocumentType | None
    """None for ``canonical_json`` (any document)."""
    shape: str | None
    reads: bool
    writes: bool


JSON_TYPES: dict[str, JsonType] = {
    t.name: t
    for t in (
        JsonType("po_json", DocumentType.PURCHASE_ORDER, "po_json", reads=True, writes=True),
        JsonType("poack_json", DocumentType.PURCHASE_ORDER_ACK, "poack_json", reads=True, writes=True),
        JsonType(
            "shipment_confirmation_json",
            DocumentType.SHIPMENT_CONFIRMATION,
            "shipment_confirmation_json",
            reads=True,
            writes=False,
        ),
        # A shipping order for a 3PL: a purchase order (see mappings/json-warehouse-order.yaml).
        JsonType(
            "warehouse_order_json",
            DocumentType.PURCHASE_ORDER,
            "warehouse_order_json",
            reads=True,
            writes=True,
        ),
        JsonType(CANONICAL_JSON, None, None, reads=False, writes=True),
    )
}
