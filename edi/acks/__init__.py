"""Acknowledgements: generate 997 / 999 / TA1 from findings, and read inbound ones.

* :func:`acknowledge` answers a :class:`~edi.reader.ParseResult` with ack
  interchanges, :func:`acknowledge_stream` answers a file while streaming it;
  :func:`build_997`, :func:`build_999` and :func:`build_ta1` are the per-group
  and per-interchange building blocks.
* :func:`parse_acks` reads inbound acks into typed results.
* :mod:`edi.acks.policy` says which findings reject and which only warn;
  :mod:`edi.findings` alone decides which X12 code each problem becomes.
"""

from edi.acks.acknowledge import (
    AckControlNumbers,
    AckKind,
    ControlNumbers,
    acknowledge,
    acknowledge_stream,
    flavor_for,
)
from edi.acks.codes import (
    ELEMENT_ERROR_CODES,
    GROUP_ERROR_CODES,
    INTERCHANGE_NOTE_CODES,
    SEGMENT_ERROR_CODES,
    SET_ERROR_CODES,
    AckStatus,
)
from edi.acks.generate import build_997, build_999, build_functional_ack
from edi.acks.parse import parse_acks
from edi.acks.policy import DEFAULT_POLICY, AckFlavor, AckPolicy
from edi.acks.results import (
    AckEnvelope,
    AckResult,
    ElementError,
    GroupAck,
    InterchangeAck,
    SegmentError,
    SetAck,
)
from edi.acks.ta1 import build_ta1, needs_ta1, ta1_status

__all__ = [
    "DEFAULT_POLICY",
    "ELEMENT_ERROR_CODES",
    "GROUP_ERROR_CODES",
    "INTERCHANGE_NOTE_CODES",
    "SEGMENT_ERROR_CODES",
    "SET_ERROR_CODES",
    "AckControlNumbers",
    "AckEnvelope",
    "AckFlavor",
    "AckKind",
    "AckPolicy",
    "AckResult",
    "AckStatus",
    "ControlNumbers",
    "ElementError",
    "GroupAck",
    "InterchangeAck",
    "SegmentError",
    "SetAck",
    "acknowledge",
    "acknowledge_stream",
    "build_997",
    "build_999",
    "build_functional_ack",
    "build_ta1",
    "flavor_for",
    "needs_ta1",
    "parse_acks",
    "ta1_status",
]
