"""The fast construction path (``construct.build``) never accepts what pydantic validation rejects.

Mapped documents are built by :func:`gateway.domain.mapping.construct.build`, which skips pydantic
for speed; a document it accepts must be one ``model_validate`` accepts too, with the same content,
so no mapped document can break its own published schema. The property test mutates valid mapped
documents (one leaf replaced, a key removed or added) and compares the two paths.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from gateway.domain.canonical import DocumentType, PurchaseOrder, ShipNotice, dump_document, parse_document
from gateway.domain.mapping import MappingError
from gateway.domain.mapping.construct import Invalid, build
from tests.gateway.domain.test_mapping_support import fixture, header, mapper, read_x12

TRICKY: list[Any] = [
    "", " X", "X ", "x", "ABCDEFG", "Y", "0", "1", "\n", "USD\n", "a\x01b", "X" * 81, "X" * 1001,
    -1, 0, 1, True, 1.5, Decimal("-1"), Decimal("NaN"), Decimal("1E+3"), Decimal("1.50"), None, [], {}, [{}],
    {"x": 1}, dt.date(2025, 1, 1), dt.datetime(2025, 1, 1, 12), dt.datetime(2025, 1, 1, 12, tzinfo=dt.UTC),
    dt.time(10, 0), "2025-01-01", "20250101", "10:00", "T", "P", "S", "O", "I", "AC", "IA", "shipped",
    "allowance", "purchase_order", "1.0", "5", " 5", "1e3", "segment", "field", "other", "pack",
]  # fmt: skip


@cache
def documents() -> list[BaseModel]:
    docs: list[BaseModel] = [read_x12(fixture(f"{t}-004010.x12"))[0] for t in ("850", "855", "856", "810")]
    docs.append(
        mapper().json_to_canonical(
            json.loads(fixture("shipment-confirmation-default.json")),
            document_type="shipment_confirmation_json",
            profile=None,
            header=header(DocumentType.SHIPMENT_CONFIRMATION),
        )
    )
    return docs


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            out.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out.extend(_paths(value, (*prefix, index)))
    return out


def _outcome(model: type[BaseModel], data: dict[str, Any]) -> tuple[object | None, object | None]:
    try:
        fast: object | None = build(model, copy.deepcopy(data))
    except Invalid:
        fast = None
    try:
        full: object | None = model.model_validate(copy.deepcopy(data))
    except ValidationError:
        full = None
    return fast, full


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_build_accepts_only_what_validation_accepts(data: st.DataObject) -> None:
    doc = data.draw(st.sampled_from(documents()))
    base = doc.model_dump()
    path = data.draw(st.sampled_from(_paths(base)))
    mutated = copy.deepcopy(base)
    parent = mutated
    for part in path[:-1]:
        parent = parent[part]
    action = data.draw(st.sampled_from(["replace", "replace", "replace", "delete", "add"]))
    if action == "delete" and isinstance(parent, dict):
        del parent[path[-1]]
    elif action == "add" and isinstance(parent, dict):
        parent["unexpected"] = 1
    else:
        value = data.draw(
            st.one_of(st.sampled_from(TRICKY), st.text(max_size=8), st.decimals(allow_nan=True))
        )
        parent[path[-1]] = value
    fast, full = _outcome(type(doc), mutated)
    if fast is not None:
        assert full is not None, f"build accepted what validation rejects at {path}"
        assert json.loads(dump_document(fast)) == json.loads(dump_document(full))  # type: ignore[arg-type]


@pytest.mark.parametrize("doc", range(5))
def test_unchanged_documents_build_the_same(doc: int) -> None:
    original = documents()[doc]
    fast, full = _outcome(type(original), original.model_dump())
    assert fast is not None
    assert full is not None
    assert json.loads(dump_document(fast)) == json.loads(dump_document(full))  # type: ignore[arg-type]


def test_a_bad_hl_child_code_is_a_mapping_error_not_a_broken_document() -> None:
    data = fixture("856-004010.x12").replace(b"HL*2*1*O*1~", b"HL*2*1*O*Y~")
    with pytest.raises(
        MappingError, match=r"HL04 \(child_code\) 'Y' must be one of '0', '1' at segment 15 HL"
    ):
        read_x12(data)
    [asn] = read_x12(fixture("856-004010.x12"))
    assert isinstance(asn, ShipNotice)


def test_digits_that_are_not_ascii_are_kept_as_other_ids() -> None:
    data = fixture("850-004010.x12").replace(b"UP*012345678905", "UP*²²²²²²²".encode())
    [po] = read_x12(data)
    assert isinstance(po, PurchaseOrder)
    item = po.lines[0].item
    assert item.upc is None
    assert [(o.qualifier, o.value) for o in item.other] == [("UP", "²²²²²²²")]
    parse_document(dump_document(po))  # a valid document, not a UPC that breaks its schema
