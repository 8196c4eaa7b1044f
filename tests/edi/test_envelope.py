"""Envelope validation: pairing, counts, control numbers, duplicates and header field formats.

Findings are data with exact locations; each test pins them.
"""

from __future__ import annotations

import pytest

from edi import Code, Finding, Location, Severity, parse, read_summary
from edi.envelope_rules import check_gs, check_isa, check_st, valid_date, valid_time
from tests.edi.strategies import isa_text, x12


def base() -> list[str]:
    """One interchange, two groups (two sets, then one). Positions count from ISA = 1."""
    return [
        isa_text(1),  # 1
        "GS*PO*SND*RCV*20240305*1430*1*X*004010",  # 2
        "ST*850*0001",  # 3
        "BEG*00*SA*PO1**20240305",  # 4
        "SE*3*0001",  # 5
        "ST*850*0002",  # 6
        "BEG*00*SA*PO2**20240305",  # 7
        "SE*3*0002",  # 8
        "GE*2*1",  # 9
        "GS*IN*SND*RCV*20240305*1430*2*X*004010",  # 10
        "ST*810*0003",  # 11
        "BIG*20240305*INV1",  # 12
        "SE*3*0003",  # 13
        "GE*1*2",  # 14
        "IEA*2*000000001",  # 15
    ]


def found(segments: list[str]) -> list[tuple[Code, Location, str | None]]:
    return [(f.code, f.location, f.bad_value) for f in parse(x12(*segments)).findings]


def loc(
    interchange: int = 0,
    group: int | None = None,
    transaction: int | None = None,
    position: int | None = None,
    segment_id: str | None = None,
    element: int | None = None,
) -> Location:
    return Location(interchange, group, transaction, position, segment_id, element)


def test_the_base_file_is_clean() -> None:
    result = parse(x12(*base()))
    assert result.findings == []
    assert not result.has_errors
    summary = result.summaries[0]
    assert summary.complete
    assert [[(t.set_id, t.segments, t.valid) for t in g.transactions] for g in summary.groups] == [
        [("850", 3, True), ("850", 3, True)],
        [("810", 3, True)],
    ]


# --- pairing ------------------------------------------------------------------------------


def test_missing_iea() -> None:
    segments = base()[:-1]
    assert found(segments) == [(Code.IEA_MISSING, loc(0), None)]
    assert not parse(x12(*segments)).summaries[0].complete


def test_missing_ge_before_the_next_gs() -> None:
    segments = base()
    del segments[8]  # GE*2*1
    segments[-1] = "IEA*2*000000001"
    assert found(segments) == [(Code.GE_MISSING, loc(0, 0), None)]


def test_missing_ge_before_the_iea() -> None:
    segments = base()
    del segments[13]  # GE*1*2
    assert found(segments) == [(Code.GE_MISSING, loc(0, 1), None)]


def test_missing_se_before_the_next_st() -> None:
    segments = base()
    del segments[4]  # SE*3*0001
    result = parse(x12(*segments))
    assert [(f.code, f.location) for f in result.findings] == [(Code.SE_MISSING, loc(0, 0, 0, 2))]
    sets = result.summaries[0].groups[0].transactions
    assert [(t.control_number, t.segments, t.valid) for t in sets] == [("0001", 2, False), ("0002", 3, True)]


def test_missing_se_before_the_ge() -> None:
    segments = base()
    del segments[12]  # SE*3*0003
    result = parse(x12(*segments))
    assert [(f.code, f.location) for f in result.findings] == [(Code.SE_MISSING, loc(0, 1, 0, 2))]
    assert not result.summaries[0].groups[1].transactions[0].valid
    assert result.interchanges[0].groups[1].transactions[0].segments[-1].id == "BIG"


def test_everything_missing_after_a_set_body() -> None:
    segments = base()[:4]  # ISA GS ST BEG
    assert found(segments) == [
        (Code.IEA_MISSING, loc(0), None),
        (Code.SE_MISSING, loc(0, 0, 0, 2), None),
        (Code.GE_MISSING, loc(0, 0), None),
    ]


def test_stray_se_outside_a_set() -> None:
    segments = base()
    segments.insert(8, "SE*3*0009")  # after the second set, before GE: position 9
    assert found(segments) == [(Code.SEGMENT_OUTSIDE_ENVELOPE, loc(0, 0, None, 9, "SE"), None)]


def test_stray_ge_outside_a_group() -> None:
    segments = base()
    segments.insert(9, "GE*1*7")  # between the groups: position 10
    assert found(segments) == [(Code.SEGMENT_OUTSIDE_ENVELOPE, loc(0, None, None, 10, "GE"), None)]


