"""``POST /as2``: receive an AS2 message, store it, answer with an MDN (sync or async).

Order of work, so a receipt only ever confirms what is durable:

1. read the body (bounded), identify the partner by AS2-From/AS2-To; a body over the limit is
   not read further: its headers are stored (rejected) and answered with an
   ``unexpected-processing-error`` MDN (or HTTP 413 when no MDN was asked for);
2. open the message with the protocol core (decrypt, verify, decompress; any order),
   trying every partner certificate valid now and every key of ours (rollover both ways);
3. store: the EDI payload through ``receive`` (the pipeline parses exactly these bytes)
   and, in the same transaction when it is new, the transmission as received (headers that
   matter + body) as a companion payload on channel ``as2-raw`` in state ``delivered`` (an archive copy, never
   parsed) with the same correlation id; a replayed Message-ID adds no second copy. A
   message that fails is stored once, as received, in state ``rejected`` with the reason,
   and is not routed;
4. answer: an MDN in the HTTP response, or (Receipt-Delivery-Option) an MDN stored as an
   outbound payload on channel ``as2-mdn`` that the Sender delivers with retries.

A repeated Message-ID from the same partner is recognised by the store (``created=False``):
it is answered as the original was (a positive MDN, or the original's error MDN when the
original was rejected), at the original's async URL if any, and nothing is routed again.
The same Message-ID with other content is stored as received (rejected) and refused.
An async MDN goes only to a URL the partner's profile allows (``mdn.return_url_hosts``);
any other is answered synchronously.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any, Protocol, TypeVar

from aiohttp import web

from gateway.adapters.as2.keys import KeyLoadError, KeyStore
from gateway.adapters.as2.protocol import (
    MdnRequest,
    Mic,
    SigningKey,
    Trust,
    Unpacked,
    build_entity,
    build_mdn,
    normalise_digest,
    parse_mdn_request,
    unpack,
)
from gateway.adapters.as2.protocol.errors import MalformedMessage, UnknownPartner, UnsupportedAlgorithm
from gateway.adapters.as2.protocol.mime import header_value, parse_content_type, parse_entity
from gateway.domain.profiles import As2Channel, PartnerProfile
from gateway.domain.profiles.identity import normalise_as2_name
from gateway.domain.runtime.correlation import current_correlation_id
from gateway.domain.runtime.errors import GatewayError, PayloadTooLarge
from gateway.domain.runtime.ids import new_uuid
from gateway.domain.runtime.lifecycle import Direction, State
from gateway.domain.runtime.records import ChannelMeta, NewPayload, StoreOutcome
from gateway.domain.runtime.store import Store
from gateway.domain.usecases.registry import ProfileRegistry

__all__ = ["KEPT_HEADERS", "As2Inbound", "Reply"]

log = logging.getLogger("edigate.as2")

#: Headers stored with a transmission (never secrets; AS2 carries none in headers).
KEPT_HEADERS = (
    "AS2-Version",
    "AS2-From",
    "AS2-To",
    "Message-ID",
    "Subject",
    "Date",
    "From",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
    "Content-Disposition",
    "Disposition-Notification-To",
    "Disposition-Notification-Options",
    "Receipt-Delivery-Option",
    "EDIINT-Features",
    "User-Agent",
)
_KEPT_LOWER = [(name, name.lower()) for name in KEPT_HEADERS]
_MDN_TEXT_OK = "The AS2 message has been received, verified and stored for processing."
_MDN_TEXT_ERROR = "The AS2 message could not be processed: {reason}"
_OUR_FAILURE_TEXT = (
    "an error on the receiving side; the message was kept and the receiver's support has the details"
)
#: The longest Message-ID kept as the payload's key (the store's ``as2_message_id`` column);
#: a longer one is refused as malformed (stored rejected, without the key).
MAX_MESSAGE_ID = 255


class Receiver(Protocol):
    """The inbound use case's ``receive``: commits the bytes (and the companion, when they are
    new) before it returns."""

    def __call__(
        self, content: bytes, meta: ChannelMeta, *, companion: NewPayload | None = None
    ) -> Awaitable[StoreOutcome]: ...


_T = TypeVar("_T")
Mdn = tuple[list[tuple[str, str]], bytes]  # an MDN's HTTP headers and body


@dataclass(frozen=True, slots=True)
class Reply:
    """What to send back on the HTTP connection."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


