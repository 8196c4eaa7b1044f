"""How one partner's documents deviate from the standard mapping.

The mapping engine reads a named variant from ``mappings/`` and applies a profile's
deviations on top with :func:`merge`. Every field is optional and empty by default.

X12 locations in ``field_sources`` take two forms:

* ``SEGnn`` or ``SEGnn-c``: element ``nn`` (and component ``c``) of segment ``SEG``,
  e.g. ``BEG03``, ``N104``, ``PO107``, ``SV101-2``;
* ``SEG*QUAL``: the segment whose first element is ``QUAL``, value from its second
  element, e.g. ``REF*PO`` (REF02 of the REF with REF01 = PO) or ``DTM*002``.

JSON locations in ``json_fields`` are dotted paths (``data.packages.0.trackingNumber``) or,
starting with ``=``, a fixed value the partner states in a key name (``"=KG"`` for a
``weightKg`` key). ``json_formats`` gives the ``strptime`` format of a date or timestamp
field that is not ISO 8601, optionally with the partner's time zone after ``@``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from gateway.domain.profiles.common import FieldProblems, Loc, StrictModel

__all__ = ["MappingDeviations", "merge"]

_CANONICAL = re.compile(r"^[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*$")
_SEGMENT = r"[A-Z][A-Z0-9]{1,2}"
_ELEMENT_REF = re.compile(rf"^{_SEGMENT}(?:0[1-9]|[1-9][0-9])(?:-[1-9][0-9]?)?$")
_QUALIFIED = re.compile(rf"^{_SEGMENT}\*[A-Z0-9]{{1,3}}$")
_SEGMENT_ID = re.compile(rf"^{_SEGMENT}(?:\*[A-Z0-9]{{1,3}})?$")
_CODE = re.compile(r"^[A-Z0-9]{2,3}$")
_REF_QUALIFIER = re.compile(r"^[A-Z0-9]{1,3}$")
_JSON_PATH = re.compile(
    r"^(?:[A-Za-z_$][A-Za-z0-9_$-]*(?:\.(?:[A-Za-z_$][A-Za-z0-9_$-]*|[0-9]+))*|=[^\x00-\x1f]{1,80})$"
)
_DATE_FORMAT = re.compile(r"^[^\x00-\x1f@]*%[^\x00-\x1f@]*(?:@[A-Za-z0-9_/+:-]{1,64})?$")


def _matching(pattern: re.Pattern[str], what: str) -> AfterValidator:
    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError(f"'{value}' is not {what}")
        return value

    return AfterValidator(check)


def _check_code_value(value: str) -> str:
    if not value.strip() or any(ord(ch) < 0x20 for ch in value) or len(value) > 80:
        raise ValueError("codes must be 1-80 characters without control characters")
    return value


def _check_location(value: str) -> str:
    if _ELEMENT_REF.fullmatch(value) or _QUALIFIED.fullmatch(value):
        return value
    raise ValueError(f"'{value}' is not an X12 location (like 'BEG03', 'N104', 'SV101-2' or 'REF*PO')")


def _scalar_to_str(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


Canonical = Annotated[str, _matching(_CANONICAL, "a canonical field name (snake_case, dotted)")]
X12Location = Annotated[str, AfterValidator(_check_location)]
EntityCode = Annotated[
    str, BeforeValidator(_scalar_to_str), _matching(_CODE, "an N101 entity code (2-3 A-Z/0-9)")
]
SegmentSelector = Annotated[str, _matching(_SEGMENT_ID, "a segment ID like 'MSG' or 'REF*ZZ'")]
RefQualifier = Annotated[str, BeforeValidator(_scalar_to_str), _matching(_REF_QUALIFIER, "a REF01 qualifier")]
CodeValue = Annotated[str, BeforeValidator(_scalar_to_str), AfterValidator(_check_code_value)]
JsonPath = Annotated[
    str,
    _matching(_JSON_PATH, "a dotted JSON path like 'shipment.lines.0.sku', or '=VALUE' for a fixed value"),
]
DateFormat = Annotated[
    str, _matching(_DATE_FORMAT, "a strptime format like '%d.%m.%Y %H:%M', optionally '@' and a time zone")
]
DefaultValue = Annotated[str, BeforeValidator(_scalar_to_str)]


class MappingDeviations(StrictModel):
    """Partner-specific departures from the standard mapping of one document type."""

    field_sources: dict[Canonical, X12Location] = Field(
        default_factory=dict, description="canonical field -> X12 location it is read from / written to"
    )
    party_roles: dict[EntityCode, Canonical] = Field(
        default_factory=dict, description="N101 entity identifier code -> canonical party role"
    )
    code_maps: dict[Canonical, dict[CodeValue, CodeValue]] = Field(
        default_factory=dict, description="code list -> {partner code: canonical code}"
    )
    defaults: dict[Canonical, DefaultValue] = Field(
        default_factory=dict, description="canonical field -> value used when the document has none"
    )
    ignore_segments: list[SegmentSelector] = Field(
        default_factory=list, description="segments dropped before mapping, optionally by qualifier"
    )
    keep_references: list[RefQualifier] = Field(
        default_factory=list, description="extra REF01 qualifiers kept as document references"
    )
    json_fields: dict[Canonical, JsonPath] = Field(
        default_factory=dict, description="canonical field -> dotted path in the partner's JSON"
    )
    json_formats: dict[Canonical, DateFormat] = Field(
        default_factory=dict, description="JSON date/timestamp field -> strptime format [@time zone]"
    )

    @model_validator(mode="after")
    def _no_contradictions(self) -> MappingDeviations:
        problems: list[tuple[Loc, str]] = []
        for index, qualifier in enumerate(self.keep_references):
            if "REF" in self.ignore_segments or f"REF*{qualifier}" in self.ignore_segments:
                problems.append((("keep_references", index), f"REF*{qualifier} is also in ignore_segments"))
        FieldProblems.raise_if_any(problems)
        return self

    def is_empty(self) -> bool:
        return not any(getattr(self, name) for name in type(self).model_fields)


def _union(base: list[str], extra: list[str]) -> list[str]:
    return list(dict.fromkeys([*base, *extra]))


def _kept(selector: str, keep: list[str]) -> bool:
    """Whether an ignored REF selector clashes with a kept qualifier."""
    return (selector == "REF" and bool(keep)) or selector.removeprefix("REF*") in keep


def merge(base: MappingDeviations, override: MappingDeviations) -> MappingDeviations:
    """Apply ``override`` (a profile's deviations) on top of ``base`` (a named variant's).

    Dictionaries merge key by key with ``override`` winning; ``code_maps`` merge per code
    list and then per code. Lists are united, ``base`` entries first, without repeats;
    where one side keeps a REF qualifier the other ignores, the override's choice wins.
    """
    ignore = _union(base.ignore_segments, override.ignore_segments)
    keep = _union(base.keep_references, override.keep_references)
    # Where base and override disagree about a REF qualifier, the override's choice wins.
    keep = [q for q in keep if q in override.keep_references or f"REF*{q}" not in override.ignore_segments]
    if "REF" in override.ignore_segments:
        keep = []
    ignore = [s for s in ignore if not (s.startswith("REF") and _kept(s, override.keep_references))]
    code_maps = {name: dict(codes) for name, codes in base.code_maps.items()}
    for name, codes in override.code_maps.items():
        code_maps[name] = {**code_maps.get(name, {}), **codes}
    return MappingDeviations(
        field_sources={**base.field_sources, **override.field_sources},
        party_roles={**base.party_roles, **override.party_roles},
        code_maps=code_maps,
        defaults={**base.defaults, **override.defaults},
        ignore_segments=ignore,
        keep_references=keep,
        json_fields={**base.json_fields, **override.json_fields},
        json_formats={**base.json_formats, **override.json_formats},
    )