def test_body_segment_between_sets() -> None:
    segments = base()
    segments.insert(5, "REF*ZZ*X")  # between SE*3*0001 and ST*850*0002: position 6
    assert found(segments) == [(Code.SEGMENT_OUTSIDE_ENVELOPE, loc(0, 0, None, 6, "REF"), None)]


def test_st_outside_a_group_is_skipped_to_its_se() -> None:
    segments = base()
    segments[9:9] = ["ST*850*0099", "BEG*00*SA*ORPHAN**20240305", "SE*3*0099"]  # positions 10-12
    result = parse(x12(*segments))
    assert [(f.code, f.location) for f in result.findings] == [
        (Code.SEGMENT_OUTSIDE_ENVELOPE, loc(0, None, None, 10, "ST"))
    ]
    assert result.findings[0].message == "ST outside a functional group: set skipped"
    assert [g.control_number for g in result.summaries[0].groups] == ["1", "2"]
    assert [ts.control_number for _, ts in result.interchanges[0].transactions()] == ["0001", "0002", "0003"]


def test_service_segment_outside_groups_is_kept_not_reported() -> None:
    segments = base()
    segments.insert(1, "TA1*000000007*240305*1430*A*000")
    result = parse(x12(*segments))
    assert result.findings == []
    assert result.interchanges[0].service_segments[0].get(1) == "000000007"


# --- counts and control numbers -------------------------------------------------------------


@pytest.mark.parametrize(
    ("index", "segment", "expected"),
    [
        (14, "IEA*1*000000001", (Code.IEA_COUNT, loc(0, None, None, 15, "IEA", 1), "1")),
        (14, "IEA**000000001", (Code.IEA_COUNT, loc(0, None, None, 15, "IEA", 1), "")),
        (14, "IEA*2*000000002", (Code.IEA_CONTROL_MISMATCH, loc(0, None, None, 15, "IEA", 2), "000000002")),
        (8, "GE*3*1", (Code.GE_COUNT, loc(0, 0, None, 9, "GE", 1), "3")),
        (13, "GE*1*3", (Code.GE_CONTROL_MISMATCH, loc(0, 1, None, 14, "GE", 2), "3")),
        (4, "SE*4*0001", (Code.SE_COUNT, loc(0, 0, 0, 3, "SE", 1), "4")),
        (7, "SE*3*0001", (Code.SE_CONTROL_MISMATCH, loc(0, 0, 1, 3, "SE", 2), "0001")),
        (12, "SE*2*0003", (Code.SE_COUNT, loc(0, 1, 0, 3, "SE", 1), "2")),
    ],
)
def test_trailer_counts_and_control_numbers(
    index: int, segment: str, expected: tuple[Code, Location, str | None]
) -> None:
    segments = base()
    segments[index] = segment
    assert found(segments) == [expected]


def test_se_count_covers_st_to_se_inclusive() -> None:
    segments = base()
    segments[3:4] = ["BEG*00*SA*PO1**20240305", "REF*ZZ*A", "REF*ZZ*B", "N1*ST*NAME"]
    segments[7] = "SE*6*0001"  # ST + 4 + SE
    result = parse(x12(*segments))
    assert result.findings == []
    assert result.summaries[0].groups[0].transactions[0].segments == 6


def test_wrong_se_count_marks_only_its_set_invalid() -> None:
    segments = base()
    segments[4] = "SE*9*0001"
    summary = parse(x12(*segments)).summaries[0]
    assert [t.valid for g in summary.groups for t in g.transactions] == [False, True, True]
    assert summary.groups[0].transactions[0].segments == 3


def test_both_se_elements_wrong_give_two_findings_in_element_order() -> None:
    segments = base()
    segments[4] = "SE*2*9999"
    assert found(segments) == [
        (Code.SE_COUNT, loc(0, 0, 0, 3, "SE", 1), "2"),
        (Code.SE_CONTROL_MISMATCH, loc(0, 0, 0, 3, "SE", 2), "9999"),
    ]


# --- duplicate control numbers --------------------------------------------------------------


def _second_interchange(control: int, group: int = 1, sender: str = "SND") -> list[str]:
    return [
        isa_text(control),
        f"GS*PO*{sender}*RCV*20240305*1430*{group}*X*004010",
        "ST*850*0001",
        "SE*2*0001",
        f"GE*1*{group}",
        f"IEA*1*{control:09d}",
    ]


