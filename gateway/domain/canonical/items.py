"""Item identification (X12 PO1/LIN/IT1 qualifier-value pairs, PID description) and pack details (PO4)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

from pydantic import Field, StringConstraints, model_validator

from gateway.domain.canonical.amounts import Measurement
from gateway.domain.canonical.primitives import CanonicalModel, Code, ExactDecimal, Identifier, Text

__all__ = ["ItemIdentifiers", "PackInfo", "QualifiedId"]

_Digits = Annotated[str, StringConstraints(pattern=r"^[0-9]{6,14}$")]

#: X12 product/service ID qualifier (235) -> ItemIdentifiers field, for the well-known ones.
_QUALIFIER_FIELDS: dict[str, str] = {
    "UK": "gtin",
    "UP": "upc",
    "EN": "ean",
    "VP": "vendor_part",
    "BP": "buyer_part",
    "SK": "sku",
}


class QualifiedId(CanonicalModel):
    """An item ID with its X12 product/service ID qualifier, e.g. ``MG`` manufacturer part number."""

    qualifier: Code
    value: Identifier


class ItemIdentifiers(CanonicalModel):
    """How an item is identified. At least one identifier or a description is required."""

    gtin: _Digits | None = None
    """GTIN-14 (qualifier ``UK``)."""
    upc: _Digits | None = None
    """UPC (qualifier ``UP``), digits as sent (partners zero-pad to 12-14)."""
    ean: _Digits | None = None
    """EAN-13 (qualifier ``EN``)."""
    vendor_part: Identifier | None = None
    """Vendor's part number (qualifier ``VP``)."""
    buyer_part: Identifier | None = None
    """Buyer's part number (qualifier ``BP``)."""
    sku: Identifier | None = None
    """Stock keeping unit (qualifier ``SK``)."""
    description: Text | None = None
    """Free-form item description (PID05)."""
    other: list[QualifiedId] = Field(default_factory=list)
    """Any other qualified IDs, in source order (e.g. ``VN``, ``IN``, ``MG``, ``CB``)."""

    @classmethod
    def from_qualified(
        cls, pairs: Iterable[tuple[str, str]], description: str | None = None
    ) -> ItemIdentifiers:
        """Build from X12 qualifier/value pairs (PO106/PO107, LIN02/LIN03 ...).

        Well-known qualifiers fill their field (the first occurrence wins);
        every other pair, and repeats, go to ``other`` in order.
        """
        fields: dict[str, str] = {}
        other: list[QualifiedId] = []
        for qualifier, value in pairs:
            name = _QUALIFIER_FIELDS.get(qualifier)
            if name is not None and name not in fields:
                fields[name] = value
            else:
                other.append(QualifiedId(qualifier=qualifier, value=value))
        return cls.model_validate({**fields, "description": description, "other": other})

    def qualified(self) -> list[tuple[str, str]]:
        """All IDs as X12 qualifier/value pairs: well-known fields first (fixed order), then ``other``."""
        pairs = [(q, v) for q, name in _QUALIFIER_FIELDS.items() if (v := getattr(self, name)) is not None]
        pairs.extend((o.qualifier, o.value) for o in self.other)
        return pairs

    @model_validator(mode="after")
    def _identified(self) -> ItemIdentifiers:
        if not self.qualified() and self.description is None:
            raise ValueError("an item needs at least one identifier or a description")
        return self


class PackInfo(CanonicalModel):
    """Packaging of an item or pack (PO4): how many inner units make a pack, and its size and weight."""

    pack: int | None = Field(default=None, ge=1)
    """PO401: number of inner pack units per outer pack."""
    size: ExactDecimal | None = None
    """PO402: size of each inner unit."""
    size_unit: Code | None = None
    """PO403: unit of ``size``."""
    packaging_code: Code | None = None
    """PO404: packaging code, e.g. ``CTN25`` carton/corrugated."""
    inner_pack: int | None = Field(default=None, ge=1)
    """PO414: inner packs per pack."""
    gross_weight: Measurement | None = None
    gross_volume: Measurement | None = None
