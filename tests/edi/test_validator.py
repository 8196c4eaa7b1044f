"""Golden tests of the schema validator: exact finding codes and exact locations.

Each case is a hand-written transaction set with known errors. A finding is
compared as ``(code, segment position, segment ID, element, component,
element reference, bad value)``, the fields a 997/999 AK3/AK4 (IK3/IK4) is
built from.
"""

from __future__ import annotations

from typing import Any

import pytest

import edi.validator
from edi.delimiters import Delimiters
from edi.findings import Code, Finding, Severity
from edi.model import Segment
from edi.schemas import require_schema
from edi.validation.walker import walk_transaction
from edi.validator import schema_validator, validate_transaction

D4010 = Delimiters("*", ":", "~", None)
D5010 = Delimiters("*", ":", "~", "^")

Row = tuple[Code, int | None, str | None, int | None, int | None, str | None, str | None]


def segments(text: str, element: str = "*") -> list[Segment]:
    return [Segment.parse(s.strip(), element) for s in text.split("~") if s.strip()]


def check(text: str, set_id: str, version: str, delimiters: Delimiters = D4010) -> list[Finding]:
    segs = segments(text, delimiters.element)
    schema = require_schema(set_id, version)
    found = validate_transaction(segs, delimiters, schema, interchange=3, group=1, transaction=2)
    # The walker alone must agree with the fast path + walker combination.
    assert walk_transaction(segs, delimiters, schema, 3, 1, 2) == found
    return found


def rows(findings: list[Finding]) -> list[Row]:
    return [
        (
            f.code,
            f.location.segment_position,
            f.location.segment_id,
            f.location.element,
            f.location.component,
            f.location.element_reference,
            f.bad_value,
        )
        for f in findings
    ]


VALID_850 = """
ST*850*0001~BEG*00*SA*PO12345**20240115~CUR*BY*USD~REF*DP*038~REF*IA*V1234~PER*BD*JANE DOE*TE*5555551234~
FOB*PP~ITD*01*3*2**30**31~DTM*002*20240201~DTM*010*20240125*0930~TD5*O*2*UPSN*M~
N9*L1*SPECIAL INSTRUCTIONS~MSG*HANDLE WITH CARE~
N1*ST*STORE 123*92*0123~N3*123 MAIN STREET*SUITE 4~N4*SPRINGFIELD*IL*62701*US~
N1*BT*ACME ACCOUNTS PAYABLE*92*0001~
PO1*1*12*EA*9.99**UP*012345678905*VN*ABC123~PID*F****WIDGET, BLUE~PO4*12~SAC*A*C310***1000~
SDQ*EA*92*0123*5*0456*7~
PO1*2*1.5*CA*-10.25*PE*UP*012345678912~REF*DP*1**DP:2~DTM*002*20240229~
CTT*2*13.5~AMT*TT*134.88~SE*27*0001~
"""


def test_valid_850_has_no_findings() -> None:
    assert check(VALID_850, "850", "004010") == []
    assert check(VALID_850, "850", "005010", D5010) == []


def test_valid_sets_of_every_shipped_schema() -> None:
    assert (
        check(
            "ST*855*0001~BAK*00*AC*PO123*20240101~PO1*1*10*EA*5**UP*012345678905~"
            "ACK*IA*10*EA*068*20240105~CTT*1~SE*6*0001~",
            "855",
            "004010",
        )
        == []
    )
    assert (
        check(
            "ST*810*0001~BIG*20240101*INV1**PO123~N1*BT*ACME~IT1*1*10*EA*5**UP*012345678905~"
            "TDS*5000~CTT*1~SE*7*0001~",
            "810",
            "004010",
        )
        == []
    )
    assert (
        check(
            "ST*997*0001~AK1*PO*1~AK2*850*0001~AK3*BEG*2**8~AK4*5*373*8*20240230~AK5*R*5~"
            "AK9*R*1*1*0~SE*8*0001~",
            "997",
            "004010",
        )
        == []
    )
    assert (
        check(
            "ST*997*0001~AK1*PO*1*004010~AK2*850*0001~AK3*BEG*2**8~AK4*5:1:2*373*8*X~AK5*R*5~"
            "AK9*R*1*1*0~SE*8*0001~",
            "997",
            "005010",
            D5010,
        )
        == []
    )
    assert check(VALID_999, "999", "005010", D5010) == []
    assert check(VALID_856, "856", "004010") == []


