"""A partner profile's mapping rules checked against what the mapping engine does with them.

The profile models check the *form* of each deviation; this module checks its *meaning* for
the document it belongs to, so an onboarding mistake is reported by ``edigate partners
validate`` (and when the gateway loads its profiles) instead of when the first document
arrives, or never: a code list, party role, canonical field or JSON name the engine does not
know, a default the field would reject, a ``field_sources`` location outside the loop the
field is read in, a variant that is not in ``mappings/``, a document type with no mapping.
Deviations that cannot have an effect (a party role mapped to itself) are warnings.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from pydantic import BaseModel

from gateway.domain.canonical import (
    DOCUMENT_MODELS,
    AckLine,
    FunctionalAck,
    Invoice,
    InvoiceLine,
    OrderLevel,
    OrderLine,
    PurchaseOrder,
    PurchaseOrderAck,
    ShipNotice,
)
from gateway.domain.mapping.construct import check_value
from gateway.domain.mapping.errors import MappingError
from gateway.domain.mapping.fields import resolve, scalar_type
from gateway.domain.mapping.json_shapes import CANONICAL_JSON, DEFAULT_SHAPES, JSON_TYPES
from gateway.domain.mapping.json_source import zone
from gateway.domain.mapping.mapper import Mapper
from gateway.domain.mapping.rules import CODE_LISTS, LINE_PREFIX, ROLE_CODES, FieldSource
from gateway.domain.mapping.x12_scope import set_table
from gateway.domain.profiles import DocumentFormat, DocumentPolicy, MappingDeviations, PartnerProfile

__all__ = ["CODE_LIST_USE", "check_documents", "check_profile"]

Found = list[tuple[str, str]]

_X12_MODELS: dict[str, tuple[type[BaseModel], type[BaseModel] | None, str | None]] = {
    "850": (PurchaseOrder, OrderLine, "PO1"),
    "855": (PurchaseOrderAck, AckLine, "PO1"),
    "810": (Invoice, InvoiceLine, "IT1"),
    "856": (ShipNotice, None, None),
}
_ORDERS = {"850", "855", "810", "856"}
_ORDER_JSON = {"po_json", "warehouse_order_json", "poack_json"}
#: Code list -> the document types whose mapping consults it.
CODE_LIST_USE: dict[str, frozenset[str]] = {
    "uom": frozenset(_ORDERS | _ORDER_JSON | {"shipment_confirmation_json"}),
    "carrier": frozenset(_ORDERS | {"shipment_confirmation_json"}),
    "currency": frozenset({"850", "855", "810"} | _ORDER_JSON),
    "country": frozenset(_ORDERS | _ORDER_JSON | {"shipment_confirmation_json"}),
    "date_qualifier": frozenset(_ORDERS),
    "reference_qualifier": frozenset(_ORDERS),
    "price_basis": frozenset({"850", "855", "810"}),
    "ack_type": frozenset({"855", "poack_json"}),
    "line_status": frozenset({"855", "poack_json"}),
    "transport_mode": frozenset(_ORDERS),
    "payment_method": frozenset(_ORDERS),
    "status": frozenset({"shipment_confirmation_json"}),
}
#: Date and timestamp names of each JSON shape (what ``json_formats`` may give a format for).
_DATE_NAMES: dict[str, frozenset[str]] = {
    "po_json": frozenset(
        {"po_date", "requested_delivery_date", "ship_date", "cancel_date", "lines.requested_delivery_date"}
    ),
    "poack_json": frozenset(
        {
            "po_date",
            "ack_date",
            "lines.ship_date",
            "lines.delivery_date",
            "lines.acks.ship_date",
            "lines.acks.delivery_date",
        }
    ),
    "shipment_confirmation_json": frozenset({"shipped_at"}),
}
_DATE_NAMES["warehouse_order_json"] = _DATE_NAMES["po_json"]


def check_profile(
    profile: PartnerProfile, mapper: Mapper | None, mappings: str = "mappings/"
) -> tuple[Found, Found]:
    """(problems, warnings) as (field path in the profile, reason), for every document rule.

    With ``mapper`` (the variants of the mappings directory named ``mappings``), a rule's variant
    must exist and its deviations are checked too; without, only the profile's own deviations."""
    return check_documents(enumerate(profile.documents), mapper, mappings)


def check_documents(
    documents: Iterable[tuple[int, DocumentPolicy]], mapper: Mapper | None, mappings: str = "mappings/"
) -> tuple[Found, Found]:
    """:func:`check_profile` for document rules given with their index in the profile's ``documents``:
    the valid rules of a profile that failed validation are checked this way."""
    problems: Found = []
    warnings: Found = []
    for index, policy in documents:
        base = f"documents[{index}]"
        kind_problem = _kind_problem(policy)
        if kind_problem is not None:
            problems.append((f"{base}.type", kind_problem))
            continue
        own = policy.mapping.deviations
        for loc, reason in _deviation_problems(policy, own):
            problems.append((f"{base}.mapping.deviations.{loc}", reason))
        warnings.extend(
            (f"{base}.mapping.deviations.{loc}", w) for loc, w in _deviation_warnings(policy, own)
        )
        name = policy.mapping.variant
        if name is None or mapper is None:
            continue
        variant = mapper.variants.get(name)
        if variant is None:
            problems.append((f"{base}.mapping.variant", f"no mapping '{name}' in {mappings}"))
            continue
        for loc, reason in _deviation_problems(policy, variant.deviations):
            problems.append((f"{base}.mapping.variant", f"{name}: {loc}: {reason}"))
        if variant.document_types and policy.type not in variant.document_types:
            kinds = ", ".join(variant.document_types)
            warnings.append((f"{base}.mapping.variant", f"{name} is meant for {kinds}, not {policy.type}"))
    return problems, warnings


