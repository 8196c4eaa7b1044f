"""Canonical documents -> X12 transaction sets: 850, 855, 810 and 856 (ST..SE, SE01 counted).

Segment order follows the 004010/005010 tables of each set; partner deviations apply on
the way out: codes and N101 roles translated back (``code_maps``, ``party_roles``), missing
fields filled (``defaults``), a field also written where the partner reads it
(``field_sources``, e.g. ``po_number: REF*PO``), and ``ignore_segments`` never sent.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ValidationError

from edi.model import Segment, TransactionSet
from edi.writer import build_transaction
from gateway.domain.canonical import (
    Invoice,
    ItemLevel,
    Level,
    OrderLevel,
    OtherLevel,
    PackLevel,
    PurchaseOrder,
    PurchaseOrderAck,
    SegmentExtension,
    ShipmentLevel,
    ShipNotice,
    children,
    walk,
)
from gateway.domain.mapping.errors import MappingError
from gateway.domain.mapping.rules import FieldSource, Rules
from gateway.domain.mapping.x12_values import fmt_date, fmt_implied, fmt_time
from gateway.domain.mapping.x12_write import Emitter

__all__ = ["to_x12"]

_BEGIN = {"850": "BEG", "855": "BAK", "810": "BIG", "856": "BSN"}
_SET_IDS = {PurchaseOrder: "850", PurchaseOrderAck: "855", Invoice: "810", ShipNotice: "856"}
_ORDER_FIELDS = frozenset(OrderLevel.model_fields) - {"level", "hl"}


def _with_defaults(doc: BaseModel, rules: Rules) -> BaseModel:
    wanted = {
        k: v for k, v in rules.defaults.items() if k in type(doc).model_fields and getattr(doc, k) is None
    }
    if not wanted:
        return doc
    try:
        return type(doc).model_validate({**dict(doc), **wanted})
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        path = ".".join(str(p) for p in error["loc"])
        raise MappingError(f"defaults.{path}: {error['msg']}", field=f"defaults.{path}") from None


def _value(obj: object, path: str) -> str | None:
    for part in path.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    if isinstance(obj, dt.date):
        return fmt_date(obj)
    return str(obj)


def _place(out: list[Segment], src: FieldSource, value: str, start: int, end: int) -> None:
    """Write ``value`` at ``src`` within ``out[start:end]`` unless it is already there."""
    area = out[start:end]
    if src.qualifier is not None:
        if any(s.id == src.segment and s.get(1) == src.qualifier and s.get(2) == value for s in area):
            return
        same = [i for i, s in enumerate(area) if s.id == src.segment]
        at = start + (same[-1] + 1 if same else 1)
        out.insert(at, Segment(src.segment, [src.qualifier, value]))
        return
    assert src.element is not None
    target = next((s for s in area if s.id == src.segment), None)
    if target is None:
        target = Segment(src.segment, [])
        out.insert(start + 1, target)
    elements = target.elements
    if len(elements) < src.element:
        elements.extend([""] * (src.element - len(elements)))
    if src.component is None:
        elements[src.element - 1] = value
    else:
        parts = elements[src.element - 1].split(":") if elements[src.element - 1] else []
        parts.extend([""] * (src.component - len(parts)))
        parts[src.component - 1] = value
        elements[src.element - 1] = ":".join(parts)


def _orders(doc: PurchaseOrder | PurchaseOrderAck | Invoice, set_id: str, e: Emitter) -> int:
    """Write an 850/855/810 body; return the index where the heading ends."""
    overlays, heading = e.split(doc.extensions, (_BEGIN[set_id], "CUR"), (None,))
    _, summary = e.split(doc.extensions, (), ("summary",))
    if isinstance(doc, PurchaseOrder):
        e.structural("BEG", overlays, doc.purpose, doc.order_type, doc.po_number, doc.release_number,
                     fmt_date(doc.po_date), doc.contract_number)  # fmt: skip
    elif isinstance(doc, PurchaseOrderAck):
        e.structural(
            "BAK", overlays, doc.purpose, doc.ack_type.value, doc.po_number, fmt_date(doc.po_date),
            doc.release_number, "", doc.contract_number, doc.ack_number, fmt_date(doc.ack_date),
        )  # fmt: skip
    else:
        e.structural("BIG", overlays, fmt_date(doc.invoice_date), doc.invoice_number, fmt_date(doc.po_date),
                     doc.po_number, doc.release_number, "", doc.transaction_type, doc.purpose)  # fmt: skip
    if doc.currency is not None or overlays.get("CUR"):
        currency = e.rules.code_to_partner("currency", doc.currency) if doc.currency else ""
        e.structural("CUR", overlays, "BY", currency)
    e.references(doc.references, doc.carrier)
    if not isinstance(doc, Invoice):
        e.fob(doc.fob)
        e.allowances(doc.allowances_charges)
    if isinstance(doc, PurchaseOrder):
        e.taxes(doc.taxes)
    e.terms(doc.terms)
    e.dates(doc.dates)
    if isinstance(doc, Invoice):
        e.fob(doc.fob)
        e.carrier(doc.carrier.model_copy(update={"scac": None, "mode": None, "routing": None})
                  if doc.carrier else None)  # fmt: skip
    else:
        e.td1(doc.totals)
        e.carrier(doc.carrier)
    e.notes(doc.notes)
    e.wholes(heading)
    e.parties(doc.parties)
    heading_end = len(e.out)
    for line in doc.lines:
        line_id = "IT1" if isinstance(doc, Invoice) else "PO1"
        line_overlays, rest = e.split(line.extensions, (line_id,))
        qty = getattr(line, "quantity_invoiced" if isinstance(doc, Invoice) else "quantity_ordered")
        price = line.unit_price
        basis = e.rules.code_to_partner("price_basis", price.basis) if price and price.basis else ""
        e.structural(line_id, line_overlays, line.line_number, qty.value if qty else "",
                     e.uom(qty.unit) if qty else "", price.amount if price else "", basis,
                     *e.item_pairs(line.item))  # fmt: skip
        e.description(line.item)
        e.pack(line.pack)
        carrier = getattr(line, "carrier", None)
        e.references(line.references, carrier)
        e.dates(line.dates)
        e.allowances(line.allowances_charges)
        e.taxes(line.taxes)
        e.notes(line.notes)
        e.carrier(carrier)
        e.wholes(rest)
        e.parties(line.parties)
        for ack in getattr(line, "acks", []):
            status = e.rules.code_to_partner("line_status", ack.status.value)
            q, d = ack.quantity, ack.date
            pairs = e.item_pairs(ack.item) if ack.item is not None else []
            e.seg("ACK", status, q.value if q else "", e.uom(q.unit) if q else "", d.qualifier if d else "",
                  fmt_date(d.date) if d else "", "", *pairs)  # fmt: skip
    totals = doc.totals
    if isinstance(doc, Invoice):
        totals = doc.totals
        tds = {a.qualifier: a.amount for a in totals.amounts if a.qualifier in ("TDS02", "TDS03", "TDS04")}
        e.seg(
            "TDS",
            fmt_implied(doc.total_amount.amount),
            *(fmt_implied(tds.get(f"TDS0{n}")) for n in (2, 3, 4)),
        )
        e.taxes(doc.taxes)
        c = doc.carrier
        if c is not None and (c.mode or c.scac or c.routing):
            scac = e.rules.code_to_partner("carrier", c.scac) if c.scac else ""
            mode = e.rules.code_to_partner("transport_mode", c.mode) if c.mode else ""
            e.seg("CAD", mode, "", "", scac, c.routing)
        e.allowances(doc.allowances_charges)
        if totals.package_count is not None or totals.weight is not None:
            w = totals.weight
            e.seg(
                "ISS",
                totals.package_count,
                totals.packaging_code,
                w.value if w else "",
                e.uom(w.unit) if w else "",
            )
    if totals is not None and totals.line_count is not None:
        e.seg("CTT", totals.line_count, totals.quantity_total)
    if totals is not None:
        for amount in totals.amounts:
            if not (isinstance(doc, Invoice) and amount.qualifier in ("TDS02", "TDS03", "TDS04")):
                e.seg("AMT", amount.qualifier, amount.amount)
    e.wholes(summary)
    return heading_end


def _hl_numbers(root: ShipmentLevel) -> dict[int, tuple[str, str, str]]:
    """id(level) -> (HL01, HL02, HL04): kept when every level has an HL, else numbered 1..n in tree order."""
    levels = list(walk(root))
    keep = all(level.hl is not None for level, _ in levels)
    numbers: dict[int, str] = {}
    out: dict[int, tuple[str, str, str]] = {}
    for index, (level, parent) in enumerate(levels, start=1):
        hid = level.hl.id if keep and level.hl is not None else str(index)
        numbers[id(level)] = hid
        parent_id = numbers[id(parent)] if parent is not None else ""
        if keep and level.hl is not None:
            child = level.hl.child_code or ""
        else:
            child = "1" if children(level) else "0"
        out[id(level)] = (hid, parent_id, child)
    return out


_CODES = {ShipmentLevel: "S", OrderLevel: "O", ItemLevel: "I"}


def _ship_notice(doc: ShipNotice, e: Emitter) -> list[tuple[int, int, OrderLevel]]:
    """Write an 856 body; return (start, end, order) index ranges for order-level field sources."""
    overlays, heading = e.split(doc.extensions, ("BSN",), (None,))
    _, summary = e.split(doc.extensions, (), ("summary",))
    e.structural("BSN", overlays, doc.purpose, doc.shipment_id, fmt_date(doc.shipment_date),
                 fmt_time(doc.shipment_time), doc.structure_code)  # fmt: skip
    e.wholes(heading)
    numbers = _hl_numbers(doc.shipment)
    orders: list[tuple[int, int, OrderLevel]] = []
    open_order: tuple[int, OrderLevel] | None = None
    for level, _parent in walk(doc.shipment):
        if open_order is not None:
            orders.append((open_order[0], len(e.out), open_order[1]))
            open_order = None
        hid, parent_id, child = numbers[id(level)]
        if isinstance(level, OtherLevel):
            e.seg("HL", hid, parent_id, level.hl.level_code, child)
            e.wholes(level.segments)
            continue
        code = "T" if isinstance(level, PackLevel) and level.level == "tare" else _CODES.get(type(level), "P")
        level_overlays, rest = e.split(level.extensions, ("HL", "PRF", "LIN", "SN1"))
        e.structural("HL", level_overlays, hid, parent_id, code, child)
        _level_body(level, e, level_overlays, rest)
        if isinstance(level, OrderLevel):
            open_order = (len(e.out), level)
    if open_order is not None:
        orders.append((open_order[0], len(e.out), open_order[1]))
    totals = doc.shipment.totals
    if totals is not None and totals.line_count is not None:
        e.seg("CTT", totals.line_count, totals.quantity_total)
    e.wholes(summary)
    return orders


def _level_body(level: Level, e: Emitter, overlays: dict[str, Any], rest: list[SegmentExtension]) -> None:
    if isinstance(level, ItemLevel):
        e.structural("LIN", overlays, level.line_number, *e.item_pairs(level.item))
        q, o = level.quantity_shipped, level.quantity_ordered
        e.structural("SN1", overlays, "", q.value, e.uom(q.unit), "", o.value if o else "",
                     e.uom(o.unit) if o else "", "", level.status)  # fmt: skip
        e.pack(level.pack)
        e.description(level.item)
    elif isinstance(level, OrderLevel):
        e.structural("PRF", overlays, level.po_number, level.release_number, "", fmt_date(level.po_date))
    elif isinstance(level, PackLevel):
        e.pack(level.pack)
    if isinstance(level, OtherLevel):
        return
    e.td1(level.totals)
    if isinstance(level, ShipmentLevel):
        e.carrier(level.carrier)
    if isinstance(level, PackLevel):
        for mark in level.marks:
            e.seg("MAN", mark.qualifier, mark.value)
    e.references(level.references, level.carrier if isinstance(level, ShipmentLevel) else None)
    e.dates(level.dates)
    if isinstance(level, ShipmentLevel):
        e.fob(level.fob)
    e.wholes(rest)
    e.parties(level.parties)


def to_x12(doc: BaseModel, rules: Rules, control_number: str) -> TransactionSet:
    """One ST..SE transaction set for ``doc`` (850, 855, 856 or 810)."""
    set_id = _SET_IDS.get(type(doc))
    if set_id is None:
        raise MappingError(f"{type(doc).__name__} documents are not written as X12", field="type")
    doc = _with_defaults(doc, rules)
    e = Emitter(rules)
    sources = rules.field_sources
    if isinstance(doc, ShipNotice):
        orders = _ship_notice(doc, e)
        for start, end, order in reversed(orders):
            for name, src in sources.items():
                if name in _ORDER_FIELDS and (value := _value(order, name)) is not None:
                    _place(e.out, src, value, start - 1, end)
        heading_end = next((i for i, s in enumerate(e.out) if s.id == "HL"), len(e.out))
        heading_sources = {k: v for k, v in sources.items() if k not in _ORDER_FIELDS}
    else:
        heading_end = _orders(doc, set_id, e)  # type: ignore[arg-type]
        heading_sources = sources
    for name, src in heading_sources.items():
        if (value := _value(doc, name)) is not None:
            _place(e.out, src, value, 0, heading_end)
    body = [s for i, s in enumerate(e.out) if i == 0 or not rules.ignored(s.id, s.get(1))]
    return build_transaction(set_id, control_number, body)
