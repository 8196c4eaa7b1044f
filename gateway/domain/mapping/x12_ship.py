"""X12 856 (ship notice) -> canonical :class:`ShipNotice`, keeping the HL hierarchy.

Each HL becomes a level under its parent (HL02): ``S`` shipment, ``O`` order (PRF),
``T`` tare and ``P`` pack (MAN, PO4), ``I`` item (LIN, SN1, PID, PO4); TD1, REF, DTM and N1
loops attach to the level they follow, TD5/TD3/FOB to the shipment. A level whose code or
place has no typed home (``Q``, ``F``, an order under a pack ...) is carried as an
``OtherLevel`` with its segments whole, and so are its descendants, so any tree survives.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from gateway.domain.canonical import DocumentHeader, OrderLevel, ShipNotice
from gateway.domain.mapping.errors import MappingError
from gateway.domain.mapping.rules import Rules
from gateway.domain.mapping.x12_read import Walker
from gateway.domain.mapping.x12_values import SegmentRef
from gateway.domain.mapping.x12_walk import ITEM_FIELDS, Doc, item_ids

__all__ = ["read_ship_notice"]

_KINDS = {"S": "shipment", "O": "order", "T": "tare", "P": "pack", "I": "item"}
_BASE = frozenset({"dates", "references", "parties", "td1"})
_CAPS = {
    "shipment": _BASE | {"carrier", "fob"},
    "order": _BASE,
    "tare": _BASE | {"pack"},
    "pack": _BASE | {"pack"},
    "item": _BASE | {"pack"},
    "other": frozenset(),
}
#: parent kind -> child kind -> list it goes in.
_PLACES = {
    "shipment": {"order": "orders", "tare": "packs", "pack": "packs", "item": "items"},
    "order": {"tare": "packs", "pack": "packs", "item": "items"},
    "tare": {"tare": "packs", "pack": "packs", "item": "items"},
    "pack": {"tare": "packs", "pack": "packs", "item": "items"},
    "item": {"tare": "packs", "pack": "packs"},
    "other": {},
}
_ORDER_FIELDS = frozenset(OrderLevel.model_fields) - {"level", "hl"}


class ShipReader(Walker):
    model = ShipNotice

    def __init__(self, rules: Rules, component: str, header: DocumentHeader) -> None:
        super().__init__(rules, component)
        self.doc: Doc = {"header": header}
        self.target, self.caps = self.doc, frozenset()
        self.shipment: Doc | None = None
        self.levels: dict[str, tuple[Doc, str]] = {}
        if rules.line_sources:
            raise MappingError(
                f"field_sources.lines.{next(iter(rules.line_sources))}: an 856 has no lines; "
                "its items are HL levels", field="field_sources",
            )  # fmt: skip
        self.all_sources = dict(self.sources)
        self.sources = {k: v for k, v in self.all_sources.items() if k not in _ORDER_FIELDS}
        self.order_sources = {k: v for k, v in self.all_sources.items() if k in _ORDER_FIELDS}
        self.doc_captured: dict[str, Any] = {}
        self.captured = self.doc_captured
        self.order_captures: list[tuple[Doc, dict[str, Any]]] = []
        self.bsn_seen = False
        self.sink_ends = frozenset({"HL", "CTT"})

    def bsn(self, ref: SegmentRef) -> None:
        if self.bsn_seen:
            return self.keep(ref)
        self.bsn_seen = True
        fields = {"purpose": 1, "shipment_id": 2, "shipment_date": 3, "shipment_time": 4, "structure_code": 5}
        for name in ("purpose", "shipment_id", "structure_code"):
            if value := ref.opt(fields[name]):
                self.doc[name] = value
        if ref.get(3):
            self.doc["shipment_date"] = ref.date(3, "shipment_date")
        if ref.get(4):
            self.doc["shipment_time"] = ref.time(4, "shipment_time")
        self.note(self.doc, ref, fields)
        self.overlay(ref, self.doc, frozenset(fields.values()), None)
        return None

    def hl(self, ref: SegmentRef) -> None:
        hid, parent_id, code = ref.require(1, "hl.id"), ref.get(2), ref.get(3)
        if hid in self.levels:
            raise ref.fail(1, "hl.id", "is used twice", hid)
        parent = self.levels.get(parent_id) if parent_id else None
        if parent_id and parent is None:
            raise ref.fail(2, "hl.parent_id", "names no preceding HL", parent_id)
        hl: Doc = {"id": hid, "level_code": code}
        if parent_id:
            hl["parent_id"] = parent_id
        if child := ref.opt(4):
            hl["child_code"] = child
        self.note(hl, ref, {"id": 1, "parent_id": 2, "level_code": 3, "child_code": 4})
        kind = _KINDS.get(code, "other")
        if kind == "shipment" and (parent is not None or self.shipment is not None):
            kind = "other"
        if parent is None and kind != "shipment" and self.shipment is None:
            self.shipment = {"level": "shipment"}
        if parent is None and kind != "shipment":
            assert self.shipment is not None
            if "hl" in self.shipment:
                raise ref.fail(
                    2, "hl.parent_id", f"is empty, but the shipment is HL {self.shipment['hl']['id']}"
                )
            parent = (self.shipment, "shipment")
        place = _PLACES[parent[1]].get(kind) if parent is not None else None
        if parent is not None and place is None:
            kind = "other"
        level: Doc = {"level": kind if kind != "other" else "other", "hl": hl}
        self.note(level, ref, {"hl": 1})
        self.overlay(ref, level, frozenset({1, 2, 3, 4}), "HL") if kind != "other" else None
        if kind == "shipment":
            self.shipment = level
        elif parent is not None:
            parent_level, parent_kind = parent
            if kind == "other":
                key = "children" if parent_kind == "other" else "other_levels"
                level["segments"] = []
            else:
                assert place is not None
                key = place
            parent_level.setdefault(key, []).append(level)
        self.levels[hid] = (level, kind)
        self.target, self.caps, self.loop, self.party = level, _CAPS[kind], "HL", None
        self.sink = level["segments"] if kind == "other" else None
        if kind == "order":
            self.captured, self.sources = {}, self.order_sources
            self.order_captures.append((level, self.captured))
        else:
            self.captured = None

    def prf(self, ref: SegmentRef) -> None:
        if self.target.get("level") != "order" or "po_number" in self.target:
            return self.keep(ref)
        fields = {"po_number": 1, "release_number": 2, "po_date": 4}
        for name in ("po_number", "release_number"):
            if value := ref.opt(fields[name]):
                self.target[name] = value
        if ref.get(4):
            self.target["po_date"] = ref.date(4, "po_date")
        self.note(self.target, ref, fields)
        self.overlay(ref, self.target, frozenset(fields.values()), "HL")
        return None

    def man(self, ref: SegmentRef) -> None:
        if self.target.get("level") not in ("pack", "tare") or not ref.get(1) or not ref.get(2):
            return self.keep(ref)
        if self.unclean(ref, frozenset({1, 2})):
            return self.keep(ref)
        mark = self.note({"qualifier": ref.get(1), "value": ref.get(2)}, ref, {"qualifier": 1, "value": 2})
        self.target.setdefault("marks", []).append(mark)
        return None

    def lin(self, ref: SegmentRef) -> None:
        if self.target.get("level") != "item" or "item" in self.target:
            return self.keep(ref)
        pairs: list[tuple[str, str]] = []
        positions: dict[str, int] = {}
        self.check_pairs(ref, 2)
        for n in range(2, len(ref.seg.elements) + 1, 2):
            if (qualifier := ref.get(n)) and (value := ref.get(n + 1)):
                pairs.append((qualifier, value))
                positions.setdefault(ITEM_FIELDS.get(qualifier, f"{qualifier}:{n}"), n + 1)
                positions[f"{qualifier}:{n}"] = n
        self.target["item"] = self.note(item_ids(pairs), ref, positions)
        if number := ref.opt(1):
            self.target["line_number"] = number
        self.note(self.target, ref, {"line_number": 1, "item": 3})
        self.overlay(ref, self.target, frozenset({1}), "HL", pairs_from=2)
        return None

    def sn1(self, ref: SegmentRef) -> None:
        if self.target.get("level") != "item" or "quantity_shipped" in self.target:
            return self.keep(ref)
        shipped: Doc = {"value": ref.dec(2, "quantity_shipped")}
        if shipped["value"] is None:
            raise ref.fail(2, "quantity_shipped", "is missing")
        if unit := ref.opt(3):
            shipped["unit"] = self.rules.code("uom", unit)
        self.target["quantity_shipped"] = self.note(shipped, ref, {"value": 2, "unit": 3})
        mapped = {2, 3}
        if ref.get(5):
            ordered: Doc = {"value": ref.dec(5, "quantity_ordered")}
            if unit := ref.opt(6):
                ordered["unit"] = self.rules.code("uom", unit)
            self.target["quantity_ordered"] = self.note(ordered, ref, {"value": 5, "unit": 6})
            mapped.update((5, 6))
        if status := ref.opt(8):
            self.target["status"] = status
            mapped.add(8)
        self.note(self.target, ref, {"status": 8, "quantity_shipped": 2})
        self.overlay(ref, self.target, frozenset(mapped), "HL")
        return None

    def ctt(self, ref: SegmentRef) -> None:
        self.sink, self.captured, self.party = None, None, None
        shipment = self.shipment
        totals = (shipment or {}).get("totals") or {}
        if (
            shipment is None
            or self.unclean(ref, frozenset({1, 2}))
            or "line_count" in totals
            or not ref.get(1)
        ):
            self.target, self.caps, self.loop = self.doc, frozenset(), "summary"
            return self.keep(ref)
        totals = shipment.setdefault("totals", {})
        totals["line_count"] = ref.integer(1, "line_count")
        if ref.get(2):
            totals["quantity_total"] = ref.dec(2, "quantity_total")
        self.note(totals, ref, {"line_count": 1, "quantity_total": 2})
        self.target, self.caps, self.loop = self.doc, frozenset(), "summary"
        return None

    def finish(self) -> BaseModel:
        if not self.bsn_seen:
            raise MappingError("856 has no BSN segment", segment_id="BSN")
        if self.shipment is None:
            raise MappingError("856 has no HL hierarchy", segment_id="HL")
        if self.doc_captured:
            self.apply_sources(self.doc, self.doc_captured, self.model)
        for order, captured in self.order_captures:
            if captured:
                self.apply_sources(order, captured, OrderLevel)
        self.doc["shipment"] = self.shipment
        self.defaults(self.doc, self.model)
        return self.validate(self.doc)


ShipReader.handlers = {
    **Walker.handlers, "BSN": ShipReader.bsn, "HL": ShipReader.hl, "PRF": ShipReader.prf,
    "MAN": ShipReader.man, "LIN": ShipReader.lin, "SN1": ShipReader.sn1, "CTT": ShipReader.ctt,
}  # fmt: skip


def read_ship_notice(segments: list[Any], rules: Rules, component: str, header: DocumentHeader) -> BaseModel:
    reader = ShipReader(rules, component, header)
    reader.walk(segments)
    return reader.finish()