def test_duplicate_isa13_across_interchanges() -> None:
    result = parse(x12(*base(), *_second_interchange(1, 3), *_second_interchange(1, 4)))
    assert [(f.code, f.location, f.bad_value) for f in result.findings] == [
        (Code.ISA_DUPLICATE, loc(1, None, None, 1, "ISA", 13), "000000001"),
        (Code.ISA_DUPLICATE, loc(2, None, None, 1, "ISA", 13), "000000001"),
    ]


def test_st02_may_repeat_across_interchanges_and_gs06_across_senders() -> None:
    # X12 scopes ST02 to its group: every group may count its sets from 0001.
    data = x12(*base(), *_second_interchange(2, 3), *_second_interchange(3, 1, sender="OTHER"))
    assert parse(data).findings == []


def test_gs06_reused_by_its_sender_in_another_interchange_is_a_warning() -> None:
    # X12 scopes GS06 to its interchange, so this is no ack error; but the same sender reusing
    # a group number within one file usually means a group was sent twice.
    result = parse(x12(*base(), *_second_interchange(2, 2), *_second_interchange(3, 1)))
    assert [(f.code, f.severity, f.location, f.bad_value, f.message) for f in result.findings] == [
        (
            Code.GS_DUPLICATE_IN_FILE,
            Severity.WARNING,
            loc(1, 0, None, 2, "GS", 6),
            "2",
            "group control number 2 of sender 'SND' was already used in interchange 1 of this file",
        ),
        (
            Code.GS_DUPLICATE_IN_FILE,
            Severity.WARNING,
            loc(2, 0, None, 2, "GS", 6),
            "1",
            "group control number 1 of sender 'SND' was already used in interchange 1 of this file",
        ),
    ]
    assert Code.GS_DUPLICATE_IN_FILE.spec.ack_code is None  # never reported in a 997/999
    assert not result.has_errors


def test_duplicate_gs06_within_an_interchange() -> None:
    segments = base()
    segments[9] = "GS*IN*SND*RCV*20240305*1430*1*X*004010"
    segments[13] = "GE*1*1"
    assert found(segments) == [(Code.GS_DUPLICATE, loc(0, 1, None, 10, "GS", 6), "1")]


def test_duplicate_st02_within_a_group() -> None:
    segments = base()
    segments[5] = "ST*850*0001"
    segments[7] = "SE*3*0001"
    result = parse(x12(*segments))
    assert [(f.code, f.location, f.bad_value) for f in result.findings] == [
        (Code.ST_DUPLICATE, loc(0, 0, 1, 1, "ST", 2), "0001")
    ]
    assert [t.valid for t in result.summaries[0].groups[0].transactions] == [True, False]


def test_st02_may_repeat_in_another_group() -> None:
    segments = base()
    segments[10] = "ST*810*0001"
    segments[12] = "SE*3*0001"
    assert found(segments) == []


# --- header field formats --------------------------------------------------------------------


def _isa_with(position: int, value: str) -> str:
    elements = isa_text(1).split("*")
    elements[position] = value
    return "*".join(elements)


#: ISA field -> (a bad value of the right width, the finding code, the TA105 note code of the X12 I18 list).
ISA_FIELD_ERRORS = [
    (1, "99", Code.ISA_AUTHORIZATION_QUALIFIER, "010"),
    (2, "ABC\x07      ", Code.ISA_AUTHORIZATION, "011"),
    (3, "02", Code.ISA_SECURITY_QUALIFIER, "012"),
    (4, "\x00" * 10, Code.ISA_SECURITY, "013"),
    (5, "XX", Code.ISA_SENDER_QUALIFIER, "005"),
    (6, " " * 15, Code.ISA_SENDER, "006"),
    (6, "SEND\x1bER        ", Code.ISA_SENDER, "006"),
    (7, "AB", Code.ISA_RECEIVER_QUALIFIER, "007"),
    (8, " " * 15, Code.ISA_RECEIVER, "008"),
    (9, "240230", Code.ISA_DATE, "014"),
    (9, "24030A", Code.ISA_DATE, "014"),
    (10, "2460", Code.ISA_TIME, "015"),
    (10, "1261", Code.ISA_TIME, "015"),
    (11, "^", Code.ISA_STANDARDS_ID, "016"),
    (12, "0040A", Code.ISA_VERSION, "017"),
    (12, "12345", Code.ISA_VERSION, "017"),  # five digits, but no X12 release
    (12, "00409", Code.ISA_VERSION, "017"),
    (13, "00000000A", Code.ISA_CONTROL_NUMBER, "018"),
    (14, "2", Code.ISA_ACK_REQUESTED, "019"),
    (15, "X", Code.ISA_USAGE, "020"),
]


