"""Element checks, and the fast path's promise: its predicates never accept what the full check rejects."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edi.findings import Code
from edi.schemas import require_schema
from edi.schemas.model import ElementDef, ElementUse
from edi.validation.elements import check_presence, check_use, check_value
from edi.validation.fastpath import fast_predicate, segment_pattern


def el(kind: str, low: int, high: int, codes: set[str] | None = None, open_: bool = True) -> ElementDef:
    return ElementDef("9", "test", kind, low, high, frozenset(codes) if codes else None, open_)


@pytest.mark.parametrize(
    ("element", "value", "code"),
    [
        (el("DT", 8, 8), "20240229", None),
        (el("DT", 8, 8), "20230229", Code.ELEMENT_INVALID_DATE),
        (el("DT", 8, 8), "19000229", Code.ELEMENT_INVALID_DATE),
        (el("DT", 8, 8), "20000229", None),
        (el("DT", 8, 8), "00000101", Code.ELEMENT_INVALID_DATE),
        (el("DT", 6, 6), "240229", None),
        (el("DT", 6, 6), "230229", Code.ELEMENT_INVALID_DATE),
        (el("DT", 6, 6), "20240101", Code.ELEMENT_TOO_LONG),
        (el("DT", 6, 8), "2401011", Code.ELEMENT_INVALID_DATE),
        (el("TM", 4, 8), "0000", None),
        (el("TM", 4, 8), "235959", None),
        (el("TM", 4, 8), "2359599", None),
        (el("TM", 4, 8), "23595999", None),
        (el("TM", 4, 8), "2400", Code.ELEMENT_INVALID_TIME),
        (el("TM", 4, 8), "1260", Code.ELEMENT_INVALID_TIME),
        (el("TM", 4, 8), "123060", Code.ELEMENT_INVALID_TIME),
        (el("TM", 4, 8), "12:30", Code.ELEMENT_INVALID_TIME),
        (el("TM", 4, 8), "123456789", Code.ELEMENT_TOO_LONG),
        (el("N0", 1, 3), "-123", None),
        (el("N0", 1, 3), "1234", Code.ELEMENT_TOO_LONG),
        (el("N2", 1, 3), "1.5", Code.ELEMENT_INVALID_CHARACTER),
        (el("N0", 1, 3), "\u0663", Code.ELEMENT_INVALID_CHARACTER),  # an Arabic-Indic digit
        (el("R", 1, 3), "-1.25", None),
        (el("R", 1, 3), ".5", None),
        (el("R", 1, 3), "5.", None),
        (el("R", 1, 3), "1234", Code.ELEMENT_TOO_LONG),
        (el("R", 1, 3), ".", Code.ELEMENT_INVALID_CHARACTER),
        (el("R", 1, 3), "1e5", Code.ELEMENT_INVALID_CHARACTER),
        (el("R", 2, 3), "5", Code.ELEMENT_TOO_SHORT),
        (el("AN", 2, 3), "A", Code.ELEMENT_TOO_SHORT),
        (el("ID", 2, 2, {"AA"}, open_=False), "AB", Code.ELEMENT_INVALID_CODE),
        (el("ID", 2, 2, {"AA"}, open_=False), "ABC", Code.ELEMENT_TOO_LONG),
    ],
)
def test_check_value(element: ElementDef, value: str, code: Code | None) -> None:
    result = check_value(element, value)
    assert (result[0] if result else None) == code


def test_open_code_lists_warn() -> None:
    result = check_value(el("ID", 2, 2, {"AA"}, open_=True), "AB")
    assert result is not None
    assert result[0] is Code.ELEMENT_INVALID_CODE
    assert result[2] is True


KINDS = [
    el("AN", 1, 5),
    el("AN", 2, 3),
    el("ID", 1, 2),
    el("N0", 1, 4),
    el("N2", 2, 4),
    el("R", 1, 4),
    el("R", 2, 3),
    el("DT", 8, 8),
    el("DT", 6, 6),
    el("TM", 4, 8),
    el("TM", 4, 6),
]
ALPHABET = st.sampled_from("0123456789.-:^ABZ \u0663")


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(KINDS), st.text(ALPHABET, max_size=10), st.booleans())
def test_fast_predicate_never_accepts_an_invalid_value(
    element: ElementDef, value: str, mandatory: bool
) -> None:
    use = ElementUse(1, "M" if mandatory else "O", element=element)
    accepted = bool(fast_predicate(use, ":", "^", set())(value))
    if not value:
        assert accepted is not mandatory
    elif accepted:
        assert check_use(use, value, ":", "^") == []


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        st.dates().map(lambda d: d.strftime("%Y%m%d")),
        st.integers(0, 99999999).map(lambda n: f"{n:08d}"),
    )
)
def test_date_predicate_agrees_with_the_calendar(value: str) -> None:
    use = ElementUse(1, "M", element=el("DT", 8, 8))
    assert bool(fast_predicate(use, ":", None, set())(value)) == (check_value(use.element, value) is None)  # type: ignore[arg-type]


WHOLE = ("PO1", "BEG", "PER", "PO4", "IT3", "CTT", "N4", "FOB", "SDQ", "ITD")
VALUES = st.sampled_from(
    [
        "",
        "",
        "1",
        "12",
        "-3",
        "1.5",
        "1.2.3",
        "EA",
        "UP",
        "ZZ",
        "00",
        "SA",
        "20240229",
        "20230229",
        "2359",
        "ABC",
        "A:B",
        "0123456789012",
        "X" * 31,
        "PE",
        "TE",
        "01",
        "PP",
        "CC",
        "US",
        "IL",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(WHOLE), st.lists(VALUES, max_size=14))
def test_whole_segment_pattern_never_accepts_a_segment_with_findings(seg_id: str, values: list[str]) -> None:
    segdef = require_schema("850", "004010").segments[seg_id]
    pattern = segment_pattern(segdef, "*", ":", None)
    assert pattern is not None
    if not pattern("*".join(values)):
        return
    uses = segdef.elements or ()
    assert len(values) <= len(uses)
    assert check_presence(segdef, tuple(map(bool, values))) == ()
    for use, value in zip(uses, values, strict=False):
        if value:
            assert check_use(use, value, ":", None) == [], (use.ref, value)
