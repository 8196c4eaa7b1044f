"""Canonical -> partner JSON: the outbound side of the JSON shapes, driven by the same data.

``canonical_json`` sends the canonical document unchanged. A shaped type (``po_json``,
``warehouse_order_json``, ``poack_json``) writes the names its mapping lists in
``json_fields`` (variant and profile merged; with none listed, the whole default shape of
:data:`~.json_shapes.DEFAULT_SHAPES`, the very names the reader reads), each at its path,
with codes translated back through ``code_maps`` and dates in the partner's
``json_formats``; a fixed-value path (``"=EA"``) is checked rather than written.
What the partner sent us in its own namespace (``extensions``) goes back at its JSON pointer.
A shaped document carries only what its shape names; a partner that needs everything gets
``canonical_json``. Numbers are written as exact JSON numbers (``19.990`` stays ``19.990``).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from gateway.domain.canonical import (
    FieldExtension,
    ItemIdentifiers,
    Party,
    PurchaseOrder,
    PurchaseOrderAck,
    dump_document,
)
from gateway.domain.mapping.errors import MappingError
from gateway.domain.mapping.json_ack import ACK_DATES
from gateway.domain.mapping.json_build import DIGIT_IDS
from gateway.domain.mapping.json_docs import ORDER_DATES
from gateway.domain.mapping.json_shapes import DEFAULT_SHAPES, JSON_TYPES, PARTIES
from gateway.domain.mapping.json_source import zone
from gateway.domain.mapping.rules import Rules

__all__ = ["dumps", "write_json"]

Values = dict[str, Any]
_ROLES = {code: key for key, code in PARTIES.items()}
_DIGIT_NAMES = {qualifier: name for name, qualifier in DIGIT_IDS.items()}


def write_json(doc: BaseModel, document_type: str, rules: Rules, namespace: str) -> bytes:
    """``doc`` as the partner's JSON of ``document_type`` (UTF-8)."""
    kind = JSON_TYPES.get(document_type)
    if kind is None or not kind.writes:
        known = ", ".join(sorted(t.name for t in JSON_TYPES.values() if t.writes))
        raise MappingError(f"no outbound JSON mapping for {document_type!r}; known: {known}", field="type")
    if kind.shape is None:
        return dump_document(doc)  # type: ignore[arg-type]
    if getattr(doc, "type", None) != kind.canonical:
        raise MappingError(
            f"a {getattr(doc, 'type', type(doc).__name__)} document is not sent as {document_type}",
            field="type",
        )
    writer = _Writer(rules, dict(rules.json_fields) or DEFAULT_SHAPES[kind.shape])
    values = _order(writer, doc) if isinstance(doc, PurchaseOrder) else _ack(writer, doc)  # type: ignore[arg-type]
    out: dict[str, Any] = {}
    writer.put(out, values, "")
    for ext in getattr(doc, "extensions", {}).get(namespace, []):
        if isinstance(ext, FieldExtension):
            _restore(
                out, [p.replace("~1", "/").replace("~0", "~") for p in ext.path.split("/")[1:]], ext.value
            )
    return dumps(out).encode()


