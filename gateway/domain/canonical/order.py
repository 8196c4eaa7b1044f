"""Purchase order (X12 850, or a supplier/buyer JSON order)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, model_validator

from gateway.domain.canonical.amounts import AllowanceCharge, Quantity, Tax, Totals
from gateway.domain.canonical.carrier import CarrierDetails
from gateway.domain.canonical.header import DocumentBase
from gateway.domain.canonical.lines import LineBase, check_unique_line_numbers
from gateway.domain.canonical.parties import Party
from gateway.domain.canonical.primitives import Code, CurrencyCode, Identifier
from gateway.domain.canonical.references import DateRef, Note, Reference
from gateway.domain.canonical.terms import FobTerms, TermsOfSale

__all__ = ["OrderLine", "PurchaseOrder"]


class OrderLine(LineBase):
    """A purchase order line (PO1 loop)."""

    quantity_ordered: Quantity
    carrier: CarrierDetails | None = None
    """Line-level routing (TD5 in the PO1 loop)."""


class PurchaseOrder(DocumentBase):
    """A purchase order."""

    type: Literal["purchase_order"] = "purchase_order"
    schema_version: Literal["1.0"] = "1.0"
    purpose: Code = "00"
    """BEG01 transaction set purpose, e.g. ``00`` original, ``05`` replace, ``07`` duplicate."""
    order_type: Code | None = None
    """BEG02 purchase order type, e.g. ``SA`` stand-alone, ``DS`` drop ship, ``RL`` release."""
    po_number: Identifier
    release_number: Identifier | None = None
    po_date: dt.date
    contract_number: Identifier | None = None
    currency: CurrencyCode | None = None
    """Document currency (CUR02); None when the partner profile implies it."""
    parties: list[Party] = Field(default_factory=list)
    dates: list[DateRef] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list)
    terms: list[TermsOfSale] = Field(default_factory=list)
    fob: FobTerms | None = None
    carrier: CarrierDetails | None = None
    allowances_charges: list[AllowanceCharge] = Field(default_factory=list)
    taxes: list[Tax] = Field(default_factory=list)
    notes: list[Note] = Field(default_factory=list)
    lines: list[OrderLine] = Field(min_length=1)
    totals: Totals | None = None

    @model_validator(mode="after")
    def _lines_unique(self) -> PurchaseOrder:
        check_unique_line_numbers(self.lines)
        return self