def test_850_golden_errors() -> None:
    text = """
    ST*850*0001~BEG*00*SA*PO1**20240230~CUR*BY*USD~CUR*BY*CAD~ZZZ*1~BSN*00*X*20240101*1200~
    DTM*002*20240201*2460~N1*ST*STORE*92~PO1*1*X*EA*9.99**UP*012345678905~PID*Z****TEXT~
    REF*DP*1*DESC*AA:BB:CC:DD:EE:FF:GG~BEG*00*SA*PO2**20240101~CTT*1~SE*14*0001~
    """
    E = Code
    assert rows(check(text, "850", "004010")) == [
        (E.SEGMENT_HAS_ELEMENT_ERRORS, 2, "BEG", None, None, None, None),
        (E.ELEMENT_INVALID_DATE, 2, "BEG", 5, None, "373", "20240230"),
        (E.SEGMENT_MAX_EXCEEDED, 4, "CUR", None, None, None, None),
        (E.SEGMENT_UNRECOGNIZED, 5, "ZZZ", None, None, None, None),
        (E.SEGMENT_NOT_IN_SET, 6, "BSN", None, None, None, None),
        (E.SEGMENT_HAS_ELEMENT_ERRORS, 7, "DTM", None, None, None, None),
        (E.ELEMENT_INVALID_TIME, 7, "DTM", 3, None, "337", "2460"),
        (E.SEGMENT_HAS_ELEMENT_ERRORS, 8, "N1", None, None, None, None),
        (E.ELEMENT_CONDITIONAL_MISSING, 8, "N1", 4, None, "67", None),
        (E.SEGMENT_HAS_ELEMENT_ERRORS, 9, "PO1", None, None, None, None),
        (E.ELEMENT_INVALID_CHARACTER, 9, "PO1", 2, None, "330", "X"),
        (E.SEGMENT_HAS_ELEMENT_ERRORS, 10, "PID", None, None, None, None),
        (E.ELEMENT_INVALID_CODE, 10, "PID", 1, None, "349", "Z"),
        (E.SEGMENT_HAS_ELEMENT_ERRORS, 11, "REF", None, None, None, None),
        (E.ELEMENT_TOO_MANY_COMPONENTS, 11, "REF", 4, 7, "C040", "GG"),
        (E.SEGMENT_SEQUENCE, 12, "BEG", None, None, None, None),
    ]


def test_loop_ids_and_envelope_indexes() -> None:
    text = "ST*850*0001~BEG*00*SA*PO1**20240101~N1*ST*S*92~PO1*1*X*EA~PID*F****D~SE*6*0001~"
    found = check(text, "850", "004010")
    loops = [(f.code, f.location.segment_id, f.location.loop_id) for f in found]
    assert loops == [
        (Code.SEGMENT_HAS_ELEMENT_ERRORS, "N1", "N1"),
        (Code.ELEMENT_CONDITIONAL_MISSING, "N1", "N1"),
        (Code.SEGMENT_HAS_ELEMENT_ERRORS, "PO1", "PO1"),
        (Code.ELEMENT_INVALID_CHARACTER, "PO1", "PO1"),
    ]
    assert {(f.location.interchange, f.location.group, f.location.transaction) for f in found} == {(3, 1, 2)}
    assert all(f.severity is Severity.ERROR for f in found)


def test_missing_mandatory_segment_and_loop() -> None:
    # BEG missing: noticed at CUR (position 2); the PO1 loop missing: noticed at CTT (position 3).
    assert rows(check("ST*850*0001~CUR*BY*USD~CTT*1~SE*4*0001~", "850", "004010")) == [
        (Code.SEGMENT_MISSING, 2, "BEG", None, None, None, None),
        (Code.SEGMENT_MISSING, 3, "PO1", None, None, None, None),
    ]
    found = check("ST*850*0001~BEG*00*SA*PO1**20240101~SE*3*0001~", "850", "004010")
    assert [(f.code, f.location.loop_id) for f in found] == [(Code.SEGMENT_MISSING, "PO1")]