def _kind_problem(policy: DocumentPolicy) -> str | None:
    """Why the engine cannot map this rule's document type in its direction, if it cannot."""
    if policy.format is DocumentFormat.X12:
        if policy.type in _X12_MODELS or policy.type in ("997", "999", "TA1"):
            return None
        return (
            f"the mapping has no canonical document for X12 {policy.type} (850, 855, 856, 810, 997, 999, TA1)"
        )
    kind = JSON_TYPES.get(policy.type)
    inbound = policy.direction.value == "inbound"
    if kind is None or not (kind.reads if inbound else kind.writes):
        known = sorted(t.name for t in JSON_TYPES.values() if (t.reads if inbound else t.writes))
        return f"no {policy.direction.value} JSON mapping for {policy.type}; known: {', '.join(known)}"
    return None


def _deviation_problems(policy: DocumentPolicy, deviations: MappingDeviations) -> Iterator[tuple[str, str]]:
    kind = policy.type
    x12 = policy.format is DocumentFormat.X12
    if kind in ("997", "999", "TA1", CANONICAL_JSON):
        if not deviations.is_empty():
            yield "", f"{kind} documents are not mapped through deviations; these have no effect"
        return
    for name in deviations.code_maps:
        if name not in CODE_LISTS:
            yield f"code_maps.{name}", f"unknown code list; known: {', '.join(sorted(CODE_LISTS))}"
        elif kind not in CODE_LIST_USE[name]:
            yield f"code_maps.{name}", f"the {kind} mapping never reads or writes {name} codes"
    for code, role in deviations.party_roles.items():
        if not x12:
            yield f"party_roles.{code}", "party roles translate X12 N101 codes; this is a JSON document"
        elif role not in ROLE_CODES:
            yield f"party_roles.{code}", f"unknown role {role!r}; known: {', '.join(sorted(ROLE_CODES))}"
    if not x12:
        for name in ("ignore_segments", "keep_references"):
            if getattr(deviations, name):
                yield name, "applies to X12 segments; this is a JSON document"
    model = _X12_MODELS[kind][0] if x12 else DOCUMENT_MODELS[JSON_TYPES[kind].canonical]  # type: ignore[index]
    for path, value in deviations.defaults.items():
        problem = _default_problem(model, path, value)
        if problem is not None:
            yield f"defaults.{path}", problem
    if x12:
        for name, location in deviations.field_sources.items():
            problem = _source_problem(kind, policy.version, name, FieldSource.parse(location))
            if problem is not None:
                yield f"field_sources.{name}", problem
    else:
        shape_name = JSON_TYPES[kind].shape
        assert shape_name is not None
        shape = DEFAULT_SHAPES[shape_name]
        for name in deviations.json_fields:
            if name not in shape:
                yield (
                    f"json_fields.{name}",
                    f"not a name of the {kind} shape (see mappings/ and docs/partners.md)",
                )
        for name, spec in deviations.json_formats.items():
            if name not in _DATE_NAMES[kind]:
                dates = ", ".join(sorted(_DATE_NAMES[kind]))
                yield f"json_formats.{name}", f"not a date or timestamp of the {kind} shape ({dates})"
            elif "@" in spec:
                try:
                    zone(spec.partition("@")[2])
                except ValueError as exc:
                    yield f"json_formats.{name}", str(exc)


def _deviation_warnings(policy: DocumentPolicy, deviations: MappingDeviations) -> Iterator[tuple[str, str]]:
    for code, role in deviations.party_roles.items():
        if ROLE_CODES.get(role) == code:
            yield f"party_roles.{code}", f"{code} already is the {role} role: this entry has no effect"
    for name, codes in deviations.code_maps.items():
        for partner, ours in codes.items():
            if partner == ours:
                yield f"code_maps.{name}.{partner}", "maps a code to itself: this entry has no effect"


def _default_problem(model: type[BaseModel], path: str, value: str) -> str | None:
    info = resolve(model, path)
    if info is None:
        return f"{model.__name__} has no field {path}"
    if scalar_type(info.annotation) is None:
        return f"{path} is not a single value (a default is text, a code, a number or a date)"
    try:
        check_value(model, path, value)
    except ValueError as exc:
        return f"{value!r} {exc}"
    return None


def _source_problem(set_id: str, version: str | None, name: str, src: FieldSource) -> str | None:
    model, line_model, line_loop = _X12_MODELS[set_id]
    where: Any
    if name.startswith(LINE_PREFIX):
        if line_model is None:
            return "an 856 has no lines (its items are HL levels)"
        target, field, where = line_model, name.removeprefix(LINE_PREFIX), line_loop
    elif set_id == "856" and name.split(".")[0] in OrderLevel.model_fields:
        target, field, where = OrderLevel, name, "HL"
    else:
        target, field, where = model, name, None
    info = resolve(target, field)
    if info is None or info.through_list or scalar_type(info.annotation) is None:
        return (
            f"not a single-valued field of the {set_id} {'line' if where in ('PO1', 'IT1') else 'document'}"
        )
    if target is FunctionalAck:  # pragma: no cover - acknowledgements were turned away above
        return None
    try:
        _, table = set_table(set_id, version)
        scope = table.sub(where) if where is not None else table
    except MappingError as exc:
        return str(exc)
    if src.segment not in scope.ranks:
        area = f"the {where} loop" if where else "the heading and summary"
        return f"{src.segment} is not a segment of {area} of the {set_id}, where {name} is read and written"
    return None
