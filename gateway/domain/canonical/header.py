"""The header every canonical document carries, and the base class of all documents.

The union of documents is tagged by the top-level ``type`` field (a pydantic v2
discriminator must be a top-level field). ``header.document_type`` repeats it so
that the header can travel alone (message properties, logs); the two must agree.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, Field, StringConstraints, model_validator

from gateway.domain.canonical.extensions import Extensions
from gateway.domain.canonical.primitives import CanonicalModel, Identifier, PartnerId

__all__ = [
    "X12_DOCUMENT_TYPES",
    "Direction",
    "DocumentBase",
    "DocumentHeader",
    "DocumentType",
    "SourceChannel",
    "Usage",
]


class DocumentType(StrEnum):
    """Canonical document types; the value is the ``type`` tag."""

    PURCHASE_ORDER = "purchase_order"
    PURCHASE_ORDER_ACK = "purchase_order_ack"
    SHIP_NOTICE = "ship_notice"
    SHIPMENT_CONFIRMATION = "shipment_confirmation"
    INVOICE = "invoice"
    FUNCTIONAL_ACK = "functional_ack"


#: X12 transaction set ID (ST01, or ``TA1``) -> canonical document type.
X12_DOCUMENT_TYPES: dict[str, DocumentType] = {
    "850": DocumentType.PURCHASE_ORDER,
    "855": DocumentType.PURCHASE_ORDER_ACK,
    "856": DocumentType.SHIP_NOTICE,
    "810": DocumentType.INVOICE,
    "997": DocumentType.FUNCTIONAL_ACK,
    "999": DocumentType.FUNCTIONAL_ACK,
    "TA1": DocumentType.FUNCTIONAL_ACK,
}


class Direction(StrEnum):
    INBOUND = "inbound"
    """From a trading partner towards ERP/WMS."""
    OUTBOUND = "outbound"
    """From ERP/WMS towards a trading partner."""


class SourceChannel(StrEnum):
    """How the source document reached (or will leave) the gateway."""

    AS2 = "as2"
    SFTP = "sftp"
    WEBHOOK = "webhook"
    FILE = "file"
    API = "api"
    BROKER = "broker"
    """From the message broker (ERP/WMS side)."""
    REPLAY = "replay"
    """Re-entered from the store by an operator."""


class Usage(StrEnum):
    """Test or production data (ISA15 ``T``/``P``)."""

    TEST = "test"
    PRODUCTION = "production"

    @classmethod
    def from_x12(cls, indicator: str) -> Usage:
        """ISA15 value -> usage; anything but ``T``/``P`` is a ValueError."""
        match indicator:
            case "T":
                return cls.TEST
            case "P":
                return cls.PRODUCTION
        raise ValueError(f"ISA15 usage indicator must be T or P, not {indicator!r}")

    @property
    def x12(self) -> str:
        return "T" if self is Usage.TEST else "P"


Isa13 = Annotated[str, StringConstraints(pattern=r"^[0-9]{9}$")]
Gs06 = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,9}$")]
St02 = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{4,9}$")]
X12Version = Annotated[str, StringConstraints(pattern=r"^[0-9]{6}[A-Z0-9]{0,6}$")]


class DocumentHeader(CanonicalModel):
    """Where a document comes from, where it goes and how to find its raw form."""

    partner_id: PartnerId
    document_type: DocumentType
    direction: Direction
    source_channel: SourceChannel
    usage: Usage
    correlation_id: Identifier
    """Ties together everything the gateway does for one inbound or outbound message."""
    received_at: AwareDatetime
    """When the gateway received the source document (timezone-aware)."""
    isa13: Isa13 | None = None
    """Interchange control number; None for JSON sources."""
    gs06: Gs06 | None = None
    """Functional group control number; None for JSON sources."""
    st02: St02 | None = None
    """Transaction set control number; None for JSON sources and TA1."""
    x12_version: X12Version | None = None
    """GS08 version/release, e.g. ``004010`` or ``004010VICS``."""
    raw_document_id: Identifier | None = None
    """ID of the stored raw payload; None until stored."""


class DocumentBase(CanonicalModel):
    """Fields of every canonical document. Subclasses narrow ``type`` and ``schema_version`` to literals."""

    type: str
    schema_version: str
    header: DocumentHeader
    extensions: Extensions = Field(default_factory=dict)

    @model_validator(mode="after")
    def _type_matches_header(self) -> DocumentBase:
        if self.header.document_type != self.type:
            raise ValueError(
                f"header.document_type {self.header.document_type.value!r} does not match type {self.type!r}"
            )
        return self
