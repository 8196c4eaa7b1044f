"""The outbound AS2 channel (PartnerChannel ``as2``): pack with the profile's algorithms and POST.

Before the POST, the Message-ID and the MIC the partner must return are recorded on the
payload (:mod:`gateway.adapters.as2.receipts`). A synchronous MDN is read in full, stored
as received (:func:`.verdicts.keep_mdn`) and verified here: a verified positive MDN with
our MIC makes the payload ``delivered``; a bad signature, a negative disposition or a MIC
mismatch fails it with the reason (not retried; resend it once the cause is fixed). With
async MDNs the POST's 2xx makes it ``sent``, and ``POST /as2/mdn`` settles it later (or
the MDN deadline fails it). Transport failures and non-2xx answers are retryable: the
Sender retries them with the profile's ``retry`` policy (:meth:`As2PartnerChannel.retry_policy`),
counting attempts in the store. HTTPS trust per partner comes from the profile's ``tls``.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from email.utils import formatdate
from functools import partial

from cryptography import x509

from gateway.adapters.as2.client import HttpClient, redirect_refusal
from gateway.adapters.as2.keys import KeyLoadError, KeyStore
from gateway.adapters.as2.protocol import PackOptions, micalg_label, pack, parse_mdn, peek_original_message_id
from gateway.adapters.as2.protocol.errors import MalformedMessage
from gateway.adapters.as2.receipts import SentMessage, judge_mdn, new_message_id, remember
from gateway.adapters.as2.verdicts import keep_mdn
from gateway.domain.profiles import As2Channel, RetryPolicy
from gateway.domain.runtime.errors import GatewayError, TransientFailure
from gateway.domain.runtime.ports import OutboundSendResult
from gateway.domain.runtime.records import PayloadRecord
from gateway.domain.runtime.store import Store
from gateway.domain.usecases.registry import ProfileRegistry

__all__ = ["As2PartnerChannel", "content_type_for"]

log = logging.getLogger("edigate.as2")


def content_type_for(content: bytes, declared: str | None) -> str:
    """The MIME type to send: the stored one, else sniffed from the first bytes."""
    if declared:
        return declared
    head = content.lstrip()[:3]
    if head == b"ISA":
        return "application/edi-x12"
    if head in (b"UNA", b"UNB"):
        return "application/edifact"
    if head[:1] in (b"{", b"["):
        return "application/json"
    if head[:1] == b"<":
        return "application/xml"
    return "application/octet-stream"


def _quote(name: str) -> str:
    return f'"{name}"' if re.search(r'[\s"\\]', name) else name


class As2PartnerChannel:
    kind = "as2"

    def __init__(self, store: Store, profiles: ProfileRegistry, keys: KeyStore, client: HttpClient) -> None:
        self._store = store
        self._profiles = profiles
        self._keys = keys
        self._client = client

    def retry_policy(self, partner_id: str) -> RetryPolicy | None:
        profile = self._profiles.current.get(partner_id)
        return profile.channels.as2.retry if profile is not None and profile.channels.as2 else None

    async def send(
        self, partner_id: str, payload_id: str, content: bytes, filename: str
    ) -> OutboundSendResult:
        profile = self._profiles.current.get(partner_id)
        channel = profile.channels.as2 if profile is not None else None
        if profile is None or channel is None or profile.identity.as2_name is None:
            return OutboundSendResult(False, f"partner {partner_id!r} has no AS2 channel", retryable=False)
        try:
            return await self._send(channel, profile.identity.as2_name, payload_id, content, filename)
        except TransientFailure as exc:
            return OutboundSendResult(False, exc.message, retryable=True)
        except GatewayError as exc:
            return OutboundSendResult(False, exc.message, retryable=False)

    async def _send(
        self, channel: As2Channel, partner_name: str, payload_id: str, content: bytes, filename: str
    ) -> OutboundSendResult:
        try:
            ours = self._keys.ours(channel) if channel.sign else None
        except KeyLoadError as exc:
            raise TransientFailure(f"our AS2 key is unavailable: {exc}") from exc
        certs = [c.certificate for c in channel.certificates_at(datetime.now(UTC))]
        if (channel.encrypt or channel.mdn.signed) and not certs:
            raise GatewayError("no certificate of the partner is valid now (expired or not yet started)")
        record = await self._store.get_payload(payload_id)
        declared = record.meta.get("content_type") if record is not None else None
        digest = channel.signature_digest.value
        packed = pack(
            content,
            content_type_for(content, declared if isinstance(declared, str) else None),
            filename,
            PackOptions(
                sign_with=ours if channel.sign else None,
                digest=digest,
                scheme=channel.signature_scheme.value,
                encrypt_for=certs[0] if channel.encrypt else None,
                encryption=channel.encryption.value,
                key_transport=channel.key_transport.value,
                compress=channel.compress,
            ),
        )
        message_id = new_message_id(payload_id, channel.our_as2_id)
        headers = [
            ("AS2-Version", "1.2"),
            ("AS2-From", _quote(channel.our_as2_id)),
            ("AS2-To", _quote(partner_name)),
            ("Message-ID", f"<{message_id}>"),
            ("Date", formatdate(usegmt=True)),
            ("Subject", f"AS2 message {filename}"),
            ("MIME-Version", "1.0"),
            ("EDIINT-Features", "CMS"),
            ("Disposition-Notification-To", channel.our_as2_id),
            *packed.headers,
        ]
        if channel.mdn.signed:
            headers.append(
                (
                    "Disposition-Notification-Options",
                    f"signed-receipt-protocol=optional, pkcs7-signature; "
                    f"signed-receipt-micalg=optional, {micalg_label(digest)}",
                )
            )
        if channel.mdn.mode == "async" and channel.mdn.async_url:
            headers.append(("Receipt-Delivery-Option", channel.mdn.async_url))
        sent = SentMessage(
            payload_id, message_id, packed.mic, channel.mdn.mode, channel.mdn.signed, channel.sign
        )
        await remember(self._store, sent)
        response = await self._client.post(channel.url, headers, packed.body, tls=channel.tls)
        if (redirected := redirect_refusal(channel.url, response)) is not None:
            raise GatewayError(f"{redirected}; configure the final URL in channels.as2.url")
        if not 200 <= response.status < 300:
            text = response.body[:200].decode("utf-8", "replace")
            raise TransientFailure(f"the partner answered HTTP {response.status}: {text}")
        if channel.mdn.mode == "async":
            return OutboundSendResult(
                True, f"accepted (HTTP {response.status}); async MDN expected", remote_reference=message_id
            )
        return await self._sync_mdn(response.headers, response.body, sent, record, certs, channel)

    async def _sync_mdn(
        self,
        headers: list[tuple[str, str]],
        body: bytes,
        sent: SentMessage,
        record: PayloadRecord | None,
        certs: list[x509.Certificate],
        channel: As2Channel,
    ) -> OutboundSendResult:
        partner_id = record.partner_id if record is not None else None
        keep = partial(keep_mdn, self._store, headers, body, partner_id=partner_id, answers=record)
        try:
            if not body:
                raise MalformedMessage(
                    "the partner answered 2xx without an MDN, but a synchronous one was asked for"
                )
            mdn = parse_mdn(headers, body, certs, require_signed=channel.mdn.signed)
            if mdn.original_message_id != sent.message_id:
                raise MalformedMessage(
                    f"the MDN answers {mdn.original_message_id!r}, not our {sent.message_id!r}"
                )
        except GatewayError as exc:
            reason = f"the synchronous MDN is not acceptable: {exc.as2_disposition}: {exc.message}"
            await keep(original_message_id=peek_original_message_id(headers, body), refused=reason)
            raise GatewayError(reason) from exc
        await keep(original_message_id=mdn.original_message_id, refused=None)
        accepted, reason = judge_mdn(mdn, sent)
        log.info(
            "AS2 message sent",
            extra={
                "payload_id": sent.payload_id,
                "message_id": sent.message_id,
                "accepted": accepted,
                "reason": reason,
            },
        )
        return OutboundSendResult(
            accepted, reason, retryable=False, remote_reference=sent.message_id, delivered=accepted
        )
