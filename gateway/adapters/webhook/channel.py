"""The outbound webhook channel (PartnerChannel ``webhook``): POST a stored payload, signed, to the partner.

Each attempt is signed afresh (:mod:`.signing`: ``X-Edigate-Timestamp`` and
``X-Edigate-Signature`` with the profile's outbound secret) and carries
``Idempotency-Key: <payload ID>``, the same on every attempt and on a resend, so the partner
can drop repeats. The body is sent exactly as stored (canonical or partner-shaped JSON),
with the stored content type.

Outcomes, as the Sender worker sees them:

* 2xx: sent;
* 408, 429, 5xx and transport failures (refused, reset, timeout): retryable, with
  ``retry_after`` = the partner's ``Retry-After`` (seconds or an HTTP date), if it sent one;
* any other status (3xx are not followed: a signed POST is not replayed elsewhere): failed,
  not retried; resend it once the cause is fixed.

The Sender retries with the profile's ``outbound.retry`` policy (:meth:`retry_policy`): its
backoff, or the partner's Retry-After when longer, up to ``retry.limit`` retries, counting
attempts in the store; then the payload is marked failed (and stays resendable).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import aiohttp

from gateway.adapters.webhook.signing import signed_headers, split_secrets
from gateway.domain.profiles import RetryPolicy, SecretUnavailable, WebhookOutbound
from gateway.domain.runtime.ports import OutboundSendResult
from gateway.domain.runtime.store import Store
from gateway.domain.usecases.registry import ProfileRegistry

__all__ = ["RETRYABLE_STATUSES", "WebhookPartnerChannel", "parse_retry_after"]

log = logging.getLogger("edigate.webhook")

#: Statuses worth another attempt, besides every 5xx.
RETRYABLE_STATUSES = frozenset({408, 429})
_MAX_WAIT = 86_400.0  # a Retry-After beyond a day is taken as a day
_DETAIL_BYTES = 300


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delay-seconds or an HTTP date), else None."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        return min(float(text), _MAX_WAIT)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return min(max(0.0, when.timestamp() - now), _MAX_WAIT)


def _where(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"  # never the path or query, which may carry tokens


class WebhookPartnerChannel:
    kind = "webhook"

    def __init__(
        self,
        store: Store,
        profiles: ProfileRegistry,
        *,
        timeout_seconds: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._profiles = profiles
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._session: aiohttp.ClientSession | None = None
        self._now = clock

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout, auto_decompress=True)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def retry_policy(self, partner_id: str) -> RetryPolicy | None:
        profile = self._profiles.current.get(partner_id)
        hook = profile.channels.webhook if profile is not None else None
        return hook.outbound.retry if hook is not None and hook.outbound is not None else None

    async def send(
        self, partner_id: str, payload_id: str, content: bytes, filename: str
    ) -> OutboundSendResult:
        profile = self._profiles.current.get(partner_id)
        hook = profile.channels.webhook if profile is not None else None
        if hook is None or hook.outbound is None:
            return OutboundSendResult(
                False, f"partner {partner_id!r} has no outbound webhook", retryable=False
            )
        return await self._attempt(hook.outbound, partner_id, payload_id, content)

    async def _attempt(
        self, out: WebhookOutbound, partner_id: str, payload_id: str, content: bytes
    ) -> OutboundSendResult:
        try:
            secrets = split_secrets(out.secret.read())
        except SecretUnavailable as exc:
            log.error(
                "outbound webhook secret unavailable", extra={"partner_id": partner_id, "reason": str(exc)}
            )
            return OutboundSendResult(False, f"the outbound secret is unavailable: {exc}", retryable=True)
        if not secrets:
            return OutboundSendResult(False, f"the outbound secret {out.secret} is empty", retryable=True)
        record = await self._store.get_payload(payload_id)
        declared = record.meta.get("content_type") if record is not None else None
        headers = {
            "Content-Type": declared if isinstance(declared, str) and declared else "application/json",
            "Idempotency-Key": payload_id,
            "User-Agent": "edigate-webhook/1",
            **signed_headers(secrets, content, self._now()),
        }
        where = _where(out.url)
        try:
            async with self._client().post(
                out.url, data=content, headers=headers, allow_redirects=False
            ) as response:
                status = response.status
                text = (await response.content.read(_DETAIL_BYTES)).decode("utf-8", "replace")
                retry_after = parse_retry_after(response.headers.get("Retry-After"), self._now())
                reference = response.headers.get("X-Request-ID") or response.headers.get("Request-Id")
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            log.warning(
                "outbound webhook failed",
                extra={"partner_id": partner_id, "payload_id": payload_id, "error": type(exc).__name__},
            )  # fmt: skip
            return OutboundSendResult(False, f"POST to {where} failed: {type(exc).__name__}: {exc}")
        extra = {"partner_id": partner_id, "payload_id": payload_id, "status": status}
        if 200 <= status < 300:
            log.info("outbound webhook delivered", extra=extra)
            return OutboundSendResult(True, f"HTTP {status} from {where}", remote_reference=reference)
        retryable = status in RETRYABLE_STATUSES or status >= 500
        log.warning("outbound webhook refused", extra={**extra, "retryable": retryable})
        detail = f"HTTP {status} from {where}: {' '.join(text.split())[:200]}".rstrip(": ")
        return OutboundSendResult(False, detail, retryable=retryable, retry_after=retry_after)
