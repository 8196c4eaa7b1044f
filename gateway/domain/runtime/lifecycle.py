"""Lifecycle states of stored payloads, documents and outbox entries.

Every state change is written with a timestamped audit event, so a message's
history can be read back in order. ``failed`` always carries the step that
failed and the reason, and any failed item can be replayed.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["AckStatus", "Direction", "OutboxState", "State", "Step"]


class State(StrEnum):
    RECEIVED = "received"
    REJECTED = "rejected"  # refused at the door (bad signature, oversize); kept for support
    DUPLICATE = "duplicate"  # stored, recognised as a resend, not routed again
    PARSED = "parsed"
    ACKNOWLEDGED = "acknowledged"
    MAPPED = "mapped"
    ROUTED = "routed"  # outbox rows written
    DELIVERED = "delivered"  # every destination confirmed / channel accepted
    SENT = "sent"  # outbound: handed to the partner's channel
    ACK_RECEIVED = "ack-received"
    FAILED = "failed"
    REPLAYED = "replayed"


class Step(StrEnum):
    """Pipeline steps, in order; a failure names the step it happened in."""

    RECEIVE = "receive"
    STORE = "store"
    PARSE = "parse"
    VALIDATE = "validate"
    ACKNOWLEDGE = "acknowledge"
    MAP = "map"
    ROUTE = "route"
    PUBLISH = "publish"
    ENVELOPE = "envelope"
    SEND = "send"


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class OutboxState(StrEnum):
    PENDING = "pending"
    PUBLISHED = "published"
    FAILED = "failed"


class AckStatus(StrEnum):
    """What the partner said about a document we sent (997/999/TA1)."""

    NOT_EXPECTED = "not-expected"
    PENDING = "pending"
    ACCEPTED = "accepted"
    ACCEPTED_WITH_ERRORS = "accepted-with-errors"
    REJECTED = "rejected"
    OVERDUE = "overdue"
