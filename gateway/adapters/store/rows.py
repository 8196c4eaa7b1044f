"""Conversions between table rows and domain records, and time helpers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from gateway.domain.runtime.lifecycle import Direction, OutboxState, State, Step
from gateway.domain.runtime.records import OutboxMessage, PayloadRecord

__all__ = ["aware", "now", "outbox_from_row", "payload_from_row", "utc"]


def now() -> datetime:
    return datetime.now(UTC)


def aware(value: datetime | None) -> datetime | None:
    """SQLite hands datetimes back naive; everything stored is UTC."""
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def utc(value: datetime) -> datetime:
    """A time to compare with stored ones: in UTC, and a naive one taken as UTC already.

    Both matter: SQLite compares the text of the wall-clock time, offset dropped, so
    ``02:00+02:00`` must become ``00:00``; asyncpg reads a naive time as the machine's
    local time, so a naive one must be made UTC before it gets there.
    """
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def payload_from_row(row: Any, business_numbers: tuple[str, ...] = ()) -> PayloadRecord:
    received = aware(row.received_at)
    assert received is not None
    return PayloadRecord(
        id=row.id,
        received_at=received,
        direction=Direction(row.direction),
        channel=row.channel,
        partner_id=row.partner_id,
        size=row.size,
        sha256=row.sha256,
        state=State(row.state),
        correlation_id=row.correlation_id,
        meta=dict(row.meta or {}),
        reason=row.reason,
        failed_step=Step(row.failed_step) if row.failed_step else None,
        duplicate_of=row.duplicate_of,
        replay_count=row.replay_count,
        business_numbers=business_numbers,
        attempts=getattr(row, "attempts", 0) or 0,
    )


def outbox_from_row(row: Any) -> OutboxMessage:
    return OutboxMessage(
        id=row.id,
        document_id=row.document_id,
        destination=row.destination,
        routing_key=row.routing_key,
        body=row.body,
        correlation_id=row.correlation_id,
        headers=dict(row.headers or {}),
        attempts=row.attempts,
        state=OutboxState(row.state),
    )
