"""Typed results of reading inbound 997, 999 and TA1 acknowledgements.

Codes are kept exactly as received (``code``) next to their meaning in words
(``meaning``); statuses are :class:`~edi.acks.codes.AckStatus` members, or
``None`` when the ack does not state one that X12 defines. Anything the
reader had to be lenient about is listed in ``problems``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from edi.acks.codes import GROUP_ERROR_CODES, SET_ERROR_CODES, AckStatus, meaning

__all__ = [
    "AckEnvelope",
    "AckResult",
    "ElementError",
    "GroupAck",
    "InterchangeAck",
    "SegmentError",
    "SetAck",
]


@dataclass(frozen=True, slots=True)
class AckEnvelope:
    """The envelope the acknowledgement itself arrived in."""

    interchange_control_number: str
    sender_qualifier: str
    sender: str
    receiver_qualifier: str
    receiver: str
    version: str  # ISA12
    usage: str  # ISA15


@dataclass(frozen=True, slots=True)
class ElementError:
    """One AK4/IK4: an element in error."""

    position: int | None  # AK401-1
    component: int | None  # AK401-2
    repetition: int | None  # AK401-3 (005010)
    reference: str | None  # AK402 data element reference number
    code: str  # AK403 / IK403
    meaning: str | None
    bad_value: str | None  # AK404 / IK404


@dataclass(slots=True)
class SegmentError:
    """One AK3/IK3 loop: a segment in error and its element errors."""

    segment_id: str
    position: int | None  # AK302: position in the set, ST = 1
    loop_id: str | None
    code: str | None  # AK304 / IK304
    meaning: str | None
    elements: list[ElementError] = field(default_factory=list)


@dataclass(slots=True)
class SetAck:
    """One AK2 loop: how one transaction set fared."""

    set_id: str
    control_number: str
    implementation_reference: str | None = None
    status: AckStatus | None = None
    error_codes: list[str] = field(default_factory=list)  # AK502..AK506 / IK502..IK506
    segment_errors: list[SegmentError] = field(default_factory=list)

    @property
    def error_meanings(self) -> list[str]:
        return [meaning(SET_ERROR_CODES, c) or c for c in self.error_codes]

    @property
    def rejected(self) -> bool:
        return self.status is not None and not self.status.accepted


@dataclass(slots=True)
class GroupAck:
    """One 997 or 999 transaction set: the acknowledgement of one functional group."""

    kind: Literal["997", "999"]
    envelope: AckEnvelope
    ack_control_number: str  # ST02 of the 997/999 itself
    functional_id: str = ""  # AK101
    group_control_number: str = ""  # AK102
    version: str | None = None  # AK103
    status: AckStatus | None = None  # AK901
    included: int | None = None  # AK902
    received: int | None = None  # AK903
    accepted: int | None = None  # AK904
    error_codes: list[str] = field(default_factory=list)  # AK905..AK909
    sets: list[SetAck] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def error_meanings(self) -> list[str]:
        return [meaning(GROUP_ERROR_CODES, c) or c for c in self.error_codes]

    def set(self, control_number: str) -> SetAck | None:
        """The AK2 loop for the set with this ST02, if the ack has one."""
        return next((s for s in self.sets if s.control_number == control_number), None)


@dataclass(slots=True)
class InterchangeAck:
    """One TA1 segment: the acknowledgement of one interchange envelope."""

    envelope: AckEnvelope
    control_number: str  # TA101: the acknowledged ISA13
    date: str  # TA102
    time: str  # TA103
    status: AckStatus | None  # TA104
    note_code: str  # TA105
    note_meaning: str | None
    problems: list[str] = field(default_factory=list)
    kind: Literal["TA1"] = "TA1"


AckResult = GroupAck | InterchangeAck
