"""Purchase order acknowledgement (X12 855): header acknowledgement type and per-line status."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pydantic import Field, model_validator

from gateway.domain.canonical.amounts import AllowanceCharge, Quantity, Totals
from gateway.domain.canonical.carrier import CarrierDetails
from gateway.domain.canonical.header import DocumentBase
from gateway.domain.canonical.items import ItemIdentifiers
from gateway.domain.canonical.lines import LineBase, check_unique_line_numbers
from gateway.domain.canonical.parties import Party
from gateway.domain.canonical.primitives import CanonicalModel, Code, CurrencyCode, Identifier
from gateway.domain.canonical.references import DateRef, Note, Reference
from gateway.domain.canonical.terms import FobTerms, TermsOfSale

__all__ = ["AckLine", "AckType", "LineAck", "LineStatus", "PurchaseOrderAck"]


class AckType(StrEnum):
    """BAK02 acknowledgement type (587)."""

    ACCEPTED_WITH_DETAIL_AND_CHANGE = "AC"
    ACCEPTED_WITH_DETAIL_NO_CHANGE = "AD"
    ACCEPTED_WITH_EXCEPTION_DETAIL_ONLY = "AE"
    HOLD = "AH"
    ACCEPTED_NO_DETAIL_OR_CHANGE = "AK"
    PRODUCT_REPLENISHMENT = "AP"
    ACCEPTED = "AT"
    NO_ACKNOWLEDGMENT_NEEDED = "NA"
    REJECTED_WITH_DETAIL = "RD"
    REJECTED_WITH_EXCEPTION_DETAIL_ONLY = "RF"
    REJECTED_NO_DETAIL = "RJ"
    REJECTED_NOT_AS_AGREED = "RN"
    REJECTED_WITH_COUNTER_OFFER = "RO"
    REJECTED_VIOLATES_INDUSTRY_PRACTICES = "RV"
    MUTUALLY_DEFINED = "ZZ"


class LineStatus(StrEnum):
    """ACK01 line item status (668)."""

    ACCEPTED_AND_SHIPPED = "AC"
    ACCEPTED_AND_RELEASED = "AR"
    PARTIAL_SHIPMENT_BALANCE_BACKORDERED = "BP"
    ACCEPTED_DATE_RESCHEDULED = "DR"
    ACCEPTED = "IA"
    BACKORDERED = "IB"
    ACCEPTED_CHANGES_MADE = "IC"
    DELETED = "ID"
    ACCEPTED_PRICE_PENDING = "IE"
    HOLD_INCOMPLETE_DESCRIPTION = "IF"
    ON_HOLD = "IH"
    ACCEPTED_PRICE_CHANGED = "IP"
    ACCEPTED_QUANTITY_CHANGED = "IQ"
    REJECTED = "IR"
    ACCEPTED_SUBSTITUTION_MADE = "IS"
    HOLD_WAIVER_REQUIRED = "IW"
    REJECTED_NOT_CONTRACT_ITEM = "R1"
    REJECTED_INVALID_ITEM = "R2"
    REJECTED_INVALID_UNIT = "R3"
    REJECTED_CONTRACT_ITEM_UNAVAILABLE = "R4"
    ACCEPTED_SCHEDULE_DATE_PENDING = "SP"

    @property
    def is_accepted(self) -> bool:
        """Accepted in some form (``IA``, ``IC``, ``DR``, ``BP`` ...); holds, backorders, rejections not."""
        return self in _ACCEPTED


_ACCEPTED = frozenset(
    {
        LineStatus.ACCEPTED_AND_SHIPPED,
        LineStatus.ACCEPTED_AND_RELEASED,
        LineStatus.PARTIAL_SHIPMENT_BALANCE_BACKORDERED,
        LineStatus.ACCEPTED_DATE_RESCHEDULED,
        LineStatus.ACCEPTED,
        LineStatus.ACCEPTED_CHANGES_MADE,
        LineStatus.ACCEPTED_PRICE_PENDING,
        LineStatus.ACCEPTED_PRICE_CHANGED,
        LineStatus.ACCEPTED_QUANTITY_CHANGED,
        LineStatus.ACCEPTED_SUBSTITUTION_MADE,
        LineStatus.ACCEPTED_SCHEDULE_DATE_PENDING,
    }
)


class LineAck(CanonicalModel):
    """One acknowledgement of a line (ACK): status, for what quantity, by when, possibly for another item."""

    status: LineStatus
    quantity: Quantity | None = None
    """Quantity this status applies to (ACK02/ACK03)."""
    date: DateRef | None = None
    """Scheduled date for this quantity (ACK04/ACK05)."""
    item: ItemIdentifiers | None = None
    """Substituted or corrected item IDs (ACK07..) when they differ from the line's."""


class AckLine(LineBase):
    """An acknowledged line (PO1 loop of the 855); one line may be split over several ``acks``."""

    quantity_ordered: Quantity | None = None
    """Quantity as ordered (PO102/PO103)."""
    acks: list[LineAck] = Field(default_factory=list)
    """Line statuses (ACK loops); empty when the acknowledgement states none for this line (a
    header-level ``ack_type`` such as ``AT`` applies to every line, or the line carries schedules only)."""
    carrier: CarrierDetails | None = None

    def quantity_accepted(self) -> Quantity | None:
        """Total quantity of the accepting acks, when there are some and all state one in the same unit."""
        accepted = [a.quantity for a in self.acks if a.status.is_accepted]
        if not accepted or any(q is None for q in accepted):
            return None
        units = {q.unit for q in accepted if q is not None}
        if len(units) != 1:
            return None
        return Quantity(value=sum((q.value for q in accepted if q is not None), Decimal(0)), unit=units.pop())


class PurchaseOrderAck(DocumentBase):
    """A purchase order acknowledgement."""

    type: Literal["purchase_order_ack"] = "purchase_order_ack"
    schema_version: Literal["1.0"] = "1.0"
    purpose: Code = "00"
    """BAK01 transaction set purpose, e.g. ``00`` original, ``06`` confirmation."""
    ack_type: AckType
    po_number: Identifier
    po_date: dt.date
    release_number: Identifier | None = None
    ack_number: Identifier | None = None
    """Seller's acknowledgement or order number (BAK08)."""
    ack_date: dt.date | None = None
    """BAK09."""
    contract_number: Identifier | None = None
    currency: CurrencyCode | None = None
    parties: list[Party] = Field(default_factory=list)
    dates: list[DateRef] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list)
    terms: list[TermsOfSale] = Field(default_factory=list)
    fob: FobTerms | None = None
    carrier: CarrierDetails | None = None
    allowances_charges: list[AllowanceCharge] = Field(default_factory=list)
    notes: list[Note] = Field(default_factory=list)
    lines: list[AckLine] = Field(default_factory=list)
    """Empty for acknowledgements without detail (``AK``, ``RJ``)."""
    totals: Totals | None = None

    @model_validator(mode="after")
    def _lines_unique(self) -> PurchaseOrderAck:
        check_unique_line_numbers(self.lines)
        return self
