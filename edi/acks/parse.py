"""Read inbound 997, 999 and TA1 acknowledgements into :mod:`edi.acks.results`.

The reader is lenient: envelope defects, unknown codes, stray or misplaced
segments and unparseable numbers become ``problems`` on the result. Only
input that holds no acknowledgement at all raises
:class:`~edi.errors.AckParseError` (unreadable bytes, a file with no
997/999/TA1, or a "997"/"999" set made only of segments no ack has).
"""

from __future__ import annotations

from typing import Literal

from edi.acks.codes import (
    ELEMENT_ERROR_CODES,
    INTERCHANGE_NOTE_CODES,
    SEGMENT_ERROR_CODES,
    AckStatus,
    meaning,
)
from edi.acks.results import (
    AckEnvelope,
    AckResult,
    ElementError,
    GroupAck,
    InterchangeAck,
    SegmentError,
    SetAck,
)
from edi.delimiters import Delimiters
from edi.errors import AckParseError, UnreadableInput
from edi.lexer import Source
from edi.model import Interchange, Segment, TransactionSet
from edi.reader import parse

__all__ = ["parse_ack_set", "parse_acks", "parse_ta1"]

_ACK_SEGMENTS = frozenset({"AK1", "AK2", "AK3", "AK4", "AK5", "AK9", "IK3", "IK4", "IK5", "CTX"})


def _status(value: str, where: str, problems: list[str]) -> AckStatus | None:
    try:
        return AckStatus(value)
    except ValueError:
        problems.append(f"{where} status {value!r} is not an X12 acknowledgment status")
        return None


def _number(value: str, where: str, problems: list[str]) -> int | None:
    if value.isdigit():
        return int(value)
    if value:
        problems.append(f"{where} {value!r} is not a number")
    return None


def _envelope(ix: Interchange) -> AckEnvelope:
    return AckEnvelope(
        ix.control_number,
        ix.sender_qualifier,
        ix.sender,
        ix.receiver_qualifier,
        ix.receiver,
        ix.version,
        ix.usage,
    )


def parse_ta1(segment: Segment, envelope: AckEnvelope) -> InterchangeAck:
    """One TA1 segment as an :class:`InterchangeAck`."""
    problems: list[str] = []
    if len(segment.elements) < 5:
        problems.append(f"TA1 has {len(segment.elements)} elements, not 5")
    status = _status(segment.get(4), "TA104", problems)
    note = segment.get(5)
    return InterchangeAck(
        envelope,
        segment.get(1),
        segment.get(2),
        segment.get(3),
        status,
        note,
        meaning(INTERCHANGE_NOTE_CODES, note),
        problems,
    )


def _element_error(seg: Segment, delimiters: Delimiters, problems: list[str]) -> ElementError:
    parts = [*seg.get(1).split(delimiters.component), "", ""]
    where = f"{seg.id}01"
    code = seg.get(3)
    return ElementError(
        _number(parts[0], where, problems),
        _number(parts[1], f"{where}-2", problems),
        _number(parts[2], f"{where}-3", problems),
        seg.get(2) or None,
        code,
        meaning(ELEMENT_ERROR_CODES, code),
        seg.get(4) or None,
    )


def parse_ack_set(ts: TransactionSet, delimiters: Delimiters, envelope: AckEnvelope) -> GroupAck:
    """One 997 or 999 transaction set as a :class:`GroupAck`."""
    kind: Literal["997", "999"] = "999" if ts.set_id == "999" else "997"
    ack = GroupAck(kind, envelope, ts.control_number)
    body = ts.body
    if body and not any(s.id in ("AK1", "AK9") for s in body):
        raise AckParseError(
            f"{ts.set_id} set {ts.control_number!r} is not an acknowledgment: it has no AK1 or AK9 "
            f"(segments: {', '.join(sorted({s.id for s in body}))})"
        )
    problems = ack.problems
    seen_ak1 = False
    current: SetAck | None = None
    segment: SegmentError | None = None
    for seg in body:
        sid = seg.id
        if sid == "AK1":
            if seen_ak1:
                problems.append("more than one AK1: the first one is kept")
                continue
            seen_ak1 = True
            ack.functional_id, ack.group_control_number = seg.get(1).strip(), seg.get(2)
            ack.version = seg.get(3) or None
        elif sid == "AK2":
            current = SetAck(seg.get(1), seg.get(2), seg.get(3) or None)
            ack.sets.append(current)
            segment = None
        elif sid in ("AK3", "IK3"):
            if current is None:
                problems.append(f"{sid} {seg.get(1)!r} is outside an AK2 loop: ignored")
                continue
            code = seg.get(4) or None
            segment = SegmentError(
                seg.get(1),
                _number(seg.get(2), f"{sid}02", problems),
                seg.get(3) or None,
                code,
                meaning(SEGMENT_ERROR_CODES, code),
            )
            current.segment_errors.append(segment)
        elif sid in ("AK4", "IK4"):
            if segment is None:
                problems.append(f"{sid} is not under an AK3/IK3: ignored")
                continue
            segment.elements.append(_element_error(seg, delimiters, problems))
        elif sid in ("AK5", "IK5"):
            if current is None or current.status is not None:
                problems.append(f"{sid} without its own AK2 loop: ignored")
                continue
            current.status = _status(seg.get(1), f"{sid}01", problems)
            current.error_codes = [c for c in seg.elements[1:6] if c]
            segment = None
        elif sid == "AK9":
            ack.status = _status(seg.get(1), "AK901", problems)
            ack.included = _number(seg.get(2), "AK902", problems)
            ack.received = _number(seg.get(3), "AK903", problems)
            ack.accepted = _number(seg.get(4), "AK904", problems)
            ack.error_codes = [c for c in seg.elements[4:9] if c]
        elif sid not in _ACK_SEGMENTS:
            problems.append(f"segment {sid} does not belong in a {ts.set_id}: ignored")
    if not seen_ak1:
        problems.append("no AK1: the acknowledged group is unknown")
    if ack.status is None and not any("AK901" in p for p in problems):
        problems.append("no AK9: the group status is unknown")
    for s in ack.sets:
        if s.status is None and not any(p.startswith(("AK501", "IK501")) for p in problems):
            problems.append(f"set {s.control_number!r} has no AK5/IK5 status")
    return ack


def parse_acks(source: Source) -> list[AckResult]:
    """Every TA1 and every 997/999 set in ``source``, in file order (TA1s first within an interchange)."""
    try:
        result = parse(source)
    except UnreadableInput as exc:
        raise AckParseError(f"not an acknowledgment: {exc}") from exc
    out: list[AckResult] = []
    for ix in result.interchanges:
        envelope = _envelope(ix)
        out.extend(parse_ta1(s, envelope) for s in ix.service_segments if s.id == "TA1")
        for _group, ts in ix.transactions():
            if ts.set_id in ("997", "999"):
                out.append(parse_ack_set(ts, ix.delimiters, envelope))
    if not out:
        raise AckParseError("no 997, 999 or TA1 acknowledgment in the input")
    return out