class _Failure(Exception):
    def __init__(self, error: GatewayError) -> None:
        self.error = error


class _OurFailure(GatewayError):
    """A failure on our side (our key, a bug): its message is stored and logged, but the
    sender is only told that it was ours (:func:`_told`); it may name files or internals."""


def _told(error: GatewayError) -> str:
    """The error's text as the sender may see it (in the MDN or the HTTP answer)."""
    return _OUR_FAILURE_TEXT if isinstance(error, _OurFailure) else error.message


def _unquote(name: str | None) -> str:
    return normalise_as2_name(name.strip()) if name else ""


def _message_id(raw: str | None) -> str:
    return (raw or "").strip().strip("<>").strip()


def _our_id_token(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9.-]", "_", name) or "edigate"


async def read_body(request: web.Request, limit: int) -> bytes:
    """The whole body (chunked or not), refusing more than ``limit`` bytes."""
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"the body of {request.content_length} bytes is over the limit of {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(1 << 16):
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the body is over the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


class As2Inbound:
    def __init__(
        self,
        store: Store,
        profiles: ProfileRegistry,
        receive: Receiver,
        keys: KeyStore,
        *,
        max_payload_bytes: int = 100 * 1024 * 1024,
        wake_sender: Callable[[], None] = lambda: None,
        mdn_handler: Callable[[Sequence[tuple[str, str]], bytes], Awaitable[Reply]] | None = None,
        crypto_pool: Executor | None = None,
    ) -> None:
        self._store = store
        self._profiles = profiles
        self._receive = receive
        self._keys = keys
        self._max = max_payload_bytes
        self._wake_sender = wake_sender
        self._mdn_handler = mdn_handler
        self._crypto = crypto_pool

    async def _off_loop(self, fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        """Run CPU work (RSA, ciphers, digests, CMS parsing) on the crypto threads.

        ``cryptography`` releases the GIL during RSA private-key operations (and the OpenSSL
        ciphers and digests), so the event loop keeps serving HTTP and the store meanwhile.
        """
        return await asyncio.get_running_loop().run_in_executor(self._crypto, partial(fn, *args, **kwargs))

    async def handle(self, request: web.Request) -> web.StreamResponse:
        headers = list(request.headers.items())
        try:
            body = await read_body(request, self._max)
        except PayloadTooLarge as exc:
            reply = await self.too_large(headers, exc, request.remote)
        else:
            reply = await self.process(headers, body, request.remote)
        return web.Response(status=reply.status, headers=reply.headers, body=reply.body)

    async def too_large(
        self, headers: Sequence[tuple[str, str]], error: PayloadTooLarge, remote: str | None
    ) -> Reply:
        """A body over the limit: its headers are stored (rejected, with the reason) and answered
        with an ``unexpected-processing-error`` MDN when one was asked for, else HTTP 413."""
        kept = _kept(headers)
        profile, channel = self._partner(headers)
        return await self._refuse(
            error,
            build_entity(kept, b""),
            headers,
            _message_id(header_value(headers, "message-id")),
            profile,
            channel,
            parse_mdn_request(headers),
            remote,
        )

    async def process(self, headers: Sequence[tuple[str, str]], body: bytes, remote: str | None) -> Reply:
        """Everything after reading the body; usable without HTTP (tests, benchmarks)."""
        if self._mdn_handler is not None and _looks_like_mdn(headers, body):
            return await self._mdn_handler(headers, body)
        request = parse_mdn_request(headers)
        message_id = _message_id(header_value(headers, "message-id"))
        kept = _kept(headers)
        raw = build_entity(kept, body)
        profile, channel = self._partner(headers)
        try:
            if profile is None or channel is None:
                raise _Failure(
                    UnknownPartner(
                        f"no partner profile for AS2-From {header_value(headers, 'as2-from')!r} "
                        f"to AS2-To {header_value(headers, 'as2-to')!r}"
                    )
                )
            if len(message_id) > MAX_MESSAGE_ID:
                raise _Failure(
                    MalformedMessage(
                        f"the Message-ID is {len(message_id)} characters long; at most {MAX_MESSAGE_ID} "
                        "are accepted"
                    )
                )
            if not message_id:
                raise _Failure(MalformedMessage("the message has no Message-ID header"))
            # The positive MDN is signed in the same trip to a crypto thread as the opening; it
            # is sent only after the commit succeeds (an error MDN replaces it otherwise).
            positive_mdn = (
                self._mdn_args(headers, message_id, channel, request, None) if request.requested else None
            )
            unpacked, positive = await self._open(
                headers, body, channel, self._decryption_keys(channel), request, positive_mdn
            )
        except _Failure as failure:
            return await self._refuse(
                failure.error, raw, headers, message_id, profile, channel, request, remote
            )
        meta_headers = {k.lower(): v for k, v in kept if not k.lower().startswith("content-")}
        meta_headers["as2-security"] = ",".join(unpacked.layers) or "none"
        meta_headers["as2-mic"] = unpacked.mic.header_value
        correlation = current_correlation_id() or str(new_uuid())  # the request's, as logged
        edi_meta = ChannelMeta(
            channel="as2",
            partner_id=profile.partner_id,
            filename=unpacked.filename or f"{_our_id_token(message_id)}.edi",
            content_type=unpacked.content_type,
            as2_message_id=message_id,
            correlation_id=correlation,
            remote=remote,
            headers=meta_headers,
        )
        raw_meta = ChannelMeta(
            channel="as2-raw",
            partner_id=profile.partner_id,
            filename=f"{_our_id_token(message_id)}.as2",
            content_type=header_value(headers, "content-type"),
            correlation_id=correlation,
            remote=remote,
            headers=meta_headers,
        )
        archive = NewPayload(
            raw,
            raw_meta,
            state=State.DELIVERED,
            reason=f"AS2 transmission {message_id} as received; its EDI content is stored with the same "
            f"correlation id ({unpacked.mic.header_value})",
        )
        # one transaction; a replayed Message-ID adds no second archive copy
        outcome = await self._receive(unpacked.payload, edi_meta, companion=archive)
        error: GatewayError | None = None
        asked_url = request.async_url
        if not outcome.created:
            # a repeat is answered where the original asked (the URL is in no signature)
            original = outcome.record.meta.get("headers")
            stored_url = original.get("receipt-delivery-option") if isinstance(original, dict) else None
            asked_url = stored_url if isinstance(stored_url, str) else None
            answered = "answered as the original"
            sha256 = await self._off_loop(lambda: hashlib.sha256(unpacked.payload).hexdigest())
            if sha256 != outcome.record.sha256:  # the ID was reused: keep these bytes, refuse them
                error, answered = await self._reused_message_id(raw, raw_meta, message_id, outcome.record.id)
            elif outcome.record.state is State.REJECTED:  # a retry of a refused payload is refused again
                error = GatewayError(outcome.record.reason or "the payload was refused")
                answered = "answered with the original's error (the original was rejected)"
            log.info(
                "repeated AS2 Message-ID: not routed again",
                extra={
                    "partner_id": profile.partner_id,
                    "message_id": message_id,
                    "payload_id": outcome.record.id,
                    "answer": answered,
                },
            )
            await self._store.add_audit(
                "payload",
                outcome.record.id,
                "duplicate",
                detail=f"AS2 Message-ID {message_id} received again; {answered}, not routed",
            )
        elif outcome.record.state is State.REJECTED:
            error = GatewayError(outcome.record.reason or "the payload was refused")
        reply_to = await self._reply_to(asked_url, profile.partner_id, channel, message_id, outcome.record.id)
        request = replace(request, async_url=reply_to)  # an allowed URL, or None: answer sync
        if positive is not None and error is None:
            return await self._deliver(profile.partner_id, channel, request, message_id, positive)
        return await self._answer(
            headers, message_id, profile.partner_id, channel, request, error, unpacked.mic
        )

    async def _reused_message_id(
        self, raw: bytes, raw_meta: ChannelMeta, message_id: str, original_id: str
    ) -> tuple[GatewayError, str]:
        """A known Message-ID with other content: the transmission is stored as received
        (rejected, not routed) and answered with an error, never acknowledged as the original."""
        error = MalformedMessage(
            f"Message-ID {message_id} was already used for a message with different content; "
            "this message was not processed (send it with a new Message-ID)"
        )
        kept = replace(raw_meta, channel="as2")  # like any refused message: no Message-ID key
        reason = (
            f"{error.as2_disposition}: AS2 Message-ID {message_id} reused with different content "
            f"(the original is payload {original_id}); kept as received, not processed"
        )
        [copy] = await self._store.save_payloads([NewPayload(raw, kept, state=State.REJECTED, reason=reason)])
        log.warning(
            "AS2 Message-ID reused with different content: stored rejected, error MDN",
            extra={
                "partner_id": kept.partner_id,
                "message_id": message_id,
                "payload_id": copy.record.id,
                "original_payload_id": original_id,
            },
        )
        return (
            error,
            f"different content, stored as payload {copy.record.id} (rejected); answered with an error",
        )

    async def _reply_to(
        self, url: str | None, partner_id: str, channel: As2Channel, message_id: str, payload_id: str
    ) -> str | None:
        """The URL to POST the async MDN to, or ``None`` (answer in the HTTP response).

        A URL the partner's profile does not allow (``mdn.return_url_hosts``) is never used:
        the MDN goes back synchronously and the refusal is logged and audited.
        """
        if url is None:
            return None
        problem = channel.mdn_url_problem(url)
        if problem is None:
            return url
        log.warning(
            "AS2 async MDN URL refused; the MDN is answered synchronously",
            extra={"partner_id": partner_id, "message_id": message_id, "url": url, "reason": problem},
        )
        await self._store.add_audit(
            "payload",
            payload_id,
            "mdn-url-refused",
            detail=f"Receipt-Delivery-Option {url!r} refused ({problem}); the MDN was answered synchronously",
        )
        return None

    def _partner(self, headers: Sequence[tuple[str, str]]) -> tuple[PartnerProfile | None, As2Channel | None]:
        sender = _unquote(header_value(headers, "as2-from"))
        receiver = _unquote(header_value(headers, "as2-to"))
        profile = self._profiles.current.by_as2_name(sender) if sender else None
        channel = profile.channels.as2 if profile is not None else None
        if profile is None or channel is None or normalise_as2_name(channel.our_as2_id) != receiver:
            return profile if channel is not None else None, None
        return profile, channel

    def _decryption_keys(self, channel: As2Channel) -> list[SigningKey]:
        try:
            return self._keys.decryption_keys(channel)
        except KeyLoadError as exc:
            log.error("our AS2 key cannot be loaded", extra={"reason": str(exc)})
            raise _Failure(_OurFailure(f"our private key is unavailable: {exc}")) from exc

    def _signing_key(self, channel: As2Channel | None) -> SigningKey | None:
        """Our key for signing the MDN; ``None`` (an unsigned MDN) when none can be loaded."""
        if channel is None:
            return None
        try:
            return self._keys.ours(channel)
        except KeyLoadError as exc:
            log.error(
                "our AS2 signing key cannot be loaded; the MDN goes unsigned", extra={"reason": str(exc)}
            )
            return None

    async def _open(
        self,
        headers: Sequence[tuple[str, str]],
        body: bytes,
        channel: As2Channel,
        our_keys: list[SigningKey],
        request: MdnRequest,
        positive_mdn: dict[str, Any] | None,
    ) -> tuple[Unpacked, Mdn | None]:
        """Open the message and, when ``positive_mdn`` names its arguments, build that MDN
        (with the message's MIC) in the same crypto-thread call."""
        trust = Trust(
            our_keys=our_keys,
            partner_certificates=[c.certificate for c in channel.certificates_at(datetime.now(UTC))],
            require_signed=channel.require_signed,
            require_encrypted=channel.require_encrypted,
            max_decompressed=self._max,  # a compressed layer inflates no further than a body may be
        )
        try:
            return await self._off_loop(_open_and_answer, headers, body, trust, request.micalgs, positive_mdn)
        except GatewayError as exc:
            raise _Failure(exc) from exc
        except Exception as exc:  # a library bug must still produce a stored payload and an MDN
            log.exception("unexpected error opening an AS2 message")
            raise _Failure(_OurFailure(f"unexpected error: {type(exc).__name__}: {exc}")) from exc

    async def _refuse(
        self,
        error: GatewayError,
        raw: bytes,
        headers: Sequence[tuple[str, str]],
        message_id: str,
        profile: PartnerProfile | None,
        channel: As2Channel | None,
        request: MdnRequest,
        remote: str | None,
    ) -> Reply:
        reason = f"{error.as2_disposition}: {error.message}"
        meta = ChannelMeta(
            channel="as2",
            partner_id=profile.partner_id if profile is not None else None,
            filename=f"{_our_id_token(message_id or 'unknown')}.as2",
            content_type=header_value(headers, "content-type"),
            remote=remote,
            headers={k.lower(): v for k, v in _kept(headers)},
        )
        await self._store.save_payloads([NewPayload(raw, meta, state=State.REJECTED, reason=reason)])
        log.warning(
            "AS2 message refused",
            extra={
                "partner_id": meta.partner_id,
                "message_id": message_id,
                "reason": reason,
                "remote": remote,
            },
        )
        return await self._answer(
            headers,
            message_id,
            meta.partner_id,
            channel,
            request,
            error,
            None,
            status=error.http_status,
            may_post=False,  # never POST to a URL named by a message we could not open and verify
        )

    async def _answer(
        self,
        headers: Sequence[tuple[str, str]],
        message_id: str,
        partner_id: str | None,
        channel: As2Channel | None,
        request: MdnRequest,
        error: GatewayError | None,
        mic: Mic | None,
        *,
        status: int = 200,
        may_post: bool = True,
    ) -> Reply:
        if not request.requested:
            text = "received" if error is None else f"{error.as2_disposition}: {_told(error)}"
            return Reply(status, [("Content-Type", "text/plain")], text.encode())
        # signed (on a crypto thread) when the sender asked for it
        args = self._mdn_args(headers, message_id, channel, request, error)
        mdn: Mdn = await self._off_loop(build_mdn, mic=mic, **args)
        if not may_post:
            return Reply(200, *mdn)  # the MDN carries the error, as a sync one always does
        return await self._deliver(partner_id, channel, request, message_id, mdn)

    def _mdn_args(
        self,
        headers: Sequence[tuple[str, str]],
        message_id: str,
        channel: As2Channel | None,
        request: MdnRequest,
        error: GatewayError | None,
    ) -> dict[str, Any]:
        """What :func:`build_mdn` needs besides the MIC."""
        our_id = channel.our_as2_id if channel is not None else _unquote(header_value(headers, "as2-to"))
        partner_name = _unquote(header_value(headers, "as2-from"))
        return {
            "original_message_id": message_id or "unknown",
            "our_as2_id": our_id or "unknown",
            "partner_as2_id": partner_name or "unknown",
            "message_id": f"<edigate-mdn-{new_uuid()}@{_our_id_token(our_id)}>",
            "error": error.as2_disposition if error is not None else None,
            "text": _MDN_TEXT_OK if error is None else _MDN_TEXT_ERROR.format(reason=_told(error)),
            "sign_with": self._signing_key(channel) if request.signed else None,
            "digest": _mdn_digest(request, channel),
            "scheme": channel.signature_scheme.value if channel is not None else "pkcs1v15",
        }

    async def _deliver(
        self,
        partner_id: str | None,
        channel: As2Channel | None,
        request: MdnRequest,
        message_id: str,
        mdn: Mdn,
    ) -> Reply:
        """The MDN in the HTTP response, or stored for async delivery (known partners only).

        ``request.async_url`` is already checked against the profile here (:meth:`_reply_to`).
        """
        mdn_headers, mdn_body = mdn
        if request.async_url and channel is not None and partner_id is not None:
            await self._queue_async_mdn(partner_id, request.async_url, message_id, mdn_headers, mdn_body)
            return Reply(200, [("Content-Type", "text/plain")], b"received; the MDN follows asynchronously")
        return Reply(200, mdn_headers, mdn_body)

    async def _queue_async_mdn(
        self, partner_id: str, url: str, message_id: str, headers: list[tuple[str, str]], body: bytes
    ) -> None:
        meta = ChannelMeta(
            channel="as2-mdn",
            partner_id=partner_id,
            filename=f"{_our_id_token(message_id)}.mdn",
            content_type=header_value(headers, "content-type"),
            headers={"receipt-delivery-option": url, "original-message-id": message_id},
        )
        await self._store.save_payloads([NewPayload(build_entity(headers, body), meta, Direction.OUTBOUND)])
        self._wake_sender()


def _open_and_answer(
    headers: Sequence[tuple[str, str]],
    body: bytes,
    trust: Trust,
    micalgs: Sequence[str],
    positive_mdn: dict[str, Any] | None,
) -> tuple[Unpacked, Mdn | None]:
    """On a crypto thread: open the message, then sign its positive MDN (if one is wanted).

    A failure to build the MDN is not the message's failure: it is logged, and the MDN is
    built again (and its error reported) the ordinary way after the commit."""
    unpacked = unpack(headers, body, trust, micalgs)
    if positive_mdn is None:
        return unpacked, None
    try:
        return unpacked, build_mdn(mic=unpacked.mic, **positive_mdn)
    except Exception:
        log.exception("building the positive MDN failed; it is built again after the commit")
        return unpacked, None


def _kept(headers: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """The headers stored with a transmission (the first of each name), in ``KEPT_HEADERS`` order."""
    first: dict[str, str] = {}
    for key, value in headers:
        first.setdefault(key.lower(), value)
    return [(name, first[lower]) for name, lower in _KEPT_LOWER if lower in first]


def _mdn_digest(request: MdnRequest, channel: As2Channel | None) -> str:
    for label in request.micalgs:
        try:
            return normalise_digest(label)
        except UnsupportedAlgorithm:
            continue
    return channel.signature_digest.value if channel is not None else "sha256"


def _looks_like_mdn(headers: Sequence[tuple[str, str]], body: bytes) -> bool:
    """An MDN posted to the message endpoint (some partners use one URL for both).

    An MDN is a ``multipart/report``, bare or as the first part of a ``multipart/signed``.
    A transmission that asks for an MDN (``Disposition-Notification-To``) is a message, and
    a signed message is told apart by the content type of its signed part, not by words
    anywhere in its body (an EDI payload may well contain "disposition-notification").
    """
    if header_value(headers, "disposition-notification-to") is not None:
        return False
    content_type, params = parse_content_type(header_value(headers, "content-type") or "")
    if content_type == "multipart/report":
        return True
    if content_type != "multipart/signed":
        return False
    return _first_part_type(body, params.get("boundary", "")) == "multipart/report"


def _first_part_type(body: bytes, boundary: str) -> str | None:
    """The content type of a multipart body's first part, read from its first 64 KB only."""
    if not boundary or len(boundary) > 200:
        return None
    head = body[:65536]
    delimiter = b"--" + boundary.encode("latin-1", "replace")
    at = head.find(delimiter)
    while at > 0 and head[at - 1 : at] != b"\n":
        at = head.find(delimiter, at + len(delimiter))
    if at < 0:
        return None
    line_end = head.find(b"\n", at)
    if line_end < 0:
        return None
    try:
        part = parse_entity(head[line_end + 1 :])
    except MalformedMessage:
        return None
    return part.content_type
