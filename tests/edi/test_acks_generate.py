"""997 / 999 / TA1 generation: exact segments for findings at every level.

The expected segments are written from the X12 997/999/TA1 layouts (AK3/AK4
element order, C030 composites, max use), not produced by the code under test.
"""

from __future__ import annotations

import tracemalloc
from datetime import datetime
from pathlib import Path

import pytest

from edi.acks import (
    AckControlNumbers,
    AckPolicy,
    AckStatus,
    GroupAck,
    acknowledge,
    acknowledge_stream,
    build_997,
    build_999,
    build_ta1,
    flavor_for,
    needs_ta1,
    parse_acks,
)
from edi.delimiters import Delimiters
from edi.errors import UnreadableInput, WriteError
from edi.findings import Code, Finding, Location, Severity
from edi.model import Interchange, TransactionSet
from edi.reader import ParseResult, parse
from edi.validator import schema_validator
from edi.writer import segment_text, write

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "acks"
CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "x12"
WHEN = datetime(2024, 1, 15, 11, 0)


def interchange(
    sets: int = 2,
    *,
    version: str = "004010",
    ack_requested: bool = False,
    functional_id: str = "PO",
    ge_count: int | None = None,
) -> bytes:
    isa12, isa11 = ("00501", "^") if version >= "005010" else ("00401", "U")
    segs = [
        f"ISA*00*          *00*          *ZZ*BUYER          *ZZ*SELLER         *240115*1030*{isa11}*{isa12}"
        f"*000000101*{int(ack_requested)}*T*>",
        f"GS*{functional_id}*BUYERAPP*SELLERAPP*20240115*1030*501*X*{version}",
    ]
    for n in range(1, sets + 1):
        segs += [f"ST*850*{n:04d}", "BEG*00*SA*PO-1**20240115", "PO1*1*10*EA*9.99**VP*W-1", "CTT*1"]
        segs.append(f"SE*5*{n:04d}")
    segs += [f"GE*{sets if ge_count is None else ge_count}*501", "IEA*1*000000101"]
    return "".join(s + "~\n" for s in segs).encode()


def lines(ts: TransactionSet, delimiters: Delimiters | None = None) -> list[str]:
    return [segment_text(s, delimiters or Delimiters(repetition=None)) for s in ts.segments]


def at(transaction: int, position: int, segment_id: str, **kw: object) -> Location:
    return Location(0, 0, transaction, position, segment_id, **kw)  # type: ignore[arg-type]


def test_golden_envelope_findings_997_999_and_ta1() -> None:
    """SE01 wrong, duplicate ST02, bad GE count, ISA14=1: the exact acks of the fixture."""
    result = parse(FIXTURES / "850-errors.x12")
    acks = acknowledge(result, control_numbers=AckControlNumbers(), when=WHEN)
    assert write(acks, newline=True) == (FIXTURES / "850-errors.envelope-only.ack").read_bytes()


def test_golden_schema_findings_997_999_and_ta1() -> None:
    """The same fixture through the schema validator: missing BEG, bad dates, an open-list code
    (a warning: AK5 E), a too-long element, an unknown segment, a missing element and an error
    inside the PO1 loop, on top of the envelope errors. See fixtures/acks/README.md."""
    result = parse(FIXTURES / "850-errors.x12", validator=schema_validator)
    acks = acknowledge(result, control_numbers=AckControlNumbers(), when=WHEN)
    assert write(acks, newline=True) == (FIXTURES / "850-errors.validated.ack").read_bytes()


