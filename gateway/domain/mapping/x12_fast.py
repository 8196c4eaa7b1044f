"""Fast paths for the segments every line item repeats: PO1 / IT1, PID and PO4.

A 50-line order is 150 of these segments, so they decide the mapping speed. Each fast
path reads the raw elements of the common, clean shape (every value present and valid,
nothing left for an overlay or an extension) and builds exactly what the general handler
(:meth:`OrderReader.line`, :meth:`Walker.pid`, :meth:`Walker.po4`) would build, models
included. Anything else (a missing or bad value, an incomplete ID pair, extra elements)
makes it decline before it changes anything, and the general handler maps the segment
and reports the error where it sits. The walker only tries a fast path when no
``field_sources`` capture is reading the segment.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from edi.model import Segment
from gateway.domain.canonical import PackInfo, Price, Quantity
from gateway.domain.mapping.construct import CODE, IDENTIFIER, fixed
from gateway.domain.mapping.x12_read import ITEM_FIELDS, Walker
from gateway.domain.mapping.x12_values import number

if TYPE_CHECKING:
    from gateway.domain.mapping.x12_orders import OrderReader

__all__ = ["is_code", "line", "pack", "product_description"]

_DIGIT_FIELDS = frozenset({"gtin", "upc", "ean"})
_strip = str.strip
_quantity, _quantity_unit = fixed(Quantity, "value"), fixed(Quantity, "value", "unit")
_price, _price_basis = fixed(Price, "amount"), fixed(Price, "amount", "basis")
_pack = fixed(PackInfo, "pack")

#: Codes already seen to match :data:`CODE` (bounded: codes are few; past the bound, each is matched).
_CODES: set[str] = set()


def is_code(text: str) -> bool:
    """Whether ``text`` is a canonical code, as ``CODE.match`` says (remembered for the common ones)."""
    if text in _CODES:
        return True
    if CODE.match(text) is None:
        return False
    if len(_CODES) < 4096:
        _CODES.add(text)
    return True


def line(reader: OrderReader, seg: Segment, pos: int) -> bool:
    """PO1 / IT1 with a quantity, a unit price and complete ID pairs (PO106/PO107 ...)."""
    if reader.in_summary or seg.id != reader.kind.line_id:
        return False
    v = list(map(_strip, seg.elements))
    size = len(v)
    if size < 5 or not size & 1:
        return False
    number_text, qty_text, unit, price_text, basis = v[0], v[1], v[2], v[3], v[4]
    if not qty_text or not price_text:
        return False
    qty_value, price_value = number(qty_text), number(price_text)
    if qty_value is None or price_value is None:
        return False
    rules = reader.rules
    if unit:
        uom = rules.code_in.get("uom")
        unit = uom.get(unit, unit) if uom else unit
        if not is_code(unit):
            return False
    if basis:
        bases = rules.code_in.get("price_basis")
        basis = bases.get(basis, basis) if bases else basis
        if not is_code(basis):
            return False
    item: dict[str, Any] = {}
    other: list[dict[str, Any]] = []
    for i in range(5, size, 2):
        qualifier, value = v[i], v[i + 1]
        if not qualifier or not value:
            if qualifier or value:
                return False  # an incomplete pair: the general handler keeps it in an overlay
            continue
        name = ITEM_FIELDS.get(qualifier)
        if (
            name is not None
            and name not in item
            and (name not in _DIGIT_FIELDS or (value.isascii() and value.isdigit() and 6 <= len(value) <= 14))
        ):
            item[name] = value
        else:
            other.append({"qualifier": qualifier, "value": value})
    if other:
        item["other"] = other
    doc_line: dict[str, Any] = {"line_number": number_text} if number_text else {}
    doc_line[reader.kind.quantity] = _quantity_unit(qty_value, unit) if unit else _quantity(qty_value)
    doc_line["unit_price"] = _price_basis(price_value, basis) if basis else _price(price_value)
    doc_line["item"] = item
    reader.lazy_lines[id(doc_line)] = pos
    reader.lazy_items[id(item)] = pos
    reader.doc.setdefault("lines", []).append(doc_line)
    reader.line_dicts.append(doc_line)
    reader.line_positions.append(pos)
    reader.target, reader.caps, reader.loop, reader.party = doc_line, reader.kind.line, seg.id, None
    reader.open_line(doc_line)
    return True


def product_description(walker: Walker, seg: Segment, pos: int) -> bool:
    """PID*F****description for a line item that has no description yet."""
    elements = seg.elements
    if len(elements) != 5:
        return False
    item = walker.target.get("item")
    if item is None or "description" in item:
        return False
    description = elements[4].strip()
    if (
        not description
        or len(description) > 1000
        or IDENTIFIER.match(description) is None
        or elements[0].strip() != "F"
        or elements[1].strip()
        or elements[2].strip()
        or elements[3].strip()
    ):
        return False
    item["description"] = description
    return True


def pack(walker: Walker, seg: Segment, pos: int) -> bool:
    """PO4 with only a pack count (PO401) of at least 1."""
    elements = seg.elements
    if len(elements) != 1 or "pack" not in walker.caps or "pack" in walker.target:
        return False
    text = elements[0].strip()
    if not (text.isascii() and text.isdigit()):
        return False
    count = int(text)
    if count < 1:
        return False
    walker.target["pack"] = _pack(count)
    return True
