"""Compact structure summaries: what ``edigate x12 inspect`` prints.

Summaries are kept for every interchange, group and set while streaming, so
they stay small however large the input is (no segment data is retained).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from edi.delimiters import Delimiters

__all__ = ["GroupSummary", "InterchangeSummary", "TransactionSummary"]


@dataclass(slots=True)
class TransactionSummary:
    set_id: str
    control_number: str
    segments: int = 0  # ST through SE inclusive
    valid: bool = True
    implementation_reference: str = ""  # ST03 (005010 on); not part of the inspect JSON

    def as_dict(self) -> dict[str, Any]:
        return {
            "set_id": self.set_id,
            "control_number": self.control_number,
            "segments": self.segments,
            "valid": self.valid,
        }


@dataclass(slots=True)
class GroupSummary:
    functional_id: str
    sender: str
    receiver: str
    control_number: str
    version: str
    date: str = ""
    time: str = ""
    transactions: list[TransactionSummary] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "functional_id": self.functional_id,
            "sender": self.sender,
            "receiver": self.receiver,
            "control_number": self.control_number,
            "version": self.version,
            "transactions": [t.as_dict() for t in self.transactions],
        }


@dataclass(slots=True)
class InterchangeSummary:
    sender_qualifier: str
    sender: str
    receiver_qualifier: str
    receiver: str
    control_number: str
    version: str
    usage: str
    ack_requested: bool
    delimiters: Delimiters
    date: str = ""
    time: str = ""
    byte_offset: int = 0
    groups: list[GroupSummary] = field(default_factory=list)
    complete: bool = False  # an IEA closed it

    def as_dict(self) -> dict[str, Any]:
        return {
            "sender_qualifier": self.sender_qualifier,
            "sender": self.sender,
            "receiver_qualifier": self.receiver_qualifier,
            "receiver": self.receiver,
            "control_number": self.control_number,
            "version": self.version,
            "usage": self.usage,
            "ack_requested": self.ack_requested,
            "delimiters": self.delimiters.as_dict(),
            "groups": [g.as_dict() for g in self.groups],
        }
