"""Terms of sale (ITD) and FOB / shipment payment terms (FOB)."""

from __future__ import annotations

import datetime as dt

from pydantic import Field, model_validator

from gateway.domain.canonical.amounts import Money
from gateway.domain.canonical.primitives import CanonicalModel, Code, ExactDecimal, Text

__all__ = ["FobTerms", "TermsOfSale"]


class TermsOfSale(CanonicalModel):
    """Payment terms (ITD), e.g. 2% 10 days, net 30."""

    type_code: Code | None = None
    """ITD01 terms type, e.g. ``01`` basic, ``08`` basic discount offered."""
    basis_date_code: Code | None = None
    """ITD02 terms basis date, e.g. ``3`` invoice date."""
    discount_percent: ExactDecimal | None = Field(default=None, ge=0, le=100)
    discount_due_date: dt.date | None = None
    discount_days: int | None = Field(default=None, ge=0)
    net_due_date: dt.date | None = None
    net_days: int | None = Field(default=None, ge=0)
    discount_amount: Money | None = None
    description: Text | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> TermsOfSale:
        if all(getattr(self, name) is None for name in type(self).model_fields):
            raise ValueError("terms of sale are empty")
        return self


class FobTerms(CanonicalModel):
    """Who pays transport and where title passes (FOB)."""

    payment_method: Code
    """FOB01 shipment method of payment, e.g. ``PP`` prepaid, ``CC`` collect."""
    location_qualifier: Code | None = None
    """FOB02, e.g. ``OR`` origin, ``DE`` destination."""
    location: Text | None = None
    transportation_terms: Code | None = None
    """FOB05 Incoterms-style code, e.g. ``FOB``, ``DDP``."""