@pytest.mark.parametrize(("position", "value", "code", "note"), ISA_FIELD_ERRORS)
def test_isa_field_formats(position: int, value: str, code: Code, note: str) -> None:
    segments = base()
    segments[0] = _isa_with(position, value)
    if position == 13:
        segments[-1] = f"IEA*2*{value}"
    data = x12(*segments)
    assert data.index(b"GS*") == 106  # still fixed width: only the field format is wrong
    assert found(segments) == [(code, loc(0, None, None, 1, "ISA", position), value)]
    assert code.spec.ack_code == note


@pytest.mark.parametrize(
    ("position", "value", "code"),
    [
        (1, "0", Code.ISA_AUTHORIZATION_QUALIFIER),
        (2, "SHORT", Code.ISA_AUTHORIZATION),
        (3, "000", Code.ISA_SECURITY_QUALIFIER),
        (4, "", Code.ISA_SECURITY),
        (5, "Z", Code.ISA_SENDER_QUALIFIER),
        (6, "SENDER", Code.ISA_SENDER),
        (7, "ZZZ", Code.ISA_RECEIVER_QUALIFIER),
        (8, "RECEIVER_ID_16CH", Code.ISA_RECEIVER),
        (9, "20240305", Code.ISA_DATE),
        (10, "143000", Code.ISA_TIME),
        (12, "0401", Code.ISA_VERSION),
        (13, "1", Code.ISA_CONTROL_NUMBER),
        (14, "01", Code.ISA_ACK_REQUESTED),
        (15, "", Code.ISA_USAGE),
    ],
)
def test_a_field_of_the_wrong_width_gets_that_fields_code_once(position: int, value: str, code: Code) -> None:
    elements = isa_text(1).split("*")[1:]
    elements[position - 1] = value
    findings = check_isa(elements, Location(0))
    assert [(f.code, f.location.element, f.bad_value) for f in findings] == [(code, position, value)]
    assert findings[0].message.startswith(f"ISA{position:02d} is {len(value)} characters, not ")


def test_every_isa_field_has_its_own_code_and_note_code() -> None:
    codes = {code for _, _, code, _ in ISA_FIELD_ERRORS}
    assert len(codes) == 15  # ISA01-ISA15; ISA16 is the component separator (TA105 027)
    assert len({code.spec.ack_code for code in codes}) == 15


def test_known_isa12_versions_pass() -> None:
    for version in ("00200", "00304", "00400", "00401", "00402", "00406", "00501", "00505", "00801"):
        elements = isa_text(1, version=version, isa11="U" if version < "00402" else "^").split("*")[1:]
        assert check_isa(elements, Location(0)) == [], version


def test_isa_field_of_the_wrong_width_is_reported_with_its_element() -> None:
    elements = isa_text(1).split("*")
    assert [f.location.element for f in check_isa(elements[1:], Location(0))] == []
    elements[2] = "SHORT"
    findings = check_isa(elements[1:], Location(3))
    assert [(f.code, f.location, f.bad_value) for f in findings] == [
        (Code.ISA_AUTHORIZATION, loc(3, None, None, 1, "ISA", 2), "SHORT")
    ]
    assert findings[0].message == "ISA02 is 5 characters, not 10"


def test_isa_with_the_wrong_number_of_elements() -> None:
    findings = check_isa(["00"] * 15, Location(0))
    assert [(f.code, f.location.element, f.message) for f in findings] == [
        (Code.ISA_FIELD, 15, "ISA has 15 elements, not 16")
    ]


@pytest.mark.parametrize(
    ("position", "value", "code"),
    [
        (1, "P", Code.GS_INVALID),
        (4, "20240230", Code.GS_INVALID),
        (4, "240305", Code.GS_INVALID),  # YYMMDD is not allowed from 004010 on
        (5, "2561", Code.GS_INVALID),
        (6, "ABC", Code.GS_CONTROL_NUMBER),
        (6, "1234567890", Code.GS_CONTROL_NUMBER),
        (7, "Q", Code.GS_INVALID),
        (8, "4010", Code.GS_VERSION_UNSUPPORTED),
        (8, "009010", Code.GS_VERSION_UNSUPPORTED),  # six digits, but no X12 release
        (8, "004070VICS", Code.GS_VERSION_UNSUPPORTED),
        (2, "S", Code.GS_INVALID),
        (3, "RECEIVER\x00", Code.GS_INVALID),
    ],
)
def test_gs_field_formats(position: int, value: str, code: Code) -> None:
    elements = ["PO", "SND", "RCV", "20240305", "1430", "1", "X", "004010"]
    elements[position - 1] = value
    findings = check_gs(elements, Location(2, 1, None, 10))
    assert [(f.code, f.location, f.bad_value) for f in findings] == [
        (code, loc(2, 1, None, 10, "GS", position), value)
    ]


