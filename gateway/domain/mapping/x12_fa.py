"""X12 997 / 999 / TA1 -> canonical :class:`FunctionalAck`.

997 and 999 sets go through the lenient reader in :mod:`edi.acks`, which tolerates defects
and lists them as problems; the canonical document needs each status and count, so a missing
AK1/AK9/AK5 value becomes a :class:`MappingError` naming that segment. TA1 segments sit in
the interchange, outside any group (:func:`read_ta1`); their position counts TA1 segments.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from edi.acks.parse import parse_ack_set
from edi.acks.results import AckEnvelope, GroupAck
from edi.errors import AckParseError
from edi.model import Interchange, Segment, TransactionSet
from gateway.domain.canonical import AckStatus, DocumentHeader, FunctionalAck
from gateway.domain.mapping.errors import MappingError
from gateway.domain.mapping.x12_values import SegmentRef

__all__ = ["read_functional_ack", "read_ta1"]


def _group(ack: GroupAck) -> dict[str, Any]:
    if not ack.functional_id or not ack.group_control_number:
        raise MappingError(f"{ack.kind} has no AK1 naming the acknowledged group", segment_id="AK1")
    if ack.status is None:
        raise MappingError(f"{ack.kind} has no valid AK901 group status", segment_id="AK9", element=1)
    sets = []
    for result in ack.sets:
        if result.status is None:
            raise MappingError(
                f"set {result.set_id} {result.control_number} has no valid AK501/IK501 status",
                segment_id="IK5" if ack.kind == "999" else "AK5",
                element=1,
            )
        sets.append(
            {
                "set_id": result.set_id,
                "control_number": result.control_number,
                "status": AckStatus.from_x12(result.status.value),
                "status_code": result.status.value,
                "implementation_reference": result.implementation_reference,
                "error_codes": result.error_codes,
                "segment_errors": [
                    {
                        "segment_id": e.segment_id,
                        "position": e.position,
                        "loop_id": e.loop_id,
                        "error_code": e.code,
                        "elements": [
                            {
                                "position": el.position,
                                "component": el.component,
                                "repetition": el.repetition,
                                "reference": el.reference,
                                "error_code": el.code,
                                "bad_value": el.bad_value,
                            }
                            for el in e.elements
                        ],
                    }
                    for e in result.segment_errors
                ],
            }
        )
    received = ack.received if ack.received is not None else len(ack.sets)
    return {
        "functional_id": ack.functional_id,
        "control_number": ack.group_control_number,
        "version": ack.version,
        "status": AckStatus.from_x12(ack.status.value),
        "status_code": ack.status.value,
        "sets_included": ack.included if ack.included is not None else len(ack.sets),
        "sets_received": received,
        "sets_accepted": ack.accepted if ack.accepted is not None else 0,
        "error_codes": ack.error_codes,
        "sets": sets,
    }


def read_functional_ack(
    ts: TransactionSet, interchange: Interchange, header: DocumentHeader
) -> FunctionalAck:
    envelope = AckEnvelope(
        interchange.control_number,
        interchange.sender_qualifier,
        interchange.sender,
        interchange.receiver_qualifier,
        interchange.receiver,
        interchange.version,
        interchange.usage,
    )
    try:
        ack = parse_ack_set(ts, interchange.delimiters, envelope)
    except AckParseError as exc:
        raise MappingError(str(exc), segment_id="ST") from exc
    try:
        return FunctionalAck.model_validate({"header": header, "ack_kind": ack.kind, "groups": [_group(ack)]})
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        loc = [str(p) for p in error["loc"]]
        path = ".".join(loc)
        segment = _segment_for(loc, ack.kind)
        raise MappingError(f"{segment} ({path}): {error['msg']}", segment_id=segment, field=path) from None


def _segment_for(loc: list[str], kind: str) -> str:
    """The 997/999 segment a canonical field comes from."""
    prefix = "IK" if kind == "999" else "AK"
    if "elements" in loc:
        return f"{prefix}4"
    if "segment_errors" in loc:
        return f"{prefix}3"
    if "sets" in loc:
        return "AK2" if loc[-1] in ("set_id", "control_number", "implementation_reference") else f"{prefix}5"
    return "AK1" if loc[-1] in ("functional_id", "control_number", "version") else "AK9"


def read_ta1(interchange: Interchange, header: DocumentHeader) -> FunctionalAck | None:
    """The TA1 segments of ``interchange`` (interchange acknowledgements received) as one canonical
    FunctionalAck of kind TA1, or None when it holds none. A bad element is a MappingError naming it."""
    segments = [s for s in interchange.service_segments if s.id == "TA1"]
    if not segments:
        return None
    results = [_interchange_result(segment, position) for position, segment in enumerate(segments, start=1)]
    return FunctionalAck.model_validate({"header": header, "ack_kind": "TA1", "interchanges": results})


def _interchange_result(segment: Segment, position: int) -> dict[str, Any]:
    """One TA1 as an InterchangeResult dict; ``position`` counts the interchange's TA1 segments."""
    ref = SegmentRef(segment, position)
    control = ref.require(1, "control_number")
    if not (control.isdigit() and len(control) == 9):
        raise ref.fail(1, "control_number", "is not a 9-digit interchange control number (ISA13)", control)
    text = ref.require(2, "date")
    if not (text.isdigit() and len(text) == 6):
        raise ref.fail(2, "date", "is not a date (YYMMDD)", text)
    date = ref.date(2, "date")
    time = ref.time(3, "time")
    if time is None:
        raise ref.fail(3, "time", "is missing")
    status_code = ref.require(4, "status_code")
    if status_code not in ("A", "E", "R"):
        raise ref.fail(4, "status_code", "is not a TA104 status (A, E or R)", status_code)
    note = ref.require(5, "note_code")
    if not (note.isdigit() and len(note) == 3):
        raise ref.fail(5, "note_code", "is not a 3-digit TA105 note code", note)
    return {
        "control_number": control, "date": date, "time": time, "status_code": status_code,
        "status": AckStatus.from_x12(status_code), "note_code": note,
    }  # fmt: skip