def test_missing_segment_inside_a_loop() -> None:
    # LQ is mandatory in the LM loop: closing the loop at PO1 reports it.
    text = "ST*850*0001~BEG*00*SA*PO1**20240101~LM*DF~PO1*1*1*EA~SE*5*0001~"
    assert [
        (f.code, f.location.segment_position, f.location.segment_id, f.location.loop_id)
        for f in check(text, "850", "004010")
    ] == [(Code.SEGMENT_MISSING, 4, "LQ", "LM")]


def test_missing_se_is_left_to_the_envelope() -> None:
    assert check("ST*850*0001~BEG*00*SA*PO1**20240101~PO1*1*1*EA", "850", "004010") == []


def test_loop_max_exceeded() -> None:
    text = "ST*850*0001~BEG*00*SA*PO1**20240101~PO1*1*1*EA~CTT*1~CTT*1~SE*6*0001~"
    assert rows(check(text, "850", "004010")) == [(Code.LOOP_MAX_EXCEEDED, 5, "CTT", None, None, None, None)]
    assert check(text, "850", "004010")[0].location.loop_id == "CTT"


def test_810_missing_summary_segment() -> None:
    text = "ST*810*0001~BIG*20240101*INV1~IT1*1*10*EA*5~CTT*1~SE*5*0001~"
    assert rows(check(text, "810", "004010")) == [(Code.SEGMENT_MISSING, 4, "TDS", None, None, None, None)]


@pytest.mark.parametrize(
    ("segment", "row"),
    [
        ("N1*ST*NAME~N3*A*B*C", (Code.ELEMENT_TOO_MANY, 4, "N3", 3, None, None, "C")),
        ("N1*STXX*NAME", (Code.ELEMENT_TOO_LONG, 3, "N1", 1, None, "98", "STXX")),
        ("REF*D*1", (Code.ELEMENT_TOO_SHORT, 3, "REF", 1, None, "128", "D")),
        ("REF*DP*1**:AB", (Code.ELEMENT_MISSING, 3, "REF", 4, 1, "128", None)),
        ("N1*ST*NAME~N3*12:30 ST", (Code.ELEMENT_TOO_MANY_COMPONENTS, 4, "N3", 1, None, "166", "12:30 ST")),
        ("DTM*002*2024011", (Code.ELEMENT_TOO_SHORT, 3, "DTM", 2, None, "373", "2024011")),
        ("DTM*002*20241301", (Code.ELEMENT_INVALID_DATE, 3, "DTM", 2, None, "373", "20241301")),
        ("DTM*002*2024O101", (Code.ELEMENT_INVALID_DATE, 3, "DTM", 2, None, "373", "2024O101")),
        ("DTM*002*20240101*12345", (Code.ELEMENT_INVALID_TIME, 3, "DTM", 3, None, "337", "12345")),
        ("DTM*002*20240101*123", (Code.ELEMENT_TOO_SHORT, 3, "DTM", 3, None, "337", "123")),
        ("CUR*BY*USD*1.2.3", (Code.ELEMENT_INVALID_CHARACTER, 3, "CUR", 3, None, "280", "1.2.3")),
        ("CUR*BY*USD*12345678901", (Code.ELEMENT_TOO_LONG, 3, "CUR", 3, None, "280", "12345678901")),
        ("QTY*01*5**TEXT", (Code.ELEMENT_EXCLUSION, 3, "QTY", 4, None, "61", None)),
        ("PER*BD*NAME*TE", (Code.ELEMENT_CONDITIONAL_MISSING, 3, "PER", 4, None, "364", None)),
    ],
)
def test_element_errors(segment: str, row: Row) -> None:
    text = f"ST*850*0001~BEG*00*SA*PO1**20240101~{segment}~PO1*1*1*EA~SE*5*0001~"
    if segment.startswith("QTY"):  # QTY belongs to the PO1 loop
        text = f"ST*850*0001~BEG*00*SA*PO1**20240101~PO1*1*1*EA~{segment}~SE*5*0001~"
        row = (row[0], 4, *row[2:])
    assert rows(check(text, "850", "004010")) == [
        (Code.SEGMENT_HAS_ELEMENT_ERRORS, row[1], row[2], None, None, None, None),
        row,
    ]