def test_segment_and_element_errors_997() -> None:
    result = parse(interchange(3))
    findings = [
        Finding(Code.SEGMENT_MISSING, "BEG missing", at(0, 2, "BEG")),
        Finding(
            Code.ELEMENT_INVALID_DATE, "bad date", at(1, 2, "BEG", element=5, element_reference="373"),
            bad_value="20241350",
        ),
        Finding(
            Code.ELEMENT_INVALID_CODE, "bad code", at(1, 2, "BEG", element=1, element_reference="353"),
            bad_value="ZZ",
        ),
        Finding(
            Code.ELEMENT_TOO_LONG,
            "too long",
            at(2, 3, "PO1", element=7, loop_id="PO1", element_reference="234"),
            bad_value="X" * 150,
        ),
    ]  # fmt: skip
    ts = build_997(result.summaries[0], 0, findings, control_number=12)
    assert lines(ts) == [
        "ST*997*0012",
        "AK1*PO*501",
        "AK2*850*0001",
        "AK3*BEG*2**3",
        "AK5*R*5",
        "AK2*850*0002",
        "AK3*BEG*2**8",
        "AK4*5*373*8*20241350",
        "AK4*1*353*7*ZZ",
        "AK5*R*5",
        "AK2*850*0003",
        "AK3*PO1*3*PO1*8",
        "AK4*7*234*5*" + "X" * 99,
        "AK5*R*5",
        "AK9*R*3*3*0",
        "SE*16*0012",
    ]


def test_composite_component_and_repetition_positions_999() -> None:
    result = parse(interchange(1, version="005010"))
    findings = [
        Finding(
            Code.ELEMENT_INVALID_CODE, "bad unit", at(0, 3, "PO1", element=3, component=2, repetition=3),
            bad_value="QQ",
        ),
        Finding(Code.ELEMENT_MISSING, "missing", at(0, 3, "PO1", element=4, element_reference="212")),
        Finding(Code.ELEMENT_TOO_LONG, "holds a delimiter", at(0, 3, "PO1", element=7), bad_value="A>B"),
    ]  # fmt: skip
    delimiters = result.summaries[0].delimiters
    ts = build_999(result.summaries[0], 0, findings, control_number=1, group=result.interchanges[0].groups[0])
    assert lines(ts, delimiters) == [
        "ST*999*0001",
        "AK1*PO*501*005010",
        "AK2*850*0001",
        "IK3*PO1*3**8",
        "IK4*3>2>3**7*QQ",  # C030 joined with the interchange's component separator
        "IK4*4*212*1",
        "IK4*7**5",  # IK404 omitted: the bad value holds the component separator
        "IK5*R*5",
        "AK9*R*1*1*0",
        "SE*10*0001",
    ]


def test_997_for_004010_drops_the_repetition_position() -> None:
    result = parse(interchange(1))
    finding = Finding(Code.ELEMENT_INVALID_CODE, "x", at(0, 3, "PO1", element=3, component=2, repetition=3))
    ts = build_997(result.summaries[0], 0, [finding], control_number=1)
    assert "AK4*3>2**7" in lines(ts, result.summaries[0].delimiters)


def test_set_codes_capped_at_five_and_deduplicated() -> None:
    result = parse(interchange(1))
    codes = [
        Code.SE_COUNT,
        Code.SE_CONTROL_MISMATCH,
        Code.SE_COUNT,
        Code.ST_CONTROL_NUMBER,
        Code.ST_INVALID_ID,
    ]
    findings = [Finding(c, "x", Location(0, 0, 0)) for c in codes]
    findings += [Finding(Code.ST_DUPLICATE, "x", Location(0, 0, 0))]
    findings += [Finding(Code.SEGMENT_UNRECOGNIZED, "x", at(0, 3, "ZZZ"))]
    ts = build_997(result.summaries[0], 0, findings, control_number=1)
    # 4, 3, 7, 6, 23 then 5 (segments in error): six distinct codes, AK502..AK506 holds five.
    assert lines(ts)[2:5] == ["AK2*850*0001", "AK3*ZZZ*3**1", "AK5*R*4*3*7*6*23"]


