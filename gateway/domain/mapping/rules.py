"""Partner deviations compiled into fast lookups the mappers consult while they walk a document.

:class:`Rules` is built once per (profile, document policy) from the merged
:class:`~gateway.domain.profiles.MappingDeviations` and answers: translate this code
(``code_maps``), which canonical role is this N101 (``party_roles``), is this segment
ignored (``ignore_segments``), is this REF qualifier a canonical reference
(``keep_references``), where is a field read from or written to (``field_sources``),
what is a missing field's default (``defaults``), where in the partner's JSON is a field
(``json_fields``) and in which format are its dates (``json_formats``). ``field_sources``
of line fields (``lines.``) apply to each line's loop.

Code lists (keys of ``code_maps``): see :data:`CODE_LISTS`. Party roles (values of
``party_roles``) are the snake_case names of :class:`~gateway.domain.canonical.PartyRole`
(``ship_to``, ``mark_for`` ...); the canonical party keeps the standard N101 code.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.domain.canonical import PartyRole, ReferenceQualifier
from gateway.domain.mapping.errors import MappingError
from gateway.domain.profiles import MappingDeviations

__all__ = ["CODE_LISTS", "LINE_PREFIX", "ROLE_CODES", "STANDARD_REFERENCES", "FieldSource", "Rules"]

#: Code lists a partner may translate, and where each applies.
CODE_LISTS: dict[str, str] = {
    "uom": "units of measure (quantities, PO4 sizes, weights, volumes)",
    "carrier": "carrier SCAC codes (TD503, CAD04, JSON carrier)",
    "currency": "currency codes (CUR02, JSON currency)",
    "country": "country codes (N404)",
    "date_qualifier": "DTM01 date qualifiers",
    "reference_qualifier": "REF01 reference qualifiers",
    "price_basis": "unit price basis codes (PO105, IT105)",
    "ack_type": "BAK02 acknowledgement types",
    "line_status": "ACK01 line item status codes",
    "transport_mode": "TD504 transportation method codes",
    "payment_method": "FOB01 shipment method of payment",
    "status": "JSON shipment confirmation status values",
}

#: REF01 qualifiers that become canonical references without any deviation; all other
#: qualifiers are kept as extensions unless a partner lists them in ``keep_references``.
#: Bill of lading (BM), PRO (CN) and tracking (2I) numbers fill the carrier instead, where
#: the document or level has one; keeping them also makes them references.
STANDARD_REFERENCES: frozenset[str] = frozenset(q.value for q in ReferenceQualifier) - {"ZZ", "BM", "CN"} | {
    "CT",
    "IT",
    "MR",
    "PD",
    "VR",
}

#: Prefix of line fields in ``field_sources``, ``defaults`` and ``json_fields``.
LINE_PREFIX = "lines."

ROLE_CODES = {role.name.lower(): role.value for role in PartyRole}


@dataclass(frozen=True, slots=True)
class FieldSource:
    """A parsed ``field_sources`` location: ``SEGnn[-c]`` or ``SEG*QUAL``."""

    segment: str
    element: int | None = None
    component: int | None = None
    qualifier: str | None = None

    @classmethod
    def parse(cls, text: str) -> FieldSource:
        if "*" in text:
            segment, qualifier = text.split("*", 1)
            return cls(segment, qualifier=qualifier)
        segment, element, component = text[:-2], text[-2:], None
        if "-" in text:
            head, comp = text.split("-", 1)
            segment, element, component = head[:-2], head[-2:], int(comp)
        return cls(segment, int(element), component)

    def __str__(self) -> str:
        if self.qualifier is not None:
            return f"{self.segment}*{self.qualifier}"
        text = f"{self.segment}{self.element:02d}"
        return f"{text}-{self.component}" if self.component else text


@dataclass(frozen=True, slots=True)
class Rules:
    code_in: dict[str, dict[str, str]]
    code_out: dict[str, dict[str, str]]
    role_in: dict[str, str]
    role_out: dict[str, str]
    ignore_ids: frozenset[str]
    ignore_qualified: frozenset[tuple[str, str]]
    ignore_any: frozenset[str]
    references: frozenset[str]
    field_sources: dict[str, FieldSource]
    defaults: dict[str, str]
    json_fields: dict[str, str]
    json_formats: dict[str, str]
    #: ``field_sources`` of document fields, and of line fields (``lines.`` taken off the name).
    head_sources: dict[str, FieldSource]
    line_sources: dict[str, FieldSource]

    @classmethod
    def compile(cls, deviations: MappingDeviations) -> Rules:
        for name in deviations.code_maps:
            if name not in CODE_LISTS:
                known = ", ".join(sorted(CODE_LISTS))
                raise MappingError(
                    f"code_maps.{name}: unknown code list; known: {known}", field=f"code_maps.{name}"
                )
        role_in: dict[str, str] = {}
        for code, role in deviations.party_roles.items():
            if role not in ROLE_CODES:
                known = ", ".join(sorted(ROLE_CODES))
                raise MappingError(
                    f"party_roles.{code}: unknown role {role!r}; known: {known}", field=f"party_roles.{code}"
                )
            role_in[code] = ROLE_CODES[role]
        sources = {k: FieldSource.parse(v) for k, v in deviations.field_sources.items()}
        ignore_ids = frozenset(s for s in deviations.ignore_segments if "*" not in s)
        qualified = frozenset(tuple(s.split("*", 1)) for s in deviations.ignore_segments if "*" in s)
        return cls(
            code_in={name: dict(codes) for name, codes in deviations.code_maps.items()},
            code_out={name: {v: k for k, v in codes.items()} for name, codes in deviations.code_maps.items()},
            role_in=role_in,
            role_out={v: k for k, v in role_in.items()},
            ignore_ids=ignore_ids,
            ignore_qualified=qualified,  # type: ignore[arg-type]
            ignore_any=ignore_ids | {s for s, _ in qualified},
            references=STANDARD_REFERENCES | set(deviations.keep_references),
            field_sources=sources,
            defaults=dict(deviations.defaults),
            json_fields=dict(deviations.json_fields),
            json_formats=dict(deviations.json_formats),
            head_sources={k: v for k, v in sources.items() if not k.startswith(LINE_PREFIX)},
            line_sources={
                k.removeprefix(LINE_PREFIX): v for k, v in sources.items() if k.startswith(LINE_PREFIX)
            },
        )

    def code(self, code_list: str, value: str) -> str:
        """Partner code -> canonical code (unchanged when the list has no entry for it)."""
        codes = self.code_in.get(code_list)
        return codes.get(value, value) if codes else value

    def code_to_partner(self, code_list: str, value: str) -> str:
        codes = self.code_out.get(code_list)
        return codes.get(value, value) if codes else value

    def role(self, code: str) -> str:
        return self.role_in.get(code, code)

    def role_to_partner(self, code: str) -> str:
        return self.role_out.get(code, code)

    def ignored(self, segment_id: str, first: str) -> bool:
        return segment_id in self.ignore_ids or (segment_id, first) in self.ignore_qualified


EMPTY_RULES = Rules.compile(MappingDeviations())
