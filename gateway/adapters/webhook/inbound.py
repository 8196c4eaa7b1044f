"""``POST /webhooks/{partner_id}/{document_type}``: signed JSON from partners, stored before it is answered.

Order of work for one request (each step answers and stops on failure):

1. **route**: the partner must have a webhook ``inbound`` channel and list ``document_type``
   as an inbound JSON document, else ``404`` (nothing stored: there is no one to attribute it to);
2. **read** at most the limit + 1 bytes (the profile's ``max_body_bytes``, capped by the
   gateway's ``max_payload_bytes``); a larger body gets ``413`` and is not kept;
3. **authenticate** (:mod:`.signing`): a missing, wrong or stale signature gets ``401`` and
   the body is **not stored**: it cannot be attributed to the partner, so nothing
   unauthenticated can fill the store or be replayed as the partner's. One bounded log line
   keeps the partner, the reason, the remote address, the body's size and the first 16 hex
   digits of its SHA-256 (never the body). A secret we cannot read gets ``503`` (retry later),
   also without storing;
4. **validate** in memory (:mod:`.validation`): JSON parsing and a dry run of the partner's
   mapping, collecting every invalid field;
5. **store**, once, in the state the validation decided: ``received`` (the pipeline maps and
   routes it) or ``rejected`` with the reason. Either way the body is durable, visible to
   support and replayable. Storing once, after validating, leaves no moment in which a
   pipeline worker could pick up a body this request is about to refuse;
6. **answer** from what was stored: ``202`` with the message ID, ``400`` (not JSON) or
   ``422`` (invalid fields, each named by its JSON path).

The ``Idempotency-Key`` header (authenticated requests only) is stored with the payload. A
repeat of a key gets the first answer again (status and message ID; nothing new is stored);
a repeat with a different body gets ``422 IdempotencyKeyReused``
(draft-ietf-httpapi-idempotency-key-header). Secrets and signatures are never logged or stored.

The stored payload's correlation ID is the request's: the one the HTTP middleware set for
this request (from ``X-Correlation-ID`` or new), else a sane ``X-Correlation-ID`` header,
else the store's default (the payload ID).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from aiohttp import web

from gateway.adapters.webhook.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, SignatureRejected, verify
from gateway.adapters.webhook.signing import split_secrets as _split
from gateway.adapters.webhook.validation import Verdict, check_body
from gateway.domain.mapping import Mapper
from gateway.domain.profiles import Direction as ProfileDirection
from gateway.domain.profiles import DocumentFormat, PartnerProfile, SecretUnavailable, WebhookInbound
from gateway.domain.runtime.correlation import SANE_CORRELATION_ID
from gateway.domain.runtime.errors import PayloadTooLarge
from gateway.domain.runtime.lifecycle import State
from gateway.domain.runtime.records import ChannelMeta, NewPayload, PayloadRecord, StoreOutcome
from gateway.domain.runtime.store import Store
from gateway.domain.usecases.registry import ProfileRegistry
from gateway.logging import current_correlation_id

__all__ = ["IDEMPOTENCY_HEADER", "KEPT_HEADERS", "ROUTE", "WebhookReceiver", "read_limited"]

log = logging.getLogger("edigate.webhook")

ROUTE = "/webhooks/{partner_id}/{document_type}"
IDEMPOTENCY_HEADER = "Idempotency-Key"
#: Request headers kept with a stored payload (never the signature, cookies or credentials).
KEPT_HEADERS = (
    "Content-Type",
    "Content-Length",
    "User-Agent",
    TIMESTAMP_HEADER,
    IDEMPOTENCY_HEADER,
    "X-Request-ID",
    "X-Correlation-ID",
)
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # printable ASCII without spaces, as the store's column allows
_REASON = re.compile(r"^webhook (\d{3}) (\w+): ")
_CORRELATION = SANE_CORRELATION_ID  # as the HTTP middleware accepts
_THREAD_THRESHOLD = 64 * 1024  # bigger bodies are validated off the event loop

Receiver = Callable[[bytes, ChannelMeta], Awaitable[StoreOutcome]]


async def read_limited(request: web.BaseRequest, limit: int) -> bytes:
    """The body, reading no more than ``limit`` + 1 bytes; :class:`PayloadTooLarge` beyond ``limit``."""
    declared = request.content_length
    if declared is not None and declared > limit:
        raise PayloadTooLarge(f"the body of {declared} bytes is over the limit of {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.read(min(1 << 16, limit + 1 - size)):
        size += len(chunk)
        chunks.append(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the body is over the limit of {limit} bytes")
    return b"".join(chunks)


def _problem(
    status: int,
    error: str,
    message: str,
    *,
    message_id: str | None = None,
    details: list[dict[str, str]] | None = None,
    complete: bool | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    body: dict[str, Any] = {"error": error, "message": message, "status": status}
    if message_id is not None:
        body["message_id"] = message_id
    if details:
        body["details"] = details
    if complete is not None:
        body["complete"] = complete
    return web.json_response(body, status=status, headers=headers)


def _correlation(request: web.BaseRequest) -> str | None:
    given = current_correlation_id() or request.headers.get("X-Correlation-ID")
    return given if given is not None and _CORRELATION.fullmatch(given) else None


def _error_name(verdict: Verdict) -> str:
    return "InvalidJson" if verdict.status == 400 else "InvalidFields"


class WebhookReceiver:
    """The inbound endpoint; ``routes`` go on the gateway's aiohttp application."""

    def __init__(
        self,
        store: Store,
        profiles: ProfileRegistry,
        mapper: Mapper | None,
        receive: Receiver,
        *,
        max_payload_bytes: int = 100 * 1024 * 1024,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._profiles = profiles
        self._mapper = mapper  # None: the registry's current mapper, so reloads apply at once
        self._receive = receive
        self._max = max_payload_bytes
        self._clock = clock

    @property
    def routes(self) -> list[web.RouteDef]:
        return [web.post(ROUTE, self.handle)]

    def _route(self, partner_id: str, document_type: str) -> tuple[PartnerProfile, WebhookInbound] | None:
        profile = self._profiles.current.get(partner_id)
        hook = profile.channels.webhook if profile is not None else None
        if profile is None or hook is None or hook.inbound is None:
            return None
        policy = profile.document_policy(ProfileDirection.INBOUND, document_type)
        if policy is None or policy.format is not DocumentFormat.JSON:
            return None
        return profile, hook.inbound

    async def handle(self, request: web.Request) -> web.StreamResponse:
        partner_id = request.match_info["partner_id"]
        document_type = request.match_info["document_type"]
        routed = self._route(partner_id, document_type)
        if routed is None:
            log.info("webhook for an unknown partner or document type", extra={"path": request.path})
            return _problem(
                404, "NotFound", f"no inbound webhook document {document_type!r} for partner {partner_id!r}"
            )
        profile, hook = routed
        limit = min(hook.max_body_bytes, self._max)
        try:
            body = await read_limited(request, limit)
        except PayloadTooLarge as exc:
            log.warning(
                "webhook body over the limit; not kept",
                extra={"partner_id": partner_id, "limit": limit, "remote": request.remote},
            )
            response = _problem(413, "PayloadTooLarge", exc.message)
            response.force_close()
            return response
        kept = {k.lower(): v for k in KEPT_HEADERS if (v := request.headers.get(k)) is not None}
        meta = ChannelMeta(
            channel="webhook",
            partner_id=profile.partner_id,
            filename=f"{document_type}.json",
            content_type=request.headers.get("Content-Type"),
            document_type=document_type,
            correlation_id=_correlation(request),
            remote=request.remote,
            headers=kept,
        )
        try:
            secrets = _split(hook.secret.read())
        except SecretUnavailable as exc:  # not stored: the body cannot be authenticated now
            log.error("webhook secret unavailable", extra={"partner_id": partner_id, "reason": str(exc)})
            return _problem(503, "Unavailable", "the request cannot be verified now; retry later",
                            headers={"Retry-After": "60"})  # fmt: skip
        try:
            verify(
                secrets,
                request.headers.get(TIMESTAMP_HEADER),
                request.headers.get(SIGNATURE_HEADER),
                body,
                now=self._clock(),
                tolerance_seconds=hook.timestamp_tolerance_seconds,
            )
        except SignatureRejected as exc:  # not stored: nothing unauthenticated is kept as the partner's
            log.warning(
                "webhook signature refused; body not kept",
                extra={"partner_id": partner_id, "reason": exc.reason, "remote": request.remote,
                       "size": len(body), "sha256_prefix": hashlib.sha256(body).hexdigest()[:16]},
            )  # fmt: skip
            return _problem(401, "AuthenticationFailed", exc.message)
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is not None and not _KEY.fullmatch(key):
            message = f"{IDEMPOTENCY_HEADER} must be 1 to 255 printable ASCII characters without spaces"
            record = await self._reject(body, meta, 400, "InvalidIdempotencyKey", message)
            return _problem(400, "InvalidIdempotencyKey", message, message_id=record.id)
        return await self._accept_or_refuse(body, meta, key, profile, document_type)

    async def _accept_or_refuse(
        self, body: bytes, meta: ChannelMeta, key: str | None, profile: PartnerProfile, document_type: str
    ) -> web.Response:
        def run() -> Verdict:
            mapper = self._mapper or self._profiles.mapper
            return check_body(body, document_type=document_type, profile=profile, mapper=mapper)

        verdict = await asyncio.to_thread(run) if len(body) > _THREAD_THRESHOLD else run()
        meta = replace(meta, idempotency_key=key)
        if verdict.accepted:
            if verdict.config_problem:
                log.warning(
                    "webhook accepted without a dry run",
                    extra={"partner_id": profile.partner_id, "reason": verdict.config_problem},
                )
            outcome = await self._receive(body, meta)
        else:
            reason = f"webhook {verdict.status} {_error_name(verdict)}: {verdict.summary()}"
            [outcome] = await self._store.save_payloads([NewPayload(body, meta, state=State.REJECTED,
                                                                    reason=reason)])  # fmt: skip
        return self._answer(outcome, body, verdict)

    def _answer(self, outcome: StoreOutcome, body: bytes, verdict: Verdict) -> web.Response:
        record = outcome.record
        replayed = {"Idempotent-Replayed": "true"} if not outcome.created else {}
        if not outcome.created and record.sha256 != hashlib.sha256(body).hexdigest():
            log.warning(
                "Idempotency-Key reused with a different body",
                extra={"partner_id": record.partner_id, "payload_id": record.id},
            )
            return _problem(
                422,
                "IdempotencyKeyReused",
                f"this {IDEMPOTENCY_HEADER} was first used for a different body (message {record.id})",
                message_id=record.id,
            )
        if record.state is State.REJECTED:
            return self._refusal(record, verdict, replayed)
        log.info(
            "webhook accepted" if outcome.created else "webhook repeated; answered as the first time",
            extra={"partner_id": record.partner_id, "payload_id": record.id, "size": record.size},
        )
        return web.json_response(
            {
                "message_id": record.id,
                "status": "accepted",
                "partner_id": record.partner_id,
                "document_type": record.meta.get("document_type"),
                "correlation_id": record.correlation_id,
            },
            status=202,
            headers=replayed,
        )

    @staticmethod
    def _refusal(record: PayloadRecord, verdict: Verdict, headers: dict[str, str]) -> web.Response:
        """The answer for a stored rejection: its status and error come from the stored reason."""
        reason = record.reason or ""
        found = _REASON.match(reason)
        status, error = (int(found.group(1)), found.group(2)) if found else (422, "Rejected")
        same = verdict.status == status
        return _problem(
            status,
            error,
            reason[found.end() :] if found else reason,
            message_id=record.id,
            details=[e.as_dict() for e in verdict.errors] if same else None,
            complete=verdict.complete if same and status == 422 else None,
            headers=headers,
        )

    async def _reject(
        self, body: bytes, meta: ChannelMeta, status: int, error: str, message: str
    ) -> PayloadRecord:
        new = NewPayload(body, meta, state=State.REJECTED, reason=f"webhook {status} {error}: {message}")
        [outcome] = await self._store.save_payloads([new])
        return outcome.record
