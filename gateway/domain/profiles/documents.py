"""Which documents a partner exchanges, and the policy for each: format, version, mapping, acks.

A document type is an X12 transaction set ID (``850``, ``856``, ``997``...), ``TA1``, or
the name of a JSON shape ending in ``_json`` (``po_json``, ``shipment_confirmation_json``).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from gateway.domain.profiles.common import Code, FieldProblems, Loc, StrictModel
from gateway.domain.profiles.deviations import MappingDeviations

__all__ = [
    "ACK_TYPES",
    "AckPolicy",
    "AckType",
    "Direction",
    "DocumentFormat",
    "DocumentPolicy",
    "DocumentType",
    "MappingRef",
    "is_x12_type",
]

_X12_TYPE = re.compile(r"^(?:[0-9]{3}|TA1)$")
_JSON_TYPE = re.compile(r"^[a-z][a-z0-9_]*_json$")
_VERSION = re.compile(r"^[0-9]{6}[A-Z0-9]{0,6}$")
_VARIANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")

#: Transaction types that are themselves acknowledgements and are never acknowledged.
ACK_TYPES = frozenset({"997", "999", "TA1"})


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class DocumentFormat(StrEnum):
    X12 = "x12"
    JSON = "json"


class AckType(StrEnum):
    FA_997 = "997"
    IA_999 = "999"
    TA1 = "TA1"
    NONE = "none"


def is_x12_type(document_type: str) -> bool:
    return bool(_X12_TYPE.fullmatch(document_type))


def _check_type(value: str) -> str:
    if _X12_TYPE.fullmatch(value) or _JSON_TYPE.fullmatch(value):
        return value
    raise ValueError(
        f"'{value}' is not a document type: use an X12 set ID (850, 856, 997), TA1, "
        "or a JSON shape name ending in _json"
    )


def _check_version(value: str) -> str:
    if not _VERSION.fullmatch(value):
        raise ValueError(
            f"'{value}' is not an X12 version like 004010, 005010 or 004010VICS (quote it in YAML)"
        )
    return value


def _check_variant(value: str) -> str:
    if not _VARIANT.fullmatch(value) or ".." in value:
        raise ValueError(f"'{value}' is not a file name in mappings/ (no directories)")
    return value


#: ``850``, ``TA1``, ``po_json``...; unquoted YAML numbers are accepted.
DocumentType = Annotated[Code, AfterValidator(_check_type)]
X12Version = Annotated[Code, AfterValidator(_check_version)]


class MappingRef(StrictModel):
    """Which mapping to use: a named variant from ``mappings/`` plus this partner's deviations."""

    variant: Annotated[str, AfterValidator(_check_variant)] | None = None
    deviations: MappingDeviations = Field(default_factory=MappingDeviations)


class AckPolicy(StrictModel):
    """Inbound: the acknowledgement we send. Outbound: the one we expect, overdue after a time."""

    type: AckType = AckType.NONE
    overdue_hours: float = Field(default=24.0, gt=0, le=24 * 30)


class DocumentPolicy(StrictModel):
    direction: Direction
    type: DocumentType
    format: DocumentFormat
    version: X12Version | None = None
    mapping: MappingRef = Field(default_factory=MappingRef)
    ack: AckPolicy = Field(default_factory=AckPolicy)
    allow_resend: bool = Field(default=False, description="accept/send duplicates of a control number")

    @model_validator(mode="after")
    def _consistent(self) -> DocumentPolicy:
        problems: list[tuple[Loc, str]] = []
        x12_type = is_x12_type(self.type)
        if x12_type != (self.format is DocumentFormat.X12):
            kind, wanted = ("X12", "x12") if x12_type else ("a JSON shape", "json")
            raise FieldProblems(
                [(("format",), f"document type {self.type} is {kind}; format must be {wanted}")]
            )
        if self.format is DocumentFormat.X12 and self.version is None:
            problems.append((("version",), "X12 documents need a version such as 004010"))
        if self.format is DocumentFormat.JSON:
            if self.version is not None:
                problems.append((("version",), "version applies to X12 documents only"))
            if self.ack.type is not AckType.NONE:
                problems.append((("ack", "type"), "JSON documents have no X12 acknowledgement; use none"))
            if self.mapping.deviations.field_sources:
                problems.append(
                    (("mapping", "deviations", "field_sources"), "X12 locations do not apply to JSON")
                )
        else:
            for name in ("json_fields", "json_formats"):
                if getattr(self.mapping.deviations, name):
                    problems.append((("mapping", "deviations", name), f"{name} apply to JSON documents only"))
        if self.type in ACK_TYPES and self.ack.type is not AckType.NONE:
            problems.append(
                (("ack", "type"), f"{self.type} is an acknowledgement and is not itself acknowledged")
            )
        if self.ack.type is AckType.IA_999 and self.version is not None and self.version[:6] < "005010":
            problems.append(
                (("ack", "type"), f"999 acknowledgements need version 005010 or later, not {self.version}")
            )
        FieldProblems.raise_if_any(problems)
        return self

    @property
    def key(self) -> tuple[Direction, str]:
        return self.direction, self.type