def test_ak4_max_use_is_99_per_ak3() -> None:
    result = parse(interchange(1))
    findings = [
        Finding(Code.ELEMENT_TOO_LONG, "x", at(0, 2, "BEG", element=n % 5 + 1), bad_value=str(n))
        for n in range(120)
    ]
    body = lines(build_997(result.summaries[0], 0, findings, control_number=1))
    assert sum(line.startswith("AK4*") for line in body) == 99
    assert body[3] == "AK3*BEG*2**8"


def test_group_codes_capped_at_five() -> None:
    result = parse(interchange(1))
    codes = [Code.GS_INVALID, Code.GS_VERSION_UNSUPPORTED, Code.GE_MISSING, Code.GE_CONTROL_MISMATCH]
    codes += [Code.GE_COUNT, Code.GS_CONTROL_NUMBER, Code.GS_DUPLICATE]
    findings = [Finding(c, "x", Location(0, 0), bad_value="7" if c is Code.GE_COUNT else None) for c in codes]
    ak9 = lines(build_997(result.summaries[0], 0, findings, control_number=1))[-2]
    assert ak9 == "AK9*R*7*1*0*1*2*3*4*5"  # AK902 from the GE_COUNT finding's GE01


def test_policy_warnings_accept_with_errors_and_info_is_silent() -> None:
    result = parse(interchange(3))
    findings = [
        Finding(Code.ELEMENT_TOO_LONG, "w", at(0, 2, "BEG", element=3), Severity.WARNING, "LONG"),
        Finding(Code.SET_UNSUPPORTED, "no schema", Location(0, 0, 1), Severity.INFO),
        Finding(Code.ELEMENT_INVALID_CODE, "e", at(2, 2, "BEG", element=1), bad_value="ZZ"),
    ]
    body = lines(build_997(result.summaries[0], 0, findings, control_number=1))
    assert body[2:-1] == [
        "AK2*850*0001",
        "AK3*BEG*2**8",
        "AK4*3**5*LONG",
        "AK5*E*5",
        "AK2*850*0002",
        "AK5*A",
        "AK2*850*0003",
        "AK3*BEG*2**8",
        "AK4*1**7*ZZ",
        "AK5*R*5",
        "AK9*P*3*3*2",
    ]
    tolerant = AckPolicy(tolerated=frozenset({Code.ELEMENT_INVALID_CODE}))
    body = lines(build_997(result.summaries[0], 0, findings, control_number=1, policy=tolerant))
    assert body[-3] == "AK5*E*5"
    assert body[-2] == "AK9*E*3*3*3"


def test_all_sets_rejected_rejects_the_group() -> None:
    result = parse(interchange(2))
    findings = [Finding(Code.SE_COUNT, "x", Location(0, 0, n)) for n in range(2)]
    assert lines(build_997(result.summaries[0], 0, findings, control_number=1))[-2] == "AK9*R*2*2*0"


def test_bad_ack_control_number_is_refused() -> None:
    result = parse(interchange(1))
    with pytest.raises(WriteError, match="1-9 digits"):
        build_997(result.summaries[0], 0, [], control_number=1_000_000_000)


# --- choosing acks, envelopes and TA1 ---------------------------------------------------------------


def ack_lines(acks: list[Interchange]) -> list[str]:
    return write(acks).decode().split("~")[:-1]


def test_envelope_swaps_parties_and_echoes_versions() -> None:
    result = parse(interchange(1, version="005010X222A1"))
    [ack] = acknowledge(result, control_numbers=AckControlNumbers(7, 8, 9), when=WHEN)
    out = ack_lines([ack])
    assert out[0] == (
        "ISA*00*          *00*          *ZZ*SELLER         *ZZ*BUYER          "
        "*240115*1100*^*00501*000000007*0*T*>"
    )
    assert out[1] == "GS*FA*SELLERAPP*BUYERAPP*20240115*1100*8*X*005010X222A1"
    assert out[2:4] == ["ST*999*0009", "AK1*PO*501*005010X222A1"]


