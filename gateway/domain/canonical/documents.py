"""The tagged union of canonical documents and the helpers to look up and parse them."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field, TypeAdapter

from gateway.domain.canonical.ack import PurchaseOrderAck
from gateway.domain.canonical.functional_ack import FunctionalAck
from gateway.domain.canonical.header import X12_DOCUMENT_TYPES, DocumentType
from gateway.domain.canonical.invoice import Invoice
from gateway.domain.canonical.order import PurchaseOrder
from gateway.domain.canonical.shipment import ShipmentConfirmation, ShipNotice

__all__ = [
    "DOCUMENT_MODELS",
    "CanonicalDocument",
    "UnknownDocumentType",
    "document_model",
    "dump_document",
    "parse_document",
]

#: Any canonical document, told apart by its top-level ``type``.
CanonicalDocument = Annotated[
    PurchaseOrder | PurchaseOrderAck | ShipNotice | ShipmentConfirmation | Invoice | FunctionalAck,
    Field(discriminator="type"),
]

#: Document type -> model, in a stable order.
DOCUMENT_MODELS: dict[DocumentType, type[BaseModel]] = {
    DocumentType.PURCHASE_ORDER: PurchaseOrder,
    DocumentType.PURCHASE_ORDER_ACK: PurchaseOrderAck,
    DocumentType.SHIP_NOTICE: ShipNotice,
    DocumentType.SHIPMENT_CONFIRMATION: ShipmentConfirmation,
    DocumentType.INVOICE: Invoice,
    DocumentType.FUNCTIONAL_ACK: FunctionalAck,
}

_ADAPTER: TypeAdapter[CanonicalDocument] = TypeAdapter(CanonicalDocument)


class UnknownDocumentType(LookupError):
    """Neither a canonical document type nor an X12 set ID with a canonical model."""


def document_model(document_type: str) -> type[BaseModel]:
    """The model for a canonical type (``"invoice"``) or an X12 set ID (``"810"``, ``"TA1"``)."""
    try:
        key = DocumentType(document_type)
    except ValueError:
        if document_type not in X12_DOCUMENT_TYPES:
            known = ", ".join([*DocumentType, *X12_DOCUMENT_TYPES])
            raise UnknownDocumentType(f"unknown document type {document_type!r}; known: {known}") from None
        key = X12_DOCUMENT_TYPES[document_type]
    return DOCUMENT_MODELS[key]


def parse_document(data: dict[str, Any] | bytes | str) -> CanonicalDocument:
    """Validate a document from a dict (Python mode) or JSON text/bytes.

    Raises :class:`pydantic.ValidationError`, whose errors name the field and,
    for the wrong or a missing ``type``, the accepted tags.
    """
    if isinstance(data, bytes | str):
        return _ADAPTER.validate_json(data)
    return _ADAPTER.validate_python(data)


def dump_document(document: CanonicalDocument) -> bytes:
    """The canonical JSON of a document (decimals as strings, nulls kept) as UTF-8 bytes."""
    return _ADAPTER.dump_json(document)
