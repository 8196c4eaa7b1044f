"""Findings: validation results as data, each with a code and an exact location.

Every finding code names the acknowledgement code it maps to, one-to-one:

* segment-level codes carry the 997 ``AK304`` / 999 ``IK304`` value;
* element-level codes carry the 997 ``AK403`` / 999 ``IK403`` value;
* transaction-set codes carry the ``AK502`` / ``IK502`` value;
* group codes carry the ``AK905`` value;
* interchange codes carry the TA1 ``TA105`` note code.

The ack generators in :mod:`edi.acks` read these tables; nothing else decides
which error code a problem becomes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import Enum, StrEnum
from typing import Any

__all__ = ["Code", "CodeSpec", "Finding", "Level", "Location", "Severity", "spec"]


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Level(StrEnum):
    """Which envelope layer a finding belongs to (and so which ack segment reports it)."""

    INTERCHANGE = "interchange"
    GROUP = "group"
    TRANSACTION = "transaction"
    SEGMENT = "segment"
    ELEMENT = "element"


@dataclass(frozen=True, slots=True)
class CodeSpec:
    level: Level
    ack_code: str | None  # AK304/AK403/AK502/AK905/TA105 value, per level
    ik_code: str | None  # the 999 IK304/IK403/IK502 value where it differs from 997
    summary: str


class Code(Enum):
    """Finding codes. ``value`` is the stable string used in JSON and logs."""

    # --- reader / interchange (TA1 TA105) -----------------------------------
    ISA_LENGTH = "isa-length"
    ISA_RECOVERED = "isa-recovered"
    ISA_FIELD = "isa-field"
    ISA_AUTHORIZATION_QUALIFIER = "isa-authorization-qualifier"
    ISA_AUTHORIZATION = "isa-authorization"
    ISA_SECURITY_QUALIFIER = "isa-security-qualifier"
    ISA_SECURITY = "isa-security"
    ISA_SENDER_QUALIFIER = "isa-sender-qualifier"
    ISA_SENDER = "isa-sender"
    ISA_RECEIVER_QUALIFIER = "isa-receiver-qualifier"
    ISA_RECEIVER = "isa-receiver"
    ISA_DATE = "isa-date"
    ISA_TIME = "isa-time"
    ISA_STANDARDS_ID = "isa-standards-id"
    ISA_VERSION = "isa-version"
    ISA_CONTROL_NUMBER = "isa-control-number"
    ISA_ACK_REQUESTED = "isa-ack-requested"
    ISA_USAGE = "isa-usage"
    ISA_COMPONENT_SEPARATOR = "isa-component-separator"
    ISA_ELEMENT_SEPARATOR = "isa-element-separator"
    ISA_SEGMENT_TERMINATOR = "isa-segment-terminator"
    ISA_TRUNCATED = "isa-truncated"
    IEA_MISSING = "iea-missing"
    IEA_CONTROL_MISMATCH = "iea-control-mismatch"
    IEA_COUNT = "iea-count"
    ISA_DUPLICATE = "isa-duplicate"
    INTERCHANGE_STRUCTURE = "interchange-structure"
    SEGMENT_OUTSIDE_ENVELOPE = "segment-outside-envelope"
    # --- functional group (AK905) -------------------------------------------
    GS_INVALID = "gs-invalid"
    GS_VERSION_UNSUPPORTED = "gs-version-unsupported"
    GE_MISSING = "ge-missing"
    GE_CONTROL_MISMATCH = "ge-control-mismatch"
    GE_COUNT = "ge-count"
    GS_CONTROL_NUMBER = "gs-control-number"
    GS_DUPLICATE = "gs-duplicate"
    GS_DUPLICATE_IN_FILE = "gs-duplicate-in-file"
    # --- transaction set (AK502 / IK502) ------------------------------------
    SET_UNSUPPORTED = "set-unsupported"
    SE_MISSING = "se-missing"
    SE_CONTROL_MISMATCH = "se-control-mismatch"
    SE_COUNT = "se-count"
    SET_SEGMENTS_IN_ERROR = "set-segments-in-error"
    ST_INVALID_ID = "st-invalid-id"
    ST_CONTROL_NUMBER = "st-control-number"
    ST_DUPLICATE = "st-duplicate"
    # --- segment (AK304 / IK304) --------------------------------------------
    SEGMENT_UNRECOGNIZED = "segment-unrecognized"
    SEGMENT_UNEXPECTED = "segment-unexpected"
    SEGMENT_MISSING = "segment-missing"
    LOOP_MAX_EXCEEDED = "loop-max-exceeded"
    SEGMENT_MAX_EXCEEDED = "segment-max-exceeded"
    SEGMENT_NOT_IN_SET = "segment-not-in-set"
    SEGMENT_SEQUENCE = "segment-sequence"
    SEGMENT_HAS_ELEMENT_ERRORS = "segment-has-element-errors"
    # --- element (AK403 / IK403) --------------------------------------------
    ELEMENT_MISSING = "element-missing"
    ELEMENT_CONDITIONAL_MISSING = "element-conditional-missing"
    ELEMENT_TOO_MANY = "element-too-many"
    ELEMENT_TOO_SHORT = "element-too-short"
    ELEMENT_TOO_LONG = "element-too-long"
    ELEMENT_INVALID_CHARACTER = "element-invalid-character"
    ELEMENT_INVALID_CODE = "element-invalid-code"
    ELEMENT_INVALID_DATE = "element-invalid-date"
    ELEMENT_INVALID_TIME = "element-invalid-time"
    ELEMENT_EXCLUSION = "element-exclusion"
    ELEMENT_TOO_MANY_REPETITIONS = "element-too-many-repetitions"
    ELEMENT_TOO_MANY_COMPONENTS = "element-too-many-components"
    # HL hierarchy (AK403 / IK403 on the HL element at fault, under an AK3/IK3 with code 8)
    HL_ID = "hl-id"
    HL_PARENT = "hl-parent"
    HL_PARENT_MISSING = "hl-parent-missing"
    HL_LEVEL = "hl-level"

    @property
    def spec(self) -> CodeSpec:
        return _SPECS[self]


_I, _G, _T, _S, _E = Level.INTERCHANGE, Level.GROUP, Level.TRANSACTION, Level.SEGMENT, Level.ELEMENT

_SPECS: dict[Code, CodeSpec] = {
    Code.ISA_LENGTH: CodeSpec(_I, "022", None, "ISA is not exactly 106 bytes"),
    Code.ISA_RECOVERED: CodeSpec(_I, None, None, "delimiters recovered from a damaged ISA"),
    Code.ISA_FIELD: CodeSpec(_I, "022", None, "ISA does not have 16 elements"),
    Code.ISA_AUTHORIZATION_QUALIFIER: CodeSpec(_I, "010", None, "invalid authorization qualifier"),
    Code.ISA_AUTHORIZATION: CodeSpec(_I, "011", None, "invalid authorization information"),
    Code.ISA_SECURITY_QUALIFIER: CodeSpec(_I, "012", None, "invalid security information qualifier"),
    Code.ISA_SECURITY: CodeSpec(_I, "013", None, "invalid security information"),
    Code.ISA_SENDER_QUALIFIER: CodeSpec(_I, "005", None, "invalid interchange ID qualifier for sender"),
    Code.ISA_SENDER: CodeSpec(_I, "006", None, "invalid interchange sender ID"),
    Code.ISA_RECEIVER_QUALIFIER: CodeSpec(_I, "007", None, "invalid interchange ID qualifier for receiver"),
    Code.ISA_RECEIVER: CodeSpec(_I, "008", None, "invalid interchange receiver ID"),
    Code.ISA_DATE: CodeSpec(_I, "014", None, "invalid interchange date"),
    Code.ISA_TIME: CodeSpec(_I, "015", None, "invalid interchange time"),
    Code.ISA_STANDARDS_ID: CodeSpec(_I, "016", None, "invalid interchange standards identifier"),
    Code.ISA_VERSION: CodeSpec(_I, "017", None, "invalid interchange version"),
    Code.ISA_CONTROL_NUMBER: CodeSpec(_I, "018", None, "invalid interchange control number"),
    Code.ISA_ACK_REQUESTED: CodeSpec(_I, "019", None, "invalid acknowledgment requested value"),
    Code.ISA_USAGE: CodeSpec(_I, "020", None, "invalid test indicator"),
    Code.ISA_COMPONENT_SEPARATOR: CodeSpec(_I, "027", None, "invalid component element separator"),
    Code.ISA_ELEMENT_SEPARATOR: CodeSpec(_I, "026", None, "invalid data element separator"),
    Code.ISA_SEGMENT_TERMINATOR: CodeSpec(_I, "004", None, "invalid segment terminator"),
    Code.ISA_TRUNCATED: CodeSpec(_I, "023", None, "input ends inside the ISA header"),
    Code.IEA_MISSING: CodeSpec(_I, "023", None, "interchange has no IEA trailer"),
    Code.IEA_CONTROL_MISMATCH: CodeSpec(_I, "001", None, "ISA13 and IEA02 differ"),
    Code.IEA_COUNT: CodeSpec(_I, "021", None, "IEA01 does not match the number of groups"),
    Code.ISA_DUPLICATE: CodeSpec(_I, "025", None, "duplicate interchange control number"),
    Code.INTERCHANGE_STRUCTURE: CodeSpec(_I, "022", None, "invalid control structure"),
    Code.SEGMENT_OUTSIDE_ENVELOPE: CodeSpec(_I, "024", None, "segment outside any group or set"),
    Code.GS_INVALID: CodeSpec(_G, "1", None, "functional group header is invalid"),
    Code.GS_VERSION_UNSUPPORTED: CodeSpec(_G, "2", None, "functional group version not supported"),
    Code.GE_MISSING: CodeSpec(_G, "3", None, "functional group trailer missing"),
    Code.GE_CONTROL_MISMATCH: CodeSpec(_G, "4", None, "GS06 and GE02 differ"),
    Code.GE_COUNT: CodeSpec(_G, "5", None, "GE01 does not match the number of sets"),
    Code.GS_CONTROL_NUMBER: CodeSpec(_G, "6", None, "group control number violates syntax"),
    Code.GS_DUPLICATE: CodeSpec(_G, "19", None, "group control number not unique in interchange"),
    # X12 scopes GS06 to its interchange: a repeat in another interchange is no ack error.
    Code.GS_DUPLICATE_IN_FILE: CodeSpec(
        _G, None, None, "group control number reused by its sender in this file"
    ),
    Code.SET_UNSUPPORTED: CodeSpec(_T, "1", None, "transaction set not supported"),
    Code.SE_MISSING: CodeSpec(_T, "2", None, "transaction set trailer missing"),
    Code.SE_CONTROL_MISMATCH: CodeSpec(_T, "3", None, "ST02 and SE02 differ"),
    Code.SE_COUNT: CodeSpec(_T, "4", None, "SE01 does not match the number of segments"),
    Code.SET_SEGMENTS_IN_ERROR: CodeSpec(_T, "5", None, "one or more segments in error"),
    Code.ST_INVALID_ID: CodeSpec(_T, "6", None, "missing or invalid transaction set identifier"),
    Code.ST_CONTROL_NUMBER: CodeSpec(_T, "7", None, "missing or invalid transaction set control number"),
    Code.ST_DUPLICATE: CodeSpec(_T, "23", None, "set control number not unique in group"),
    Code.SEGMENT_UNRECOGNIZED: CodeSpec(_S, "1", None, "unrecognized segment ID"),
    Code.SEGMENT_UNEXPECTED: CodeSpec(_S, "2", None, "unexpected segment"),
    Code.SEGMENT_MISSING: CodeSpec(_S, "3", None, "required segment missing"),
    Code.LOOP_MAX_EXCEEDED: CodeSpec(_S, "4", None, "loop occurs over maximum times"),
    Code.SEGMENT_MAX_EXCEEDED: CodeSpec(_S, "5", None, "segment exceeds maximum use"),
    Code.SEGMENT_NOT_IN_SET: CodeSpec(_S, "6", None, "segment not in defined transaction set"),
    Code.SEGMENT_SEQUENCE: CodeSpec(_S, "7", None, "segment not in proper sequence"),
    Code.SEGMENT_HAS_ELEMENT_ERRORS: CodeSpec(_S, "8", None, "segment has data element errors"),
    Code.ELEMENT_MISSING: CodeSpec(_E, "1", None, "mandatory data element missing"),
    Code.ELEMENT_CONDITIONAL_MISSING: CodeSpec(_E, "2", None, "conditional required data element missing"),
    Code.ELEMENT_TOO_MANY: CodeSpec(_E, "3", None, "too many data elements"),
    Code.ELEMENT_TOO_SHORT: CodeSpec(_E, "4", None, "data element too short"),
    Code.ELEMENT_TOO_LONG: CodeSpec(_E, "5", None, "data element too long"),
    Code.ELEMENT_INVALID_CHARACTER: CodeSpec(_E, "6", None, "invalid character in data element"),
    Code.ELEMENT_INVALID_CODE: CodeSpec(_E, "7", None, "invalid code value"),
    Code.ELEMENT_INVALID_DATE: CodeSpec(_E, "8", None, "invalid date"),
    Code.ELEMENT_INVALID_TIME: CodeSpec(_E, "9", None, "invalid time"),
    Code.ELEMENT_EXCLUSION: CodeSpec(_E, "10", None, "exclusion condition violated"),
    Code.ELEMENT_TOO_MANY_REPETITIONS: CodeSpec(_E, "12", None, "too many repetitions"),
    Code.ELEMENT_TOO_MANY_COMPONENTS: CodeSpec(_E, "13", None, "too many components"),
    Code.HL_ID: CodeSpec(_E, "7", None, "HL01 not unique or not increasing in the set"),
    Code.HL_PARENT: CodeSpec(_E, "7", None, "HL02 names no earlier HL01"),
    Code.HL_PARENT_MISSING: CodeSpec(_E, "2", None, "HL02 missing where the level needs a parent"),
    Code.HL_LEVEL: CodeSpec(_E, "7", None, "HL03 level cannot be a child of its parent's level"),
}


def spec(code: Code) -> CodeSpec:
    return _SPECS[code]


@dataclass(frozen=True, slots=True)
class Location:
    """Where a finding is. Indexes are 0-based; positions are 1-based as in acks.

    ``segment_position`` counts from ST (ST is 1), exactly as AK302/IK302 do;
    for envelope segments outside a set it counts from the start of the
    interchange (ISA is 1). ``element`` and ``component`` are 1-based
    (AK401/IK401 positions), ``repetition`` too.
    """

    interchange: int | None = None
    group: int | None = None
    transaction: int | None = None
    segment_position: int | None = None
    segment_id: str | None = None
    element: int | None = None
    component: int | None = None
    repetition: int | None = None
    loop_id: str | None = None
    element_reference: str | None = None  # data element dictionary number, e.g. "324"
    byte_offset: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}


@dataclass(frozen=True, slots=True)
class Finding:
    code: Code
    message: str
    location: Location = field(default_factory=Location)
    severity: Severity = Severity.ERROR
    bad_value: str | None = None  # AK404/IK404 copy of the bad data element

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "severity": self.severity.value,
            "code": self.code.value,
            "message": self.message,
            "location": self.location.as_dict(),
        }
        if self.bad_value is not None:
            out["bad_value"] = self.bad_value
        return out
