"""What a partner's MDN does to the payload it answers, and async MDNs that never come.

* :func:`keep_mdn` stores every MDN we receive (sync or async) as an inbound payload on
  channel ``as2-mdn``, with the correlation id of the payload it answers: state
  ``delivered`` when it was read and verified (whatever its disposition), ``rejected``
  with the reason when it was refused (bad signature, unsigned when a signed one was
  asked for, malformed). A signed receipt is the evidence that the partner got the
  message, so it is kept byte for byte. The pipeline never picks these up (it only takes
  ``received`` payloads).
* :func:`settle` applies an async verdict to our payload: ``delivered`` (a verified
  positive MDN with our MIC; the same state a verified sync MDN leads to) or ``failed``
  (step ``send``, with the reason; resendable). It acts only while the payload awaits its
  MDN (``sent``), or when it failed because the MDN was late or because an MDN naming it
  was refused (so a forged receipt cannot block the genuine one); otherwise (already
  delivered, acknowledged by a 997, resent) the MDN is only noted in the audit trail.
* :func:`expire_overdue` fails payloads whose async MDN has not come within the
  profile's ``mdn.async_timeout_seconds`` of the send.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from gateway.adapters.as2.protocol import build_entity
from gateway.adapters.as2.protocol.mime import header_value
from gateway.adapters.as2.receipts import SentMessage, last_sent
from gateway.domain.runtime.lifecycle import Direction, State, Step
from gateway.domain.runtime.records import ChannelMeta, NewPayload, PayloadRecord
from gateway.domain.runtime.store import MessageFilter, Store
from gateway.domain.usecases.registry import ProfileRegistry

__all__ = ["MDN_CHANNEL", "OVERDUE_PREFIX", "REFUSED_PREFIX", "expire_overdue", "keep_mdn", "settle"]

log = logging.getLogger("edigate.as2")

MDN_CHANNEL = "as2-mdn"
#: The reason of a payload failed for a missing async MDN (a late MDN may still settle it).
OVERDUE_PREFIX = "no async MDN received within"
#: The reason of a payload failed because an MDN naming it was refused (bad signature,
#: unsigned, malformed). A verified MDN that comes later still settles it: a forged or broken
#: receipt must not stand in the way of the partner's genuine one.
REFUSED_PREFIX = "the async MDN was refused"
_KEPT = (
    "AS2-Version",
    "AS2-From",
    "AS2-To",
    "Message-ID",
    "Date",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
)
_DEFAULT_TIMEOUT = 3600.0
_IN_FLIGHT_WAIT = 10.0  # an MDN may overtake the sender's own bookkeeping of the POST


def _token(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.-]", "_", text)[:120] or "mdn"


async def keep_mdn(
    store: Store,
    headers: Sequence[tuple[str, str]],
    body: bytes,
    *,
    partner_id: str | None,
    answers: PayloadRecord | None,
    original_message_id: str | None,
    refused: str | None,
    remote: str | None = None,
) -> None:
    """Store a received MDN as received (``refused``: the reason it was not accepted)."""
    kept = [(k, v) for k in _KEPT if (v := header_value(headers, k)) is not None]
    meta_headers = {k.lower(): v for k, v in kept if not k.lower().startswith("content-")}
    if original_message_id:
        meta_headers["original-message-id"] = original_message_id
    if answers is not None:
        meta_headers["answers-payload"] = answers.id
    meta = ChannelMeta(
        channel=MDN_CHANNEL,
        partner_id=partner_id,
        filename=f"{_token(original_message_id or 'unknown')}.mdn",
        content_type=header_value(headers, "content-type"),
        correlation_id=answers.correlation_id if answers is not None else None,
        remote=remote,
        headers=meta_headers,
    )
    reason = (
        f"MDN refused: {refused}"
        if refused is not None
        else f"MDN for {original_message_id} (payload {answers.id if answers else 'unknown'})"
    )
    state = State.REJECTED if refused is not None else State.DELIVERED
    await store.save_payloads(
        [NewPayload(build_entity(kept, body), meta, Direction.INBOUND, state=state, reason=reason)]
    )


def _awaits_verdict(record: PayloadRecord) -> bool:
    if record.state is State.SENT:
        return True
    return record.state is State.FAILED and (record.reason or "").startswith((OVERDUE_PREFIX, REFUSED_PREFIX))


async def _after_sending(store: Store, payload_id: str) -> PayloadRecord | None:
    """The payload once it is no longer being sent (waiting at most ``_IN_FLIGHT_WAIT``)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + _IN_FLIGHT_WAIT
    record = await store.get_payload(payload_id)
    while record is not None and record.state is State.RECEIVED and loop.time() < deadline:
        await asyncio.sleep(0.05)
        record = await store.get_payload(payload_id)
    return record


