"""Canonical business documents: versioned pydantic v2 models that ERP and WMS teams consume.

Documents: :class:`PurchaseOrder` (850 / JSON), :class:`PurchaseOrderAck` (855),
:class:`ShipNotice` (856), :class:`ShipmentConfirmation` (3PL JSON), :class:`Invoice` (810)
and :class:`FunctionalAck` (997/999/TA1). :data:`CanonicalDocument` is their union tagged by
``type``; :func:`parse_document` validates any of them, :func:`document_model` looks one up.

Conventions (see :mod:`.primitives` and :mod:`.extensions`): unknown fields are errors;
money and quantities are exact decimals, written to JSON as strings, never floats; content with
no canonical field goes to ``extensions`` so mapping never drops data. Models are mutable with
validation on assignment. The domain imports only pydantic, the standard library and ``edi``.
"""

from __future__ import annotations

from gateway.domain.canonical.ack import AckLine, AckType, LineAck, LineStatus, PurchaseOrderAck
from gateway.domain.canonical.amounts import (
    AllowanceCharge,
    AllowanceChargeIndicator,
    Measurement,
    Money,
    Price,
    QualifiedAmount,
    Quantity,
    Tax,
    Totals,
)
from gateway.domain.canonical.carrier import CarrierDetails, Equipment, Scac
from gateway.domain.canonical.documents import (
    DOCUMENT_MODELS,
    CanonicalDocument,
    UnknownDocumentType,
    document_model,
    dump_document,
    parse_document,
)
from gateway.domain.canonical.extensions import (
    Extension,
    ExtensionElement,
    Extensions,
    FieldExtension,
    Namespace,
    SegmentExtension,
    segment_extensions,
)
from gateway.domain.canonical.functional_ack import (
    AckStatus,
    ElementError,
    FunctionalAck,
    GroupResult,
    InterchangeResult,
    SegmentError,
    SetResult,
)
from gateway.domain.canonical.header import (
    X12_DOCUMENT_TYPES,
    Direction,
    DocumentBase,
    DocumentHeader,
    DocumentType,
    SourceChannel,
    Usage,
)
from gateway.domain.canonical.hierarchy import (
    HlInfo,
    ItemLevel,
    Level,
    Mark,
    OrderLevel,
    OtherLevel,
    PackLevel,
    ShipmentLevel,
    children,
    walk,
)
from gateway.domain.canonical.invoice import Invoice, InvoiceLine
from gateway.domain.canonical.items import ItemIdentifiers, PackInfo, QualifiedId
from gateway.domain.canonical.lines import LineBase
from gateway.domain.canonical.order import OrderLine, PurchaseOrder
from gateway.domain.canonical.parties import (
    Address,
    Contact,
    ContactChannel,
    Party,
    PartyIdentifier,
    PartyIdQualifier,
    PartyRole,
    find_party,
)
from gateway.domain.canonical.primitives import (
    CanonicalModel,
    Code,
    CountryCode,
    CurrencyCode,
    ExactDecimal,
    Identifier,
    LineNumber,
    PartnerId,
    Text,
)
from gateway.domain.canonical.references import DateQualifier, DateRef, Note, Reference, ReferenceQualifier
from gateway.domain.canonical.schema import schema_files
from gateway.domain.canonical.shipment import (
    ConfirmationStatus,
    ShipmentConfirmation,
    ShipmentDocument,
    ShipNotice,
)
from gateway.domain.canonical.terms import FobTerms, TermsOfSale

__all__ = [
    "DOCUMENT_MODELS",
    "X12_DOCUMENT_TYPES",
    "AckLine",
    "AckStatus",
    "AckType",
    "Address",
    "AllowanceCharge",
    "AllowanceChargeIndicator",
    "CanonicalDocument",
    "CanonicalModel",
    "CarrierDetails",
    "Code",
    "ConfirmationStatus",
    "Contact",
    "ContactChannel",
    "CountryCode",
    "CurrencyCode",
    "DateQualifier",
    "DateRef",
    "Direction",
    "DocumentBase",
    "DocumentHeader",
    "DocumentType",
    "ElementError",
    "Equipment",
    "ExactDecimal",
    "Extension",
    "ExtensionElement",
    "Extensions",
    "FieldExtension",
    "FobTerms",
    "FunctionalAck",
    "GroupResult",
    "HlInfo",
    "Identifier",
    "InterchangeResult",
    "Invoice",
    "InvoiceLine",
    "ItemIdentifiers",
    "ItemLevel",
    "Level",
    "LineAck",
    "LineBase",
    "LineNumber",
    "LineStatus",
    "Mark",
    "Measurement",
    "Money",
    "Namespace",
    "Note",
    "OrderLevel",
    "OrderLine",
    "OtherLevel",
    "PackInfo",
    "PackLevel",
    "PartnerId",
    "Party",
    "PartyIdQualifier",
    "PartyIdentifier",
    "PartyRole",
    "Price",
    "PurchaseOrder",
    "PurchaseOrderAck",
    "QualifiedAmount",
    "QualifiedId",
    "Quantity",
    "Reference",
    "ReferenceQualifier",
    "Scac",
    "SegmentError",
    "SegmentExtension",
    "SetResult",
    "ShipNotice",
    "ShipmentConfirmation",
    "ShipmentDocument",
    "ShipmentLevel",
    "SourceChannel",
    "Tax",
    "TermsOfSale",
    "Text",
    "Totals",
    "UnknownDocumentType",
    "Usage",
    "children",
    "document_model",
    "dump_document",
    "find_party",
    "parse_document",
    "schema_files",
    "segment_extensions",
    "walk",
]