class _Writer:
    def __init__(self, rules: Rules, fields: dict[str, str]) -> None:
        self.rules = rules
        self.fields = fields

    def date(self, name: str, value: dt.date | None) -> str | None:
        if value is None:
            return None
        spec = self.rules.json_formats.get(name)
        if spec is None:
            return value.isoformat()
        form, _, zone_name = spec.partition("@")
        if isinstance(value, dt.datetime) and zone_name:
            value = value.astimezone(zone(zone_name))
        return value.strftime(form)

    def put(self, out: dict[str, Any], values: Values, prefix: str) -> None:
        for name, value in values.items():
            path = self.fields.get(prefix + name)
            if path is None or value is None or value == []:
                continue
            if path.startswith("="):
                if isinstance(value, list) or str(value) != path[1:]:
                    raise MappingError(
                        f"json_fields.{prefix}{name}: the partner's JSON fixes {path[1:]!r}, "
                        f"but the document has {value!r}",
                        field=f"json_fields.{prefix}{name}",
                    )
                continue
            if isinstance(value, list) and value and isinstance(value[0], dict):
                items = []
                for element in value:
                    item: dict[str, Any] = {}
                    self.put(item, element, f"{prefix}{name}.")
                    items.append(item)
                value = items
            _set(out, path.split("."), value, f"json_fields.{prefix}{name}")

    def party(self, parties: list[Party], roles: tuple[str, ...]) -> Values:
        values: Values = {}
        for party in parties:
            key = _ROLES.get(party.role)
            if key not in roles or any(k.startswith(f"{key}.") for k in values):
                continue
            address = party.address
            lines = address.lines if address else []
            country = address.country if address else None
            values.update(
                {
                    f"{key}.name": party.name,
                    f"{key}.id": party.identifiers[0].value if party.identifiers else None,
                    f"{key}.address1": lines[0] if lines else None,
                    f"{key}.address2": " ".join(lines[1:]) or None,
                    f"{key}.city": address.city if address else None,
                    f"{key}.state": address.state if address else None,
                    f"{key}.postal_code": address.postal_code if address else None,
                    f"{key}.country": self.rules.code_to_partner("country", country) if country else None,
                }
            )
        return values

    def unit(self, unit: str | None) -> str | None:
        return None if unit is None else self.rules.code_to_partner("uom", unit)


def _item(item: ItemIdentifiers) -> Values:
    values: Values = {
        n: getattr(item, n) for n in ("sku", "upc", "gtin", "ean", "vendor_part", "buyer_part", "description")
    }
    for other in item.other:
        name = _DIGIT_NAMES.get(other.qualifier)
        if name is not None and values.get(name) is None:
            values[name] = other.value
    return values


def _order(w: _Writer, doc: PurchaseOrder) -> Values:
    dates = {d.qualifier: d.date for d in doc.dates}
    values: Values = {
        "po_number": doc.po_number,
        "po_date": w.date("po_date", doc.po_date),
        "purpose": doc.purpose,
        "order_type": doc.order_type,
        "release_number": doc.release_number,
        "contract_number": doc.contract_number,
        "currency": w.rules.code_to_partner("currency", doc.currency) if doc.currency else None,
        **{name: w.date(name, dates.get(q)) for name, q in ORDER_DATES.items()},
        "total_amount": doc.totals.total_amount.amount if doc.totals and doc.totals.total_amount else None,
        "notes": [n.text for n in doc.notes],
        **w.party(doc.parties, ("buyer", "ship_to", "bill_to", "vendor")),
    }
    lines = []
    for line in doc.lines:
        line_dates = {d.qualifier: d.date for d in line.dates}
        lines.append(
            {
                "line_number": line.line_number,
                **_item(line.item),
                "quantity": line.quantity_ordered.value,
                "unit": w.unit(line.quantity_ordered.unit),
                "unit_price": line.unit_price.amount if line.unit_price else None,
                "requested_delivery_date": w.date("lines.requested_delivery_date", line_dates.get("002")),
            }
        )
    values["lines"] = lines
    return values


