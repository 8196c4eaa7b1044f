"""Parties (X12 N1 loop: N1/N2/N3/N4/PER/REF): role, name, identifiers, address and contacts."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from gateway.domain.canonical.extensions import Extensions
from gateway.domain.canonical.primitives import CanonicalModel, Code, CountryCode, Identifier, Text
from gateway.domain.canonical.references import Reference

__all__ = [
    "Address",
    "Contact",
    "ContactChannel",
    "Party",
    "PartyIdQualifier",
    "PartyIdentifier",
    "PartyRole",
    "find_party",
]


class PartyRole(StrEnum):
    """Common N101 (98) entity identifier codes. ``Party.role`` accepts any code."""

    BILL_TO = "BT"
    BUYING_PARTY = "BY"
    MANUFACTURER = "MF"
    REMIT_TO = "RE"
    SELLING_PARTY = "SE"
    SHIP_FROM = "SF"
    SHIP_TO = "ST"
    SUPPLIER = "SU"
    VENDOR = "VN"
    WAREHOUSE = "WH"
    CARRIER = "CA"
    ULTIMATE_CONSIGNEE = "UC"
    MARK_FOR = "Z7"
    ORDERED_BY = "OB"
    PAYER = "PR"
    PAYEE = "PE"


class PartyIdQualifier(StrEnum):
    """Common N103 (66) identification code qualifiers. ``PartyIdentifier.qualifier`` accepts any code."""

    DUNS = "1"
    DUNS_PLUS_4 = "9"
    GLN = "UL"
    ASSIGNED_BY_SELLER = "91"
    ASSIGNED_BY_BUYER = "92"
    MUTUALLY_DEFINED = "ZZ"


class PartyIdentifier(CanonicalModel):
    """One identifier of a party, e.g. DUNS ``1``/``123456789`` or GLN ``UL``/``0614141000005``."""

    qualifier: Code
    value: Identifier


class Address(CanonicalModel):
    """Postal address (N3/N4)."""

    lines: list[Text] = Field(default_factory=list)
    """Street lines in order (N301, N302 of each N3)."""
    city: Text | None = None
    state: Code | None = None
    """State or province code (N402)."""
    postal_code: Identifier | None = None
    country: CountryCode | None = None


class ContactChannel(CanonicalModel):
    """One way to reach a contact: PER communication qualifier (``TE``, ``EM``, ``FX`` ...) and number."""

    qualifier: Code
    value: Identifier


class Contact(CanonicalModel):
    """A contact person or department (PER)."""

    function: Code
    """PER01 contact function, e.g. ``BD`` buyer, ``IC`` information contact."""
    name: Text | None = None
    channels: list[ContactChannel] = Field(default_factory=list)


class Party(CanonicalModel):
    """A party in a role (buyer, ship-to, vendor ...)."""

    role: Code
    """N101 entity identifier code, e.g. ``ST`` ship to (see :class:`PartyRole`)."""
    role_name: Text | None = None
    """Human-readable role, e.g. ``Ship To``; informational."""
    name: Text | None = None
    additional_names: list[Text] = Field(default_factory=list)
    """N2 name lines."""
    identifiers: list[PartyIdentifier] = Field(default_factory=list)
    """N103/N104 first, then any further identifiers (e.g. from REF in the N1 loop)."""
    address: Address | None = None
    contacts: list[Contact] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list)
    extensions: Extensions = Field(default_factory=dict)

    def identifier(self, qualifier: str) -> str | None:
        """The first identifier value with ``qualifier``, if any."""
        return next((i.value for i in self.identifiers if i.qualifier == qualifier), None)


def find_party(parties: list[Party], role: str) -> Party | None:
    """The first party with N101 ``role`` in ``parties``."""
    return next((p for p in parties if p.role == role), None)