@pytest.mark.parametrize(
    ("version", "flavor"),
    [("003040", "997"), ("004010", "997"), ("004010VICS", "997"), ("005010", "999"), ("005010X231A1", "999")],
)
def test_auto_picks_997_before_005010_and_999_after(version: str, flavor: str) -> None:
    assert flavor_for(version) == flavor


def test_kind_forces_the_ack_type() -> None:
    result = parse(interchange(1, version="005010"))
    out = ack_lines(acknowledge(result, kind="997", control_numbers=AckControlNumbers(), when=WHEN))
    assert out[2:5] == ["ST*997*0001", "AK1*PO*501*005010", "AK2*850*0001"]
    out = ack_lines(acknowledge(result, kind="ta1", control_numbers=AckControlNumbers(), when=WHEN))
    assert out[1:] == ["TA1*000000101*240115*1030*A*000", "IEA*0*000000001"]


def test_ta1_when_requested_goes_before_the_groups() -> None:
    result = parse(interchange(1, ack_requested=True))
    out = ack_lines(acknowledge(result, control_numbers=AckControlNumbers(), when=WHEN))
    assert [line[:3] for line in out] == [
        "ISA",
        "TA1",
        "GS*",
        "ST*",
        "AK1",
        "AK2",
        "AK5",
        "AK9",
        "SE*",
        "GE*",
        "IEA",
    ]
    assert out[1] == "TA1*000000101*240115*1030*A*000"


def test_interchange_error_rejects_with_ta1_only() -> None:
    data = interchange(1).replace(b"IEA*1*000000101", b"IEA*1*000000999")
    result = parse(data)
    assert needs_ta1(result.summaries[0], result.findings)
    out = ack_lines(acknowledge(result, control_numbers=AckControlNumbers(), when=WHEN))
    assert out[1:] == ["TA1*000000101*240115*1030*R*001", "IEA*0*000000001"]


#: One bad value per ISA field (right width, so the ISA stays fixed width) and the TA105 note code
#: the X12 I18 code list gives that field's error.
TA105_BY_FIELD = [
    (1, "99", "010"),  # invalid authorization information qualifier value
    (2, "AUTH\x07     ", "011"),  # invalid authorization information value
    (3, "77", "012"),  # invalid security information qualifier value
    (4, "SEC\x00      ", "013"),  # invalid security information value
    (5, "QQ", "005"),  # invalid interchange ID qualifier for sender
    (6, " " * 15, "006"),  # invalid interchange sender ID
    (7, "QQ", "007"),  # invalid interchange ID qualifier for receiver
    (8, " " * 15, "008"),  # invalid interchange receiver ID
    (9, "241301", "014"),  # invalid interchange date value
    (10, "2599", "015"),  # invalid interchange time value
    (11, "X", "016"),  # invalid interchange standards identifier value
    (12, "12345", "017"),  # invalid interchange control version ID value
    (14, "7", "019"),  # invalid acknowledgment requested value
    (15, "Q", "020"),  # invalid test indicator value
]


@pytest.mark.parametrize(("position", "value", "note"), TA105_BY_FIELD)
def test_ta1_note_code_names_the_isa_field_in_error(position: int, value: str, note: str) -> None:
    data = interchange(1)
    fields = data[:105].decode("latin-1").split("*")
    assert len(fields[position]) == len(value)
    fields[position] = value
    data = "*".join(fields).encode("latin-1") + data[105:]
    out = ack_lines(acknowledge(parse(data), control_numbers=AckControlNumbers(), when=WHEN))
    # TA102/TA103 echo ISA09/ISA10 as received.
    assert out[1:] == [f"TA1*000000101*{fields[9]}*{fields[10]}*R*{note}", "IEA*0*000000001"]