def test_open_code_list_is_a_warning_only() -> None:
    found = check("ST*850*0001~BEG*00*SA*PO1**20240101~N1*9Z*NAME~PO1*1*1*EA~SE*5*0001~", "850", "004010")
    assert rows(found) == [(Code.ELEMENT_INVALID_CODE, 3, "N1", 1, None, "98", "9Z")]
    assert found[0].severity is Severity.WARNING


def test_repetition_separator_only_in_repeating_elements() -> None:
    text = "ST*850*0001~BEG*00*SA*PO1**20240101~N1*ST*NAME~N3*A^B~PO1*1*1*EA~SE*6*0001~"
    found = check(text, "850", "005010", D5010)
    assert rows(found)[1] == (Code.ELEMENT_TOO_MANY_REPETITIONS, 4, "N3", 1, None, "166", "A^B")
    assert found[1].location.repetition == 2
    assert check(text, "850", "004010") == []  # no repetition separator before 00402: '^' is data


def test_other_delimiters() -> None:
    text = VALID_850.replace("*", "|").replace("DP:2", "DP>2")
    assert check(text, "850", "004010", Delimiters("|", ">", "~", None)) == []
    bad = text.replace("STORE 123", "STORE>123")
    found = check(bad, "850", "004010", Delimiters("|", ">", "~", None))
    assert rows(found)[1] == (Code.ELEMENT_TOO_MANY_COMPONENTS, 14, "N1", 2, None, "93", "STORE>123")


VALID_856 = """
ST*856*0001~BSN*00*SH1*20240101*1200*0001~DTM*011*20240101~
HL*1**S~TD1*CTN25*2~TD5**2*UPSN~REF*BM*123~N1*ST*STORE*92*0001~
HL*2*1*O~PRF*PO123~
HL*3*2*P~MAN*GM*00000123456789012345~
HL*4*3*I~LIN**UP*012345678905~SN1**2*EA~
HL*5*2*P~MAN*GM*00000123456789012346~HL*6*5*I~LIN**UP*012345678912~SN1**1*EA~
CTT*6~SE*21*0001~
"""


def test_856_hl_parent_child_errors() -> None:
    text = """
    ST*856*0001~BSN*00*SH1*20240101*1200~HL*1**S~HL*2*1*O~HL*2*1*P~HL*4*9*I~HL*5*4*O~HL*3*2*T~HL*7**I~
    CTT*7~SE*11*0001~
    """
    found = check(text, "856", "004010")
    assert [
        (
            f.code,
            f.location.segment_position,
            f.location.element,
            f.location.element_reference,
            f.bad_value,
            f.location.loop_id,
        )
        for f in found
    ] == [
        (Code.SEGMENT_HAS_ELEMENT_ERRORS, 5, None, None, None, "HL"),
        (Code.HL_ID, 5, 1, "628", "2", "HL"),  # HL01 repeats
        (Code.SEGMENT_HAS_ELEMENT_ERRORS, 6, None, None, None, "HL"),
        (Code.HL_PARENT, 6, 2, "734", "9", "HL"),  # parent 9 was never seen
        (Code.SEGMENT_HAS_ELEMENT_ERRORS, 7, None, None, None, "HL"),
        (Code.HL_LEVEL, 7, 3, "735", "O", "HL"),  # an order cannot sit under an item
        (Code.SEGMENT_HAS_ELEMENT_ERRORS, 8, None, None, None, "HL"),
        (Code.HL_ID, 8, 1, "628", "3", "HL"),  # HL01 goes down from 5 to 3
        (Code.SEGMENT_HAS_ELEMENT_ERRORS, 9, None, None, None, "HL"),
        (Code.HL_PARENT_MISSING, 9, 2, "734", None, "HL"),  # an item without a parent
    ]
    assert all(f.severity is Severity.ERROR for f in found)
    # Each HL code is element-level: a 997/999 writes it as an AK4/IK4 on the element at fault.
    assert {f.code.spec.level.value for f in found if f.code.value.startswith("hl-")} == {"element"}


def test_an_hl_error_and_an_element_error_share_one_segment_finding() -> None:
    text = "ST*856*0001~BSN*00*SH1*20240101*1200~HL*1**S~HL*2*9*O*X~CTT*2~SE*6*0001~"
    assert [(f.code, f.location.element) for f in check(text, "856", "005010", D5010)] == [
        (Code.SEGMENT_HAS_ELEMENT_ERRORS, None),
        (Code.HL_PARENT, 2),
        (Code.ELEMENT_INVALID_CODE, 4),
    ]


