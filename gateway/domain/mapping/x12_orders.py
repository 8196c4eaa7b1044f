"""X12 850 (purchase order), 855 (acknowledgement) and 810 (invoice) -> canonical documents.

The three share one shape: a heading (BEG / BAK / BIG, CUR, REF, PER, FOB, ITD, DTM,
TD5/TD3/TD1, SAC, TXI, NTE, N1 loops), a line loop (PO1 / IT1 with PID, PO4, SAC, TXI,
DTM, REF, N1, ACK ...) and a summary (CTT, AMT; TDS, CAD, ISS, SAC, TXI for the 810).
Versions 004010 and 005010 (and VICS usage) share these segments.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel

from gateway.domain.canonical import (
    AckLine,
    AckType,
    DocumentHeader,
    Invoice,
    InvoiceLine,
    ItemIdentifiers,
    OrderLine,
    Price,
    PurchaseOrder,
    PurchaseOrderAck,
    Quantity,
)
from gateway.domain.mapping import x12_fast
from gateway.domain.mapping.construct import Invalid, build, fixed, make, maker
from gateway.domain.mapping.errors import MappingError
from gateway.domain.mapping.rules import LINE_PREFIX, Rules
from gateway.domain.mapping.x12_read import Walker
from gateway.domain.mapping.x12_values import SegmentRef
from gateway.domain.mapping.x12_walk import LINE_FIELDS, Doc, FastHandler, item_ids, pair_positions

__all__ = ["OrderReader"]

_HEAD = frozenset(
    {"dates", "references", "parties", "terms", "fob", "carrier", "allowances_charges", "notes"}
)
_LINE = frozenset(
    {"dates", "references", "parties", "allowances_charges", "taxes", "notes", "pack", "carrier"}
)
_SUMMARY = frozenset({"allowances_charges", "taxes", "notes", "carrier"})
_ACK_TYPES = frozenset(t.value for t in AckType)
_make_item = maker(ItemIdentifiers)


def _built(line: Doc) -> bool:
    """Whether every value of ``line`` but its number is a model or a list of models."""
    for key, value in line.items():
        if key == "line_number" or isinstance(value, BaseModel):
            continue
        if not isinstance(value, list):
            return False
        for item in value:
            if not isinstance(item, BaseModel):
                return False
    return True


class _Kind:
    def __init__(
        self,
        model: type[BaseModel],
        line_model: type[BaseModel],
        line_id: str,
        quantity: str,
        head: frozenset[str],
        line: frozenset[str],
    ) -> None:
        self.model, self.line_id, self.quantity, self.head, self.line = model, line_id, quantity, head, line
        self.line_model = line_model
        #: The keys of a line whose values are all built models (or its checked number), as the line
        #: handlers and fast paths leave them: such a line is made without any further check.
        self.model_keys = frozenset({"line_number", quantity, "unit_price", "item", "pack"})
        #: Segments that close a line loop: the next line, or the summary.
        self.line_ends = frozenset({line_id, "CTT", "TDS"} if line_id == "IT1" else {line_id, "CTT"})
        #: Constructors by the line's keys, in order (see :func:`construct.fixed`).
        self.makers: dict[tuple[str, ...], Any] = {}
        #: Constructors of a whole line from the fast path, with the keys in the order its dict would have.
        self.whole_number_pack = fixed(line_model, "line_number", quantity, "unit_price", "item", "pack")
        self.whole_number = fixed(line_model, "line_number", quantity, "unit_price", "item")
        self.whole_pack = fixed(line_model, quantity, "unit_price", "item", "pack")
        self.whole_bare = fixed(line_model, quantity, "unit_price", "item")

    def make_line(self, line: Doc) -> BaseModel:
        keys = tuple(line)
        new = self.makers.get(keys)
        if new is None:
            new = self.makers[keys] = fixed(self.line_model, *keys)
        made: BaseModel = new(*line.values())
        return made


_KINDS = {
    "850": _Kind(PurchaseOrder, OrderLine, "PO1", "quantity_ordered", _HEAD | {"taxes", "td1"}, _LINE),
    "855": _Kind(PurchaseOrderAck, AckLine, "PO1", "quantity_ordered", _HEAD | {"td1"}, _LINE),
    "810": _Kind(Invoice, InvoiceLine, "IT1", "quantity_invoiced", _HEAD | {"taxes"}, _LINE - {"carrier"}),
}


class OrderReader(Walker):
    """Reads one 850, 855 or 810 body into its canonical document."""

    fast: ClassVar[dict[str, FastHandler]] = {
        "PO1": x12_fast.line, "IT1": x12_fast.line, "PID": x12_fast.product_description, "PO4": x12_fast.pack,
    }  # fmt: skip

    def __init__(
        self, set_id: str, rules: Rules, component: str, header: DocumentHeader, element: str = "*"
    ) -> None:
        super().__init__(rules, component, element)
        self.kind = _KINDS[set_id]
        self.set_id = set_id
        self.model = self.kind.model
        self.doc: Doc = {"header": header}
        self.target, self.caps = self.doc, self.kind.head
        self.head_captured: dict[str, Any] = {}
        self.captured = self.head_captured
        self.header_seen = False
        self.in_summary = False
        #: Whether the PO1 fast path may read a whole line ahead and make its model at once: not when a
        #: deviation may act on the segments of a line (field sources, ignored segments, line defaults).
        self.whole_lines = not (
            rules.field_sources or rules.ignore_any or any(p.startswith(LINE_PREFIX) for p in rules.defaults)
        )
        #: The code maps the line fast path reads with (None when the partner has none).
        self.uom_map = rules.code_in.get("uom")
        self.basis_map = rules.code_in.get("price_basis")

    def finish(self) -> BaseModel:
        if self.head_captured:
            self.apply_sources(self.doc, self.head_captured, self.model)
        for line, captured in self.line_captures:
            if captured:
                self.apply_sources(line, captured, self.kind.line_model)
        if self.set_id != "855" and not self.doc.get("lines"):
            line_id = self.kind.line_id
            raise MappingError(f"{self.set_id} has no {line_id} line item", segment_id=line_id)
        self.defaults(self.doc, self.model)
        kind = self.kind
        line_model, make_line, model_keys = kind.line_model, kind.make_line, kind.model_keys
        # Lines whose values a field source or a default may have changed are checked value by value.
        touched = bool(self.line_captures) or any(p.startswith(LINE_PREFIX) for p in self.rules.defaults)
        lines = []
        for line, position in zip(self.line_dicts, self.line_positions, strict=True):
            if type(line) is not dict:  # made whole by the fast path (see x12_fast._complete)
                lines.append(line)
                continue
            item = line["item"]
            if not item:
                raise self.ref_at(position).fail(None, "item", "has no item identifier and no description")
            if "other" in item or touched:
                line["item"] = self._item_model(item, self.ref_at(position))
            else:  # every value was checked where it was read (the line handler, its fast path, PID)
                line["item"] = _make_item(item)
            if (touched or not line.keys() <= model_keys) and not _built(line):
                try:
                    lines.append(build(line_model, line))
                except Invalid as exc:
                    raise self.explain(exc) from None
                continue
            number = line.get("line_number")
            if number is not None and not x12_fast.line_number_ok(number):
                raise self.ref_at(position).fail(
                    1, "line_number", "is not a line number (1-20 letters, digits, . _ / -)", number
                )
            lines.append(make_line(line))
        if lines:
            self.doc["lines"] = lines
        return self.validate(self.doc)

    # --- heading ------------------------------------------------------------------------------------------

    def _fill(self, ref: SegmentRef, fields: dict[str, int], dates: frozenset[str]) -> None:
        for name, n in fields.items():
            if name in dates:
                if ref.get(n):
                    self.doc[name] = ref.date(n, name)
            elif value := ref.opt(n):
                self.doc[name] = value
        self.note(self.doc, ref, fields)

    def _begin(self, ref: SegmentRef, wanted: str) -> bool:
        if self.set_id != wanted or self.header_seen:
            self.keep(ref)
            return False
        self.header_seen = True
        return True

    def beg(self, ref: SegmentRef) -> None:
        if self._begin(ref, "850"):
            fields = {
                "purpose": 1,
                "order_type": 2,
                "po_number": 3,
                "release_number": 4,
                "po_date": 5,
                "contract_number": 6,
            }
            self._fill(ref, fields, frozenset({"po_date"}))
            self.overlay(ref, self.doc, frozenset(fields.values()), None)

    def bak(self, ref: SegmentRef) -> None:
        if not self._begin(ref, "855"):
            return
        fields = {
            "purpose": 1,
            "po_number": 3,
            "po_date": 4,
            "release_number": 5,
            "contract_number": 7,
            "ack_number": 8,
            "ack_date": 9,
        }
        self._fill(ref, fields, frozenset({"po_date", "ack_date"}))
        mapped = set(fields.values())
        ack_type = self.rules.code("ack_type", ref.get(2))
        if ack_type in _ACK_TYPES:
            self.doc["ack_type"] = ack_type
            mapped.add(2)
        else:  # not a canonical acknowledgement type: ZZ, with the partner's code kept in the overlay
            self.doc["ack_type"] = "ZZ"
        self.overlay(ref, self.doc, frozenset(mapped), None)

    def big(self, ref: SegmentRef) -> None:
        if self._begin(ref, "810"):
            fields = {
                "invoice_date": 1,
                "invoice_number": 2,
                "po_date": 3,
                "po_number": 4,
                "release_number": 5,
                "transaction_type": 7,
                "purpose": 8,
            }
            self._fill(ref, fields, frozenset({"invoice_date", "po_date"}))
            self.overlay(ref, self.doc, frozenset(fields.values()), None)

    def cur(self, ref: SegmentRef) -> None:
        if self.target is not self.doc or "currency" in self.doc or not ref.get(2):
            return self.keep(ref)
        self.doc["currency"] = self.rules.code("currency", ref.get(2))
        self.note(self.doc, ref, {"currency": 2})
        mapped = frozenset({1, 2}) if ref.get(1) in ("", "BY") else frozenset({2})
        self.overlay(ref, self.doc, mapped, None)
        return None

    # --- lines ----------------------------------------------------------------------------------------------

    def line(self, ref: SegmentRef) -> None:
        if ref.id != self.kind.line_id or self.in_summary:
            return self.keep(ref)
        v = ref.padded(5)
        line: Doc = {}
        mapped = {1, 2, 3, 4, 5}
        if v[0]:
            line["line_number"] = v[0]
        if not v[1]:
            if self.set_id != "855":
                raise ref.fail(2, "quantity", "is missing")
            mapped.discard(3)
        else:
            qty: Doc = {"value": ref.dec(2, "quantity")}
            if v[2]:
                qty["unit"] = ref.code(3, "unit", self.rules.code("uom", v[2]))
            line[self.kind.quantity] = make(Quantity, qty)
        if not v[3]:
            mapped.discard(5)
        else:
            unit_price: Doc = {"amount": ref.dec(4, "unit_price")}
            if v[4]:
                unit_price["basis"] = ref.code(5, "basis", self.rules.code("price_basis", v[4]))
            line["unit_price"] = make(Price, unit_price)
        pairs, positions, loose = pair_positions(ref.v, 6)
        self.check_pairs(ref, 6)
        line["item"] = self.note(item_ids(pairs), ref, positions)
        self.note(line, ref, LINE_FIELDS)
        if loose or len(mapped) < 5:
            self.overlay(ref, line, frozenset(mapped), ref.id, pairs_from=6)
        self.doc.setdefault("lines", []).append(line)
        self.line_dicts.append(line)
        self.line_positions.append(ref.pos)
        self.target, self.caps, self.loop, self.party = line, self.kind.line, ref.id, None
        self.open_line(line)
        return None

    def ack(self, ref: SegmentRef) -> None:
        line = self.target
        status = self.line_status(ref.get(1))
        pairs, positions, _ = pair_positions(ref.v, 7)
        if (
            self.set_id != "855"
            or "item" not in line
            or status is None
            or self.unclean(ref, frozenset({1, 2, 3, 4, 5, *positions.values()}))
            or bool(ref.get(4)) != bool(ref.get(5))
            or (ref.get(3) and not ref.get(2))
        ):
            return self.keep(ref)
        ack: Doc = {"status": status}
        if ref.get(2):
            qty: Doc = {"value": ref.dec(2, "quantity")}
            if unit := ref.opt(3):
                qty["unit"] = self.rules.code("uom", unit)
            ack["quantity"] = self.note(qty, ref, {"value": 2, "unit": 3})
        if ref.get(5):
            date = {"qualifier": self.rules.code("date_qualifier", ref.get(4)), "date": ref.date(5, "date")}
            ack["date"] = self.note(date, ref, {"qualifier": 4, "date": 5})
        if pairs:
            self.check_pairs(ref, 7)
            ack["item"] = self.note(item_ids(pairs), ref, {})
        line.setdefault("acks", []).append(self.note(ack, ref, {"status": 1}))
        return None

    # --- summary --------------------------------------------------------------------------------------------

    def _summary(self) -> Doc:
        self.in_summary = True
        self.captured = None
        self.target, self.caps, self.loop, self.party = self.doc, _SUMMARY, "summary", None
        totals: Doc = self.doc.setdefault("totals", {})
        return totals

    def ctt(self, ref: SegmentRef) -> None:
        totals = self._summary()
        if self.unclean(ref, frozenset({1, 2})) or "line_count" in totals or not (ref.get(1) or ref.get(2)):
            return self.keep(ref)
        if ref.get(1):  # CTT01 is mandatory; without it, the writer states the number of lines
            totals["line_count"] = ref.integer(1, "line_count")
        if ref.get(2):
            totals["quantity_total"] = ref.dec(2, "quantity_total")
        self.note(totals, ref, {"line_count": 1, "quantity_total": 2})
        return None

    def amt(self, ref: SegmentRef) -> None:
        if (
            self.target is not self.doc
            or self.unclean(ref, frozenset({1, 2}))
            or not ref.get(1)
            or not ref.get(2)
        ):
            return self.keep(ref)
        amount = {"qualifier": ref.get(1), "amount": ref.dec(2, "amount")}
        totals = self.doc.setdefault("totals", {})
        totals.setdefault("amounts", []).append(self.note(amount, ref, {"qualifier": 1, "amount": 2}))
        return None

    def tds(self, ref: SegmentRef) -> None:
        if self.set_id != "810" or self.in_summary or self.unclean(ref, frozenset({1, 2, 3, 4})):
            self._summary()
            return self.keep(ref)
        totals = self._summary()
        totals["total_amount"] = self.note({"amount": ref.implied(1, "total_amount")}, ref, {"amount": 1})
        for n in (2, 3, 4):
            if ref.get(n):
                amount = {"qualifier": f"TDS0{n}", "amount": ref.implied(n, "amount")}
                totals.setdefault("amounts", []).append(self.note(amount, ref, {"amount": n}))
        return None

    def cad(self, ref: SegmentRef) -> None:
        scac = ref.get(4)
        if (
            id(self.doc) in self.td5_done
            or self.unclean(ref, frozenset({1, 4, 5}))
            or (scac and not (scac.isalpha() and scac.isupper() and 2 <= len(scac) <= 4))
            or not any(ref.seg.elements)
        ):
            return self.keep(ref, self.doc, "summary" if self.in_summary else None)
        self.td5_done.add(id(self.doc))
        carrier = self.doc.setdefault("carrier", {})
        if mode := ref.opt(1):
            carrier["mode"] = self.rules.code("transport_mode", mode)
        if scac:
            carrier["scac"] = self.rules.code("carrier", scac)
        if routing := ref.opt(5):
            carrier["routing"] = routing
        self.note(carrier, ref, {"mode": 1, "scac": 4, "routing": 5})
        return None

    def iss(self, ref: SegmentRef) -> None:
        totals: dict[str, Any] = self.doc.get("totals") or {}
        if (
            self.set_id != "810"
            or self.unclean(ref, frozenset({1, 2, 3, 4}))
            or not ref.get(1).isdigit()
            or bool(ref.get(3)) != bool(ref.get(4))
            or any(k in totals for k in ("package_count", "packaging_code", "weight"))
        ):
            return self.keep(ref, self.doc, "summary" if self.in_summary else None)
        totals = self.doc.setdefault("totals", {})
        totals["package_count"] = int(ref.get(1))
        if unit := ref.opt(2):
            totals["packaging_code"] = unit
        self.note(totals, ref, {"package_count": 1, "packaging_code": 2})
        if ref.get(3):
            weight = {"value": ref.dec(3, "weight"), "unit": self.rules.code("uom", ref.get(4))}
            totals["weight"] = self.note(weight, ref, {"value": 3, "unit": 4})
        return None


OrderReader.handlers = {
    **Walker.handlers, "BEG": OrderReader.beg, "BAK": OrderReader.bak, "BIG": OrderReader.big,
    "CUR": OrderReader.cur, "PO1": OrderReader.line, "IT1": OrderReader.line, "ACK": OrderReader.ack,
    "CTT": OrderReader.ctt, "AMT": OrderReader.amt, "TDS": OrderReader.tds, "CAD": OrderReader.cad,
    "ISS": OrderReader.iss,
}  # fmt: skip


def read_order(
    set_id: str, segments: list[Any], rules: Rules, component: str, header: DocumentHeader, element: str = "*"
) -> BaseModel:
    reader = OrderReader(set_id, rules, component, header, element)
    reader.walk(segments)
    if not reader.header_seen:
        begin = {"850": "BEG", "855": "BAK", "810": "BIG"}[set_id]
        raise MappingError(f"{set_id} has no {begin} segment", segment_id=begin)
    return reader.finish()
