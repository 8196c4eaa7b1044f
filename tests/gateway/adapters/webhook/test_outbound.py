"""The ``webhook`` PartnerChannel driven by the gateway's real Sender worker, against a local partner."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import socket
import time
from collections.abc import Mapping
from pathlib import Path

from gateway.adapters.webhook import WebhookPartnerChannel
from gateway.domain.runtime.lifecycle import Direction, State
from gateway.domain.runtime.records import ChannelMeta, NewPayload, PayloadRecord
from gateway.domain.usecases.registry import ProfileRegistry
from gateway.runtime import Gateway

from .conftest import OUTBOUND_SECRET, REPO, Endpoint, PartnerPeer

ORDER = b'{"order": "WO-55812", "lines": [{"sku": "TSHIRT-BLK-M", "quantity": 120}]}'


async def _outbound(gateway: Gateway, body: bytes = ORDER) -> str:
    meta = ChannelMeta(
        "webhook",
        "swift-3pl",
        filename="swift-3pl-warehouse_order_json.json",
        content_type="application/json",
        document_type="warehouse_order_json",
    )
    [outcome] = await gateway.store.save_payloads([NewPayload(body, meta, Direction.OUTBOUND)])
    gateway.sender_wake.set()
    return outcome.record.id


async def _settled(gateway: Gateway, payload_id: str, timeout: float = 15.0) -> PayloadRecord:
    deadline = time.monotonic() + timeout
    while True:
        record = await gateway.store.get_payload(payload_id)
        assert record is not None
        if record.state in (State.SENT, State.FAILED) or time.monotonic() > deadline:
            return record
        await asyncio.sleep(0.05)


def _signed_correctly(headers: Mapping[str, str], body: bytes) -> bool:
    """Checked with hmac directly, not with the adapter's own verify."""
    stamp = headers["X-Edigate-Timestamp"]
    expected = hmac.new(OUTBOUND_SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert abs(int(stamp) - time.time()) < 60
    return bool(headers["X-Edigate-Signature"] == f"v1={expected}")


async def test_503_then_429_with_retry_after_then_success_ends_sent(
    endpoint: Endpoint, gateway: Gateway, partner: PartnerPeer
) -> None:
    partner.script = [(503, {}), (429, {"Retry-After": "1"})]
    profile = gateway.registry.current.get("swift-3pl")
    assert profile is not None
    assert gateway.channel_for(profile) == "webhook"  # registered by install_webhook
    await gateway.start()
    payload_id = await _outbound(gateway)
    record = await _settled(gateway, payload_id)
    assert record.state is State.SENT, record.reason
    assert len(partner.requests) == 3
    for request in partner.requests:
        assert request.body == ORDER
        assert _signed_correctly(request.headers, request.body)
        assert request.headers["Idempotency-Key"] == payload_id
        assert request.headers["Content-Type"] == "application/json"
    first, second, third = (r.at for r in partner.requests)
    assert second - first >= 0.2  # the profile's backoff_seconds before retry 1
    assert third - second >= 1.0  # the partner's Retry-After, longer than the profile's 0.4 s
    detail = await gateway.store.payload_detail(payload_id)
    assert detail is not None
    trail = " | ".join(str(e.detail) for e in detail["audit"])
    assert "HTTP 200 from http://127.0.0.1" in trail


async def test_the_profile_retry_limit_fails_the_payload_and_a_resend_delivers_it(
    endpoint: Endpoint, gateway: Gateway, partner: PartnerPeer
) -> None:
    partner.script = [(503, {})] * 4  # the first attempt and the profile's 3 retries
    await gateway.start()
    payload_id = await _outbound(gateway)
    record = await _settled(gateway, payload_id)
    assert record.state is State.FAILED
    assert "retry limit 3 of the profile reached" in (record.reason or "")
    assert len(partner.requests) == 4
    await gateway.outbound.resend(payload_id, False, "partner is back", "support")
    record = await _settled(gateway, payload_id)
    assert record.state is State.SENT, record.reason
    assert len(partner.requests) == 5
    assert {r.headers["Idempotency-Key"] for r in partner.requests} == {payload_id}


async def test_a_408_request_timeout_is_retried_after_the_profile_backoff(
    endpoint: Endpoint, gateway: Gateway, partner: PartnerPeer
) -> None:
    partner.script = [(408, {}), (408, {})]
    await gateway.start()
    payload_id = await _outbound(gateway)
    record = await _settled(gateway, payload_id)
    assert record.state is State.SENT, record.reason
    assert len(partner.requests) == 3
    first, second, third = (r.at for r in partner.requests)
    assert second - first >= 0.2  # backoff_seconds before retry 1
    assert third - second >= 0.4  # times the multiplier (2) before retry 2
    assert all(_signed_correctly(r.headers, r.body) for r in partner.requests)


async def test_a_4xx_other_than_408_or_429_is_not_retried(
    endpoint: Endpoint, gateway: Gateway, partner: PartnerPeer
) -> None:
    partner.script = [(400, {})]
    await gateway.start()
    payload_id = await _outbound(gateway)
    record = await _settled(gateway, payload_id)
    assert record.state is State.FAILED
    assert "HTTP 400 from http://127.0.0.1" in (record.reason or "")
    assert len(partner.requests) == 1


async def test_a_refused_connection_is_retryable_with_the_profile_policy(
    gateway: Gateway, partner: PartnerPeer, partners_dir: Path, tmp_path: Path
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    text = (partners_dir / "swift-3pl.yaml").read_text().replace(partner.url, f"http://127.0.0.1:{port}/hook")
    folder = tmp_path / "closed"
    folder.mkdir()
    (folder / "swift-3pl.yaml").write_text(text)
    channel = WebhookPartnerChannel(gateway.store, ProfileRegistry(folder, REPO / "mappings"))
    try:
        result = await channel.send("swift-3pl", await _outbound(gateway), ORDER, "order.json")
        assert (result.ok, result.retryable, result.retry_after) == (False, True, None)
        policy = channel.retry_policy("swift-3pl")  # the Sender waits by the profile's policy
        assert policy is not None
        assert (policy.limit, policy.delay(1)) == (3, 0.2)
        assert f"POST to http://127.0.0.1:{port} failed" in result.detail
        unknown = await channel.send("nobody", "p-1", ORDER, "order.json")
        assert (unknown.ok, unknown.retryable) == (False, False)
    finally:
        await channel.close()
