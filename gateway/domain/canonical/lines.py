"""Fields shared by the line items of orders, acknowledgements and invoices, and line-list checks."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field

from gateway.domain.canonical.amounts import AllowanceCharge, Price, Tax
from gateway.domain.canonical.extensions import Extensions
from gateway.domain.canonical.items import ItemIdentifiers, PackInfo
from gateway.domain.canonical.parties import Party
from gateway.domain.canonical.primitives import CanonicalModel, LineNumber
from gateway.domain.canonical.references import DateRef, Note, Reference

__all__ = ["LineBase", "check_unique_line_numbers"]


class LineBase(CanonicalModel):
    """A line item: what (item), at what price, when, for whom, plus anything without a canonical home."""

    line_number: LineNumber | None = None
    """Assigned line number as sent (PO101, IT101); None when the source has none."""
    item: ItemIdentifiers
    unit_price: Price | None = None
    pack: PackInfo | None = None
    dates: list[DateRef] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list)
    parties: list[Party] = Field(default_factory=list)
    """Line-level parties (N1 loop inside the line, e.g. a ship-to per line)."""
    allowances_charges: list[AllowanceCharge] = Field(default_factory=list)
    taxes: list[Tax] = Field(default_factory=list)
    notes: list[Note] = Field(default_factory=list)
    extensions: Extensions = Field(default_factory=dict)


def check_unique_line_numbers(lines: Sequence[LineBase]) -> None:
    """Raise ValueError when two lines share a line number (lines without one are not compared)."""
    seen: set[str] = set()
    for line in lines:
        if line.line_number is None:
            continue
        if line.line_number in seen:
            raise ValueError(f"duplicate line number {line.line_number!r}")
        seen.add(line.line_number)
