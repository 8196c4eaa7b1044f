"""Carrier and transport details (TD5 routing, TD3 equipment, tracking/PRO and bill of lading REFs)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from gateway.domain.canonical.primitives import CanonicalModel, Code, Identifier, Text

__all__ = ["CarrierDetails", "Equipment", "Scac"]

#: Standard Carrier Alpha Code: 2 to 4 upper-case letters.
Scac = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2,4}$")]


class Equipment(CanonicalModel):
    """A piece of transport equipment (TD3): trailer, container ..."""

    type_code: Code | None = None
    """TD301 equipment description code, e.g. ``TL`` trailer, ``CN`` container."""
    initial: Identifier | None = None
    """TD302 equipment initial (owner prefix)."""
    number: Identifier | None = None
    """TD303 equipment number."""
    seal_numbers: list[Identifier] = Field(default_factory=list)


class CarrierDetails(CanonicalModel):
    """Who carries the goods and how; all optional because partners send very different subsets."""

    scac: Scac | None = None
    """Carrier SCAC (TD503 with TD502 ``2``)."""
    carrier_name: Text | None = None
    mode: Code | None = None
    """TD504 transportation method, e.g. ``M`` motor, ``A`` air, ``U`` parcel."""
    routing: Text | None = None
    """TD505 routing text, e.g. ``UPS GROUND``."""
    service_level: Code | None = None
    """TD512 service level, e.g. ``ND`` next day air."""
    pro_number: Identifier | None = None
    """Carrier PRO / freight bill number (REF ``CN``)."""
    bill_of_lading: Identifier | None = None
    """Bill of lading number (REF ``BM``)."""
    tracking_numbers: list[Identifier] = Field(default_factory=list)
    """Parcel tracking numbers (REF ``2I`` or MAN ``CP``)."""
    equipment: list[Equipment] = Field(default_factory=list)
