"""Sending stored outbound payloads (ERP replies, our acks) through partner channels, with retries.

The attempt number is the payload's lease count, kept in the store (a resend resets it),
so a restart neither forgets attempts nor grants new ones. The channel's
:meth:`~gateway.domain.runtime.ports.PartnerChannel.retry_policy` (from the partner
profile) decides how many retries and how far apart; the gateway-wide ``max_attempts``
and ``backoff_seconds`` apply only to channels that return none. A partner's own wait
(``retry_after``, e.g. HTTP Retry-After) is honoured when it is longer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from gateway.domain.profiles import RetryPolicy
from gateway.domain.runtime.correlation import correlation_scope
from gateway.domain.runtime.lifecycle import State, Step
from gateway.domain.runtime.ports import BatchSending, OutboundFile, OutboundSendResult, PartnerChannel
from gateway.domain.runtime.records import PayloadRecord
from gateway.domain.runtime.store import Store
from gateway.domain.usecases.registry import ProfileRegistry

__all__ = ["Sender", "default_retry_policy"]

log = logging.getLogger("edigate.outbound")


def default_retry_policy(max_attempts: int, backoff_seconds: float) -> RetryPolicy:
    """The gateway-wide policy, for channels whose partners set none (e.g. the file drop)."""
    return RetryPolicy.model_construct(
        limit=max(0, max_attempts - 1),
        backoff_seconds=backoff_seconds,
        multiplier=2.0,
        max_backoff_seconds=max(3600.0, backoff_seconds),
    )


class Sender:
    """Hands stored outbound payloads to partner channels, with the partner's retries and backoff."""

    def __init__(
        self,
        store: Store,
        profiles: ProfileRegistry,
        channels: Mapping[str, PartnerChannel],
        *,
        max_attempts: int = 5,
        backoff_seconds: float = 5.0,
    ) -> None:
        self._store = store
        self._profiles = profiles
        self._channels = channels
        self._default = default_retry_policy(max_attempts, backoff_seconds)

    async def send(self, record: PayloadRecord, worker: str) -> None:
        await self.send_batch([record], worker)

    def policy_for(self, record: PayloadRecord) -> tuple[RetryPolicy, str]:
        """The retry policy for a payload, and where it comes from (for the failure reason)."""
        channel = self._channels.get(record.channel)
        policy = channel.retry_policy(record.partner_id or "") if channel is not None else None
        if policy is None:
            return self._default, "the gateway's default policy"
        return policy, "the profile"

    async def send_batch(self, records: list[PayloadRecord], worker: str) -> None:
        """Send leased outbound payloads concurrently; record the outcomes in one transaction."""
        contents = await self._store.payload_contents([r.id for r in records])
        outcomes = await self._send_all(records, contents)
        updates: list[tuple[str, State, str, Step | None]] = []
        keys: list[tuple[str, str, str]] = []
        for record, result in zip(records, outcomes, strict=True):
            with correlation_scope(record.correlation_id):
                if result is None:
                    updates.append(
                        (record.id, State.FAILED, f"no {record.channel!r} channel is configured", Step.SEND)
                    )
                    continue
                if result.remote_reference:
                    kind = "as2_message_id" if record.channel == "as2" else "remote_reference"
                    keys.append((record.id, kind, result.remote_reference))
                if result.ok:
                    detail = f"via {record.channel}: {result.detail}".rstrip(": ")
                    state = State.DELIVERED if result.delivered else State.SENT
                    updates.append((record.id, state, detail, None))
                    continue
                attempt = max(1, record.attempts)  # leases taken so far, kept in the store across restarts
                policy, source = self.policy_for(record)
                if result.retryable and attempt <= policy.limit:
                    delay = max(policy.delay(attempt), result.retry_after or 0.0)
                    log.warning(
                        "send failed; retrying",
                        extra={"payload_id": record.id, "attempt": attempt, "retry_in_seconds": delay,
                               "reason": result.detail},
                    )  # fmt: skip
                    await self._store.retry_payload_later(
                        record.id, worker, delay, f"attempt {attempt} failed: {result.detail}"
                    )
                    continue
                why = result.detail
                if result.retryable:
                    why += f" (retry limit {policy.limit} of {source} reached)"
                log.error("send failed", extra={"payload_id": record.id, "attempt": attempt, "reason": why})
                updates.append(
                    (record.id, State.FAILED, f"gave up after {attempt} attempt(s): {why}", Step.SEND)
                )
        await self._store.set_payload_states(updates, keys)

    async def _send_all(
        self, records: list[PayloadRecord], contents: Mapping[str, bytes]
    ) -> list[OutboundSendResult | None]:
        """Channels that take a batch at once get theirs in one call; the others one by one, concurrently."""
        outcomes: list[OutboundSendResult | None] = [None] * len(records)
        batched: dict[str, list[int]] = {}
        singles: list[int] = []
        for i, record in enumerate(records):
            if isinstance(self._channels.get(record.channel), BatchSending):
                batched.setdefault(record.channel, []).append(i)
            else:
                singles.append(i)

        async def batch(kind: str, members: list[int]) -> None:
            channel = self._channels[kind]
            assert isinstance(channel, BatchSending)
            files = [
                OutboundFile(
                    records[i].partner_id or "",
                    records[i].id,
                    contents.get(records[i].id, b""),
                    _filename(records[i]),
                )
                for i in members
            ]
            try:
                results = await channel.send_many(files)
            except Exception as exc:  # a channel bug is a retryable failure, never a lost payload
                log.exception("channel error", extra={"payload_ids": [records[i].id for i in members]})
                results = [OutboundSendResult(False, f"{type(exc).__name__}: {exc}")] * len(members)
            for i, result in zip(members, results, strict=True):
                outcomes[i] = result

        async def single(i: int) -> None:
            outcomes[i] = await self._send_one(records[i], contents.get(records[i].id, b""))

        await asyncio.gather(*(batch(k, m) for k, m in batched.items()), *(single(i) for i in singles))
        return outcomes

    async def _send_one(self, record: PayloadRecord, content: bytes) -> OutboundSendResult | None:
        channel = self._channels.get(record.channel)
        if channel is None:
            return None
        filename = _filename(record)
        with correlation_scope(record.correlation_id):
            try:
                return await channel.send(record.partner_id or "", record.id, content, filename)
            except Exception as exc:  # a channel bug is a retryable failure, never a lost payload
                log.exception("channel error", extra={"payload_id": record.id})
                return OutboundSendResult(False, f"{type(exc).__name__}: {exc}", retryable=True)


def _filename(record: PayloadRecord) -> str:
    return str(record.meta.get("filename") or f"{record.id}.edi")
