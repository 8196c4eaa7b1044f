"""The composition root's wiring: ``build_web_app`` mounts the webhook endpoint and registers the channel."""

from __future__ import annotations

import time

import aiohttp
from aiohttp import web

from gateway.adapters.metrics import Metrics
from gateway.adapters.webhook import WebhookPartnerChannel, signed_headers
from gateway.app import build_web_app
from gateway.runtime import Gateway

from .conftest import INBOUND_SECRET, SHIPMENT


async def test_webhooks_on_the_admin_app_need_no_bearer_token_and_get_its_middleware(
    gateway: Gateway,
) -> None:
    app = build_web_app(gateway, Metrics())
    assert isinstance(gateway.channels["webhook"], WebhookPartnerChannel)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/webhooks/swift-3pl/shipment_confirmation_json"
    try:
        async with aiohttp.ClientSession() as session:
            headers = signed_headers([INBOUND_SECRET.encode()], SHIPMENT, time.time())
            async with session.post(url, data=SHIPMENT, headers=headers) as response:
                assert response.status == 202
                assert response.headers["X-Correlation-ID"]
                minted = response.headers["X-Correlation-ID"]  # no header sent: the middleware made one
                body = await response.json()
            traced = {**headers, "X-Correlation-ID": "erp-run-2026-11-20/17"}
            other = SHIPMENT.replace(b"WO-55812", b"WO-55877")
            traced.update(signed_headers([INBOUND_SECRET.encode()], other, time.time()))
            async with session.post(url, data=other, headers=traced) as response:
                assert response.status == 202
                assert response.headers["X-Correlation-ID"] == "erp-run-2026-11-20/17"
                second = await response.json()
            async with session.post(url, data=SHIPMENT) as response:
                assert response.status == 401
                assert "WWW-Authenticate" not in response.headers  # not a bearer-token realm
    finally:
        await runner.cleanup()
    record = await gateway.store.get_payload(body["message_id"])
    assert record is not None
    assert record.correlation_id == body["correlation_id"] == minted  # logs and payload share it
    traced_record = await gateway.store.get_payload(second["message_id"])
    assert traced_record is not None
    assert traced_record.correlation_id == "erp-run-2026-11-20/17"
