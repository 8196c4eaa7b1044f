"""A real gateway with the webhook channel on 127.0.0.1, and a scripted partner HTTP server.

``gateway`` is :class:`gateway.runtime.Gateway` on a temporary SQLite store and file
spool, with the swift-3pl profile adapted (its outbound URL points at ``partner``, small
retry delays, an 8 KiB body limit). ``endpoint`` serves the webhook routes
(``install_webhook``) on an aiohttp application; tests talk to it with a real
``aiohttp.ClientSession``.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from aiohttp import web

from gateway.adapters.webhook import WebhookInstall, install_webhook, signed_headers
from gateway.config import ChannelSettings, PipelineSettings, Settings
from gateway.runtime import Gateway

REPO = Path(__file__).resolve().parents[4]
INBOUND_SECRET = "whsec-inbound-3f9c2a7d11e04b6f"
OUTBOUND_SECRET = "whsec-outbound-8a1d5e0c9b7f4432"
SHIPMENT = (REPO / "fixtures/runtime/swift-3pl-shipment.json").read_bytes()
MAX_BODY = 8192


@dataclass
class Received:
    at: float
    headers: Mapping[str, str]
    body: bytes


@dataclass
class PartnerPeer:
    """The partner's endpoint: answers each POST with the next scripted (status, headers)."""

    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.requests.append(Received(time.monotonic(), dict(request.headers), body))
        status, headers = self.script.pop(0) if self.script else (200, {})
        return web.json_response({"received": len(self.requests)}, status=status, headers=headers)


@pytest.fixture
async def partner() -> AsyncIterator[PartnerPeer]:
    peer = PartnerPeer()
    app = web.Application()
    app.router.add_post("/v2/warehouse-orders", peer.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    peer.url = f"http://127.0.0.1:{port}/v2/warehouse-orders"
    yield peer
    await runner.cleanup()


@pytest.fixture
def partners_dir(tmp_path: Path, partner: PartnerPeer, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SWIFT_3PL_INBOUND_SECRET", INBOUND_SECRET)
    monkeypatch.setenv("SWIFT_3PL_OUTBOUND_SECRET", OUTBOUND_SECRET)
    profile: dict[str, Any] = yaml.safe_load((REPO / "partners/swift-3pl.yaml").read_text())
    webhook = profile["channels"]["webhook"]
    webhook["inbound"]["max_body_bytes"] = MAX_BODY
    webhook["outbound"]["url"] = partner.url
    webhook["outbound"]["retry"] = {"limit": 3, "backoff_seconds": 0.2, "max_backoff_seconds": 5}
    folder = tmp_path / "partners"
    folder.mkdir()
    (folder / "swift-3pl.yaml").write_text(yaml.safe_dump(profile, sort_keys=False))
    return folder


@pytest.fixture
async def gateway(tmp_path: Path, partners_dir: Path) -> AsyncIterator[Gateway]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/gateway.db",
        partners_dir=partners_dir,
        mappings_dir=REPO / "mappings",
        var_dir=tmp_path / "var",
        spool_dir=tmp_path / "spool",
        filedrop_dir=tmp_path / "filedrop",
        pipeline=PipelineSettings(poll_seconds=0.05, lease_seconds=30),
        channels=ChannelSettings(send_via_partner_channels=True),
        instance_id="webhook-tests",
    )
    gw = await Gateway.open(settings)
    await gw.destination.start()
    yield gw
    await gw.stop()


@dataclass
class Endpoint:
    base: str
    installed: WebhookInstall
    session: aiohttp.ClientSession

    def url(self, partner_id: str = "swift-3pl", document_type: str = "shipment_confirmation_json") -> str:
        return f"{self.base}/webhooks/{partner_id}/{document_type}"

    async def post(
        self,
        body: bytes,
        *,
        url: str | None = None,
        secret: str = INBOUND_SECRET,
        timestamp: float | None = None,
        key: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, Any], Mapping[str, str]]:
        sent = {"Content-Type": "application/json"}
        sent.update(signed_headers([secret.encode()], body, time.time() if timestamp is None else timestamp))
        if key is not None:
            sent["Idempotency-Key"] = key
        sent.update(headers or {})
        async with self.session.post(url or self.url(), data=body, headers=sent) as response:
            return response.status, json.loads(await response.read()), response.headers


@pytest.fixture
async def endpoint(gateway: Gateway) -> AsyncIterator[Endpoint]:
    app = web.Application()
    installed = install_webhook(
        app,
        store=gateway.store,
        profiles=gateway.registry,
        mapper=gateway.mapper,
        receive=gateway.receive,
        channels=gateway.channels,
        max_payload_bytes=gateway.settings.pipeline.max_payload_bytes,
    )
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    async with aiohttp.ClientSession() as session:
        yield Endpoint(f"http://127.0.0.1:{port}", installed, session)
    await runner.cleanup()
