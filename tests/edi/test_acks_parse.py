"""Reading inbound 997 / 999 / TA1: the corpus acks, with values read off the files by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from edi.acks import AckStatus, GroupAck, InterchangeAck, parse_acks
from edi.errors import AckParseError

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "x12"
ACK_DIRS = ("997", "999", "TA1")
ISA = (
    b"ISA*00*          *00*          *ZZ*A              *ZZ*B              "
    b"*240101*1200*U*00401*000000001*0*P*>~"
)
BROKEN_MARKERS = ("DELIBERATELY BROKEN", "envelope issues:", "SANITY-SCAN FAIL")

A, E, P, R = (
    AckStatus.ACCEPTED,
    AckStatus.ACCEPTED_WITH_ERRORS,
    AckStatus.PARTIALLY_ACCEPTED,
    AckStatus.REJECTED,
)

#: file -> per result: ("TA1", TA101, TA104, TA105) or (kind, AK101, AK102, AK901, ((ST02, AK501), ...)).
EXPECTED: dict[str, list[tuple[object, ...]]] = {
    "997/blueseer__ACME_997.txt": [("997", "SH", "100043", A, (("000100043", A),))],
    "997/staedi__empty997.edi": [("997", "", "", None, ())],
    "997/staedi__simple997.edi": [("997", "HC", "000001", R, (("0021", R),))],
    "997/staedi__simple997-multiple-interchanges.edi": [("997", "HC", "000001", R, (("0021", R),))] * 3,
    "997/stupidedi__005010_X230-FA997_pass_response-to-functional-group-containing-837s.edi": [
        ("997", "HC", "17456", P, (("0001", A), ("0002", R)))
    ],
    "997/stupidedi__004010_FA997_pass_1.edi": [("997", "AG", "160", A, (("0160", A),))],
    "997/staedi__optionalInterchangeServices.edi": [("997", "HC", "000001", A, ())],
    "997/staedi__invalid997.edi": [("997", "HC NOT IN CODESET", "000001", R, (("0021", R),))],
    "997/staedi__invalid997_min.edi": [("997", "<NOT_IN_CODESET>", "000001", R, ())],
    "997/staedi__extraDelimiter997.edi": [("997", "HC", "000001", R, (("0021", R),))],
    "999/imsweb-x12parser__x12_999_accepted.txt": [("999", "HC", "17456", A, (("0001", A),))],
    "999/imsweb-x12parser__x12_999_rejected.txt": [("999", "HC", "28", R, (("0028", R),))],
    "999/pyx12__834_ls_le_ls_5010.999.txt": [("999", "BE", "146", A, (("146001", A),))],
    "999/pyx12__834_lui_id_5010.999.txt": [("999", "BE", "13360001", A, (("0001", A),))] * 4,
    "999/staedi__simple999.edi": [("999", "HC", "17456", P, (("0001", A), ("0002", R), ("0003", R)))],
    "999/stupidedi__005010_X231A1-FA999_pass_response-to-functional-group-containing-3-837s.edi": [
        ("999", "HC", "17456", P, (("0001", A), ("0002", R), ("0003", R)))
    ],
    "999/staedi__invalid999.edi": [("999", "HC", "17456", P, (("0001", A), ("0002", R), ("0003", R)))],
    "TA1/oboe__justTA1TestCase.edi": [("TA1", "723010635", R, "024")],
    "TA1/oboe__withTA1TestCase.edi": [("TA1", "723010535", R, "024")],
    "TA1/staedi__x12_interchange_ack.txt": [("TA1", "000000050", A, "000")],
    "TA1/uhin-x12__TA1.edi": [("TA1", "000000100", R, "024")],
}


def _notes() -> dict[str, str]:
    rows = (CORPUS / "SOURCES.tsv").read_text(encoding="utf-8").splitlines()[1:]
    return {row.split("\t")[0]: row.split("\t")[-1] for row in rows if row.strip()}


def _ack_files() -> list[str]:
    if not CORPUS.is_dir():
        return []
    return sorted(p.relative_to(CORPUS).as_posix() for d in ACK_DIRS for p in (CORPUS / d).iterdir())


@pytest.fixture(scope="module")
def notes() -> dict[str, str]:
    if not (CORPUS / "SOURCES.tsv").is_file():
        pytest.skip(f"X12 corpus not found at {CORPUS}")
    return _notes()


def shape(result: GroupAck | InterchangeAck) -> tuple[object, ...]:
    if isinstance(result, InterchangeAck):
        return ("TA1", result.control_number, result.status, result.note_code)
    sets = tuple((s.control_number, s.status) for s in result.sets)
    return (result.kind, result.functional_id, result.group_control_number, result.status, sets)


def test_every_corpus_ack_has_expectations(notes: dict[str, str]) -> None:
    assert sorted(EXPECTED) == _ack_files()
    valid = [f for f in _ack_files() if not any(m in notes[f] for m in BROKEN_MARKERS)]
    assert len(valid) >= 10  # the files whose notes call them valid are all in EXPECTED


@pytest.mark.parametrize("path", sorted(EXPECTED))
def test_corpus_ack_parses_to_the_values_in_the_file(path: str, notes: dict[str, str]) -> None:
    results = parse_acks(CORPUS / path)
    assert [shape(r) for r in results] == EXPECTED[path]
    if not any(m in notes[path] for m in BROKEN_MARKERS) and path != "997/staedi__empty997.edi":
        assert all(r.problems == [] for r in results), [r.problems for r in results]


def test_997_error_detail_and_meanings() -> None:
    [ack] = parse_acks(
        CORPUS / "997/stupidedi__005010_X230-FA997_pass_response-to-functional-group-containing-837s.edi"
    )
    assert isinstance(ack, GroupAck)
    assert (ack.ack_control_number, ack.version) == ("2870001", "005010")
    assert (ack.included, ack.received, ack.accepted, ack.error_codes) == (2, 2, 1, [])
    assert ack.envelope.interchange_control_number == "000010216"
    assert ack.envelope.sender == "123456789012345"
    rejected = ack.set("0002")
    assert rejected is not None
    assert rejected.rejected
    assert (rejected.set_id, rejected.error_codes, rejected.error_meanings) == (
        "837",
        ["5"],
        ["one or more segments in error"],
    )
    [seg] = rejected.segment_errors
    assert (seg.segment_id, seg.position, seg.loop_id, seg.code) == ("CLM", 22, None, "8")
    assert seg.meaning == "segment has data element errors"
    [el] = seg.elements
    assert (el.position, el.component, el.repetition, el.reference, el.code) == (1, None, None, "1028", "1")
    assert el.meaning == "required data element missing"
    assert el.bad_value is None


def test_999_ik3_ik4_and_ctx_segments() -> None:
    [ack] = parse_acks(CORPUS / "999/staedi__simple999.edi")
    assert isinstance(ack, GroupAck)
    assert ack.version == "005010X222"
    assert (ack.included, ack.received, ack.accepted) == (3, 3, 1)
    second, third = ack.set("0002"), ack.set("0003")
    assert second is not None
    assert third is not None
    [clm] = second.segment_errors
    assert (clm.segment_id, clm.position, clm.code) == ("CLM", 22, "8")
    assert [(e.position, e.reference, e.code) for e in clm.elements] == [(2, "782", "1")]
    [ref] = third.segment_errors
    assert (ref.segment_id, ref.position, ref.code, ref.meaning) == (
        "REF",
        57,
        "3",
        "required segment missing",
    )
    assert ack.problems == []  # CTX context segments are understood, not complained about


def test_999_rejected_unrecognized_segment() -> None:
    [ack] = parse_acks(CORPUS / "999/imsweb-x12parser__x12_999_rejected.txt")
    assert isinstance(ack, GroupAck)
    [s] = ack.sets
    [seg] = s.segment_errors
    assert (seg.segment_id, seg.position, seg.code, seg.meaning) == ("NM", 17, "1", "unrecognized segment ID")
    assert ack.version == "005010X223A2"


def test_997_with_ak4_bad_value() -> None:
    [ack] = parse_acks(CORPUS / "997/staedi__simple997.edi")
    assert isinstance(ack, GroupAck)
    [el] = ack.sets[0].segment_errors[0].elements
    assert (el.position, el.reference, el.code, el.bad_value) == (8, "66", "7", "MI")
    assert el.meaning == "invalid code value"


def test_ta1_fields_and_meaning() -> None:
    [ta1] = parse_acks(CORPUS / "TA1/uhin-x12__TA1.edi")
    assert isinstance(ta1, InterchangeAck)
    assert (ta1.control_number, ta1.date, ta1.time) == ("000000100", "030809", "0823")
    assert ta1.note_meaning == "invalid interchange content (e.g. invalid GS segment)"
    assert ta1.envelope.interchange_control_number == "000000007"


def test_multiple_interchanges_keep_their_envelopes() -> None:
    acks = parse_acks(CORPUS / "997/staedi__simple997-multiple-interchanges.edi")
    assert [a.envelope.interchange_control_number for a in acks] == ["000000001", "000000002", "000000003"]


def test_lenient_reading_reports_problems() -> None:
    [ack] = parse_acks(CORPUS / "999/staedi__invalid999.edi")
    assert isinstance(ack, GroupAck)
    assert "IK5 without its own AK2 loop: ignored" in ack.problems
    assert "IK501 status 'Q' is not an X12 acknowledgment status" in ack.problems
    [ack] = parse_acks(CORPUS / "997/staedi__extraDelimiter997.edi")
    assert isinstance(ack, GroupAck)
    assert ack.sets[0].segment_errors[0].position is None
    assert any(p.startswith("AK302 ") for p in ack.problems)
    [ack] = parse_acks(CORPUS / "997/staedi__empty997.edi")
    assert isinstance(ack, GroupAck)
    assert ack.problems == [
        "no AK1: the acknowledged group is unknown",
        "no AK9: the group status is unknown",
    ]


def test_unknown_codes_are_kept_and_named_unknown() -> None:
    data = (
        ISA + b"GS*FA*A*B*20240101*1200*1*X*004010~ST*997*0001~AK1*PO*7~AK2*850*0001~AK3*BEG*2**Q9~AK5*R*99~"
        b"AK9*R*1*1*0*77~SE*7*0001~GE*1*1~IEA*1*000000001~"
    )
    [ack] = parse_acks(data)
    assert isinstance(ack, GroupAck)
    assert ack.error_meanings == ["unknown code '77'"]
    assert ack.sets[0].error_meanings == ["unknown code '99'"]
    assert ack.sets[0].segment_errors[0].meaning == "unknown code 'Q9'"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"hello, this is not X12", "not an acknowledgment"),
        (b"", "not an acknowledgment"),
        (
            ISA
            + b"GS*PO*A*B*20240101*1200*1*X*004010~ST*850*0001~BEG*00*SA*1**20240101~SE*3*0001~"
            + b"GE*1*1~IEA*1*000000001~",
            "no 997, 999 or TA1",
        ),
        (
            ISA
            + b"GS*FA*A*B*20240101*1200*1*X*004010~ST*997*0001~BEG*00*SA*1**20240101~SE*3*0001~"
            + b"GE*1*1~IEA*1*000000001~",
            "997 set '0001' is not an acknowledgment: it has no AK1 or AK9",
        ),
    ],
    ids=["garbage", "empty", "purchase-order", "997-without-ack-segments"],
)
def test_what_is_not_an_ack_raises(data: bytes, message: str) -> None:
    with pytest.raises(AckParseError, match=message):
        parse_acks(data)
