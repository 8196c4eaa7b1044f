"""Quantities, prices, money, measurements, totals, allowances/charges and taxes -- all exact decimals."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, model_validator

from gateway.domain.canonical.primitives import CanonicalModel, Code, CurrencyCode, ExactDecimal, Text

__all__ = [
    "AllowanceCharge",
    "AllowanceChargeIndicator",
    "Measurement",
    "Money",
    "Price",
    "QualifiedAmount",
    "Quantity",
    "Tax",
    "Totals",
]


class Quantity(CanonicalModel):
    """A quantity with its unit of measure (X12 355 code such as ``EA``, ``CA``, ``LB``)."""

    value: ExactDecimal
    unit: Code | None = None
    """Unit of measure; None only when the source gives none (e.g. a hash total)."""


class Money(CanonicalModel):
    """An amount of money; ``currency`` None means the document currency."""

    amount: ExactDecimal
    currency: CurrencyCode | None = None


class Price(CanonicalModel):
    """A unit price: amount, currency and basis (PO104/PO105, IT104/IT105)."""

    amount: ExactDecimal
    currency: CurrencyCode | None = None
    basis: Code | None = None
    """Price basis code (639), e.g. ``PE`` price per each, ``CT`` contract."""


class Measurement(CanonicalModel):
    """A weight, volume or dimension with its unit, and optionally its X12 qualifier (e.g. ``G`` gross)."""

    value: ExactDecimal = Field(ge=0)
    unit: Code
    qualifier: Code | None = None


class QualifiedAmount(CanonicalModel):
    """A qualified monetary amount (AMT, TDS): ``TT`` total transaction amount, ``1`` line item total ..."""

    qualifier: Code
    amount: ExactDecimal
    currency: CurrencyCode | None = None


class AllowanceChargeIndicator(StrEnum):
    """SAC01 / ITA01."""

    ALLOWANCE = "allowance"
    CHARGE = "charge"
    NO_ALLOWANCE_OR_CHARGE = "none"
    PROMOTION = "promotion"

    @classmethod
    def from_x12(cls, code: str) -> AllowanceChargeIndicator:
        return _AC_CODES[code]

    @property
    def x12(self) -> str:
        return next(code for code, ind in _AC_CODES.items() if ind is self)


_AC_CODES = {
    "A": AllowanceChargeIndicator.ALLOWANCE,
    "C": AllowanceChargeIndicator.CHARGE,
    "N": AllowanceChargeIndicator.NO_ALLOWANCE_OR_CHARGE,
    "P": AllowanceChargeIndicator.PROMOTION,
}


class AllowanceCharge(CanonicalModel):
    """An allowance or charge (SAC): freight, discounts, handling ..."""

    indicator: AllowanceChargeIndicator
    code: Code | None = None
    """SAC02 service/promotion/allowance/charge code, e.g. ``D240`` freight."""
    amount: ExactDecimal | None = None
    """Amount in document currency, already scaled (X12 SAC05 is implied 2 decimals)."""
    percent: ExactDecimal | None = None
    rate: ExactDecimal | None = None
    quantity: Quantity | None = None
    handling: Code | None = None
    """SAC12 method of handling, e.g. ``02`` off invoice, ``06`` charge to be paid by customer."""
    description: Text | None = None

    @model_validator(mode="after")
    def _something_to_apply(self) -> AllowanceCharge:
        if self.code is None and self.description is None:
            raise ValueError("an allowance/charge needs a code or a description")
        return self


class Tax(CanonicalModel):
    """A tax (TXI): type, amount and/or percent, jurisdiction."""

    type_code: Code
    """TXI01, e.g. ``ST`` state sales tax, ``VA`` value added tax."""
    amount: ExactDecimal | None = None
    percent: ExactDecimal | None = None
    jurisdiction: Text | None = None
    exempt_code: Code | None = None

    @model_validator(mode="after")
    def _amount_or_percent(self) -> Tax:
        if self.amount is None and self.percent is None and self.exempt_code is None:
            raise ValueError("a tax needs an amount, a percent or an exemption code")
        return self


class Totals(CanonicalModel):
    """Document or level totals (CTT, AMT, TDS, TD1, ISS)."""

    line_count: int | None = Field(default=None, ge=0)
    """Number of line items (CTT01)."""
    quantity_total: ExactDecimal | None = None
    """Hash total of quantities (CTT02)."""
    package_count: int | None = Field(default=None, ge=0)
    """Lading quantity (TD102)."""
    packaging_code: Code | None = None
    """TD101 packaging code, e.g. ``CTN25``."""
    total_amount: Money | None = None
    """Total amount due (TDS01 scaled) or order total."""
    amounts: list[QualifiedAmount] = Field(default_factory=list)
    """Other qualified amounts (AMT, TDS02-04)."""
    weight: Measurement | None = None
    volume: Measurement | None = None
