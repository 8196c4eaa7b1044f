"""Reading and writing X12 element values: decimals, implied decimals, dates, times, composites.

Readers raise :class:`MappingError` naming the segment, its position and the element, so
a bad value in a partner's file is reported where it sits. Writers produce the X12 text
the readers accept, so ``read(write(x)) == x``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from edi.model import Segment
from gateway.domain.mapping.construct import CODE, IDENTIFIER
from gateway.domain.mapping.errors import MappingError

__all__ = [
    "COMPONENT",
    "NOWHERE",
    "SegmentRef",
    "descend",
    "extension",
    "fmt_date",
    "fmt_decimal",
    "fmt_implied",
    "fmt_time",
    "leftovers",
    "number",
    "split_element",
    "unmapped",
]

#: Component separator used when writing composites (the ISA16 the writer's envelope uses by default).
COMPONENT = ":"

_QUALIFIED_SEGMENTS = frozenset({"REF", "DTM", "N9", "AMT", "MAN", "MEA", "QTY", "YNQ", "PER", "PKG"})


#: Numbers already read (a Decimal is immutable, so one instance serves every document that
#: writes the same text; bounded, as the codes are).
_NUMBERS: dict[str, Decimal] = {}


def number(text: str) -> Decimal | None:
    """``text`` as a finite decimal written without an exponent, or None."""
    value = _NUMBERS.get(text)
    if value is not None:
        return value
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    if not value.is_finite() or "e" in text or "E" in text:
        return None
    if len(_NUMBERS) < 16384:
        _NUMBERS[text] = value
    return value


class SegmentRef:
    """One source segment with its position (ST = 1), and typed accessors that fail where they read."""

    __slots__ = ("id", "pos", "seg", "v")

    def __init__(self, seg: Segment, pos: int, stripped: list[str] | None = None) -> None:
        self.seg = seg
        self.id = seg.id
        self.pos = pos
        #: The elements, stripped of padding (``v[0]`` is XX01); ``stripped`` when the caller has them.
        self.v = list(map(str.strip, seg.elements)) if stripped is None else stripped

    def get(self, n: int) -> str:
        v = self.v
        return v[n - 1] if n <= len(v) else ""

    def opt(self, n: int) -> str | None:
        v = self.v
        return (v[n - 1] or None) if n <= len(v) else None

    def padded(self, size: int) -> list[str]:
        """The stripped elements, padded with empty strings to at least ``size``."""
        v = self.v
        return v if len(v) >= size else v + [""] * (size - len(v))

    def fail(self, n: int | None, name: str, problem: str, value: str | None = None) -> MappingError:
        return MappingError.at(self.id, self.pos, n, problem, field=name, value=value)

    def require(self, n: int, name: str) -> str:
        value = self.get(n)
        if not value:
            raise self.fail(n, name, "is missing")
        return value

    def code(self, n: int, name: str, value: str | None = None) -> str:
        """A canonical code (``[A-Z0-9]{1,6}``): element ``n`` or an already mapped ``value`` from it."""
        text = self.get(n) if value is None else value
        if not CODE.match(text):
            raise self.fail(n, name, "is not a code (1-6 upper-case letters or digits)", text)
        return text

    def ident(self, n: int, name: str, value: str | None = None, limit: int = 80) -> str:
        """An identifier or text: single line, at most ``limit`` characters."""
        text = self.get(n) if value is None else value
        if len(text) > limit or not IDENTIFIER.match(text):
            raise self.fail(n, name, f"is not a single-line value of at most {limit} characters", text)
        return text

    def dec(self, n: int, name: str) -> Decimal | None:
        text = self.get(n)
        if not text:
            return None
        value = number(text)
        if value is None:
            raise self.fail(n, name, "is not a number", text)
        return value

    def implied(self, n: int, name: str, places: int = 2) -> Decimal | None:
        """An N2-style number: an integer with ``places`` implied decimal places."""
        text = self.get(n)
        if not text:
            return None
        digits = text[1:] if text[:1] == "-" else text
        if not digits.isdigit():
            raise self.fail(n, name, f"is not a number with {places} implied decimals", text)
        return Decimal(text).scaleb(-places)

    def integer(self, n: int, name: str) -> int | None:
        text = self.get(n)
        if not text:
            return None
        try:
            value = Decimal(text)
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite() or value != value.to_integral_value() or value < 0:
            raise self.fail(n, name, "is not a whole number", text)
        return int(value)

    def date(self, n: int, name: str) -> dt.date | None:
        text = self.get(n)
        if not text:
            return None
        try:
            if len(text) == 8 and text.isdigit():
                return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
            if len(text) == 6 and text.isdigit():
                return dt.date(2000 + int(text[:2]), int(text[2:4]), int(text[4:]))
        except ValueError:
            pass
        raise self.fail(n, name, "is not a date (CCYYMMDD)", text)

    def time(self, n: int, name: str) -> dt.time | None:
        text = self.get(n)
        if not text:
            return None
        try:
            if text.isdigit() and len(text) == 4:
                return dt.time(int(text[:2]), int(text[2:]))
            if text.isdigit() and len(text) >= 6:
                return dt.time(int(text[:2]), int(text[2:4]), int(text[4:6]))
        except ValueError:
            pass
        raise self.fail(n, name, "is not a time (HHMM or HHMMSS)", text)


_NOWHERE = object()


def descend(current: Any, part: str | int) -> Any:
    """``current[part]`` for a dict key or list index, or :data:`NOWHERE` when there is none."""
    if isinstance(current, dict):
        return current.get(part, _NOWHERE) if isinstance(part, str) else _NOWHERE
    if isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
        return current[part]
    return _NOWHERE


NOWHERE = _NOWHERE


def split_element(value: str, component: str) -> str | list[str]:
    """A simple element as its text, a composite as the list of its components."""
    return value.split(component) if component in value else value


def extension(seg: Segment, component: str, loop: str | None) -> dict[str, Any]:
    """A whole segment as a segment-extension dict (trailing empty elements dropped)."""
    elements = [split_element(e, component) for e in seg.elements]
    while len(elements) > 1 and elements[-1] in ("", []):
        elements.pop()
    if not elements:
        elements = [""]
    ext: dict[str, Any] = {"kind": "segment", "segment": seg.id, "elements": elements, "loop": loop}
    if seg.id in _QUALIFIED_SEGMENTS:
        first = elements[0] if isinstance(elements[0], str) else elements[0][0]
        ext["qualifier"] = first or None
        if len(elements) > 1:
            second = elements[1] if isinstance(elements[1], str) else elements[1][0]
            ext["value"] = second or None
    return ext


_MASKS: dict[frozenset[int], tuple[int, tuple[int, ...]]] = {}


def unmapped(seg: Segment, mapped: frozenset[int]) -> bool:
    """Whether ``seg`` has a non-empty element at a position not in ``mapped``."""
    mask = _MASKS.get(mapped)
    if mask is None:
        top = max(mapped, default=0)
        mask = _MASKS[mapped] = (top, tuple(i - 1 for i in range(1, top) if i not in mapped))
    top, holes = mask
    elements = seg.elements
    size = len(elements)
    if size > top and any(e.strip() for e in elements[top:]):
        return True
    return any(elements[h].strip() for h in holes if h < size)


def leftovers(
    seg: Segment, mapped: frozenset[int], component: str, loop: str | None, pairs_from: int | None = None
) -> dict[str, Any] | None:
    """The elements of a structural segment (BEG, PO1, N1 ...) that have no canonical field, as an
    *overlay*: the same segment ID with only those positions filled; None when nothing is left.

    With ``pairs_from`` (PO106, IT106, LIN02), elements from there on are qualifier/value pairs.
    Complete pairs are mapped; incomplete ones keep their pair slots but move after the complete
    ones, where the writer (which writes complete pairs in canonical order) leaves room for them.
    """
    raw = seg.elements
    head = len(raw) if pairs_from is None else min(len(raw), pairs_from - 1)
    elements: list[str | list[str]] = [
        "" if i in mapped or not v.strip() else split_element(v, component)
        for i, v in enumerate(raw[:head], start=1)
    ]
    if pairs_from is not None and len(raw) >= pairs_from:
        complete, loose = 0, []
        for n in range(pairs_from, len(raw) + 1, 2):
            qualifier = raw[n - 1].strip()
            value = raw[n].strip() if n < len(raw) else ""
            if qualifier and value:
                complete += 1
            elif qualifier or value:
                loose.extend([split_element(qualifier, component), split_element(value, component)])
        if loose:
            elements.extend([""] * (pairs_from - 1 - len(elements) + 2 * complete))
            elements.extend(loose)
    while elements and elements[-1] in ("", []):
        elements.pop()
    if not elements:
        return None
    return {"kind": "segment", "segment": seg.id, "elements": elements, "loop": loop}


def fmt_decimal(value: Decimal | None) -> str:
    return "" if value is None else format(value, "f")


def fmt_implied(value: Decimal | None, places: int = 2) -> str:
    if value is None:
        return ""
    scaled = value.scaleb(places)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value} has more than {places} decimal places")
    return str(int(scaled))


def fmt_date(value: dt.date | None) -> str:
    return "" if value is None else value.strftime("%Y%m%d")


def fmt_time(value: dt.time | None) -> str:
    if value is None:
        return ""
    return value.strftime("%H%M%S") if value.second else value.strftime("%H%M")
