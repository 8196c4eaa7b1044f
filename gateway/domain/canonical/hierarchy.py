"""The shipment hierarchy shared by ship notices (856) and 3PL shipment confirmations.

A shipment is a tree of levels::

    shipment ─┬─ orders ─┬─ packs (tare ─ packs ─ items, or pack ─ items)
              │          └─ items (─ packs, for item-then-pack structures)
              ├─ packs       (shipment-level packing without an order level)
              └─ items

Each level keeps its X12 ``HL`` (ID, parent ID, level code) when it came from
X12, so the tree can be re-emitted with the same numbering, and siblings held
in different lists (packs and items of one order) can be put back in their
original order: :func:`children` sorts them by HL ID. Levels whose HL03 code
has no typed home (``Q`` subline, ``F`` component ...) are carried as
:class:`OtherLevel` with their segments whole, so an arbitrary HL tree survives
the round trip.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from gateway.domain.canonical.amounts import Quantity, Totals
from gateway.domain.canonical.carrier import CarrierDetails
from gateway.domain.canonical.extensions import Extensions, SegmentExtension
from gateway.domain.canonical.items import ItemIdentifiers, PackInfo
from gateway.domain.canonical.parties import Party
from gateway.domain.canonical.primitives import CanonicalModel, Code, Identifier, LineNumber
from gateway.domain.canonical.references import DateRef, Reference
from gateway.domain.canonical.terms import FobTerms

__all__ = [
    "HlInfo",
    "ItemLevel",
    "Level",
    "Mark",
    "OrderLevel",
    "OtherLevel",
    "PackLevel",
    "ShipmentLevel",
    "children",
    "walk",
]

HlId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{1,12}$")]

#: HL03 code each typed level must carry when it has an ``hl``.
_LEVEL_CODES = {"shipment": "S", "order": "O", "tare": "T", "pack": "P", "item": "I"}


class HlInfo(CanonicalModel):
    """The X12 HL segment of a level."""

    id: HlId
    """HL01 hierarchical ID."""
    parent_id: HlId | None = None
    """HL02 parent ID; None for the root."""
    level_code: Code
    """HL03 level code: ``S``, ``O``, ``T``, ``P``, ``I``, or any other for :class:`OtherLevel`."""
    child_code: Literal["0", "1"] | None = None
    """HL04 hierarchical child code as sent."""


class Mark(CanonicalModel):
    """A marks-and-numbers label (MAN), e.g. ``GM`` SSCC-18 or ``CP`` carrier package ID."""

    qualifier: Code
    value: Identifier


class OtherLevel(CanonicalModel):
    """A level with no typed home, kept as its segments (after HL) and its sub-levels."""

    level: Literal["other"] = "other"
    hl: HlInfo
    segments: list[SegmentExtension] = Field(default_factory=list)
    children: list[OtherLevel] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check_children(self) -> OtherLevel:
        _check_parents(self, self.children)
        return self


class _LevelBase(CanonicalModel):
    hl: HlInfo | None = None
    dates: list[DateRef] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list)
    parties: list[Party] = Field(default_factory=list)
    totals: Totals | None = None
    """Packaging, weight and volume at this level (TD1)."""
    other_levels: list[OtherLevel] = Field(default_factory=list)
    extensions: Extensions = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check_level(self) -> _LevelBase:
        level: str = getattr(self, "level")  # noqa: B009 - every concrete level defines it
        if self.hl is not None and self.hl.level_code != _LEVEL_CODES[level]:
            raise ValueError(
                f"a {level} level needs HL03 {_LEVEL_CODES[level]!r}, not {self.hl.level_code!r}"
            )
        _check_parents(self, children(self))  # type: ignore[arg-type]
        return self


class ItemLevel(_LevelBase):
    """An item shipped (LIN/SN1/PID/PO4)."""

    level: Literal["item"] = "item"
    line_number: LineNumber | None = None
    """The order line this item ships (LIN01, or the buyer's line number)."""
    item: ItemIdentifiers
    quantity_shipped: Quantity
    quantity_ordered: Quantity | None = None
    """SN105/SN106."""
    status: Code | None = None
    """SN108 line item status, e.g. ``AC`` item accepted and shipped."""
    pack: PackInfo | None = None
    packs: list[PackLevel] = Field(default_factory=list)
    """Packs under an item (item-then-pack structures)."""


class PackLevel(_LevelBase):
    """A tare (pallet) or pack (carton)."""

    level: Literal["tare", "pack"] = "pack"
    marks: list[Mark] = Field(default_factory=list)
    pack: PackInfo | None = None
    packs: list[PackLevel] = Field(default_factory=list)
    """Packs on a tare."""
    items: list[ItemLevel] = Field(default_factory=list)

    @property
    def sscc(self) -> str | None:
        """The SSCC-18 label (MAN ``GM``), if any."""
        return next((m.value for m in self.marks if m.qualifier == "GM"), None)


class OrderLevel(_LevelBase):
    """One order shipped (PRF)."""

    level: Literal["order"] = "order"
    po_number: Identifier
    release_number: Identifier | None = None
    po_date: dt.date | None = None
    packs: list[PackLevel] = Field(default_factory=list)
    items: list[ItemLevel] = Field(default_factory=list)


class ShipmentLevel(_LevelBase):
    """The shipment: carrier, terms and everything shipped."""

    level: Literal["shipment"] = "shipment"
    carrier: CarrierDetails | None = None
    fob: FobTerms | None = None
    orders: list[OrderLevel] = Field(default_factory=list)
    packs: list[PackLevel] = Field(default_factory=list)
    items: list[ItemLevel] = Field(default_factory=list)


ItemLevel.model_rebuild()

#: Any level of the tree.
Level = ShipmentLevel | OrderLevel | PackLevel | ItemLevel | OtherLevel


def _hl_sort_key(level: Level) -> int:
    assert level.hl is not None  # only called when every sibling has a numeric HL ID
    return int(level.hl.id)


def children(level: Level) -> list[Level]:
    """Direct children of ``level``; in HL order when every child has a numeric HL ID, else list order."""
    kids: list[Level] = []
    if isinstance(level, ShipmentLevel):
        kids.extend(level.orders)
    if isinstance(level, ShipmentLevel | OrderLevel | PackLevel | ItemLevel):
        kids.extend(level.packs)
    if isinstance(level, ShipmentLevel | OrderLevel | PackLevel):
        kids.extend(level.items)
    kids.extend(level.children if isinstance(level, OtherLevel) else level.other_levels)
    if all(k.hl is not None and k.hl.id.isdigit() for k in kids):
        kids.sort(key=_hl_sort_key)
    return kids


def walk(root: Level) -> Iterator[tuple[Level, Level | None]]:
    """Every level under and including ``root`` depth-first (HL order), with its parent."""
    stack: list[tuple[Level, Level | None]] = [(root, None)]
    while stack:
        level, parent = stack.pop()
        yield level, parent
        stack.extend((kid, level) for kid in reversed(children(level)))


def _check_parents(parent: Level, kids: Sequence[Level]) -> None:
    if parent.hl is None:
        return
    for kid in kids:
        if kid.hl is not None and kid.hl.parent_id != parent.hl.id:
            raise ValueError(
                f"HL {kid.hl.id} names parent {kid.hl.parent_id!r} but sits under HL {parent.hl.id}"
            )
