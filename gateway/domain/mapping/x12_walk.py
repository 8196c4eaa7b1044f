"""The single-pass X12 walk shared by the document readers: state, dispatch, origins, captures.

A reader walks a set's body once, dispatching on the segment ID through a dict of
handlers (the shared ones in :mod:`.x12_read`, each document's own in its reader).
Handlers add plain dicts to the *target* (the document, a line or an 856 level); the
document is validated once, at the end, by its pydantic model. Each dict built from a
segment is remembered with that segment (:meth:`WalkerBase.note`), so a validation error
still names the segment and element it came from; ``field_sources`` are captured while
walking and applied, typed and checked, when the document is finished.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any, ClassVar, get_args, get_origin

from pydantic import BaseModel

from edi.model import Segment
from gateway.domain.mapping.construct import Invalid, build
from gateway.domain.mapping.errors import MappingError
from gateway.domain.mapping.fields import resolve, scalar_type
from gateway.domain.mapping.rules import FieldSource, Rules
from gateway.domain.mapping.x12_values import SegmentRef, extension, leftovers, unmapped

__all__ = [
    "ITEM_FIELDS",
    "LINE_FIELDS",
    "OVERLAY_NAMESPACE",
    "PARTY_SEGMENTS",
    "Doc",
    "FastHandler",
    "Handler",
    "WalkerBase",
    "apply_default",
    "item_ids",
    "pair_positions",
    "set_path",
]

Doc = dict[str, Any]

#: Extension namespace of overlays (unmapped elements of mapped segments); whole segments use ``x12``.
OVERLAY_NAMESPACE = "x12.elements"
#: ``handler(reader, ref)``: maps one segment (a plain function, so readers hold no reference cycles).
Handler = Callable[[Any, SegmentRef], None]
#: ``fast(reader, segment, position) -> consumed``: maps the common shape of a segment straight from
#: its raw elements and says how many segments it mapped (this one and any it read ahead), or
#: declines (0, having changed nothing) and the segment's handler runs.
FastHandler = Callable[[Any, Segment, int], int]

#: Segments that continue an N1 loop.
PARTY_SEGMENTS = frozenset({"N2", "N3", "N4", "REF", "PER", "NX2", "SI"})

#: Where a line's fields sit in its PO1 / IT1.
LINE_FIELDS = {"line_number": 1, "item": 7}
ITEM_FIELDS = {"UK": "gtin", "UP": "upc", "EN": "ean", "VP": "vendor_part", "BP": "buyer_part", "SK": "sku"}
_DIGIT_FIELDS = frozenset({"gtin", "upc", "ean"})


def set_path(data: Doc, path: str, value: Any) -> Doc:
    """Set a dotted path in nested dicts, creating dicts on the way (a model already built on the way
    becomes a dict again); return the dict that holds the value."""
    parts = path.split(".")
    for part in parts[:-1]:
        child = data.setdefault(part, {})
        if isinstance(child, BaseModel):
            child = data[part] = child.model_dump()
        if not isinstance(child, dict):
            raise MappingError(
                f"field_sources.{path}: {part} holds several values, so one element cannot fill it",
                field=f"field_sources.{path}",
            )
        data = child
    data[parts[-1]] = value
    return data


def pair_positions(v: list[str], start: int) -> tuple[list[tuple[str, str]], dict[str, int], bool]:
    """Qualifier/value pairs of stripped elements ``v`` from element ``start`` (PO106 ...), where each
    value is (by item field, or qualifier when it has none), and whether any pair is incomplete."""
    pairs: list[tuple[str, str]] = []
    positions: dict[str, int] = {}
    loose = False
    for i in range(start - 1, len(v), 2):
        qualifier = v[i]
        value = v[i + 1] if i + 1 < len(v) else ""
        if qualifier and value:
            pairs.append((qualifier, value))
            positions.setdefault(ITEM_FIELDS.get(qualifier, qualifier), i + 2)
        elif qualifier or value:
            loose = True
    return pairs, positions, loose


def item_ids(pairs: Iterable[tuple[str, str]]) -> Doc:
    """Qualifier/value pairs as an ItemIdentifiers dict. GTIN/UPC/EAN values that are not 6-14
    digits, and repeats, go to ``other`` with their qualifier, so nothing is rejected or lost."""
    item: Doc = {}
    other: list[Doc] = []
    for qualifier, value in pairs:
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
    return item


class WalkerBase:
    """The walk over a set and its shared state; :class:`Walker` adds the segment handlers."""

    model: type[BaseModel]
    #: Handlers by segment ID (set below the class body; subclasses extend it).
    handlers: ClassVar[dict[str, Handler]]
    #: Fast paths by segment ID, tried before the handler when no field source reads the segment.
    fast: ClassVar[dict[str, FastHandler]] = {}

    def __init__(self, rules: Rules, component: str, element: str = "*") -> None:
        self.rules = rules
        self.component = component
        self.element = element
        #: The raw text of ``PID*F****`` up to the description (see :func:`.x12_fast.product_description`).
        self.pid_prefix = "F" + element * 4
        #: id(dict) -> (the segment it was read from, field -> element there).
        self.origins: dict[int, tuple[SegmentRef, dict[str, int]]] = {}
        #: id(dict) -> field -> (segment, element) for fields a later segment set on that dict
        #: (CUR's currency on the BEG's document, REF*CN's PRO number on the TD5's carrier ...).
        self.field_origins: dict[int, dict[str, tuple[SegmentRef, int | None]]] = {}
        #: (id(dict), field) -> the ``defaults`` path that filled it, so a bad default is blamed on it.
        self.defaulted: dict[tuple[int, str], str] = {}
        #: The line items (dicts until the document is finished, or models a fast path made whole) and
        #: the position of each one's segment; the origin of a line a fast path built is only worked
        #: out when an error needs it.
        self.line_dicts: list[Any] = []
        self.line_positions: list[int] = []
        #: id(item dict) -> position of the PID its description came from.
        self.descriptions: dict[int, int] = {}
        self.segments: list[Segment] = []
        self.party: Doc | None = None
        self.target: Doc = {}
        self.caps: frozenset[str] = frozenset()
        self.loop: str | None = None
        self.td5_done: set[int] = set()
        self.sources: dict[str, FieldSource] = dict(rules.head_sources)
        self.line_sources: dict[str, FieldSource] = rules.line_sources
        self.capture_ids = frozenset(src.segment for src in rules.field_sources.values())
        self.captured: dict[str, tuple[str, SegmentRef, int | None]] | None = None
        #: (line dict, what its field sources captured), applied when the document is finished.
        self.line_captures: list[tuple[Doc, dict[str, tuple[str, SegmentRef, int | None]]]] = []
        #: When set, every segment but the handlers in ``sink_ends`` is kept here whole (856 levels
        #: with no typed home).
        self.sink: list[dict[str, Any]] | None = None
        self.sink_ends: frozenset[str] = frozenset()
        #: The code of the N9*L1 whose MSG notes are being read, and the position of its last segment.
        self.note_code: str | None = None
        self.note_at = 0

    # --- plumbing ---------------------------------------------------------------------------------------

    def walk(self, segments: list[Segment]) -> None:
        self.segments = segments
        handlers, rules, party_segments, fast = self.handlers, self.rules, PARTY_SEGMENTS, self.fast
        ignore_any, capture_ids = rules.ignore_any, self.capture_ids
        position = 1
        skip = 0
        for seg in segments[1:-1] if segments and segments[-1].id == "SE" else segments[1:]:
            position += 1
            if skip:  # read ahead by the fast path before
                skip -= 1
                continue
            sid = seg.id
            if sid in ignore_any and rules.ignored(sid, seg.get(1)):
                continue
            if self.party is not None and sid not in party_segments:
                self.party = None
            if self.sink is not None and sid not in self.sink_ends:
                self.sink.append(extension(seg, self.component, "HL"))
                continue
            quick = fast.get(sid)
            capturing = sid in capture_ids
            if quick is not None and not capturing:
                consumed = quick(self, seg, position)
                if consumed:
                    skip = consumed - 1
                    continue
            handler = handlers.get(sid)
            ref = SegmentRef(seg, position)
            if handler is None:
                self.keep(ref)
            else:
                handler(self, ref)
            if capturing and self.captured is not None:  # after the handler: a PO1 or HL opens its own
                self.capture(ref, self.sources, self.captured)

    def open_line(self, line: Doc) -> None:
        """A line item starts: its field sources (if any) capture from here on."""
        if self.line_sources:
            self.captured, self.sources = {}, self.line_sources
            self.line_captures.append((line, self.captured))
        else:
            self.captured = None

    def note(self, data: Doc, ref: SegmentRef, fields: dict[str, int]) -> Doc:
        """Remember that ``data`` (or some of its fields, when another segment made it) came from ``ref``."""
        known = self.origins.get(id(data))
        if known is None:
            self.origins[id(data)] = (ref, fields)
        elif known[0] is ref:
            if fields is not known[1]:
                self.origins[id(data)] = (ref, {**known[1], **fields})
        else:
            later = self.field_origins.setdefault(id(data), {})
            for name, n in fields.items():
                later[name] = (ref, n)
        return data

    def ref_at(self, position: int) -> SegmentRef:
        """The segment at ``position`` (ST = 1) of the set being walked."""
        return SegmentRef(self.segments[position - 1], position)

    def origin(self, data: Doc) -> tuple[SegmentRef, dict[str, int]] | None:
        """The segment ``data`` was read from and where each of its fields sits there, if known."""
        found = self.origins.get(id(data))
        if found is not None:
            return found
        for line, position in zip(self.line_dicts, self.line_positions, strict=True):
            if line is data:
                return self.ref_at(position), LINE_FIELDS
            if type(line) is dict and line.get("item") is data:
                ref = self.ref_at(position)
                return ref, pair_positions(ref.v, 6)[1]
        return None

    def locate(self, data: Doc, field: str) -> tuple[SegmentRef, int | None] | None:
        """The segment and element ``data[field]`` was read from, if known."""
        later = self.field_origins.get(id(data))
        if later is not None and field in later:
            return later[field]
        if field == "description" and id(data) in self.descriptions:
            return self.ref_at(self.descriptions[id(data)]), 5
        origin = self.origin(data)
        if origin is None:
            return None
        return origin[0], origin[1].get(field)

    def keep(self, ref: SegmentRef, target: Doc | None = None, loop: str | None = None) -> None:
        """Keep a whole segment as an extension of ``target`` (default: the open party, else the target)."""
        if target is None:
            target, loop = (self.party, "N1") if self.party is not None else (self.target, self.loop)
        target.setdefault("extensions", {}).setdefault("x12", []).append(
            extension(ref.seg, self.component, loop)
        )

    def overlay(
        self,
        ref: SegmentRef,
        target: Doc,
        mapped: frozenset[int],
        loop: str | None,
        pairs_from: int | None = None,
    ) -> None:
        rest = leftovers(ref.seg, mapped, self.component, loop, pairs_from)
        if rest is not None:
            target.setdefault("extensions", {}).setdefault(OVERLAY_NAMESPACE, []).append(rest)

    def unclean(self, ref: SegmentRef, mapped: frozenset[int]) -> bool:
        return unmapped(ref.seg, mapped)

    def validate(self, doc: Doc) -> BaseModel:
        try:
            model: BaseModel = build(self.model, doc)
        except Invalid as exc:
            raise self.explain(exc) from None
        return model

    def explain(self, exc: Invalid) -> MappingError:
        value = (
            exc.value
            if isinstance(exc.value, str | int | Decimal) and not isinstance(exc.value, bool)
            else None
        )
        shown = None if value is None else str(value)
        setting = self.defaulted.get((id(exc.data), exc.field))
        if setting is not None:
            quoted = f" {shown!r}" if shown is not None else ""
            return MappingError(f"defaults.{setting}{quoted}: {exc.problem}", field=f"defaults.{setting}")
        found = self.locate(exc.data, exc.field)
        if found is None:
            quoted = f" {shown!r}" if shown is not None else ""
            return MappingError(f"{exc.field}{quoted}: {exc.problem}", field=exc.field)
        ref, element = found
        return MappingError.at(ref.id, ref.pos, element, exc.problem, field=exc.field, value=shown)

    def apply_sources(
        self, data: Doc, captured: dict[str, tuple[str, SegmentRef, int | None]], model: type[BaseModel]
    ) -> None:
        """Put what ``field_sources`` captured into ``data`` (a ``model`` dict), typed and checked where
        it was read; a field the engine cannot fill from one element is a MappingError naming the setting."""
        for name, (value, ref, element) in captured.items():
            info = resolve(model, name)
            kind = scalar_type(info.annotation) if info is not None and not info.through_list else None
            if kind is None:
                raise MappingError(
                    f"field_sources.{name}: not a single-valued field of a {model.__name__}"
                    + (" line" if model is not self.model else ""),
                    field=f"field_sources.{name}",
                )
            n = element or 2
            probe = SegmentRef(Segment(ref.id, [""] * (n - 1) + [value]), ref.pos)
            last = name.rpartition(".")[2]
            typed: Any = value
            if kind is dt.date:
                typed = probe.date(n, last)
            elif kind is dt.time:
                typed = probe.time(n, last)
            elif kind is Decimal:
                typed = probe.dec(n, last)
            elif kind is int:
                typed = probe.integer(n, last)
            holder = set_path(data, name, typed)
            self.field_origins.setdefault(id(holder), {})[last] = (ref, n)

    def capture(self, ref: SegmentRef, sources: dict[str, FieldSource], into: dict[str, Any]) -> None:
        for name, src in sources.items():
            if src.segment != ref.id or name in into:
                continue
            if src.qualifier is not None:
                if ref.get(1) == src.qualifier and ref.get(2):
                    into[name] = (ref.get(2), ref, 2)
            elif src.element is not None:
                value = ref.get(src.element)
                if src.component is not None:
                    parts = value.split(self.component)
                    value = parts[src.component - 1].strip() if src.component <= len(parts) else ""
                if value:
                    into[name] = (value, ref, src.element)

    def defaults(self, data: Doc, model: type[BaseModel]) -> None:
        for path, value in self.rules.defaults.items():
            parts = path.split(".")
            field = model.model_fields.get(parts[0])
            if field is None:
                raise MappingError(
                    f"defaults.{path}: {model.__name__} has no field {parts[0]!r}", field=f"defaults.{path}"
                )
            if len(parts) > 1 and data.get(parts[0]) is None and _is_list(field.annotation):
                continue  # a default for every line of a document that has none: nothing to fill
            for holder, key in apply_default(data, parts, value):
                self.defaulted[(id(holder), key)] = path


def _is_list(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin in (list, tuple):
        return True
    return any(_is_list(arg) for arg in get_args(annotation)) if origin is not None else False


def apply_default(data: Any, parts: list[str], value: str) -> list[tuple[Doc, str]]:
    """Fill ``value`` at the dotted ``parts`` of ``data`` where it is missing (None), through every item
    of a list and creating missing objects on the way; built models on the way become dicts again.
    Returns the (dict, key) pairs it filled."""
    filled: list[tuple[Doc, str]] = []
    _fill(data, parts, value, filled)
    return filled


def _fill(data: Any, parts: list[str], value: str, filled: list[tuple[Doc, str]]) -> None:
    if isinstance(data, list):
        for index, item in enumerate(data):
            if isinstance(item, BaseModel) and _missing(item, parts):
                item = data[index] = item.model_dump()
            _fill(item, parts, value, filled)
        return
    if not isinstance(data, dict):
        return
    head, rest = parts[0], parts[1:]
    if not rest:
        if data.get(head) is None:
            data[head] = value
            filled.append((data, head))
        return
    child = data.get(head)
    if child is None:
        child = data[head] = {}
    elif isinstance(child, BaseModel):
        if not _missing(child, rest):
            return
        child = data[head] = child.model_dump()
    _fill(child, rest, value, filled)


def _missing(model: Any, parts: list[str]) -> bool:
    """Whether a default at ``parts`` would fill something in ``model`` (a model or a list of them)."""
    if isinstance(model, list):
        return any(_missing(item, parts) for item in model)
    if not isinstance(model, BaseModel):
        return False
    child = getattr(model, parts[0], None)
    if len(parts) == 1 or child is None:
        return child is None
    return _missing(child, parts[1:])
