"""997 and 999 functional acknowledgements, derived only from findings.

One 997/999 transaction set acknowledges one functional group::

    AK1  GS01, GS06 (and GS08 from 005010 on)
    AK2  per set: ST01, ST02 (and ST03 from 005010 on)
      AK3/IK3  per segment in error: ID, position from ST=1, loop, AK304/IK304
        AK4/IK4  per element in error: C030 position, reference, AK403/IK403, bad value
      AK5/IK5  status and up to five AK502/IK502 codes
    AK9  status, sets included (GE01) / received / accepted, up to five AK905 codes

Statuses follow :mod:`edi.acks.policy`. A group-level error rejects the group
(AK901 ``R``, AK904 ``0``); each AK5 still tells the set's own outcome.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from edi.acks.codes import AckStatus
from edi.acks.policy import DEFAULT_POLICY, AckFlavor, AckPolicy, ack_code
from edi.delimiters import Delimiters
from edi.errors import WriteError
from edi.findings import Code, Finding, Level
from edi.model import FunctionalGroup, Segment, TransactionSet
from edi.summary import InterchangeSummary
from edi.writer import build_transaction

__all__ = ["MAX_AK4_PER_AK3", "MAX_CODES", "build_997", "build_999", "build_functional_ack", "clean"]

#: AK502..AK506 and AK905..AK909: at most five codes each.
MAX_CODES = 5
#: AK4/IK4 may repeat 99 times under one AK3/IK3.
MAX_AK4_PER_AK3 = 99
_MAX_BAD_VALUE = 99  # AK404/IK404 is AN 1/99


def clean(value: str, delimiters: Delimiters) -> str:
    """An echoed value with any delimiter character removed (X12 has no escape)."""
    bad = {delimiters.element, delimiters.segment, delimiters.component, delimiters.repetition}
    return "".join(ch for ch in value if ch not in bad)


def _trim(elements: list[str]) -> list[str]:
    while elements and elements[-1] == "":
        elements.pop()
    return elements


def _dedupe(codes: Sequence[str | None]) -> list[str]:
    out: list[str] = []
    for c in codes:
        if c and c not in out:
            out.append(c)
    return out


@dataclass(slots=True)
class _SegmentReport:
    segment_id: str
    position: int | None
    loop_id: str | None = None
    codes: list[str] = field(default_factory=list)
    elements: list[Finding] = field(default_factory=list)


def _c030(f: Finding, delimiters: Delimiters, modern: bool) -> str:
    loc = f.location
    parts = [str(loc.element), str(loc.component) if loc.component else ""]
    if modern and loc.repetition:
        parts.append(str(loc.repetition))
    return delimiters.component.join(_trim(parts))


def _bad_value(value: str | None, delimiters: Delimiters) -> str:
    """AK404: the bad element copied, or omitted when it holds a delimiter or is empty."""
    if not value or clean(value, delimiters) != value:
        return ""
    return value[:_MAX_BAD_VALUE]


def _segment_loops(
    findings: Sequence[Finding], flavor: AckFlavor, delimiters: Delimiters, modern: bool, set_length: int
) -> list[Segment]:
    reports: dict[tuple[int | None, str], _SegmentReport] = {}
    for f in findings:
        loc = f.location
        key = (loc.segment_position, loc.segment_id or "")
        report = reports.setdefault(key, _SegmentReport(loc.segment_id or "", loc.segment_position))
        if loc.loop_id and report.loop_id is None:
            report.loop_id = loc.loop_id
        if f.code.spec.level is Level.SEGMENT:
            report.codes.append(ack_code(f.code, flavor) or "")
        elif loc.element is not None:
            report.elements.append(f)
    seg3, seg4 = ("IK3", "IK4") if flavor == "999" else ("AK3", "AK4")
    with_elements = ack_code(Code.SEGMENT_HAS_ELEMENT_ERRORS, flavor) or ""
    out: list[Segment] = []
    for report in reports.values():
        codes = _dedupe(report.codes) or [with_elements]
        position = report.position if report.position is not None else set_length
        loop = report.loop_id if report.loop_id and len(report.loop_id) <= 4 else ""
        seg_id = clean(report.segment_id, delimiters)
        out.append(Segment(seg3, [seg_id, str(position), clean(loop, delimiters), codes[0]]))
        for f in report.elements[:MAX_AK4_PER_AK3]:
            elements = [
                _c030(f, delimiters, modern),
                clean(f.location.element_reference or "", delimiters),
                ack_code(f.code, flavor) or "",
                _bad_value(f.bad_value, delimiters),
            ]
            out.append(Segment(seg4, _trim(elements)))
    return out


def _set_status(findings: Sequence[Finding], policy: AckPolicy) -> AckStatus:
    if any(policy.rejects(f) for f in findings):
        return AckStatus.REJECTED
    return AckStatus.ACCEPTED_WITH_ERRORS if findings else AckStatus.ACCEPTED


def build_functional_ack(
    flavor: AckFlavor,
    summary: InterchangeSummary,
    group_index: int,
    findings: Sequence[Finding],
    *,
    control_number: int | str,
    delimiters: Delimiters | None = None,
    group: FunctionalGroup | None = None,
    policy: AckPolicy = DEFAULT_POLICY,
) -> TransactionSet:
    """A 997 or 999 for group ``group_index`` of ``summary``.

    ``findings`` are this interchange's findings (others are told apart by
    ``location.group``/``transaction`` only). ``group`` (the parsed model) is
    optional: it supplies GE01 for AK902 (without it, GE01 is taken from a
    ``GE_COUNT`` finding, and equals the sets received when there is none).
    AK203 echoes ST03 from the summary.
    """
    delimiters = delimiters or summary.delimiters
    gs = summary.groups[group_index]
    ctrl = str(control_number)
    if not ctrl.isdigit() or len(ctrl) > 9:
        raise WriteError(f"ack transaction set control number {ctrl!r} is not 1-9 digits")
    ctrl = ctrl.zfill(4)
    modern = gs.version[:6] >= "005010"
    mine = [f for f in findings if f.location.group == group_index]
    body: list[Segment] = []
    ak1 = [clean(gs.functional_id, delimiters), clean(gs.control_number, delimiters)]
    if modern:
        ak1.append(clean(gs.version, delimiters))
    body.append(Segment("AK1", ak1))
    set_code_in_error = ack_code(Code.SET_SEGMENTS_IN_ERROR, flavor)
    seg5 = "IK5" if flavor == "999" else "AK5"
    accepted = 0
    any_errors_noted = False
    for index, ts in enumerate(gs.transactions):
        own = [f for f in mine if f.location.transaction == index]
        set_level = policy.reported(own, Level.TRANSACTION)
        detail = policy.reported(own, Level.SEGMENT, Level.ELEMENT)
        status = _set_status(set_level + detail, policy)
        ak2 = [clean(ts.set_id, delimiters), clean(ts.control_number, delimiters)]
        if modern:
            ak2.append(clean(ts.implementation_reference, delimiters))
        body.append(Segment("AK2", _trim(ak2)))
        body.extend(_segment_loops(detail, flavor, delimiters, modern, ts.segments))
        raw = [ack_code(f.code, flavor) for f in set_level] + ([set_code_in_error] if detail else [])
        codes = _dedupe(raw)
        body.append(Segment(seg5, [status.value, *codes[:MAX_CODES]]))
        if status is not AckStatus.REJECTED:
            accepted += 1
        any_errors_noted = any_errors_noted or status is AckStatus.ACCEPTED_WITH_ERRORS
    group_level = policy.reported(mine, Level.GROUP)
    received = len(gs.transactions)
    included = received
    declared = group.trailer.get(1) if group is not None and group.trailer is not None else ""
    if not declared.isdigit():
        declared = next((f.bad_value or "" for f in group_level if f.code is Code.GE_COUNT), "")
    if declared.isdigit():
        included = int(declared)
    if any(policy.rejects(f) for f in group_level):
        status, accepted = AckStatus.REJECTED, 0
    elif received and not accepted:
        status = AckStatus.REJECTED
    elif accepted < received:
        status = AckStatus.PARTIALLY_ACCEPTED
    elif any_errors_noted or group_level:
        status = AckStatus.ACCEPTED_WITH_ERRORS
    else:
        status = AckStatus.ACCEPTED
    group_codes = _dedupe([ack_code(f.code, flavor) for f in group_level])[:MAX_CODES]
    body.append(Segment("AK9", [status.value, str(included), str(received), str(accepted), *group_codes]))
    return build_transaction(flavor, ctrl, body)


def build_997(
    summary: InterchangeSummary,
    group_index: int,
    findings: Sequence[Finding],
    *,
    control_number: int | str,
    delimiters: Delimiters | None = None,
    group: FunctionalGroup | None = None,
    policy: AckPolicy = DEFAULT_POLICY,
) -> TransactionSet:
    """A 997 (AK3/AK4/AK5) for one group; see :func:`build_functional_ack`."""
    return build_functional_ack(
        "997", summary, group_index, findings,
        control_number=control_number, delimiters=delimiters, group=group, policy=policy,
    )  # fmt: skip


def build_999(
    summary: InterchangeSummary,
    group_index: int,
    findings: Sequence[Finding],
    *,
    control_number: int | str,
    delimiters: Delimiters | None = None,
    group: FunctionalGroup | None = None,
    policy: AckPolicy = DEFAULT_POLICY,
) -> TransactionSet:
    """A 999 (IK3/IK4/IK5) for one group; see :func:`build_functional_ack`."""
    return build_functional_ack(
        "999", summary, group_index, findings,
        control_number=control_number, delimiters=delimiters, group=group, policy=policy,
    )  # fmt: skip