def test_ta1_note_code_for_a_bad_control_number() -> None:
    data = (
        interchange(1)
        .replace(b"000000101*0*T", b"00000010A*0*T")
        .replace(b"IEA*1*000000101", b"IEA*1*00000010A")
    )
    out = ack_lines(acknowledge(parse(data), control_numbers=AckControlNumbers(), when=WHEN))
    assert out[1] == "TA1*00000010A*240115*1030*R*018"


def test_interchange_warning_alone_needs_no_ta1_but_marks_a_requested_one() -> None:
    result = parse(interchange(1).rstrip(b"\n~"))  # no terminator after IEA: a warning
    assert [(f.code, f.severity) for f in result.findings] == [(Code.INTERCHANGE_STRUCTURE, Severity.WARNING)]
    assert not needs_ta1(result.summaries[0], result.findings)
    assert acknowledge(result, control_numbers=AckControlNumbers(), when=WHEN)[0].service_segments == []
    ta1 = build_ta1(result.summaries[0], result.findings)
    assert ta1.elements[3:] == [AckStatus.ACCEPTED_WITH_ERRORS.value, "022"]


def test_ack_groups_are_not_acknowledged() -> None:
    result = parse(interchange(1, functional_id="FA"))
    assert acknowledge(result, control_numbers=AckControlNumbers(), when=WHEN) == []


def test_control_numbers_count_up_across_interchanges() -> None:
    data = interchange(1) + interchange(1).replace(b"000000101", b"000000102")
    result = parse(data)
    numbers = AckControlNumbers(41, 51, 61)
    acks = acknowledge(result, control_numbers=numbers, when=WHEN)
    assert [ix.control_number for ix in acks] == ["000000041", "000000042"]
    assert [ix.groups[0].control_number for ix in acks] == ["51", "52"]
    assert [ix.groups[0].transactions[0].control_number for ix in acks] == ["0061", "0062"]
    assert (numbers.interchange, numbers.group, numbers.transaction) == (43, 53, 63)


def test_groups_with_the_same_parties_and_version_share_one_fa_group() -> None:
    two_groups = interchange(1).replace(
        b"GE*1*501~\n", b"GE*1*501~\nGS*IN*BUYERAPP*SELLERAPP*20240115*1030*502*X*004010~\n"
        b"ST*810*0001~\nSE*2*0001~\nGE*1*502~\n"
    ).replace(b"IEA*1*", b"IEA*2*")  # fmt: skip
    result = parse(two_groups)
    [ack] = acknowledge(result, control_numbers=AckControlNumbers(), when=WHEN)
    assert len(ack.groups) == 1
    assert [ts.control_number for ts in ack.groups[0].transactions] == ["0001", "0002"]
    assert ack.groups[0].trailer is not None
    assert ack.groups[0].trailer.elements == ["2", "1"]


def test_acknowledge_uses_only_each_interchanges_own_findings() -> None:
    data = interchange(1) + interchange(1).replace(b"000000101", b"000000102")
    result = parse(data)
    bad = Finding(Code.SEGMENT_UNRECOGNIZED, "x", Location(1, 0, 0, 3, "ZZZ"))
    result = ParseResult(result.interchanges, result.summaries, [*result.findings, bad])
    first, second = acknowledge(result, control_numbers=AckControlNumbers(), when=WHEN)
    assert "AK5*A" in ack_lines([first])
    assert "AK3*ZZZ*3**1" in ack_lines([second])


def test_delimiters_override_applies_to_envelope_and_bad_values() -> None:
    result = parse(interchange(1))
    bad = Finding(Code.ELEMENT_INVALID_CODE, "x", at(0, 2, "BEG", element=1), bad_value="A|B")
    result = ParseResult(result.interchanges, result.summaries, [bad])
    delimiters = Delimiters("|", "^", "\n", None)
    [ack] = acknowledge(result, control_numbers=AckControlNumbers(), when=WHEN, delimiters=delimiters)
    text = write(ack).decode()
    assert text.startswith("ISA|00|")
    assert text.split("\n")[0].endswith("|0|T|^")
    assert "AK4|1||7\n" in text  # the bad value holds the new element separator: AK404 left out


