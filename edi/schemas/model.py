"""Compiled transaction-set schemas: the immutable structures the validator walks.

The JSON data in ``edi/schemas/data`` is compiled once per set and version
(:mod:`edi.schemas.loader`) into these classes. Everything the validator needs
per segment is precomputed here: the element uses of a segment, its mandatory
positions and relational conditions, and for every loop a dictionary from
segment ID to the child positions where that segment may appear.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "UNBOUNDED",
    "CompositeDef",
    "ElementDef",
    "ElementUse",
    "Hierarchy",
    "LoopDef",
    "Node",
    "SegmentDef",
    "SegmentUse",
    "SyntaxRule",
    "TransactionSetSchema",
]

#: Max use / loop repeat written ``>1`` in the standard.
UNBOUNDED = 1 << 31

#: Element types: alphanumeric, identifier, date, time, decimal, numeric with implied decimals.
ELEMENT_TYPES = frozenset({"AN", "ID", "DT", "TM", "R", *(f"N{i}" for i in range(10))})


@dataclass(frozen=True, slots=True)
class ElementDef:
    """A simple data element from the dictionary, e.g. 324 Purchase Order Number (AN 1/22)."""

    ref: str
    name: str
    type: str  # AN, ID, DT, TM, R, N0..N9
    min_length: int
    max_length: int
    codes: frozenset[str] | None = None
    codes_open: bool = True  # an unknown code is a warning only

    @property
    def decimals(self) -> int | None:
        """Implied decimal places of an ``Nn`` element, else ``None``."""
        return int(self.type[1]) if self.type[0] == "N" else None


@dataclass(frozen=True, slots=True)
class CompositeDef:
    """A composite data element, e.g. C040 Reference Identifier."""

    ref: str
    name: str
    components: tuple[ElementUse, ...]


@dataclass(frozen=True, slots=True)
class ElementUse:
    """One position of a segment (or component of a composite): usage plus definition."""

    position: int  # 1-based, as AK401 / IK401
    usage: str  # M, O or X
    element: ElementDef | None = None
    composite: CompositeDef | None = None
    repeat: int = 1

    @property
    def ref(self) -> str:
        if self.element is not None:
            return self.element.ref
        assert self.composite is not None
        return self.composite.ref

    @property
    def mandatory(self) -> bool:
        return self.usage == "M"


@dataclass(frozen=True, slots=True)
class SyntaxRule:
    """An X12 relational condition, e.g. ``P0304`` (paired) over 1-based positions."""

    kind: str  # P paired, R required, E exclusion, C conditional, L list conditional
    positions: tuple[int, ...]

    def __str__(self) -> str:
        return self.kind + "".join(f"{p:02d}" for p in self.positions)


@dataclass(frozen=True, slots=True, eq=False)
class SegmentDef:
    """A segment from the dictionary.

    ``elements`` is ``None`` for the few segments whose element content is not
    described (their placement is still validated). ``uid`` numbers the
    segment definitions of one release's dictionary (the validator keys its
    per-segment caches on it).
    """

    id: str
    name: str
    elements: tuple[ElementUse, ...] | None
    syntax: tuple[SyntaxRule, ...] = ()
    uid: int = 0

    @property
    def required(self) -> tuple[int, ...]:
        """1-based positions of mandatory elements."""
        if self.elements is None:
            return ()
        return tuple(u.position for u in self.elements if u.mandatory)


@dataclass(frozen=True, slots=True, eq=False)
class SegmentUse:
    """A segment at one position of a loop: usage and maximum use."""

    segment: SegmentDef
    mandatory: bool
    max_use: int

    @property
    def id(self) -> str:
        return self.segment.id


@dataclass(frozen=True, slots=True, eq=False)
class LoopDef:
    """A loop (or the whole set, for the root): ordered children, first one the trigger.

    ``index`` maps a segment ID to the child positions it can start: a segment
    child with that ID, or a child loop whose trigger has it. A loop's own
    trigger (child 0) is left out of its index: meeting the trigger again
    starts a new iteration, which the parent decides.
    """

    id: str
    mandatory: bool
    repeat: int
    children: tuple[Node, ...]
    index: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    #: ``nexts[p + 1][segment_id]``: the first child at or after ``p`` that the segment can
    #: be, when the loop is at child ``p``. Child ``p`` itself counts if it may repeat
    #: (a loop, or a segment with max use above 1); its use count is the caller's to check.
    nexts: tuple[Mapping[str, int], ...] = ()
    #: ``mandatory_after[p + 1]``: the mandatory children after child ``p``.
    mandatory_after: tuple[tuple[int, ...], ...] = ()

    @property
    def trigger(self) -> str:
        first = self.children[0]
        return first.id if isinstance(first, SegmentUse) else first.trigger


Node = SegmentUse | LoopDef


@dataclass(frozen=True, slots=True)
class Hierarchy:
    """HL rules of a set: the segment that carries them and the rank of each level code."""

    segment: str
    levels: Mapping[str, int]


@dataclass(frozen=True, slots=True, eq=False)
class TransactionSetSchema:
    """One transaction set in one release, compiled for validation."""

    set_id: str
    version: str
    name: str
    functional_group: str
    root: LoopDef
    segments: Mapping[str, SegmentDef]  # every segment used by the set
    known_ids: frozenset[str]  # every X12 segment ID this library knows, in any set
    hierarchy: Hierarchy | None = None

    def __repr__(self) -> str:
        return f"<TransactionSetSchema {self.set_id} {self.version} {self.name!r}>"
