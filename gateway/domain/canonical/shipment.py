"""Ship notices (X12 856) and 3PL shipment confirmations (JSON): two documents over one hierarchy."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, Field, model_validator

from gateway.domain.canonical.header import DocumentBase
from gateway.domain.canonical.hierarchy import ItemLevel, Level, ShipmentLevel, walk
from gateway.domain.canonical.primitives import Code, Identifier, LocalTime
from gateway.domain.canonical.references import Note

__all__ = ["ConfirmationStatus", "ShipNotice", "ShipmentConfirmation", "ShipmentDocument"]


class ShipmentDocument(DocumentBase):
    """Base of documents that carry a shipment tree; checks HL IDs are unique across the tree."""

    shipment: ShipmentLevel
    notes: list[Note] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_hl_ids(self) -> ShipmentDocument:
        seen: set[str] = set()
        for level, _parent in walk(self.shipment):
            if level.hl is None:
                continue
            if level.hl.id in seen:
                raise ValueError(f"HL ID {level.hl.id!r} is used twice")
            seen.add(level.hl.id)
        return self

    def levels(self) -> Iterator[tuple[Level, Level | None]]:
        """Every level depth-first in HL order, with its parent (None for the shipment)."""
        return walk(self.shipment)

    def items(self) -> list[ItemLevel]:
        """Every item level in the tree, in HL order."""
        return [level for level, _ in walk(self.shipment) if isinstance(level, ItemLevel)]


class ShipNotice(ShipmentDocument):
    """An advance ship notice (856 BSN + HL tree)."""

    type: Literal["ship_notice"] = "ship_notice"
    schema_version: Literal["1.0"] = "1.0"
    purpose: Code = "00"
    """BSN01 transaction set purpose, e.g. ``00`` original, ``05`` replace."""
    shipment_id: Identifier
    """BSN02 shipment identification assigned by the shipper."""
    shipment_date: dt.date
    """BSN03."""
    shipment_time: LocalTime | None = None
    """BSN04."""
    structure_code: Code | None = None
    """BSN05 hierarchical structure code, e.g. ``0001`` shipment/order/packaging/item."""


class ConfirmationStatus(StrEnum):
    """What the 3PL did with the shipping order."""

    SHIPPED = "shipped"
    PARTIALLY_SHIPPED = "partially_shipped"
    CANCELLED = "cancelled"


class ShipmentConfirmation(ShipmentDocument):
    """A 3PL's confirmation that a shipping order left the warehouse (JSON; 945-like)."""

    type: Literal["shipment_confirmation"] = "shipment_confirmation"
    schema_version: Literal["1.0"] = "1.0"
    confirmation_id: Identifier
    """The 3PL's ID for this confirmation or shipment."""
    shipping_order_number: Identifier
    """The shipping order (warehouse order) being confirmed, as we sent it."""
    status: ConfirmationStatus
    shipped_at: AwareDatetime | None = None
    """When the goods left; None only when ``status`` is ``cancelled``."""

    @model_validator(mode="after")
    def _shipped_has_time(self) -> ShipmentConfirmation:
        if self.status is not ConfirmationStatus.CANCELLED and self.shipped_at is None:
            raise ValueError(f"a {self.status.value} confirmation needs shipped_at")
        return self