def test_public_api_is_pinned() -> None:
    import edi.acks

    assert sorted(edi.acks.__all__) == sorted(
        [
            "DEFAULT_POLICY", "ELEMENT_ERROR_CODES", "GROUP_ERROR_CODES", "INTERCHANGE_NOTE_CODES",
            "SEGMENT_ERROR_CODES", "SET_ERROR_CODES", "AckControlNumbers", "AckEnvelope", "AckFlavor",
            "AckKind", "AckPolicy", "AckResult", "AckStatus", "ControlNumbers", "ElementError", "GroupAck",
            "InterchangeAck", "SegmentError", "SetAck", "acknowledge", "acknowledge_stream", "build_997",
            "build_999", "build_functional_ack", "build_ta1", "flavor_for", "needs_ta1", "parse_acks",
            "ta1_status",
        ]
    )  # fmt: skip
    assert all(hasattr(edi.acks, name) for name in edi.acks.__all__)


# --- streaming ----------------------------------------------------------------------------------------


def _stream_matches_parse(source: Path | bytes) -> bytes:
    numbers_a, numbers_b = AckControlNumbers(5, 6, 7), AckControlNumbers(5, 6, 7)
    parsed = write(
        acknowledge(parse(source, validator=schema_validator), control_numbers=numbers_a, when=WHEN),
        newline=True,
    )
    streamed = write(
        list(acknowledge_stream(source, validator=schema_validator, control_numbers=numbers_b, when=WHEN)),
        newline=True,
    )
    assert streamed == parsed
    return streamed


def _readable_corpus() -> list[str]:
    if not CORPUS.is_dir():
        return []
    out = []
    for p in sorted(CORPUS.rglob("*")):
        if p.is_file() and p.name not in ("README.md", "SOURCES.tsv"):
            try:
                parse(p)
            except UnreadableInput:
                continue
            out.append(p.relative_to(CORPUS).as_posix())
    return out


@pytest.mark.parametrize("path", _readable_corpus())
def test_acknowledge_stream_gives_the_acks_of_acknowledge_on_the_corpus(path: str) -> None:
    _stream_matches_parse(CORPUS / path)


def test_acknowledge_stream_on_the_golden_fixture_and_damaged_input() -> None:
    assert _stream_matches_parse(FIXTURES / "850-errors.x12")
    fixture = (FIXTURES / "850-errors.x12").read_bytes()
    # junk between interchanges belongs to the interchange before it; an unreadable ISA at the end
    damaged = fixture.replace(b"ISA*00*", b"garbage\nISA*00*", 2)[len(b"garbage\n") :] + b"ISA*00*  *"
    out = _stream_matches_parse(damaged)
    # interchange 1 rejected for the junk after it (TA105 024), interchange 3 for its ISA (022)
    assert [line for line in out.splitlines() if line.startswith(b"TA1")] == [
        b"TA1*000000101*240115*1030*R*024~",
        b"TA1****R*022~",
    ]


