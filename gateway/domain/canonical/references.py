"""Qualified dates, references and notes (X12 DTM, REF, NTE and their JSON equivalents)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import model_validator

from gateway.domain.canonical.primitives import CanonicalModel, Code, Identifier, LocalTime, Text

__all__ = ["DateQualifier", "DateRef", "Note", "Reference", "ReferenceQualifier"]


class DateQualifier(StrEnum):
    """Common DTM01 (374) qualifiers. The ``qualifier`` field accepts any code; these are names for them."""

    REQUESTED_SHIP = "010"
    SHIPPED = "011"
    DISCOUNT_DUE = "012"
    ESTIMATED_DELIVERY = "017"
    CANCEL_AFTER = "001"
    DELIVERY_REQUESTED = "002"
    INVOICE = "003"
    PURCHASE_ORDER = "004"
    CURRENT_SCHEDULE_DELIVERY = "067"
    CURRENT_SCHEDULE_SHIP = "068"
    PROMISED_DELIVERY = "069"
    DELIVERED = "035"
    EXPIRATION = "036"
    SHIP_NOT_BEFORE = "037"
    SHIP_NO_LATER = "038"
    PRODUCTION = "094"
    EFFECTIVE = "007"


class ReferenceQualifier(StrEnum):
    """Common REF01 (128) qualifiers."""

    BILL_OF_LADING = "BM"
    CARRIER_PRO = "CN"
    CUSTOMER_ORDER = "CO"
    DEPARTMENT = "DP"
    INVOICE = "IV"
    INTERNAL_VENDOR = "IA"
    LOT = "LT"
    PURCHASE_ORDER = "PO"
    SERIAL = "SE"
    VENDOR_ORDER = "VN"
    MUTUALLY_DEFINED = "ZZ"


class DateRef(CanonicalModel):
    """A qualified date (DTM): qualifier, date, optional time, zone and end of range."""

    qualifier: Code
    """DTM01 date/time qualifier, e.g. ``002`` delivery requested."""
    date: dt.date
    time: LocalTime | None = None
    """Local time as sent (DTM03); seconds kept when sent."""
    time_zone: Code | None = None
    """DTM04 time code, e.g. ``ET`` or ``UT``."""
    end_date: dt.date | None = None
    """End of a date range (DTM05 ``RD8``), inclusive."""

    @model_validator(mode="after")
    def _range_order(self) -> DateRef:
        if self.end_date is not None and self.end_date < self.date:
            raise ValueError(f"end_date {self.end_date} is before date {self.date}")
        if self.time_zone is not None and self.time is None:
            raise ValueError("time_zone needs a time")
        return self


class Reference(CanonicalModel):
    """A qualified reference (REF/N9): qualifier, value and/or description."""

    qualifier: Code
    """REF01 reference qualifier, e.g. ``BM`` bill of lading."""
    value: Identifier | None = None
    description: Text | None = None

    @model_validator(mode="after")
    def _value_or_description(self) -> Reference:
        if self.value is None and self.description is None:
            raise ValueError("a reference needs a value or a description")
        return self


class Note(CanonicalModel):
    """Free-form note (NTE/MSG) with its optional reference code (NTE01, e.g. ``GEN``)."""

    code: Code | None = None
    text: Text
