"""``POST /as2/mdn``: async MDNs for messages we sent.

The MDN's signature is verified against the partner's certificates valid now (when the
profile asked for signed MDNs), its Original-Message-ID leads to the payload and to the
MIC recorded at send time. A positive MDN with the same MIC marks the payload
``delivered``; a negative one or a MIC mismatch marks it ``failed`` (step ``send``) with
the reason, so it can be resent. The partner gets HTTP 200 once the outcome is stored.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from aiohttp import web

from gateway.adapters.as2.inbound import Reply, read_body
from gateway.adapters.as2.protocol import parse_mdn
from gateway.adapters.as2.protocol.mime import header_value
from gateway.adapters.as2.receipts import judge_mdn, recall
from gateway.domain.profiles.identity import normalise_as2_name
from gateway.domain.runtime.errors import GatewayError, PayloadTooLarge
from gateway.domain.runtime.lifecycle import State, Step
from gateway.domain.runtime.store import Store
from gateway.domain.usecases.registry import ProfileRegistry

__all__ = ["As2MdnReceiver"]

log = logging.getLogger("edigate.as2")

_IN_FLIGHT_WAIT = 10.0  # an MDN may overtake the sender's own bookkeeping of the POST


def _text(status: int, text: str) -> Reply:
    return Reply(status, [("Content-Type", "text/plain")], text.encode())


class As2MdnReceiver:
    def __init__(self, store: Store, profiles: ProfileRegistry, *, max_bytes: int = 16 * 1024 * 1024) -> None:
        self._store = store
        self._profiles = profiles
        self._max = max_bytes

    async def handle(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await read_body(request, self._max)
        except PayloadTooLarge as exc:
            return web.Response(status=exc.http_status, text=exc.message)
        reply = await self.process(list(request.headers.items()), body)
        return web.Response(status=reply.status, headers=reply.headers, body=reply.body)

    async def process(self, headers: Sequence[tuple[str, str]], body: bytes) -> Reply:
        sender = normalise_as2_name((header_value(headers, "as2-from") or "").strip())
        profile = self._profiles.current.by_as2_name(sender) if sender else None
        channel = profile.channels.as2 if profile is not None else None
        if profile is None or channel is None:
            log.warning("MDN from an unknown AS2 partner", extra={"as2_from": sender})
            return _text(403, f"unknown AS2 partner {sender!r}")
        certs = [c.certificate for c in channel.certificates_at(datetime.now(UTC))]
        try:
            mdn = parse_mdn(headers, body, certs, require_signed=channel.mdn.signed)
        except GatewayError as exc:
            log.warning("MDN refused", extra={"partner_id": profile.partner_id, "reason": exc.message})
            return _text(exc.http_status, f"{exc.as2_disposition}: {exc.message}")
        sent = await recall(self._store, mdn.original_message_id)
        if sent is None:
            return _text(404, f"no message {mdn.original_message_id!r} was sent by this gateway")
        record = await self._store.get_payload(sent.payload_id)
        if record is None or record.partner_id != profile.partner_id:
            return _text(404, f"message {mdn.original_message_id!r} was not sent to {profile.partner_id}")
        await self._settled(sent.payload_id)
        accepted, reason = judge_mdn(mdn, sent.mic)
        if accepted:
            await self._store.set_payload_state(
                sent.payload_id, State.DELIVERED, detail=reason, actor="as2-mdn"
            )
        else:
            await self._store.set_payload_state(
                sent.payload_id, State.FAILED, step=Step.SEND, detail=reason, actor="as2-mdn"
            )
        log.info(
            "async MDN received",
            extra={"payload_id": sent.payload_id, "message_id": sent.message_id, "accepted": accepted},
        )
        return _text(200, "MDN received")

    async def _settled(self, payload_id: str) -> None:
        """Wait (bounded) while the payload is still being sent, so our verdict is the last word."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _IN_FLIGHT_WAIT
        while loop.time() < deadline:
            record = await self._store.get_payload(payload_id)
            if record is None or record.state is not State.RECEIVED:
                return
            await asyncio.sleep(0.05)
