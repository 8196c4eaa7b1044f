"""Table order for outbound X12: segments written in any order, emitted in the set's own order.

The writers in :mod:`.x12_out` write what a canonical document holds; a :class:`Scope` puts
it where the transaction set's standard table (the ``edi`` schema of the 850/855/856/810)
wants it. Each scope is one loop instance (the set itself, a PO1 line, an N1 party, an HL
level ...): every segment written into it is ranked by its place among the loop's direct
children, and a nested loop instance is one block ranked by the loop's place. Closing a
scope sorts its blocks by rank (stably, so repeats keep the order they were written in)
and hands them to the enclosing scope as one block.

A segment the table does not know at that level (an extension kept from a partner's
non-standard file) keeps its place after the block written before it; the writer's final
schema validation then reports it.
"""

from __future__ import annotations

from dataclasses import dataclass

from edi.model import Segment
from edi.schemas import LoopDef, SegmentUse, TransactionSetSchema, load_schema
from gateway.domain.mapping.errors import MappingError

__all__ = ["Scope", "Table", "set_table"]


@dataclass(frozen=True, slots=True)
class Table:
    """The direct children of one loop: rank by segment or loop ID, and the nested loops."""

    loop: LoopDef
    ranks: dict[str, int]
    loops: dict[str, LoopDef]

    @classmethod
    def of(cls, loop: LoopDef) -> Table:
        cached = _TABLES.get(id(loop))
        if cached is not None and cached.loop is loop:
            return cached
        ranks: dict[str, int] = {}
        loops: dict[str, LoopDef] = {}
        for index, child in enumerate(loop.children):
            if isinstance(child, SegmentUse):
                ranks.setdefault(child.id, index)
            else:
                ranks.setdefault(child.id, index)
                loops.setdefault(child.id, child)
        table = _TABLES[id(loop)] = cls(loop, ranks, loops)
        return table

    def sub(self, loop_id: str) -> Table:
        """The table of the nested loop ``loop_id``; a MappingError when this loop has none."""
        loop = self.loops.get(loop_id)
        if loop is None:
            raise MappingError(f"the {loop_id} loop has no place inside the {self.loop.id} loop")
        return Table.of(loop)

    def belongs(self, segment_id: str) -> bool:
        """Whether ``segment_id`` is a direct child (or starts a nested loop) here."""
        return segment_id in self.ranks


_TABLES: dict[int, Table] = {}


def set_table(set_id: str, version: str | None) -> tuple[TransactionSetSchema, Table]:
    """The schema and root table of ``set_id`` (850, 855, 856, 810) for a 004010/005010 version."""
    schema = load_schema(set_id, version or "004010")
    if schema is None:
        raise MappingError(f"no X12 {set_id} schema for version {version}", field="version")
    return schema, Table.of(schema.root)


class Scope:
    """The blocks written into one loop instance, in writing order until :meth:`close`."""

    __slots__ = ("blocks", "direct", "last", "table")

    def __init__(self, table: Table) -> None:
        self.table = table
        self.blocks: list[tuple[int, list[Segment]]] = []
        #: The segments written directly into this scope (not those of nested loops), in writing order.
        self.direct: list[Segment] = []
        self.last = 0

    def add(self, segment: Segment) -> None:
        rank = self.table.ranks.get(segment.id, self.last)
        self.last = rank
        self.blocks.append((rank, [segment]))
        self.direct.append(segment)

    def add_loop(self, loop_id: str, segments: list[Segment]) -> None:
        if segments:
            rank = self.table.ranks[loop_id]
            self.last = rank
            self.blocks.append((rank, segments))

    def close(self) -> list[Segment]:
        """Every segment of the scope in table order."""
        ordered = sorted(self.blocks, key=_rank)
        return [segment for _, block in ordered for segment in block]


def _rank(block: tuple[int, list[Segment]]) -> int:
    return block[0]
