"""Fast paths for the segments every line item repeats: PO1 / IT1, PID and PO4.

A 50-line order is 150 of these segments, so they decide the mapping speed. Each fast
path reads the segment's raw text (split here, not cached on the segment, so the parsed
interchange does not grow by a list per segment) in its common, clean shape (every value
present and valid, nothing left for an overlay or an extension) and builds exactly what
the general handler (:meth:`OrderReader.line`, :meth:`Walker.pid`, :meth:`Walker.po4`)
would build, models included, with every value checked as the general handler checks it.
Anything else (a missing or bad value, an incomplete ID pair, extra elements) makes it
decline before it changes anything, and the general handler maps the segment and reports
the error where it sits. The walker only tries a fast path when no ``field_sources``
capture is reading the segment. ``tests/gateway/domain/test_mapping_fast_paths.py`` maps
orders both ways and requires the same documents and errors.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from edi.model import Segment
from gateway.domain.canonical import ItemIdentifiers, PackInfo, Price, Quantity
from gateway.domain.mapping.construct import CODE, IDENTIFIER, fixed
from gateway.domain.mapping.x12_read import Walker
from gateway.domain.mapping.x12_values import _NUMBERS, number
from gateway.domain.mapping.x12_walk import ITEM_FIELDS

if TYPE_CHECKING:
    from gateway.domain.mapping.x12_orders import OrderReader

__all__ = ["is_code", "line", "line_number_ok", "pack", "product_description"]

_DIGIT_FIELDS = frozenset({"gtin", "upc", "ean"})
_LINE_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,19}\Z")
_quantity, _quantity_unit = fixed(Quantity, "value"), fixed(Quantity, "value", "unit")
_price, _price_basis = fixed(Price, "amount"), fixed(Price, "amount", "basis")
_pack = fixed(PackInfo, "pack")
#: ItemIdentifiers constructors by the item's keys in order (a few shapes: upc + description ...).
_ITEM_MAKERS: dict[tuple[str, ...], Any] = {}

#: Codes already seen to match :data:`CODE` (bounded: codes are few; past the bound, each is matched).
_CODES: set[str] = set()


#: Line numbers already seen to be valid (bounded, like the codes).
_LINE_NUMBERS: set[str] = set()


def line_number_ok(number: str) -> bool:
    """Whether ``number`` is a canonical line number (remembered for the common ones)."""
    if number in _LINE_NUMBERS:
        return True
    if _LINE_NUMBER.match(number) is None:
        return False
    if len(_LINE_NUMBERS) < 4096:
        _LINE_NUMBERS.add(number)
    return True


def is_code(text: str) -> bool:
    """Whether ``text`` is a canonical code, as ``CODE.match`` says (remembered for the common ones)."""
    if text in _CODES:
        return True
    if CODE.match(text) is None:
        return False
    if len(_CODES) < 4096:
        _CODES.add(text)
    return True


def line(reader: OrderReader, seg: Segment, pos: int) -> int:
    """PO1 / IT1 with a quantity, a unit price and complete, valid ID pairs (PO106/PO107 ...).

    When the line is whole (its PID and PO4, each optional, in their clean shape, and the next
    segment starting another line or the summary), nothing else can join it, so its model is
    made now, as :meth:`OrderReader.finish` would make it from the line's dict, and the segments
    read ahead are skipped; then the lines that follow are read the same way for as long as each
    is whole. A line that is not whole becomes a dict the following segments can add to (the
    first line read here), or is left to the next call (a later one). Returns how many segments
    it mapped (0: none, the general handler maps the segment)."""
    kind = reader.kind
    if reader.in_summary or seg.id != kind.line_id:
        return 0
    segments = reader.segments
    end = len(segments) - 1 if segments[-1].id == "SE" else len(segments)  # the index of SE
    line_id, line_ends, element, whole = kind.line_id, kind.line_ends, reader.element, reader.whole_lines
    uom, bases, prefix = reader.uom_map, reader.basis_map, reader.pid_prefix
    numbers, codes, line_numbers, item_fields, item_makers = (
        _NUMBERS, _CODES, _LINE_NUMBERS, ITEM_FIELDS, _ITEM_MAKERS)  # fmt: skip
    lines: list[Any] | None = None  # the document's lines, once this call has made one
    done = 0
    while True:
        raw = seg.raw  # split here, not cached on the segment: the parsed interchange stays as read
        if raw is None:
            v = [e.strip() for e in seg.elements]
        else:
            v = raw.split(element)
            if " " in raw or not raw.isprintable():  # padding or other whitespace: strip as the handlers do
                v = [e.strip() for e in v]
        size = len(v)
        if size < 5 or not size & 1:
            break
        number_text, qty_text, unit, price_text, basis = v[0], v[1], v[2], v[3], v[4]
        if not qty_text or not price_text:
            break
        if number_text and number_text not in line_numbers and not line_number_ok(number_text):
            break
        qty_value = numbers.get(qty_text) or number(qty_text)
        price_value = numbers.get(price_text) or number(price_text)
        if qty_value is None or price_value is None:
            break
        if unit:
            if uom is not None:
                unit = uom.get(unit, unit)
            if unit not in codes and not is_code(unit):
                break
        if basis:
            if bases is not None:
                basis = bases.get(basis, basis)
            if basis not in codes and not is_code(basis):
                break
        item: dict[str, Any] = {}
        other: list[dict[str, Any]] | None = None
        bad = False
        for i in range(5, size, 2):
            qualifier, value = v[i], v[i + 1]
            if not qualifier or not value:
                if qualifier or value:
                    bad = True  # an incomplete pair: the general handler keeps it in an overlay
                    break
                continue
            name = item_fields.get(qualifier)
            if name is not None and name not in item:
                if name in _DIGIT_FIELDS:
                    if value.isascii() and value.isdigit() and 6 <= len(value) <= 14:
                        item[name] = value
                        continue
                elif len(value) <= 80 and (value.isprintable() or IDENTIFIER.match(value)):
                    item[name] = value  # v is stripped: a printable value is a trimmed single line
                    continue
            if (
                not is_code(qualifier)
                or len(value) > 80
                or not (value.isprintable() or IDENTIFIER.match(value))
            ):
                bad = True  # the general handler names the bad element
                break
            if other is None:
                other = item["other"] = []
            other.append({"qualifier": qualifier, "value": value})
        if bad:
            break
        # Read ahead (when the line can be whole): its PID, its PO4, and what follows them.
        index = pos  # segments[pos] is the segment after the PO1 (ST is position 1)
        following = segments[index] if index < end else None
        description = None
        pack_count = 0
        if whole and other is None:
            if following is not None and following.id == "PID":
                text = following.raw
                if text is None or not text.startswith(prefix):
                    following = seg  # marks the line as not whole (the test below)
                else:
                    description = text[len(prefix) :]
                    if element in description:
                        following = seg
                    else:
                        description = description.strip()
                        # Trimmed text: printable (the common case, no regex needed) or as IDENTIFIER says.
                        if (
                            not description
                            or len(description) > 1000
                            or (not description.isprintable() and IDENTIFIER.match(description) is None)
                        ):
                            following = seg
                        else:
                            index += 1
                            following = segments[index] if index < end else None
            if following is not None and following.id == "PO4":
                text = following.raw
                pack_count = int(text) if text is not None and text.isascii() and text.isdigit() else 0
                if pack_count < 1:
                    following = seg
                else:
                    index += 1
                    following = segments[index] if index < end else None
        quantity = _quantity_unit(qty_value, unit) if unit else _quantity(qty_value)
        price = _price_basis(price_value, basis) if basis else _price(price_value)
        if (
            not whole
            or other is not None
            or following is seg
            or (following is not None and following.id not in line_ends)
            or not (item or description)
        ):
            if not done:
                # The line as a dict; a later line is read again, by itself, when the walker gets to it.
                _open(reader, seg.id, number_text, quantity, price, item, pos)
                return 1
            break
        if description is not None:
            item["description"] = description
        keys = tuple(item)
        new_item = item_makers.get(keys)
        if new_item is None:
            new_item = item_makers[keys] = fixed(ItemIdentifiers, *keys)
        made = new_item(*item.values())
        if pack_count:
            pack = _pack(pack_count)
            made = kind.whole_number_pack(number_text, quantity, price, made, pack) if number_text else (
                kind.whole_pack(quantity, price, made, pack))  # fmt: skip
        else:
            made = kind.whole_number(number_text, quantity, price, made) if number_text else (
                kind.whole_bare(quantity, price, made))  # fmt: skip
        if lines is None:
            lines = reader.doc.setdefault("lines", [])
        lines.append(made)
        reader.line_dicts.append(made)
        reader.line_positions.append(pos)
        done += 1 + index - pos
        if index >= end:
            break
        seg = segments[index]
        if seg.id != line_id:
            break
        pos = index + 1
    if done:
        # Nothing can reach the lines made any more (the next segment starts another line or the summary).
        reader.target, reader.caps, reader.loop, reader.party = {}, kind.line, line_id, None
        reader.captured = None
    return done


def _open(
    reader: OrderReader,
    line_id: str,
    number_text: str,
    quantity: Any,
    price: Any,
    item: dict[str, Any],
    pos: int,
) -> None:
    """The line as a dict the segments that follow it can still add to (finished by ``finish``)."""
    kind = reader.kind
    doc_line: dict[str, Any] = {"line_number": number_text} if number_text else {}
    doc_line[kind.quantity] = quantity
    doc_line["unit_price"] = price
    doc_line["item"] = item
    reader.doc.setdefault("lines", []).append(doc_line)
    reader.line_dicts.append(doc_line)
    reader.line_positions.append(pos)
    reader.target, reader.caps, reader.loop, reader.party = doc_line, kind.line, line_id, None
    reader.open_line(doc_line)


def product_description(walker: Walker, seg: Segment, pos: int) -> bool:
    """PID*F****description for a line item that has no description yet."""
    item = walker.target.get("item")
    if item is None or "description" in item:
        return False
    raw = seg.raw
    if raw is None:
        return False
    prefix = walker.pid_prefix
    if not raw.startswith(prefix):
        return False
    description = raw[len(prefix) :]
    if walker.element in description:
        return False
    description = description.strip()
    if not description or len(description) > 1000 or IDENTIFIER.match(description) is None:
        return False
    item["description"] = description
    return True


def pack(walker: Walker, seg: Segment, pos: int) -> bool:
    """PO4 with only a pack count (PO401) of at least 1."""
    raw = seg.raw
    if raw is None or "pack" not in walker.caps or "pack" in walker.target:
        return False
    if not (raw.isascii() and raw.isdigit()):
        return False
    count = int(raw)
    if count < 1:
        return False
    walker.target["pack"] = _pack(count)
    return True
