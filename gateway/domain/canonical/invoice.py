"""Invoice (X12 810, or a supplier JSON invoice)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, model_validator

from gateway.domain.canonical.amounts import AllowanceCharge, Money, Quantity, Tax, Totals
from gateway.domain.canonical.carrier import CarrierDetails
from gateway.domain.canonical.header import DocumentBase
from gateway.domain.canonical.lines import LineBase, check_unique_line_numbers
from gateway.domain.canonical.parties import Party
from gateway.domain.canonical.primitives import Code, CurrencyCode, ExactDecimal, Identifier
from gateway.domain.canonical.references import DateRef, Note, Reference
from gateway.domain.canonical.terms import FobTerms, TermsOfSale

__all__ = ["Invoice", "InvoiceLine"]


class InvoiceLine(LineBase):
    """An invoice line (IT1 loop)."""

    quantity_invoiced: Quantity
    quantity_ordered: Quantity | None = None
    amount: ExactDecimal | None = None
    """Extended line amount when the source states it; not computed here."""


class Invoice(DocumentBase):
    """An invoice or credit/debit memo."""

    type: Literal["invoice"] = "invoice"
    schema_version: Literal["1.0"] = "1.0"
    invoice_number: Identifier
    invoice_date: dt.date
    po_number: Identifier | None = None
    po_date: dt.date | None = None
    release_number: Identifier | None = None
    transaction_type: Code | None = None
    """BIG07 transaction type, e.g. ``CR`` credit memo, ``DI`` debit invoice."""
    purpose: Code | None = None
    """BIG08 transaction set purpose."""
    currency: CurrencyCode | None = None
    parties: list[Party] = Field(default_factory=list)
    dates: list[DateRef] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list)
    terms: list[TermsOfSale] = Field(default_factory=list)
    fob: FobTerms | None = None
    carrier: CarrierDetails | None = None
    allowances_charges: list[AllowanceCharge] = Field(default_factory=list)
    taxes: list[Tax] = Field(default_factory=list)
    notes: list[Note] = Field(default_factory=list)
    lines: list[InvoiceLine] = Field(min_length=1)
    totals: Totals

    @model_validator(mode="after")
    def _check(self) -> Invoice:
        check_unique_line_numbers(self.lines)
        if self.totals.total_amount is None:
            raise ValueError("an invoice needs totals.total_amount (TDS01)")
        return self

    @property
    def total_amount(self) -> Money:
        """The amount due (``totals.total_amount``, always present on a valid invoice)."""
        assert self.totals.total_amount is not None  # checked by validation
        return self.totals.total_amount
