"""``POST /as2/mdn``: async MDNs for messages we sent.

The partner is identified by AS2-From, and AS2-To must be our AS2 id for that partner.
The MDN's signature is verified against the partner's certificates valid now (when the
profile asked for signed MDNs); its Original-Message-ID leads to the payload and to the
MIC recorded at send time. Every MDN is stored as received (:func:`.verdicts.keep_mdn`).

* A positive MDN with our MIC marks the payload ``delivered`` (as a verified sync MDN does).
* A negative one or a MIC mismatch marks it ``failed`` (step ``send``) with the reason.
* An MDN we refuse (bad signature, unsigned when a signed one was asked for, malformed)
  gets a 4xx, and when it names one of our messages to this partner, that payload is
  marked ``failed`` with the reason too, so support sees it at once. A verified MDN that
  arrives later for the same message still settles it (``delivered`` or ``failed``): a
  forged or broken receipt cannot block the partner's genuine one.

The partner gets HTTP 200 once the outcome is stored.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from aiohttp import web

from gateway.adapters.as2.inbound import Reply, read_body
from gateway.adapters.as2.protocol import parse_mdn, peek_original_message_id
from gateway.adapters.as2.protocol.mime import header_value
from gateway.adapters.as2.receipts import SentMessage, judge_mdn, recall
from gateway.adapters.as2.verdicts import REFUSED_PREFIX, keep_mdn, settle
from gateway.domain.profiles.identity import normalise_as2_name
from gateway.domain.runtime.errors import GatewayError, PayloadTooLarge
from gateway.domain.runtime.records import PayloadRecord
from gateway.domain.runtime.store import Store
from gateway.domain.usecases.registry import ProfileRegistry

__all__ = ["As2MdnReceiver"]

log = logging.getLogger("edigate.as2")


def _text(status: int, text: str) -> Reply:
    return Reply(status, [("Content-Type", "text/plain")], text.encode())


def _name(headers: Sequence[tuple[str, str]], which: str) -> str:
    return normalise_as2_name((header_value(headers, which) or "").strip())


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
        reply = await self.process(list(request.headers.items()), body, request.remote)
        return web.Response(status=reply.status, headers=reply.headers, body=reply.body)

    async def process(
        self, headers: Sequence[tuple[str, str]], body: bytes, remote: str | None = None
    ) -> Reply:
        sender, addressee = _name(headers, "as2-from"), _name(headers, "as2-to")
        profile = self._profiles.current.by_as2_name(sender) if sender else None
        channel = profile.channels.as2 if profile is not None else None
        if profile is None or channel is None:
            reason = f"unknown AS2 partner {sender!r}"
        elif normalise_as2_name(channel.our_as2_id) != addressee:
            reason = f"AS2-To {addressee!r} is not our AS2 id {channel.our_as2_id!r} for {profile.partner_id}"
        else:
            reason = ""
        if profile is None or channel is None or reason:
            log.warning("MDN refused", extra={"as2_from": sender, "as2_to": addressee, "reason": reason})
            await keep_mdn(
                self._store,
                headers,
                body,
                partner_id=profile.partner_id if profile is not None else None,
                answers=None,
                original_message_id=peek_original_message_id(headers, body),
                refused=f"unknown-trading-partner: {reason}",
                remote=remote,
            )
            return _text(403, reason)
        certs = [c.certificate for c in channel.certificates_at(datetime.now(UTC))]
        try:
            mdn = parse_mdn(headers, body, certs, require_signed=channel.mdn.signed)
        except GatewayError as exc:
            return await self._refused(headers, body, profile.partner_id, exc, remote)
        sent, record = await self._ours(mdn.original_message_id, profile.partner_id)
        if sent is None or record is None:
            refusal = (
                f"no message {mdn.original_message_id!r} was sent by this gateway to {profile.partner_id}"
            )
            await keep_mdn(
                self._store,
                headers,
                body,
                partner_id=profile.partner_id,
                answers=None,
                original_message_id=mdn.original_message_id,
                refused=refusal,
                remote=remote,
            )
            return _text(404, refusal)
        accepted, reason = judge_mdn(mdn, sent)
        await keep_mdn(
            self._store,
            headers,
            body,
            partner_id=profile.partner_id,
            answers=record,
            original_message_id=mdn.original_message_id,
            refused=None,
            remote=remote,
        )
        await settle(self._store, sent, accepted, f"async MDN: {reason}")
        log.info(
            "async MDN received",
            extra={"payload_id": sent.payload_id, "message_id": sent.message_id, "accepted": accepted},
        )
        return _text(200, "MDN received")

    async def _ours(
        self, message_id: str, partner_id: str
    ) -> tuple[SentMessage | None, PayloadRecord | None]:
        sent = await recall(self._store, message_id)
        if sent is None:
            return None, None
        record = await self._store.get_payload(sent.payload_id)
        if record is None or record.partner_id != partner_id:
            return None, None
        return sent, record

    async def _refused(
        self,
        headers: Sequence[tuple[str, str]],
        body: bytes,
        partner_id: str,
        error: GatewayError,
        remote: str | None,
    ) -> Reply:
        why = f"{error.as2_disposition}: {error.message}"
        original = peek_original_message_id(headers, body)
        sent, record = await self._ours(original, partner_id) if original else (None, None)
        await keep_mdn(
            self._store,
            headers,
            body,
            partner_id=partner_id,
            answers=record,
            original_message_id=original,
            refused=why,
            remote=remote,
        )
        if sent is not None:
            await settle(self._store, sent, False, f"{REFUSED_PREFIX}: {why}")
        log.warning(
            "MDN refused",
            extra={"partner_id": partner_id, "reason": error.message, "payload_id": sent and sent.payload_id},
        )
        return _text(error.http_status, why)
