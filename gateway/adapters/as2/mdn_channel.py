"""Async MDN delivery (PartnerChannel ``as2-mdn``).

The inbound handler stores each async MDN as an outbound payload on channel ``as2-mdn``:
its content is the MDN as a MIME entity (headers + body), its ``meta.headers`` hold the
``receipt-delivery-option`` URL the partner asked for. The Sender worker hands it here,
and retries failures like any outbound payload, with the partner's AS2 ``retry`` policy
(:meth:`As2MdnChannel.retry_policy`); its state shows in the admin API like any other payload.
An HTTPS URL is trusted as the partner's profile says (``tls``), like our outbound POSTs.
The URL is checked against the profile again before each POST (``mdn.return_url_hosts``:
the profile may have changed since the MDN was queued), and a redirect is a failure,
never followed.
"""

from __future__ import annotations

from gateway.adapters.as2.client import HttpClient, redirect_refusal
from gateway.adapters.as2.protocol import parse_entity
from gateway.adapters.as2.protocol.errors import MalformedMessage
from gateway.domain.profiles import RetryPolicy
from gateway.domain.runtime.errors import TransientFailure
from gateway.domain.runtime.ports import OutboundSendResult
from gateway.domain.runtime.store import Store
from gateway.domain.usecases.registry import ProfileRegistry

__all__ = ["As2MdnChannel"]


class As2MdnChannel:
    kind = "as2-mdn"

    def __init__(self, store: Store, profiles: ProfileRegistry, client: HttpClient) -> None:
        self._store = store
        self._profiles = profiles
        self._client = client

    def retry_policy(self, partner_id: str) -> RetryPolicy | None:
        profile = self._profiles.current.get(partner_id)
        return profile.channels.as2.retry if profile is not None and profile.channels.as2 else None

    async def send(
        self, partner_id: str, payload_id: str, content: bytes, filename: str
    ) -> OutboundSendResult:
        record = await self._store.get_payload(payload_id)
        headers = record.meta.get("headers") if record is not None else None
        url = headers.get("receipt-delivery-option") if isinstance(headers, dict) else None
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            return OutboundSendResult(False, "the stored MDN has no http(s) delivery URL", retryable=False)
        try:
            entity = parse_entity(content)
        except MalformedMessage as exc:
            return OutboundSendResult(False, f"the stored MDN is unreadable: {exc.message}", retryable=False)
        profile = self._profiles.current.get(partner_id)
        as2 = profile.channels.as2 if profile is not None else None
        if as2 is None:
            return OutboundSendResult(False, f"partner {partner_id!r} has no AS2 channel", retryable=False)
        if (problem := as2.mdn_url_problem(url)) is not None:
            return OutboundSendResult(False, f"the MDN delivery URL is refused: {problem}", retryable=False)
        try:
            response = await self._client.post(url, list(entity.headers), entity.body, tls=as2.tls)
        except TransientFailure as exc:
            return OutboundSendResult(False, exc.message, retryable=True)
        if (redirected := redirect_refusal(url, response)) is not None:
            return OutboundSendResult(False, redirected, retryable=False)
        if 200 <= response.status < 300:
            return OutboundSendResult(True, f"MDN delivered to {url} (HTTP {response.status})")
        return OutboundSendResult(False, f"{url} answered HTTP {response.status}", retryable=True)
