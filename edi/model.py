"""The X12 object model: segments, transaction sets, groups and interchanges.

Element values are kept exactly as they appear on the wire (a composite keeps
its component separators, a repeated element its repetition separators), so
that writing a parsed interchange reproduces its bytes. Use
:meth:`Segment.components` / :meth:`Segment.repetitions` to split them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from edi.delimiters import Delimiters

__all__ = ["FunctionalGroup", "Interchange", "Segment", "TransactionSet"]


class Segment:
    """One segment: its ID and its elements (``elements[0]`` is XX01).

    A segment read from the wire keeps its text after the ID (:attr:`raw`) and splits
    it into elements only when they are first asked for: validation matches most
    segments against whole-segment patterns without ever splitting them.
    """

    __slots__ = ("_elements", "_sep", "id", "raw")

    def __init__(self, id: str, elements: list[str] | None = None) -> None:
        self.id = id
        self._elements: list[str] | None = elements if elements is not None else []
        #: The elements as read, joined by the element separator; ``None`` for segments built in code.
        #: It describes the segment as parsed: code that edits ``elements`` in place must not rely on it.
        self.raw: str | None = None
        self._sep = ""

    @property
    def elements(self) -> list[str]:
        els = self._elements
        if els is None:
            assert self.raw is not None
            els = self._elements = self.raw.split(self._sep)
        return els

    @elements.setter
    def elements(self, value: list[str]) -> None:
        self._elements = value
        self.raw = None

    def get(self, position: int, default: str = "") -> str:
        """Element at 1-based ``position`` (``seg.get(1)`` is XX01), or ``default``."""
        els = self.elements
        if 0 < position <= len(els):
            return els[position - 1]
        return default

    def components(self, position: int, delimiters: Delimiters) -> list[str]:
        value = self.get(position)
        return value.split(delimiters.component) if value else []

    def repetitions(self, position: int, delimiters: Delimiters) -> list[str]:
        value = self.get(position)
        if not value:
            return []
        if delimiters.repetition is None:
            return [value]
        return value.split(delimiters.repetition)

    def __len__(self) -> int:
        return len(self.elements)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Segment):
            return NotImplemented
        return self.id == other.id and self.elements == other.elements

    def __hash__(self) -> int:
        return hash((self.id, tuple(self.elements)))

    def __repr__(self) -> str:
        return f"Segment({self.id!r}, {self.elements!r})"

    @classmethod
    def parse(cls, text: str, element_separator: str) -> Segment:
        seg = cls.__new__(cls)
        head, sep, rest = text.partition(element_separator)
        seg.id = head
        seg._sep = element_separator
        if sep:
            seg._elements, seg.raw = None, rest
        else:
            seg._elements, seg.raw = [], None
        return seg


@dataclass(eq=True, slots=True)
class TransactionSet:
    """ST through SE inclusive."""

    segments: list[Segment]

    @property
    def header(self) -> Segment:
        return self.segments[0]

    @property
    def set_id(self) -> str:
        return self.segments[0].get(1)

    @property
    def control_number(self) -> str:
        return self.segments[0].get(2)

    @property
    def body(self) -> list[Segment]:
        """Segments between ST and SE."""
        end = len(self.segments) - 1 if self.segments and self.segments[-1].id == "SE" else len(self.segments)
        return self.segments[1:end]


@dataclass(eq=True, slots=True)
class FunctionalGroup:
    header: Segment  # GS
    transactions: list[TransactionSet] = field(default_factory=list)
    trailer: Segment | None = None  # GE

    @property
    def functional_id(self) -> str:
        return self.header.get(1)

    @property
    def control_number(self) -> str:
        return self.header.get(6)

    @property
    def version(self) -> str:
        return self.header.get(8)


@dataclass(eq=True, slots=True)
class Interchange:
    header: Segment  # ISA
    delimiters: Delimiters
    groups: list[FunctionalGroup] = field(default_factory=list)
    trailer: Segment | None = None  # IEA
    #: Interchange-level segments that sit outside any group (TA1, ISB/ISE).
    service_segments: list[Segment] = field(default_factory=list)

    @property
    def sender_qualifier(self) -> str:
        return self.header.get(5)

    @property
    def sender(self) -> str:
        return self.header.get(6).rstrip()

    @property
    def receiver_qualifier(self) -> str:
        return self.header.get(7)

    @property
    def receiver(self) -> str:
        return self.header.get(8).rstrip()

    @property
    def control_number(self) -> str:
        return self.header.get(13)

    @property
    def version(self) -> str:
        return self.header.get(12)

    @property
    def usage(self) -> str:
        return self.header.get(15)

    @property
    def ack_requested(self) -> bool:
        return self.header.get(14) == "1"

    def transactions(self) -> Iterator[tuple[FunctionalGroup, TransactionSet]]:
        for group in self.groups:
            for ts in group.transactions:
                yield group, ts
