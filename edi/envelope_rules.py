"""Field-format rules for the ISA, GS and ST envelope headers.

Each check returns findings for one header segment; pairing, counts and
control-number matching are the walker's job (:mod:`edi.reader`).
"""

from __future__ import annotations

from datetime import datetime

from edi.findings import Code, Finding, Location, Severity

__all__ = ["ID_QUALIFIERS", "check_gs", "check_isa", "check_st", "valid_date", "valid_time"]

#: ISA05/ISA07 interchange ID qualifiers (X12.5 code list).
ID_QUALIFIERS = frozenset(
    [
        "01",
        "02",
        "03",
        "04",
        "07",
        "08",
        "09",
        "10",
        "11",
        "12",
        "13",
        "14",
        "15",
        "16",
        "17",
        "18",
        "19",
        "20",
        "27",
        "28",
        "29",
        "30",
        "33",
        "ZZ",
    ]
)
_AUTH_QUALIFIERS = frozenset({"00", "01", "02", "03", "04", "05", "06"})
_ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)


def valid_date(value: str) -> bool:
    """YYMMDD or CCYYMMDD, and a real calendar date."""
    if not value.isdigit() or len(value) not in (6, 8):
        return False
    try:
        datetime.strptime(value, "%y%m%d" if len(value) == 6 else "%Y%m%d")
    except ValueError:
        return False
    return True


def valid_time(value: str) -> bool:
    """HHMM, HHMMSS or HHMMSSd..d (24-hour clock)."""
    if not value.isdigit() or len(value) < 4 or len(value) == 5 or len(value) > 8:
        return False
    hh, mm = int(value[:2]), int(value[2:4])
    ss = int(value[4:6]) if len(value) >= 6 else 0
    return hh < 24 and mm < 60 and ss < 60


def check_isa(elements: list[str], loc: Location) -> list[Finding]:
    out: list[Finding] = []

    def bad(code: Code, message: str, position: int, value: str) -> None:
        where = Location(loc.interchange, segment_position=1, segment_id="ISA", element=position)
        out.append(Finding(code, message, where, Severity.ERROR, value))

    if len(elements) != 16:
        bad(Code.ISA_FIELD, f"ISA has {len(elements)} elements, not 16", len(elements), "")
        return out
    for i, (value, width) in enumerate(zip(elements, _ISA_WIDTHS, strict=True), start=1):
        if len(value) != width and i not in (11, 16):
            bad(Code.ISA_FIELD, f"ISA{i:02d} is {len(value)} characters, not {width}", i, value)
    if elements[0] not in _AUTH_QUALIFIERS:
        bad(
            Code.ISA_QUALIFIER,
            f"ISA01 authorization qualifier {elements[0]!r} is not valid",
            1,
            elements[0],
        )
    if elements[2] not in ("00", "01"):
        bad(Code.ISA_QUALIFIER, f"ISA03 security qualifier {elements[2]!r} is not 00 or 01", 3, elements[2])
    for pos in (5, 7):
        if elements[pos - 1] not in ID_QUALIFIERS:
            bad(
                Code.ISA_QUALIFIER,
                f"ISA{pos:02d} ID qualifier {elements[pos - 1]!r} is not valid",
                pos,
                elements[pos - 1],
            )
    for pos in (6, 8):
        if not elements[pos - 1].strip():
            bad(Code.ISA_FIELD, f"ISA{pos:02d} interchange ID is blank", pos, elements[pos - 1])
    if not valid_date(elements[8]) or len(elements[8]) != 6:
        bad(Code.ISA_DATE, f"ISA09 date {elements[8]!r} is not a valid YYMMDD date", 9, elements[8])
    if not valid_time(elements[9]) or len(elements[9]) != 4:
        bad(Code.ISA_TIME, f"ISA10 time {elements[9]!r} is not a valid HHMM time", 10, elements[9])
    version = elements[11]
    if not (version.isdigit() and len(version) == 5):
        bad(Code.ISA_VERSION, f"ISA12 version {version!r} is not a 5-digit version", 12, version)
    elif version < "00402" and elements[10] != "U":
        bad(Code.ISA_STANDARDS_ID, f"ISA11 is {elements[10]!r}; before 00402 it must be U", 11, elements[10])
    if not (elements[12].isdigit() and len(elements[12]) == 9):
        bad(
            Code.ISA_CONTROL_NUMBER,
            f"ISA13 control number {elements[12]!r} is not 9 digits",
            13,
            elements[12],
        )
    if elements[13] not in ("0", "1"):
        bad(
            Code.ISA_ACK_REQUESTED,
            f"ISA14 acknowledgment requested {elements[13]!r} is not 0 or 1",
            14,
            elements[13],
        )
    if elements[14] not in ("P", "T", "I"):
        bad(Code.ISA_USAGE, f"ISA15 usage indicator {elements[14]!r} is not P, T or I", 15, elements[14])
    return out


def check_gs(elements: list[str], loc: Location) -> list[Finding]:
    out: list[Finding] = []

    def bad(code: Code, message: str, position: int, value: str) -> None:
        where = Location(
            loc.interchange,
            loc.group,
            segment_position=loc.segment_position,
            segment_id="GS",
            element=position,
        )
        out.append(Finding(code, message, where, Severity.ERROR, value))

    if len(elements) < 8:
        bad(Code.GS_INVALID, f"GS has {len(elements)} elements, not 8", len(elements), "")
        return out
    fid, _snd, _rcv, date, time, ctrl, agency, version = elements[:8]
    if not (2 <= len(fid) <= 2 and fid.isalnum()):
        bad(Code.GS_INVALID, f"GS01 functional identifier {fid!r} is invalid", 1, fid)
    # CCYYMMDD from 004010 on; older versions used YYMMDD.
    if not valid_date(date) or (len(date) != 8 and version[:6] >= "004010"):
        bad(Code.GS_INVALID, f"GS04 date {date!r} is not a valid CCYYMMDD date", 4, date)
    if not valid_time(time):
        bad(Code.GS_INVALID, f"GS05 time {time!r} is not a valid time", 5, time)
    if not (ctrl.isdigit() and 1 <= len(ctrl) <= 9):
        bad(Code.GS_CONTROL_NUMBER, f"GS06 control number {ctrl!r} is not 1-9 digits", 6, ctrl)
    if agency not in ("X", "T"):
        bad(Code.GS_INVALID, f"GS07 agency code {agency!r} is not X or T", 7, agency)
    if not (6 <= len(version) <= 12 and version[:6].isdigit()):
        bad(Code.GS_VERSION_UNSUPPORTED, f"GS08 version {version!r} is not a valid version code", 8, version)
    return out


def check_st(elements: list[str], loc: Location) -> list[Finding]:
    out: list[Finding] = []
    where = Location(loc.interchange, loc.group, loc.transaction, 1, "ST")
    set_id = elements[0] if elements else ""
    ctrl = elements[1] if len(elements) > 1 else ""
    if not (len(set_id) == 3 and set_id.isalnum()):
        out.append(
            Finding(
                Code.ST_INVALID_ID,
                f"ST01 transaction set ID {set_id!r} is invalid",
                Location(**{**where.as_dict(), "element": 1}),
                Severity.ERROR,
                set_id,
            )
        )
    if not (4 <= len(ctrl) <= 9) or not ctrl.strip():
        out.append(
            Finding(
                Code.ST_CONTROL_NUMBER,
                f"ST02 control number {ctrl!r} must be 4-9 characters",
                Location(**{**where.as_dict(), "element": 2}),
                Severity.ERROR,
                ctrl,
            )
        )
    return out
