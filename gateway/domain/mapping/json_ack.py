"""Supplier JSON -> canonical :class:`~gateway.domain.canonical.PurchaseOrderAck` (``poack_json``).

The default shape (``mappings/json-poack.yaml`` writes it out): the acknowledged order
(``po_number``, ``po_date``), ``ack_type`` (a BAK02 code such as ``AC``; partner words go
through ``code_maps.ack_type``), ``ack_number``, ``ack_date``, parties as in the order shape,
and ``lines``, each with the item, ``quantity_ordered`` and ``unit``, ``unit_price``, and its
acknowledgement: ``status`` (an ACK01 code, or a partner word through ``code_maps.line_status``),
``quantity`` (the quantity that status applies to), ``ship_date`` or ``delivery_date`` (the
scheduled date, ACK04 ``068`` / ``067``). A line split over several statuses lists them in
``acks`` (each with ``status``, ``quantity``, ``unit``, ``ship_date``, ``delivery_date``).
A line with no status is acknowledged by the document's ``ack_type`` alone.
"""

from __future__ import annotations

from gateway.domain.canonical import AckType, DocumentHeader, LineStatus
from gateway.domain.mapping.json_build import Builder, Doc
from gateway.domain.mapping.json_source import JsonSource

__all__ = ["ACK_DATES", "purchase_order_ack"]

#: Scheduled dates of a line acknowledgement: JSON name -> ACK04 date qualifier.
ACK_DATES = {"ship_date": "068", "delivery_date": "067"}
_ACK_TYPES = frozenset(t.value for t in AckType)
_LINE_STATUSES = frozenset(s.value for s in LineStatus)


def purchase_order_ack(b: Builder, header: DocumentHeader, roles: tuple[str, ...]) -> Doc:
    src, rules = b.src, b.rules
    doc: Doc = {
        "header": header,
        "po_number": src.text("po_number", required=True),
        "po_date": src.date("po_date", required=True),
    }
    if (ack_type := src.text("ack_type")) is not None:
        code = rules.code("ack_type", ack_type)
        if code not in _ACK_TYPES:
            raise src.fail(
                "ack_type",
                "is not a BAK02 acknowledgement type (map partner words in code_maps.ack_type)",
                ack_type,
            )
        doc["ack_type"] = code
    elif "ack_type" not in rules.defaults:
        raise src.fail("ack_type", "is missing (or set defaults.ack_type)")
    for name in ("purpose", "release_number", "contract_number", "ack_number"):
        if (value := src.text(name)) is not None:
            doc[name] = value
    if (ack_date := src.date("ack_date")) is not None:
        doc["ack_date"] = ack_date
    if (currency := src.text("currency")) is not None:
        doc["currency"] = rules.code("currency", currency.upper())
    names = (
        "po_number",
        "po_date",
        "ack_type",
        "purpose",
        "release_number",
        "contract_number",
        "ack_number",
        "ack_date",
        "currency",
    )
    b.note(doc, src, {n: n for n in names})
    if parties := b.parties(roles):
        doc["parties"] = parties
    lines = []
    for index, line in enumerate(src.each("lines"), start=1):
        data: Doc = {"line_number": line.text("line_number") or str(index), "item": b.item(line)}
        if (ordered := b.quantity(line, "quantity_ordered", required=False)) is not None:
            data["quantity_ordered"] = ordered
        if (price := line.decimal("unit_price")) is not None:
            data["unit_price"] = b.note({"amount": price}, line, {"amount": "unit_price"})
        acks = [_ack(b, each) for each in line.each("acks")]
        if not acks and line.has("status"):
            acks = [_ack(b, line)]
        elif not acks and (line.has("quantity") or any(line.has(n) for n in ACK_DATES)):
            raise line.fail("status", "is missing: a quantity or date acknowledged needs a status")
        if acks:
            data["acks"] = acks
        lines.append(b.note(data, line, {"line_number": "line_number", "item": "sku"}))
    if lines:
        doc["lines"] = lines
    notes = src.strings("notes")
    if notes:
        doc["notes"] = [{"text": n} for n in notes]
    return doc


def _ack(b: Builder, src: JsonSource) -> Doc:
    text = src.text("status", required=True)
    assert text is not None
    status = b.rules.code("line_status", text)
    if status not in _LINE_STATUSES:
        raise src.fail(
            "status", "is not an ACK01 line status (map partner words in code_maps.line_status)", text
        )
    ack: Doc = {"status": status}
    if (quantity := b.quantity(src, "quantity", required=False)) is not None:
        ack["quantity"] = quantity
    for name, qualifier in ACK_DATES.items():
        if (when := src.date(name)) is not None:
            if "date" in ack:
                raise src.fail(
                    name, "a line acknowledgement has one scheduled date (ship_date or delivery_date)"
                )
            ack["date"] = b.note({"qualifier": qualifier, "date": when}, src, {"date": name})
    return b.note(ack, src, {"status": "status", "quantity": "quantity"})