@pytest.mark.parametrize(
    "version", ["002001", "003040", "003070", "004010VICS", "005010X231A1", "006020", "008030"]
)
def test_gs08_known_releases_pass(version: str) -> None:
    assert check_gs(["PO", "SND", "RCV", "20240305", "1430", "1", "X", version], Location(0, 0)) == []


def test_gs_yymmdd_date_is_accepted_before_004010() -> None:
    assert check_gs(["PO", "SND", "RCV", "240305", "1430", "1", "X", "003040"], Location(0, 0)) == []


def test_gs_with_too_few_elements() -> None:
    findings = check_gs(["PO", "SND"], Location(0, 0, None, 2))
    assert [(f.code, f.location.element) for f in findings] == [(Code.GS_INVALID, 2)]


@pytest.mark.parametrize(
    ("elements", "expected"),
    [
        (["850", "0001"], []),
        (["850", "000000001"], []),
        (["85", "0001"], [(Code.ST_INVALID_ID, 1, "85")]),
        (["8_0", "0001"], [(Code.ST_INVALID_ID, 1, "8_0")]),
        (["850", "001"], [(Code.ST_CONTROL_NUMBER, 2, "001")]),
        (["850", "0123456789"], [(Code.ST_CONTROL_NUMBER, 2, "0123456789")]),
        (["850", "    "], [(Code.ST_CONTROL_NUMBER, 2, "    ")]),
        ([], [(Code.ST_INVALID_ID, 1, ""), (Code.ST_CONTROL_NUMBER, 2, "")]),
    ],
)
def test_st_field_formats(elements: list[str], expected: list[tuple[Code, int, str]]) -> None:
    findings = check_st(elements, Location(1, 2, 3))
    assert [(f.code, f.location.element, f.bad_value) for f in findings] == expected
    for f in findings:
        assert f.location == loc(1, 2, 3, 1, "ST", f.location.element)


def test_header_format_errors_in_a_set_make_it_invalid() -> None:
    segments = base()
    segments[5] = "ST*85*0002"
    result = parse(x12(*segments))
    assert [(f.code, f.location) for f in result.findings] == [(Code.ST_INVALID_ID, loc(0, 0, 1, 1, "ST", 1))]
    assert [t.valid for t in result.summaries[0].groups[0].transactions] == [True, False]


def test_gs_format_errors_are_located_in_the_file() -> None:
    segments = base()
    segments[9] = "GS*IN*SND*RCV*20240305*1430*2*Q*004010"
    assert found(segments) == [(Code.GS_INVALID, loc(0, 1, None, 10, "GS", 7), "Q")]


@pytest.mark.parametrize(
    ("value", "ok"),
    [("240305", True), ("20240229", True), ("20230229", False), ("2403051", False), ("24-3-5", False)],
)
def test_valid_date(value: str, ok: bool) -> None:
    assert valid_date(value) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [("0000", True), ("2359", True), ("235959", True), ("23595999", True), ("2400", False), ("12345", False)],
)
def test_valid_time(value: str, ok: bool) -> None:
    assert valid_time(value) is ok


# --- findings are data --------------------------------------------------------------------


def test_findings_are_data_with_codes_severities_and_ack_codes() -> None:
    segments = base()
    segments[4] = "SE*4*0001"
    segments[13] = "GE*1*9"
    segments[14] = "IEA*3*000000001"
    result = parse(x12(*segments))
    assert all(isinstance(f, Finding) and f.severity is Severity.ERROR for f in result.findings)
    assert [(f.code, f.code.spec.ack_code) for f in result.findings] == [
        (Code.IEA_COUNT, "021"),
        (Code.SE_COUNT, "4"),
        (Code.GE_CONTROL_MISMATCH, "4"),
    ]
    assert result.findings[0].as_dict() == {
        "severity": "error",
        "code": "iea-count",
        "message": "IEA01 says 3 groups but there are 2",
        "location": {"interchange": 0, "segment_position": 15, "segment_id": "IEA", "element": 1},
        "bad_value": "3",
    }


def test_read_summary_reports_the_same_envelope_findings_as_parse() -> None:
    segments = base()
    segments[4] = "SE*4*0001"
    segments.insert(9, "GE*1*7")
    data = x12(*segments)
    summaries, findings = read_summary(data)
    assert findings == parse(data).findings
    assert summaries == parse(data).summaries