def test_acknowledge_stream_holds_summaries_not_segments(tmp_path: Path) -> None:
    path = tmp_path / "big.x12"
    lines = "PO1*1*10*EA*9.99**VP*W-1~" * 40
    body = "BEG*00*SA*PO1**20240115~" + lines + "CTT*1~"
    sets = "".join(f"ST*850*{n:04d}~{body}SE*43*{n:04d}~" for n in range(1, 4001))
    isa = interchange(0).split(b"\n")[0].decode()
    gs = "GS*PO*BUYERAPP*SELLERAPP*20240115*1030*501*X*004010~"
    path.write_bytes(f"{isa}{gs}{sets}GE*4000*501~IEA*1*000000101~".encode())
    assert path.stat().st_size > 4_000_000
    tracemalloc.start()
    try:
        acks = list(
            acknowledge_stream(path, control_numbers=AckControlNumbers(), when=WHEN, chunk_size=64 << 10)
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(acks[0].groups[0].transactions[0].segments) == 4000 * 2 + 4  # AK1, AK2/AK5 per set, AK9, ST/SE
    # parse() holds 170,000 segments (about 45 MB); the stream holds a chunk, the 4,000 set summaries
    # and the ack itself (8,004 segments, about 2.5 MB).
    assert peak < 8_000_000


# --- 856 HL hierarchy errors: golden 997 and 999 ----------------------------------------------------------

#: An 856 whose third HL (position 5) names a parent that does not exist (HL02 = 9), sent once in a
#: 004010 group (answered with a 997) and once in a 005010 group (answered with a 999).
HL_856 = """
ISA*00*          *00*          *ZZ*SHIPPER        *ZZ*RETAILER       *240115*1030*{isa11}*{isa12}*\
00000020{n}*0*P*>~
GS*SH*SHIPAPP*RETAILAPP*20240115*1030*60{n}*X*{gs08}~
ST*856*0001~
BSN*00*SH1*20240115*1030~
HL*1**S~
HL*2*1*O~
HL*3*9*P~
HL*4*3*I~
LIN**UP*012345678905~
SN1**2*EA~
CTT*4~
SE*10*0001~
GE*1*60{n}~
IEA*1*00000020{n}~
"""


def test_golden_856_bad_hl_parent_997_and_999() -> None:
    """Written from the 997/999 layouts: AK3/IK3 on the HL (position 5, loop HL, code 8 "segment has
    data element errors"), then one AK4/IK4 naming HL02 (element 734, code 7, the bad value 9)."""
    data = HL_856.format(n=1, isa11="U", isa12="00401", gs08="004010") + HL_856.format(
        n=2, isa11="^", isa12="00501", gs08="005010"
    )
    result = parse(data.encode(), validator=schema_validator)
    out = ack_lines(acknowledge(result, control_numbers=AckControlNumbers(), when=WHEN))
    assert [line.strip() for line in out] == [
        "ISA*00*          *00*          *ZZ*RETAILER       *ZZ*SHIPPER        "
        "*240115*1100*U*00401*000000001*0*P*>",
        "GS*FA*RETAILAPP*SHIPAPP*20240115*1100*1*X*004010",
        "ST*997*0001",
        "AK1*SH*601",
        "AK2*856*0001",
        "AK3*HL*5*HL*8",
        "AK4*2*734*7*9",
        "AK5*R*5",
        "AK9*R*1*1*0",
        "SE*8*0001",
        "GE*1*1",
        "IEA*1*000000001",
        "ISA*00*          *00*          *ZZ*RETAILER       *ZZ*SHIPPER        "
        "*240115*1100*^*00501*000000002*0*P*>",
        "GS*FA*RETAILAPP*SHIPAPP*20240115*1100*2*X*005010",
        "ST*999*0002",
        "AK1*SH*602*005010",
        "AK2*856*0001",
        "IK3*HL*5*HL*8",
        "IK4*2*734*7*9",
        "IK5*R*5",
        "AK9*R*1*1*0",
        "SE*8*0002",
        "GE*1*2",
        "IEA*1*000000002",
    ]
    # ... and the acks read back as what the findings said.
    acks = parse_acks(write(acknowledge(result, control_numbers=AckControlNumbers())))
    assert [a.kind for a in acks] == ["997", "999"]
    for ack in acks:
        assert isinstance(ack, GroupAck)
        [segment] = ack.sets[0].segment_errors
        assert (segment.segment_id, segment.position, segment.loop_id, segment.code) == ("HL", 5, "HL", "8")
        assert [(e.position, e.reference, e.code, e.bad_value) for e in segment.elements] == [
            (2, "734", "7", "9")
        ]
