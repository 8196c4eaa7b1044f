"""Differential test: the fast paths (x12_fast) map exactly what the general handlers map.

Every order is mapped twice, once as the mapper runs and once with the fast paths switched off
(every segment through its general handler); the documents, or the errors, must be identical.
The orders are the benchmark's generated 850s and the fixtures, with hypothesis changing the
line segments (PO1/IT1, PID, PO4) the fast paths read, under several partners' deviations.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.generate import purchase_order
from edi.model import Segment
from edi.writer import build_transaction
from gateway.domain.canonical import dump_document
from gateway.domain.mapping import MappingError
from gateway.domain.mapping.x12_orders import OrderReader
from gateway.domain.profiles import PartnerProfile
from tests.gateway.domain.test_mapping_deviations import partner
from tests.gateway.domain.test_mapping_support import envelope, fixture, read_x12, sets

PROFILES: list[PartnerProfile | None] = [
    None,
    partner("850", {"code_maps": {"uom": {"EA": "CA", "PC": "EA"}, "price_basis": {"PE": "QT"}}}),
    partner("850", {"field_sources": {"lines.item.buyer_part": "PO107", "lines.line_number": "REF*LI"}}),
    partner("850", {"ignore_segments": ["PO4"], "defaults": {"lines.unit_price.basis": "PE"}}),
    partner("810", {"code_maps": {"uom": {"EA": "CA"}}}),
]


@contextmanager
def general_handlers_only() -> Iterator[None]:
    fast = OrderReader.fast
    OrderReader.fast = {}
    try:
        yield
    finally:
        OrderReader.fast = fast


def outcome(data: bytes, profile: PartnerProfile | None) -> object:
    """The documents' JSON, or the error (message and location), of mapping ``data``."""
    try:
        return [json.loads(dump_document(doc)) for doc in read_x12(data, profile)]
    except MappingError as exc:
        return ("error", str(exc), exc.segment_id, exc.segment_position, exc.element, exc.field)


def assert_same(data: bytes, profile: PartnerProfile | None) -> None:
    fast = outcome(data, profile)
    with general_handlers_only():
        general = outcome(data, profile)
    assert fast == general


def _generated(seed: int, lines: int = 6) -> list[Segment]:
    return purchase_order(random.Random(seed), seed, lines)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("profile", range(len(PROFILES)))
def test_generated_orders_map_the_same_both_ways(seed: int, profile: int) -> None:
    body = _generated(seed)
    if PROFILES[profile] is not None and PROFILES[profile].documents[0].type == "810":  # type: ignore[union-attr]
        return
    assert_same(envelope(build_transaction("850", "0001", body)), PROFILES[profile])


@pytest.mark.parametrize("name", ["850-004010.x12", "855-004010.x12", "810-004010.x12"])
def test_fixtures_map_the_same_both_ways(name: str) -> None:
    for profile in PROFILES:
        assert_same(fixture(name), profile)


_VALUES = st.one_of(
    st.sampled_from(["", " ", "1", "0", "-3", "2.50", "1E3", "abc", "EA", "ea", "UP", "VP", "BP", "SK", "UK",
                     "012345678905", "01234", "٣٣٣٣٣٣٣", "²²²²²²²", " W-1 ", "W\x01", "X" * 81, "F", "CTN25",
                     "999999999999999999", "NaN", "Infinity", "0.0001"]),
    st.text(alphabet="0123456789.-AEFPUVX ", max_size=6),
)  # fmt: skip


def _mutate(segments: list[Segment], data: st.DataObject) -> list[Segment]:
    out = [Segment(s.id, list(s.elements)) for s in segments]
    for _ in range(data.draw(st.integers(1, 3))):
        index = data.draw(
            st.sampled_from([i for i, s in enumerate(out) if s.id in ("PO1", "PID", "PO4", "IT1")])
        )
        segment = out[index]
        action = data.draw(st.sampled_from(["set", "set", "append", "drop"]))
        if action == "set" and segment.elements:
            position = data.draw(st.integers(0, len(segment.elements) - 1))
            segment.elements[position] = data.draw(_VALUES)
        elif action == "append":
            segment.elements.append(data.draw(_VALUES))
        elif segment.elements:
            segment.elements.pop()
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_changed_line_segments_map_the_same_both_ways(data: st.DataObject) -> None:
    seed = data.draw(st.integers(0, 50))
    body = _mutate(_generated(seed, 4), data)
    assert_same(envelope(build_transaction("850", "0001", body)), data.draw(st.sampled_from(PROFILES[:4])))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_changed_invoice_lines_map_the_same_both_ways(data: st.DataObject) -> None:
    [(_, _, ts)] = sets(fixture("810-004010.x12"))
    body = _mutate(ts.segments[1:-1], data)
    assert_same(
        envelope(build_transaction("810", "0001", body)), data.draw(st.sampled_from([None, PROFILES[4]]))
    )
