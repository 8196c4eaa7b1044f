"""Base model and constrained scalar types shared by every canonical document.

Exactness policy for numbers: money, quantities, rates and measures are
:class:`~decimal.Decimal`. On input a value may be a ``Decimal``, a decimal
string (``"12.50"``) or an integer; binary floats (Python ``float`` or a
non-integer JSON number) are rejected because they cannot be trusted to be
exact. NaN and infinities are rejected. JSON output always writes decimals as
fixed-point strings (``"12.50"``: scale preserved, never exponent notation),
which is what ERP consumers must read.

Text policy: identifiers and texts never have leading/trailing whitespace or
control characters (X12 padding and stray delimiters are garbage, not data).
Codes are upper-case X12-style ID values.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
)

__all__ = [
    "DECIMAL_PATTERN",
    "LOCAL_TIME_PATTERN",
    "CanonicalModel",
    "Code",
    "CountryCode",
    "CurrencyCode",
    "ExactDecimal",
    "Identifier",
    "LineNumber",
    "LocalTime",
    "PartnerId",
    "Text",
]

#: Pattern of a decimal string as written to JSON: optional sign, digits, optional fraction.
DECIMAL_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"

# One visible (non-space, non-control) character, optionally followed by any
# non-control characters ending in a visible one: trimmed single-line text.
_TRIMMED = r"^[^\s\x00-\x1f\x7f](?:[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f])?$"


class CanonicalModel(BaseModel):
    """Base of every canonical model: unknown fields are errors, assignments are validated."""

    model_config = ConfigDict(
        extra="forbid",
        validate_assignment=True,
        validate_default=True,
        str_strip_whitespace=False,
        allow_inf_nan=False,
        use_attribute_docstrings=True,
    )


def _reject_inexact(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("a boolean is not a decimal number")
    if isinstance(value, float):
        raise ValueError('binary floats are not exact: send decimals as strings, e.g. "0.10"')
    if isinstance(value, str) and not value.strip():
        raise ValueError("empty decimal string")
    return value


def _fixed_point(value: Decimal) -> str:
    # str() would write 1E-7 or 1E+2; fixed-point keeps the scale and always matches DECIMAL_PATTERN.
    return format(value, "f")


#: An exact decimal number: Decimal, decimal string or int in; fixed-point string out in JSON.
ExactDecimal = Annotated[
    Decimal,
    BeforeValidator(_reject_inexact),
    Field(allow_inf_nan=False),
    PlainSerializer(_fixed_point, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string", "pattern": DECIMAL_PATTERN}, {"type": "integer"}],
            "description": "Exact decimal written as a string; integers are accepted on input, floats never.",
        },
        mode="validation",
    ),
    WithJsonSchema({"type": "string", "pattern": DECIMAL_PATTERN}, mode="serialization"),
]

#: Upper-case X12-style code value (qualifiers, units of measure, status codes), 1 to 6 characters.
Code = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{1,6}$")]

#: An identifier (PO number, part number, reference value): trimmed, single line, at most 80 characters.
Identifier = Annotated[str, StringConstraints(min_length=1, max_length=80, pattern=_TRIMMED)]

#: Free text (names, descriptions, notes): trimmed, single line, at most 1000 characters.
Text = Annotated[str, StringConstraints(min_length=1, max_length=1000, pattern=_TRIMMED)]

#: ISO 4217 currency code.
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]

#: ISO 3166 country code (alpha-2 or alpha-3).
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2,3}$")]

#: Partner identifier as used in partner profiles.
PartnerId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]

#: Line number as sent (PO101, IT101, LIN01 ...): alphanumeric, 1 to 20 characters.
LineNumber = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,19}$")]

#: Pattern of a time of day as written to JSON: ``HH:MM:SS`` with optional fraction (what the
#: gateway writes), ``HH:MM``, and the UTC offset that input may carry.
LOCAL_TIME_PATTERN = (
    r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?"
    r"(Z|[+-]([01][0-9]|2[0-3]):?[0-5][0-9])?$"
)

#: A time of day as the partner sent it (DTM03, BSN04, TA103): local to the sender, so written
#: without a UTC offset (``"10:15:00"``). JSON Schema's ``format: time`` is RFC 3339's full-time,
#: which requires an offset, so the schema gives a pattern instead.
LocalTime = Annotated[
    dt.time,
    WithJsonSchema(
        {
            "type": "string",
            "pattern": LOCAL_TIME_PATTERN,
            "description": "Local time of day as sent, e.g. 10:15:00; no UTC offset unless one was given.",
        }
    ),
]
