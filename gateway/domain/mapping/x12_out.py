"""Canonical documents -> X12 transaction sets: 850, 855, 810 and 856 (ST..SE, SE01 counted).

Segments are written into table-ordered scopes (:mod:`.x12_scope`), so each set comes out
in its own 004010/005010 table order; the finished set is then validated against the
``edi`` schema, and anything the schema rejects is a :class:`MappingError` naming the
segment and element: we never hand a partner X12 we would reject ourselves. Partner
deviations apply on the way out: codes and N101 roles translated back (``code_maps``,
``party_roles``), missing fields filled (``defaults``), a field also written where the
partner reads it (``field_sources``, e.g. ``po_number: REF*PO``), and ``ignore_segments``
never sent.

Mandatory X12 elements that a canonical document may leave empty get documented defaults
(see docs/partners.md, "Outbound X12"): BEG02 ``SA`` (stand-alone order), BSN04 ``0000``,
SN103 ``EA``, a note without a code is ``N9*L1*GEN``, and CTT01 is the number of lines when
the totals carry amounts but no line count.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from enum import Enum
from typing import Any

from pydantic import BaseModel, ValidationError

from edi.delimiters import Delimiters
from edi.model import Segment, TransactionSet
from edi.validator import validate_transaction
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
    ShipmentLevel,
    ShipNotice,
    children,
    walk,
)
from gateway.domain.mapping.errors import MappingError
from gateway.domain.mapping.rules import Rules
from gateway.domain.mapping.x12_scope import set_table
from gateway.domain.mapping.x12_values import fmt_date, fmt_decimal, fmt_time
from gateway.domain.mapping.x12_walk import apply_default
from gateway.domain.mapping.x12_write import Emitter

__all__ = ["DEFAULT_ORDER_TYPE", "DEFAULT_SHIPMENT_TIME", "DEFAULT_UNIT", "to_x12"]

_BEGIN = {"850": "BEG", "855": "BAK", "810": "BIG", "856": "BSN"}
_SET_IDS = {PurchaseOrder: "850", PurchaseOrderAck: "855", Invoice: "810", ShipNotice: "856"}
_ORDER_FIELDS = frozenset(OrderLevel.model_fields) - {"level", "hl"}
_DELIMITERS = Delimiters()

#: BEG02 when a purchase order has no ``order_type`` (``SA``: stand-alone order).
DEFAULT_ORDER_TYPE = "SA"
#: BSN04 when a ship notice has no ``shipment_time``.
DEFAULT_SHIPMENT_TIME = "0000"
#: SN103 when a shipped quantity has no unit (``EA``: each).
DEFAULT_UNIT = "EA"


def _with_defaults(doc: BaseModel, rules: Rules) -> BaseModel:
    """``doc`` with the configured ``defaults`` filled in where it has no value (dotted paths reach
    into nested parts and every line); a default the model rejects is blamed on the setting."""
    if not rules.defaults:
        return doc
    data = doc.model_dump()
    filled = [apply_default(data, path.split("."), value) for path, value in rules.defaults.items()]
    if not any(filled):  # apply_default changes ``data`` only where it fills a value
        return doc
    try:
        return type(doc).model_validate(data)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        path = ".".join(str(p) for p in error["loc"] if not isinstance(p, int))
        raise MappingError(f"defaults.{path}: {error['msg']}", field=f"defaults.{path}") from None


def _value(obj: object, path: str) -> str | None:
    for part in path.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    if isinstance(obj, dt.date):
        return fmt_date(obj)
    if isinstance(obj, dt.time):
        return fmt_time(obj)
    if isinstance(obj, Decimal):
        return fmt_decimal(obj)
    if isinstance(obj, Enum):
        return str(obj.value)
    return str(obj)


def _place_all(e: Emitter, sources: dict[str, Any], obj: object) -> None:
    for name, src in sources.items():
        if (value := _value(obj, name)) is not None:
            e.place(src, value)


def _orders(doc: PurchaseOrder | PurchaseOrderAck | Invoice, set_id: str, e: Emitter) -> None:
    """Write an 850/855/810 body."""
    rules = e.rules
    invoice = isinstance(doc, Invoice)
    overlays, heading = e.split(doc.extensions, (_BEGIN[set_id], "CUR"), (None,))
    _, summary = e.split(doc.extensions, (), ("summary",))
    if isinstance(doc, PurchaseOrder):
        e.structural("BEG", overlays, doc.purpose, doc.order_type or DEFAULT_ORDER_TYPE, doc.po_number,
                     doc.release_number, fmt_date(doc.po_date), doc.contract_number)  # fmt: skip
    elif isinstance(doc, PurchaseOrderAck):
        e.structural(
            "BAK", overlays, doc.purpose, doc.ack_type.value, doc.po_number, fmt_date(doc.po_date),
            doc.release_number, "", doc.contract_number, doc.ack_number, fmt_date(doc.ack_date),
        )  # fmt: skip
    else:
        e.structural("BIG", overlays, fmt_date(doc.invoice_date), doc.invoice_number, fmt_date(doc.po_date),
                     doc.po_number, doc.release_number, "", doc.transaction_type, doc.purpose)  # fmt: skip
    if doc.currency is not None or overlays.get("CUR"):
        currency = rules.code_to_partner("currency", doc.currency) if doc.currency else ""
        e.structural("CUR", overlays, "BY", currency)
    e.references(doc.references, doc.carrier)
    e.fob(doc.fob)
    e.terms(doc.terms)
    e.dates(doc.dates)
    if invoice:
        carrier = doc.carrier
        if carrier is not None and (carrier.equipment or carrier.service_level):
            raise MappingError("an invoice's carrier equipment and service level have no segment in the 810 "
                               "(CAD carries mode, SCAC and routing)", field="carrier")  # fmt: skip
        e.notes(doc.notes)
    else:
        e.allowances(doc.allowances_charges)
        if isinstance(doc, PurchaseOrder):
            e.taxes(doc.taxes)
        e.td1(doc.totals)
        e.carrier(doc.carrier)
        e.messages(doc.notes)
    e.wholes(heading)
    e.parties(doc.parties)
    head_sources, line_sources = rules.head_sources, rules.line_sources
    _place_all(e, head_sources, doc)
    line_id = "IT1" if invoice else "PO1"
    for index, line in enumerate(doc.lines):
        with e.loop(line_id):
            _line(doc, line, line_id, e)
            _place_all(e, line_sources, line)
        if invoice and line.notes:
            raise MappingError("an 810 line has no note segment (no NTE or MSG in the IT1 loop); "
                               "put invoice notes on the document", field=f"lines.{index}.notes")  # fmt: skip
    totals = doc.totals
    if isinstance(doc, Invoice):
        _invoice_summary(doc, e)
    amounts = [
        a for a in (totals.amounts if totals else []) if not (invoice and a.qualifier.startswith("TDS0"))
    ]
    line_count = totals.line_count if totals is not None else None
    quantity_total = totals.quantity_total if totals is not None else None
    kept_ctt = any(ext.segment == "CTT" for ext in summary)
    if line_count is None and not kept_ctt and (quantity_total is not None or (amounts and not invoice)):
        line_count = len(doc.lines)  # CTT01 is mandatory where CTT carries a hash total or AMT follows
    if invoice:
        if line_count is not None:
            e.seg("CTT", line_count, quantity_total)
        for amount in amounts:
            e.seg("AMT", amount.qualifier, amount.amount)
        e.wholes(summary)
    elif line_count is not None or summary:
        with e.loop("CTT"):
            if line_count is not None:
                e.seg("CTT", line_count, quantity_total)
            for amount in amounts:
                e.seg("AMT", amount.qualifier, amount.amount)
            e.wholes(summary)


def _line(doc: PurchaseOrder | PurchaseOrderAck | Invoice, line: Any, line_id: str, e: Emitter) -> None:
    rules = e.rules
    line_overlays, rest = e.split(line.extensions, (line_id,))
    qty = line.quantity_invoiced if line_id == "IT1" else line.quantity_ordered
    price = line.unit_price
    basis = rules.code_to_partner("price_basis", price.basis) if price and price.basis else ""
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
    if line_id != "IT1":
        e.messages(line.notes)
    e.carrier(carrier)
    e.wholes(rest)
    e.parties(line.parties)
    for ack in getattr(line, "acks", []):
        status = rules.code_to_partner("line_status", ack.status.value)
        q, d = ack.quantity, ack.date
        pairs = e.item_pairs(ack.item) if ack.item is not None else []
        e.seg("ACK", status, q.value if q else "", e.uom(q.unit) if q else "", d.qualifier if d else "",
              fmt_date(d.date) if d else "", "", *pairs)  # fmt: skip


def _invoice_summary(doc: Invoice, e: Emitter) -> None:
    totals = doc.totals
    tds = {a.qualifier: a.amount for a in totals.amounts if a.qualifier in ("TDS02", "TDS03", "TDS04")}
    e.seg(
        "TDS",
        e.implied("TDS01", "totals.total_amount", doc.total_amount.amount),
        *(e.implied(f"TDS0{n}", f"totals.amounts.TDS0{n}", tds.get(f"TDS0{n}")) for n in (2, 3, 4)),
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


def _ship_notice(doc: ShipNotice, e: Emitter) -> None:
    """Write an 856 body."""
    if doc.notes:
        raise MappingError(
            "the 856 has no note segment (no NTE or MSG); a ship notice's notes cannot be sent", field="notes"
        )
    rules = e.rules
    overlays, heading = e.split(doc.extensions, ("BSN",), (None,))
    _, summary = e.split(doc.extensions, (), ("summary",))
    time = fmt_time(doc.shipment_time) if doc.shipment_time is not None else DEFAULT_SHIPMENT_TIME
    e.structural("BSN", overlays, doc.purpose, doc.shipment_id, fmt_date(doc.shipment_date), time,
                 doc.structure_code)  # fmt: skip
    e.wholes(heading)
    _place_all(e, {k: v for k, v in rules.head_sources.items() if k not in _ORDER_FIELDS}, doc)
    order_sources = {k: v for k, v in rules.head_sources.items() if k in _ORDER_FIELDS}
    numbers = _hl_numbers(doc.shipment)
    for level, _parent in walk(doc.shipment):
        hid, parent_id, child = numbers[id(level)]
        with e.loop("HL"):
            if isinstance(level, OtherLevel):
                e.seg("HL", hid, parent_id, level.hl.level_code, child)
                e.wholes(level.segments)
                continue
            tare = isinstance(level, PackLevel) and level.level == "tare"
            code = "T" if tare else _CODES.get(type(level), "P")
            level_overlays, rest = e.split(level.extensions, ("HL", "PRF", "LIN", "SN1"))
            e.structural("HL", level_overlays, hid, parent_id, code, child)
            _level_body(level, e, level_overlays)
            e.wholes(rest)
            e.parties(level.parties)
            if isinstance(level, OrderLevel):
                _place_all(e, order_sources, level)
    totals = doc.shipment.totals
    if totals is not None and totals.line_count is not None:
        e.seg("CTT", totals.line_count, totals.quantity_total)
    e.wholes(summary)


def _level_body(level: Level, e: Emitter, overlays: dict[str, Any]) -> None:
    if isinstance(level, ItemLevel):
        pairs = e.item_pairs(level.item)
        if not pairs and not overlays.get("LIN"):
            raise MappingError(
                f"item {level.line_number or ''}: LIN needs a product ID (LIN02/LIN03); the item has only a "
                "description", segment_id="LIN", element=2, field="item",
            )  # fmt: skip
        e.structural("LIN", overlays, level.line_number, *pairs)
        q, o = level.quantity_shipped, level.quantity_ordered
        e.structural("SN1", overlays, "", q.value, e.uom(q.unit) or DEFAULT_UNIT, "", o.value if o else "",
                     e.uom(o.unit) if o else "", "", level.status)  # fmt: skip
        e.pack(level.pack)
        e.description(level.item)
    elif isinstance(level, OrderLevel):
        e.structural("PRF", overlays, level.po_number, level.release_number, "", fmt_date(level.po_date))
    elif isinstance(level, PackLevel):
        e.pack(level.pack)
    assert not isinstance(level, OtherLevel)
    e.td1(level.totals)
    if isinstance(level, ShipmentLevel):
        e.carrier(level.carrier)
    e.references(level.references, level.carrier if isinstance(level, ShipmentLevel) else None)
    if isinstance(level, PackLevel):
        for mark in level.marks:
            e.seg("MAN", mark.qualifier, mark.value)
    e.dates(level.dates)
    if isinstance(level, ShipmentLevel):
        e.fob(level.fob)


def _validated(ts: TransactionSet, set_id: str, version: str | None, schema: Any) -> TransactionSet:
    findings = validate_transaction(ts.segments, _DELIMITERS, schema, interchange=1, group=1, transaction=1)
    errors = [f for f in findings if f.is_error]
    if not errors:
        return ts
    first = next((f for f in errors if f.location.element is not None), errors[0])
    loc = first.location
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    where = loc.segment_id or "ST"
    at = f"{where}{loc.element:02d}" if loc.element else where
    position = f" at segment {loc.segment_position}" if loc.segment_position else ""
    raise MappingError(
        f"the {set_id} written is not valid X12 {version or '004010'}: {at}{position}: {first.message}{more}",
        segment_id=where, segment_position=loc.segment_position, element=loc.element,
    )  # fmt: skip


def to_x12(doc: BaseModel, rules: Rules, control_number: str, version: str | None = None) -> TransactionSet:
    """One ST..SE transaction set for ``doc`` (850, 855, 856 or 810), valid against its ``version`` schema."""
    set_id = _SET_IDS.get(type(doc))
    if set_id is None:
        raise MappingError(f"{type(doc).__name__} documents are not written as X12", field="type")
    doc = _with_defaults(doc, rules)
    schema, table = set_table(set_id, version)
    e = Emitter(rules, table)
    if isinstance(doc, ShipNotice):
        _ship_notice(doc, e)
    else:
        _orders(doc, set_id, e)  # type: ignore[arg-type]
    body: Sequence[Segment] = [s for s in e.body() if not rules.ignored(s.id, s.get(1))]
    return _validated(build_transaction(set_id, control_number, body), set_id, version, schema)