def test_856_unranked_levels_are_accepted() -> None:
    text = "ST*856*0001~BSN*00*SH1*20240101*1200~HL*1**S~HL*2*1*X~HL*3*2*V~HL*4*3*O~CTT*4~SE*8*0001~"
    assert check(text, "856", "005010") == []


VALID_999 = """
ST*999*0001*005010X231A1~AK1*HC*1*005010X222A1~AK2*837*0001*005010X222A1~
IK3*NM1*8*2010*8~CTX*CLM01:123~IK4*3:1*66*7*XX~IK5*R*5~AK9*R*1*1*0~SE*10*0001~
"""


def test_999_composites() -> None:
    bad = VALID_999.replace("IK4*3:1*", "IK4*3:1:2:9*").replace("CTX*CLM01:123", "CTX*:123")
    assert rows(check(bad, "999", "005010", D5010)) == [
        (Code.SEGMENT_HAS_ELEMENT_ERRORS, 5, "CTX", None, None, None, None),
        (Code.ELEMENT_MISSING, 5, "CTX", 1, 1, "9999", None),
        (Code.SEGMENT_HAS_ELEMENT_ERRORS, 6, "IK4", None, None, None, None),
        (Code.ELEMENT_TOO_MANY_COMPONENTS, 6, "IK4", 1, 4, "C030", "9"),
    ]


def test_997_closed_code_list_is_an_error() -> None:
    text = "ST*997*0001~AK1*PO*1~AK9*Q*1*1*0~SE*4*0001~"
    found = check(text, "997", "004010")
    assert rows(found) == [
        (Code.SEGMENT_HAS_ELEMENT_ERRORS, 3, "AK9", None, None, None, None),
        (Code.ELEMENT_INVALID_CODE, 3, "AK9", 1, None, "715", "Q"),
    ]
    assert found[1].severity is Severity.ERROR


def test_schema_validator_matches_the_reader_contract() -> None:
    segs = segments(VALID_850)
    assert schema_validator(segs, D4010, "004010VICS", 0, 0, 0) == []
    assert schema_validator(segs, D4010, "004060", 0, 0, 0) is None
    assert schema_validator(segments("ST*940*0001~SE*2*0001~"), D4010, "004010", 0, 0, 0) is None
    assert schema_validator([], D4010, "004010", 0, 0, 0) is None
    broken = segments(VALID_850.replace("BEG*00*SA*PO12345**20240115", "BEG*00*SA*PO12345**2024"))
    found = schema_validator(broken, D4010, "004010", 0, 0, 0)
    assert found is not None
    assert Code.ELEMENT_TOO_SHORT in {f.code for f in found}


def test_public_api() -> None:
    assert edi.validator.__all__ == ["schema_validator", "validate_transaction"]


def test_repeated_validation_is_stable() -> None:
    """The caches (known values, clean patterns, seen segments) never change a verdict."""
    bad = VALID_850.replace("PO1*2*1.5*CA", "PO1*2*1.5*CA*-").replace("SE*27", "SE*27")
    first: list[Any] = []
    for _ in range(3):
        assert check(VALID_850, "850", "004010") == []
        found = rows(check(bad, "850", "004010"))
        first = first or found
        assert found == first
    assert first[1][0] is Code.ELEMENT_INVALID_CHARACTER


@pytest.mark.parametrize("control", ["\x00", "\x07", "\t", "\x1a", "\x7f"])
def test_control_characters_are_outside_the_x12_character_set(control: str) -> None:
    bad = VALID_850.replace("STORE 123", f"STORE{control}123")
    found = check(bad, "850", "004010")
    assert rows(found) == [
        (Code.SEGMENT_HAS_ELEMENT_ERRORS, 14, "N1", None, None, None, None),
        (Code.ELEMENT_INVALID_CHARACTER, 14, "N1", 2, None, "93", f"STORE{control}123"),
    ]
    assert found[1].severity is Severity.ERROR


def test_the_extended_character_set_and_non_ascii_text_are_accepted() -> None:
    # Lowercase, extended punctuation and text in other languages are not control characters.
    fine = VALID_850.replace("STORE 123", "Store #12 @ [Café] {x}% Süd")
    assert check(fine, "850", "004010") == []