async def settle(store: Store, sent: SentMessage, accepted: bool, reason: str) -> bool:
    """Apply an async MDN's verdict to the payload it answers; ``False`` if it only got noted.

    While the payload is still being sent (an MDN may overtake the sender's own bookkeeping
    of the POST), it waits (bounded), so the verdict is the last word.
    """
    record = await _after_sending(store, sent.payload_id)
    if record is None:
        return False
    latest = await last_sent(store, sent.payload_id)
    if latest is not None and latest.message_id != sent.message_id:
        # a late receipt of an earlier send: the payload went out again since, under a new
        # Message-ID, and only that send's MDN may settle it
        await store.add_audit(
            "payload",
            sent.payload_id,
            "as2-mdn",
            detail=f"MDN for the earlier send {sent.message_id} arrived after the payload was sent again "
            f"as {latest.message_id}; noted, not applied: {reason}",
            actor="as2-mdn",
        )
        return False
    if not _awaits_verdict(record):
        await store.add_audit(
            "payload",
            sent.payload_id,
            "as2-mdn",
            detail=f"MDN for {sent.message_id} arrived while the payload is {record.state.value}: {reason}",
            actor="as2-mdn",
        )
        return False
    if accepted:
        await store.set_payload_state(sent.payload_id, State.DELIVERED, detail=reason, actor="as2-mdn")
    else:
        await store.set_payload_state(
            sent.payload_id, State.FAILED, step=Step.SEND, detail=reason, actor="as2-mdn"
        )
    return True


async def expire_overdue(store: Store, profiles: ProfileRegistry, now: datetime | None = None) -> list[str]:
    """Fail every ``sent`` AS2 payload whose async MDN is past its profile's deadline."""
    moment = now or datetime.now(UTC)
    expired: list[str] = []
    offset = 0
    while True:
        page = await store.list_payloads(
            MessageFilter(
                channel="as2", direction=Direction.OUTBOUND, state=State.SENT, limit=500, offset=offset
            )
        )
        for record in page:
            profile = profiles.current.get(record.partner_id or "")
            channel = profile.channels.as2 if profile is not None else None
            timeout = channel.mdn.async_timeout_seconds if channel is not None else _DEFAULT_TIMEOUT
            sent = await last_sent(store, record.id)
            if sent is None or sent.mdn_mode != "async" or sent.sent_at is None:
                continue
            at = sent.sent_at if sent.sent_at.tzinfo else sent.sent_at.replace(tzinfo=UTC)
            if at + timedelta(seconds=timeout) > moment:
                continue
            current = await store.get_payload(record.id)
            if current is None or current.state is not State.SENT:
                continue  # settled meanwhile
            detail = (
                f"{OVERDUE_PREFIX} {timeout:g} s of the send at {at:%Y-%m-%d %H:%M:%S} UTC "
                f"(Message-ID {sent.message_id}); resend it, or a late MDN still settles it"
            )
            await store.set_payload_state(record.id, State.FAILED, step=Step.SEND, detail=detail, actor="as2")
            log.warning("async MDN overdue", extra={"payload_id": record.id, "message_id": sent.message_id})
            expired.append(record.id)
        if len(page) < 500:
            return expired
        offset += 500 - sum(1 for r in page if r.id in expired)
