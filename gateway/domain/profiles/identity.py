"""Who a partner is on the wire: ISA qualifier and ID, GS application IDs, AS2 name, environment."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from gateway.domain.profiles.common import Code, FieldProblems, StrictModel

__all__ = [
    "ISA_QUALIFIERS",
    "As2Name",
    "Environment",
    "Identity",
    "IsaId",
    "IsaQualifier",
    "normalise_as2_name",
]

#: ISA05/ISA07 interchange ID qualifiers (X12 code list for element I05).
ISA_QUALIFIERS: frozenset[str] = frozenset(
    {"01", "02", "03", "04", "07", "08", "09", "10", "11", "12", "13", "14", "15", "16", "17", "18",
     "19", "20", "27", "28", "29", "30", "33", "ZZ"}
)  # fmt: skip


def _check_qualifier(value: str) -> str:
    if value not in ISA_QUALIFIERS:
        raise ValueError(
            f"'{value}' is not an ISA05 interchange ID qualifier "
            f"(expected one of {', '.join(sorted(ISA_QUALIFIERS))})"
        )
    return value


def _check_isa_id(value: str) -> str:
    stripped = value.rstrip(" ")
    if not stripped or stripped != stripped.lstrip(" "):
        raise ValueError("ISA ID must not be blank or start with a space")
    if len(stripped) > 15:
        raise ValueError(f"ISA ID is {len(stripped)} characters; the maximum is 15")
    if not all(" " <= ch <= "~" for ch in stripped):
        raise ValueError("ISA ID must be printable ASCII")
    return stripped


def _check_gs_id(value: str) -> str:
    if not 2 <= len(value) <= 15 or not all(" " < ch <= "~" for ch in value):
        raise ValueError("GS application ID must be 2-15 printable ASCII characters without spaces")
    return value


_AS2_PLAIN = re.compile(r"^[!#-~]{1,128}$")  # printable ASCII without space or '"'
_AS2_QUOTED = re.compile(r'^"(?:[ !#-\[\]-~]|\\[ -~]){1,128}"$')


def _check_as2_name(value: str) -> str:
    if _AS2_PLAIN.fullmatch(value) or (
        _AS2_QUOTED.fullmatch(value) and len(normalise_as2_name(value)) <= 128
    ):
        return value
    raise ValueError('AS2 name must be 1-128 printable ASCII characters; quote it ("...") if it has spaces')


def normalise_as2_name(value: str) -> str:
    """The name as compared on the wire: surrounding quotes and backslash escapes removed."""
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


IsaQualifier = Annotated[Code, AfterValidator(_check_qualifier)]
IsaId = Annotated[Code, AfterValidator(_check_isa_id)]
GsId = Annotated[Code, AfterValidator(_check_gs_id)]
As2Name = Annotated[str, AfterValidator(_check_as2_name)]


class Environment(StrEnum):
    """Whether the partner relationship is in testing or live; must match ISA15."""

    TEST = "test"
    PRODUCTION = "production"

    @property
    def usage_indicator(self) -> str:
        """The ISA15 value this environment expects: ``T`` or ``P``."""
        return "T" if self is Environment.TEST else "P"

    def check_usage(self, isa15: str) -> str | None:
        """A problem message when ISA15 does not match this environment, else ``None``."""
        value = isa15.strip()
        if value not in ("T", "P", "I"):
            return f"ISA15 usage indicator '{value}' is not T (test), P (production) or I (information)"
        if value != self.usage_indicator:
            label = {"T": "test", "P": "production", "I": "information"}[value]
            return f"ISA15 is '{value}' ({label}) but the partner profile is set up for {self.value}"
        return None


class Identity(StrictModel):
    """The partner's identifiers. ISA fields are needed once any X12 document is exchanged."""

    isa_qualifier: IsaQualifier | None = None
    isa_id: IsaId | None = None
    gs_application_ids: list[GsId] = Field(default_factory=list)
    as2_name: As2Name | None = None

    @model_validator(mode="after")
    def _isa_pair(self) -> Identity:
        problems: list[tuple[tuple[str | int, ...], str]] = []
        if self.isa_qualifier is not None and self.isa_id is None:
            problems.append((("isa_id",), "isa_id is required when isa_qualifier is given"))
        if self.isa_id is not None and self.isa_qualifier is None:
            problems.append((("isa_qualifier",), "isa_qualifier is required when isa_id is given"))
        if len(set(self.gs_application_ids)) != len(self.gs_application_ids):
            problems.append((("gs_application_ids",), "GS application IDs are listed more than once"))
        FieldProblems.raise_if_any(problems)
        return self

    @property
    def isa_key(self) -> tuple[str, str] | None:
        """``(qualifier, id)`` as used for look-ups, or ``None`` when the partner has no ISA identity."""
        if self.isa_qualifier is None or self.isa_id is None:
            return None
        return self.isa_qualifier, self.isa_id
