"""Generated acks read back with :func:`edi.acks.parse_acks` report what the findings said.

``check_round_trip`` compares each parsed 997/999 against the *findings* it
was generated from (not against the generator's output): the rejected sets
come back rejected, with the same AK3/IK3 segments, AK4/IK4 elements and
AK502/AK905 codes. It runs over the golden fixture, over every 850/810/855/856
in the corpus with schema validation, and over random findings on random
interchanges (hostile delimiters included).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edi.acks import (
    AckControlNumbers,
    AckFlavor,
    AckStatus,
    GroupAck,
    InterchangeAck,
    SegmentError,
    acknowledge,
    parse_acks,
)
from edi.acks.policy import DEFAULT_POLICY, ack_code
from edi.findings import Code, Finding, Level, Location, Severity
from edi.reader import ParseResult, parse
from edi.validator import schema_validator
from edi.writer import write
from tests.edi.strategies import interchanges

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "acks"
CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "x12"
WHEN = datetime(2024, 2, 29, 23, 59)


def _only(result: ParseResult, index: int) -> ParseResult:
    """One interchange of ``result``, its findings renumbered to interchange 0."""
    findings = [
        dataclasses.replace(f, location=dataclasses.replace(f.location, interchange=0))
        for f in result.findings
        if (f.location.interchange or 0) == index
    ]
    return ParseResult(result.interchanges[index : index + 1], result.summaries[index : index + 1], findings)


def _dedupe(codes: list[str | None]) -> list[str]:
    return [c for n, c in enumerate(codes) if c and c not in codes[:n]]


def check_round_trip(result: ParseResult) -> int:
    """Acknowledge, write, parse back and compare with the findings; returns the sets checked."""
    checked = 0
    for index in range(len(result.summaries)):
        one = _only(result, index)
        acks = acknowledge(one, control_numbers=AckControlNumbers(), when=WHEN)
        if not acks:
            continue
        parsed = parse_acks(write(acks))
        ta1s = [p for p in parsed if isinstance(p, InterchangeAck)]
        groups = [p for p in parsed if isinstance(p, GroupAck)]
        summary = one.summaries[0]
        reported = [f for f in one.findings if DEFAULT_POLICY.reports(f)]
        if ta1s and ta1s[0].status is AckStatus.REJECTED:
            assert any(f.is_error and f.code.spec.level is Level.INTERCHANGE for f in reported)
            assert groups == []
            continue
        acked = [(g, gs) for g, gs in enumerate(summary.groups) if gs.functional_id != "FA"]
        assert len(groups) == len(acked)
        # Acks of groups with the same parties and version share an FA group, so match on AK102.
        for g, gs in acked:
            ack = next(a for a in groups if a.group_control_number == gs.control_number)
            groups.remove(ack)
            checked += _check_group(ack, g, gs.version, [f for f in reported if f.location.group == g], one)
    return checked


def _check_group(ack: GroupAck, g: int, version: str, findings: list[Finding], one: ParseResult) -> int:
    gs = one.summaries[0].groups[g]
    flavor = ack.kind
    assert ack.problems == []
    assert (ack.functional_id, ack.group_control_number) == (gs.functional_id, gs.control_number)
    assert [(s.set_id, s.control_number) for s in ack.sets] == [
        (t.set_id, t.control_number) for t in gs.transactions
    ]
    rejected = 0
    for t, set_ack in enumerate(ack.sets):
        own = [f for f in findings if f.location.transaction == t and f.code.spec.level is not Level.GROUP]
        detail = [f for f in own if f.code.spec.level in (Level.SEGMENT, Level.ELEMENT)]
        expected_status = (
            AckStatus.REJECTED
            if any(f.is_error for f in own)
            else AckStatus.ACCEPTED_WITH_ERRORS
            if own
            else AckStatus.ACCEPTED
        )
        assert set_ack.status is expected_status, (set_ack, own)
        rejected += expected_status is AckStatus.REJECTED
        set_codes = [ack_code(f.code, flavor) for f in own if f.code.spec.level is Level.TRANSACTION]
        set_codes += ["5"] if detail else []
        assert set_ack.error_codes == _dedupe(set_codes)[:5]
        _check_segments(set_ack.segment_errors, detail, flavor, version)
    group_level = [f for f in findings if f.code.spec.level is Level.GROUP]
    assert ack.error_codes == _dedupe([ack_code(f.code, flavor) for f in group_level])[:5]
    assert ack.received == len(gs.transactions)
    if any(f.is_error for f in group_level) or (ack.sets and rejected == len(ack.sets)):
        assert ack.status is AckStatus.REJECTED
        assert ack.accepted == 0
    else:
        assert ack.accepted == len(ack.sets) - rejected
        assert ack.status is (AckStatus.PARTIALLY_ACCEPTED if rejected else ack.status)
        assert ack.status in (
            AckStatus.ACCEPTED,
            AckStatus.ACCEPTED_WITH_ERRORS,
            AckStatus.PARTIALLY_ACCEPTED,
        )
    return len(ack.sets)


def _check_segments(
    parsed: list[SegmentError], detail: list[Finding], flavor: AckFlavor, version: str
) -> None:
    expected: dict[tuple[str, int | None], list[Finding]] = {}
    for f in detail:
        expected.setdefault((f.location.segment_id or "", f.location.segment_position), []).append(f)
    assert [(s.segment_id, s.position) for s in parsed] == list(expected)
    for seg, fs in zip(parsed, expected.values(), strict=True):
        seg_codes = [ack_code(f.code, flavor) for f in fs if f.code.spec.level is Level.SEGMENT]
        assert seg.code == (seg_codes[0] if seg_codes else "8")
        elements = [f for f in fs if f.code.spec.level is Level.ELEMENT][:99]
        modern = version[:6] >= "005010"
        assert [(e.position, e.component, e.repetition, e.reference, e.code) for e in seg.elements] == [
            (
                f.location.element,
                f.location.component,
                f.location.repetition if modern else None,
                f.location.element_reference,
                ack_code(f.code, flavor),
            )
            for f in elements
        ]
        for e, f in zip(seg.elements, elements, strict=True):
            assert e.bad_value in (None, (f.bad_value or "")[:99])


def test_golden_fixture_round_trips() -> None:
    result = parse(FIXTURES / "850-errors.x12", validator=schema_validator)
    assert check_round_trip(result) == 11  # 9 sets in the 004010 group, 2 in the 005010 one


def _corpus_documents() -> list[str]:
    if not CORPUS.is_dir():
        return []
    return sorted(
        p.relative_to(CORPUS).as_posix() for d in ("810", "850", "855", "856") for p in (CORPUS / d).iterdir()
    )


@pytest.mark.parametrize("path", _corpus_documents())
def test_corpus_documents_round_trip(path: str) -> None:
    result = parse(CORPUS / path, validator=schema_validator)
    check_round_trip(result)


# --- random findings on random interchanges ---------------------------------------------------------

_SEGMENT_CODES = [c for c in Code if c.spec.level is Level.SEGMENT]
_ELEMENT_CODES = [c for c in Code if c.spec.level is Level.ELEMENT]
_SET_CODES = [c for c in Code if c.spec.level is Level.TRANSACTION]
_GROUP_CODES = [c for c in Code if c.spec.level is Level.GROUP]


@st.composite
def findings_for(draw: st.DrawFn, result: ParseResult) -> list[Finding]:
    out: list[Finding] = []
    summary = result.summaries[0]
    severity = st.sampled_from([Severity.ERROR, Severity.WARNING, Severity.INFO])
    for g, gs in enumerate(summary.groups):
        for code in draw(st.lists(st.sampled_from(_GROUP_CODES), max_size=7)):
            out.append(Finding(code, "g", Location(0, g), draw(severity)))
        for t, ts in enumerate(gs.transactions):
            for code in draw(st.lists(st.sampled_from(_SET_CODES), max_size=7)):
                out.append(Finding(code, "t", Location(0, g, t), draw(severity)))
            for _ in range(draw(st.integers(0, 4))):
                position = draw(st.integers(2, max(2, ts.segments)))
                seg_id = draw(st.sampled_from(["BEG", "N1", "PO1"]))
                loop = draw(st.sampled_from([None, "N1", "PO1"]))
                where = Location(0, g, t, position, seg_id, loop_id=loop)
                if draw(st.booleans()):
                    out.append(Finding(draw(st.sampled_from(_SEGMENT_CODES)), "s", where, draw(severity)))
                for _ in range(draw(st.integers(0, 3))):
                    at = dataclasses.replace(
                        where,
                        element=draw(st.integers(1, 30)),
                        component=draw(st.none() | st.integers(1, 9)),
                        repetition=draw(st.none() | st.integers(1, 9)),
                        element_reference=draw(st.none() | st.from_regex(r"[1-9][0-9]{0,3}", fullmatch=True)),
                    )
                    bad = draw(
                        st.none() | st.text(st.characters(codec="ascii", min_codepoint=32), max_size=120)
                    )
                    out.append(Finding(draw(st.sampled_from(_ELEMENT_CODES)), "e", at, draw(severity), bad))
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_findings_round_trip(data: st.DataObject) -> None:
    ix = data.draw(interchanges(control_number=1))
    result = parse(write(ix))
    assert not result.has_errors
    findings = data.draw(findings_for(result))
    check_round_trip(ParseResult(result.interchanges, result.summaries, findings))