def _ack(w: _Writer, doc: PurchaseOrderAck) -> Values:
    values: Values = {
        "po_number": doc.po_number,
        "po_date": w.date("po_date", doc.po_date),
        "purpose": doc.purpose,
        "ack_type": w.rules.code_to_partner("ack_type", doc.ack_type.value),
        "ack_number": doc.ack_number,
        "ack_date": w.date("ack_date", doc.ack_date),
        "release_number": doc.release_number,
        "contract_number": doc.contract_number,
        "currency": w.rules.code_to_partner("currency", doc.currency) if doc.currency else None,
        "notes": [n.text for n in doc.notes],
        **w.party(doc.parties, ("buyer", "ship_to", "bill_to", "vendor")),
    }
    lines: list[Values] = []
    for line in doc.lines:
        ordered = line.quantity_ordered
        data: Values = {
            "line_number": line.line_number,
            **_item(line.item),
            "quantity_ordered": ordered.value if ordered else None,
            "unit": w.unit(ordered.unit) if ordered else None,
            "unit_price": line.unit_price.amount if line.unit_price else None,
        }
        acks = [_line_ack(w, a) for a in line.acks]
        single = len(acks) == 1 and (ordered is None or acks[0].get("unit") in (None, data["unit"]))
        if single:
            unit = acks[0].pop("unit", None)
            data.update(acks[0], unit=data["unit"] or unit)
        elif acks and "lines.acks" not in w.fields:
            number = line.line_number or len(lines) + 1
            raise MappingError(
                f"line {number} has {len(acks)} statuses, but the partner's shape has one per line "
                "(json_fields lists no lines.acks)",
                field="json_fields.lines.acks",
            )
        elif acks:
            data["acks"] = acks
        lines.append(data)
    values["lines"] = lines
    return values


def _line_ack(w: _Writer, ack: Any) -> Values:
    out: Values = {"status": w.rules.code_to_partner("line_status", ack.status.value)}
    if ack.quantity is not None:
        out["quantity"] = ack.quantity.value
        out["unit"] = w.unit(ack.quantity.unit)
    if ack.date is not None:
        name = next((n for n, q in ACK_DATES.items() if q == ack.date.qualifier), None)
        if name is None:
            raise MappingError(
                f"line acknowledgement date qualifier {ack.date.qualifier!r} has no JSON name "
                f"({', '.join(f'{q} {n}' for n, q in ACK_DATES.items())})",
                field="lines.acks.date",
            )
        out[name] = w.date(f"lines.{name}", ack.date.date)
    return out


def _set(out: dict[str, Any], parts: list[str], value: Any, setting: str) -> None:
    node: Any = out
    for index, part in enumerate(parts[:-1]):
        nxt: Any = [] if parts[index + 1].isdigit() else {}
        if isinstance(node, list) and part.isdigit():
            position = int(part)
            while len(node) <= position:
                node.append(None)
            if node[position] is None:
                node[position] = nxt
            node = node[position]
        elif isinstance(node, dict):
            node = node.setdefault(part, nxt)
        else:
            raise MappingError(f"{setting}: {'.'.join(parts)} crosses a value already written", field=setting)
    last = parts[-1]
    if isinstance(node, list) and last.isdigit():
        while len(node) <= int(last):
            node.append(None)
        node[int(last)] = value
    elif isinstance(node, dict):
        node[last] = value
    else:
        raise MappingError(f"{setting}: {'.'.join(parts)} crosses a value already written", field=setting)


def _restore(out: Any, parts: list[str], value: Any) -> None:
    """Put a partner's own field back at its JSON pointer, unless that place is taken or cannot exist."""
    node = out
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if isinstance(node, dict):
            if last:
                node.setdefault(part, value)
                return
            node = node.setdefault(part, [] if parts[index + 1].isdigit() else {})
        elif isinstance(node, list) and part.isdigit() and int(part) <= len(node):
            position = int(part)
            if position == len(node):
                node.append(value if last else ([] if parts[index + 1].isdigit() else {}))
                if last:
                    return
            elif last:
                return
            node = node[position]
        else:
            return


def dumps(value: Any) -> str:
    """Compact JSON with every Decimal as the exact JSON number it is (never a binary float)."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise MappingError(f"{value} is not a JSON number")
        return format(value, "f")
    if isinstance(value, dict):
        return (
            "{"
            + ",".join(f"{json.dumps(str(k), ensure_ascii=False)}:{dumps(v)}" for k, v in value.items())
            + "}"
        )
    if isinstance(value, list | tuple):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)
