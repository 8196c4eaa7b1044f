"""Field-format rules for the ISA, GS and ST envelope headers.

Each check returns findings for one header segment; pairing, counts and
control-number matching are the walker's job (:mod:`edi.reader`).
"""

from __future__ import annotations

import re
from datetime import datetime

from edi.findings import Code, Finding, Location, Severity

__all__ = [
    "GS_RELEASES",
    "ID_QUALIFIERS",
    "ISA_VERSIONS",
    "check_gs",
    "check_isa",
    "check_st",
    "has_control_character",
    "valid_date",
    "valid_time",
]

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
_SECURITY_QUALIFIERS = frozenset({"00", "01"})
_ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)
#: The TA105-mapped code of each ISA field, ISA01 first: every field has its own note code.
_ISA_CODES = (
    Code.ISA_AUTHORIZATION_QUALIFIER,
    Code.ISA_AUTHORIZATION,
    Code.ISA_SECURITY_QUALIFIER,
    Code.ISA_SECURITY,
    Code.ISA_SENDER_QUALIFIER,
    Code.ISA_SENDER,
    Code.ISA_RECEIVER_QUALIFIER,
    Code.ISA_RECEIVER,
    Code.ISA_DATE,
    Code.ISA_TIME,
    Code.ISA_STANDARDS_ID,
    Code.ISA_VERSION,
    Code.ISA_CONTROL_NUMBER,
    Code.ISA_ACK_REQUESTED,
    Code.ISA_USAGE,
    Code.ISA_COMPONENT_SEPARATOR,
)
_ISA_NAMES = (
    "authorization qualifier",
    "authorization information",
    "security qualifier",
    "security information",
    "sender qualifier",
    "sender ID",
    "receiver qualifier",
    "receiver ID",
)
#: ISA12 interchange control version numbers (code list I11), releases 2 through 8.
ISA_VERSIONS = frozenset(
    {"00200", "00201", "00204"}
    | {
        f"00{major}{minor:02d}"
        for major, last in ((3, 7), (4, 6), (5, 5), (6, 5), (7, 6), (8, 5))
        for minor in range(last + 1)
    }
)
#: GS08 base releases (the first six characters; an industry identifier may follow).
GS_RELEASES = frozenset(
    {"002000", "002001", "002002", "002003", "002040"}
    | {
        f"00{major}0{minor}0"
        for major, last in ((3, 7), (4, 6), (5, 5), (6, 5), (7, 6), (8, 5))
        for minor in range(1, last + 1)
    }
)
#: Control characters are in neither the X12 basic nor the extended character set.
_CONTROL = re.compile("[\x00-\x1f\x7f]")


def has_control_character(value: str) -> bool:
    """True when ``value`` holds a character outside the X12 basic and extended character sets."""
    return _CONTROL.search(value) is not None


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


def _isa_problem(position: int, value: str, elements: list[str]) -> str | None:
    """What is wrong with ISA field ``position`` (1-based) beyond its width, or ``None``."""
    name = _ISA_NAMES[position - 1] if position <= len(_ISA_NAMES) else ""
    if position == 1 and value not in _AUTH_QUALIFIERS:
        return f"ISA01 authorization qualifier {value!r} is not valid"
    if position == 3 and value not in _SECURITY_QUALIFIERS:
        return f"ISA03 security qualifier {value!r} is not 00 or 01"
    if position in (5, 7) and value not in ID_QUALIFIERS:
        return f"ISA{position:02d} {name} {value!r} is not valid"
    if position in (2, 4, 6, 8) and has_control_character(value):
        return f"ISA{position:02d} {name} {value!r} holds a control character"
    if position in (6, 8) and not value.strip():
        return f"ISA{position:02d} {name} is blank"
    if position == 9 and not (valid_date(value) and len(value) == 6):
        return f"ISA09 date {value!r} is not a valid YYMMDD date"
    if position == 10 and not (valid_time(value) and len(value) == 4):
        return f"ISA10 time {value!r} is not a valid HHMM time"
    if position == 11 and elements[11] < "00402" and value != "U":
        return f"ISA11 is {value!r}; before 00402 it must be U"
    if position == 12:
        if not (value.isdigit() and len(value) == 5):
            return f"ISA12 version {value!r} is not a 5-digit version"
        if value not in ISA_VERSIONS:
            return f"ISA12 version {value!r} is not a known X12 interchange control version"
    if position == 13 and not (value.isdigit() and len(value) == 9):
        return f"ISA13 control number {value!r} is not 9 digits"
    if position == 14 and value not in ("0", "1"):
        return f"ISA14 acknowledgment requested {value!r} is not 0 or 1"
    if position == 15 and value not in ("P", "T", "I"):
        return f"ISA15 usage indicator {value!r} is not P, T or I"
    return None


def check_isa(elements: list[str], loc: Location) -> list[Finding]:
    """One finding at most per ISA field, each with that field's own code (and TA105 note code)."""
    out: list[Finding] = []

    def bad(code: Code, message: str, position: int, value: str) -> None:
        where = Location(loc.interchange, segment_position=1, segment_id="ISA", element=position)
        out.append(Finding(code, message, where, Severity.ERROR, value))

    if len(elements) != 16:
        bad(Code.ISA_FIELD, f"ISA has {len(elements)} elements, not 16", len(elements), "")
        return out
    for i, (value, width, code) in enumerate(zip(elements, _ISA_WIDTHS, _ISA_CODES, strict=True), start=1):
        if len(value) != width and i not in (11, 16):
            bad(code, f"ISA{i:02d} is {len(value)} characters, not {width}", i, value)
            continue
        problem = _isa_problem(i, value, elements)
        if problem is not None:
            bad(code, problem, i, value)
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
    fid, sender, receiver, date, time, ctrl, agency, version = elements[:8]
    if not (2 <= len(fid) <= 2 and fid.isalnum()):
        bad(Code.GS_INVALID, f"GS01 functional identifier {fid!r} is invalid", 1, fid)
    for position, label, value in ((2, "sender", sender), (3, "receiver", receiver)):
        if not 2 <= len(value) <= 15 or has_control_character(value):
            bad(
                Code.GS_INVALID,
                f"GS{position:02d} application {label} code {value!r} is invalid",
                position,
                value,
            )
    # CCYYMMDD from 004010 on; older versions used YYMMDD.
    if not valid_date(date) or (len(date) != 8 and version[:6] >= "004010"):
        bad(Code.GS_INVALID, f"GS04 date {date!r} is not a valid CCYYMMDD date", 4, date)
    if not valid_time(time):
        bad(Code.GS_INVALID, f"GS05 time {time!r} is not a valid time", 5, time)
    if not (ctrl.isdigit() and 1 <= len(ctrl) <= 9):
        bad(Code.GS_CONTROL_NUMBER, f"GS06 control number {ctrl!r} is not 1-9 digits", 6, ctrl)
    if agency not in ("X", "T"):
        bad(Code.GS_INVALID, f"GS07 agency code {agency!r} is not X or T", 7, agency)
    if not (6 <= len(version) <= 12 and version[:6].isdigit()) or has_control_character(version):
        bad(Code.GS_VERSION_UNSUPPORTED, f"GS08 version {version!r} is not a valid version code", 8, version)
    elif version[:6] not in GS_RELEASES:
        bad(Code.GS_VERSION_UNSUPPORTED, f"GS08 version {version!r} is not a known X12 release", 8, version)
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
