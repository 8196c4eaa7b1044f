"""Property-based proofs that the reader and the writer are inverse of each other."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edi import Delimiters, Interchange, Reader, Segment, WriteError, parse
from edi.writer import segment_text, write
from tests.edi.strategies import delimiters, element_values, file_of_interchanges

_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(file_of_interchanges(), st.booleans())
def test_parse_and_write_are_inverse(interchanges: list[Interchange], newline: bool) -> None:
    """``parse(write(x)) == x``, ``write(parse(b)) == b``, and generated files are error-free."""
    data = write(interchanges, newline=newline)
    result = parse(data)
    assert result.interchanges == interchanges
    assert write(result.interchanges, newline=newline) == data
    assert [f for f in result.findings if f.is_error] == []
    assert [s.delimiters for s in result.summaries] == [ix.delimiters for ix in interchanges]
    for summary, ix in zip(result.summaries, interchanges, strict=True):
        assert summary.complete
        assert summary.control_number == ix.control_number
        assert [g.control_number for g in summary.groups] == [g.control_number for g in ix.groups]
        counted = [[(t.segments, t.valid) for t in g.transactions] for g in summary.groups]
        assert counted == [[(len(ts.segments), True) for ts in g.transactions] for g in ix.groups]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(file_of_interchanges(), st.booleans(), st.integers(1, 97))
def test_any_chunk_size_reads_the_same(interchanges: list[Interchange], newline: bool, chunk: int) -> None:
    data = write(interchanges, newline=newline)
    one_shot = parse(data)
    reader = Reader(data, build=True, chunk_size=chunk)
    assert list(reader.interchanges()) == one_shot.interchanges
    assert reader.findings == one_shot.findings
    assert reader.summaries == one_shot.summaries


@st.composite
def _segment_with_a_delimiter(draw: st.DrawFn) -> tuple[Segment, Delimiters]:
    delims = draw(delimiters())
    elements = draw(st.lists(element_values(delims), min_size=1, max_size=4))
    at = draw(st.integers(0, len(elements) - 1))
    bad = draw(st.sampled_from([delims.element, delims.segment]))
    cut = draw(st.integers(0, len(elements[at])))
    elements[at] = elements[at][:cut] + bad + elements[at][cut:]
    return Segment("REF", elements), delims


@_SETTINGS
@given(_segment_with_a_delimiter())
def test_writer_refuses_a_value_holding_a_delimiter(case: tuple[Segment, Delimiters]) -> None:
    segment, delims = case
    with pytest.raises(WriteError, match=r"REF\d\d value .* contains a delimiter"):
        segment_text(segment, delims)
