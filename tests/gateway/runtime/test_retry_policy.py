"""Retries of outbound sends follow the partner's retry policy, counted in the store: a restart neither
forgets attempts nor grants new ones. Channels without a policy (the file drop) use the gateway-wide
defaults."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web

from gateway.adapters.webhook import install_webhook
from gateway.config import ChannelSettings, PipelineSettings, Settings
from gateway.domain.runtime.lifecycle import Direction, State, Step
from gateway.domain.runtime.records import ChannelMeta, NewPayload
from gateway.runtime import Gateway

from .helpers import REPO


@dataclass
class Refusing:
    """A partner endpoint that answers 503 to everything, and counts the attempts."""

    url: str = ""
    attempts: list[float] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        await request.read()
        self.attempts.append(asyncio.get_running_loop().time())
        return web.Response(status=503, text="down for maintenance")


@pytest.fixture
async def refusing() -> AsyncIterator[Refusing]:
    peer = Refusing()
    app = web.Application()
    app.router.add_post("/hook", peer.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    peer.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    yield peer
    await runner.cleanup()


def _settings(tmp_path: Path, partners: Path, **pipeline: Any) -> Settings:
    return Settings(
        database_url=f"sqlite:///{tmp_path}/gateway.db",
        partners_dir=partners,
        mappings_dir=REPO / "mappings",
        var_dir=tmp_path / "var",
        spool_dir=tmp_path / "spool",
        filedrop_dir=tmp_path / "filedrop",
        pipeline=PipelineSettings(**pipeline),
        channels=ChannelSettings(send_via_partner_channels=True),
    )


async def _opened(settings: Settings) -> Gateway:
    gateway = await Gateway.open(settings)
    install_webhook(  # registers the webhook channel, as `edigate serve` does
        web.Application(),
        store=gateway.store,
        profiles=gateway.registry,
        mapper=gateway.mapper,
        receive=gateway.receive,
        channels=gateway.channels,
        max_payload_bytes=1024 * 1024,
    )
    return gateway


async def _attempt(gateway: Gateway, wait: float) -> None:
    await asyncio.sleep(wait)
    await gateway.send_pending()


async def test_the_profile_limit_governs_and_survives_a_restart(
    tmp_path: Path, refusing: Refusing, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SWIFT_3PL_INBOUND_SECRET", "in-secret")
    monkeypatch.setenv("SWIFT_3PL_OUTBOUND_SECRET", "out-secret")
    profile: dict[str, Any] = yaml.safe_load((REPO / "partners/swift-3pl.yaml").read_text())
    profile["channels"]["webhook"]["outbound"]["url"] = refusing.url
    profile["channels"]["webhook"]["outbound"]["retry"] = {"limit": 2, "backoff_seconds": 0.3}
    partners = tmp_path / "partners"
    partners.mkdir()
    (partners / "swift-3pl.yaml").write_text(yaml.safe_dump(profile))
    # the gateway-wide default would allow one attempt only: the profile's limit must govern
    settings = _settings(tmp_path, partners, max_attempts=1, retry_backoff_seconds=60)
    gateway = await _opened(settings)
    meta = ChannelMeta("webhook", "swift-3pl", filename="order.json", content_type="application/json")
    [outcome] = await gateway.store.save_payloads([NewPayload(b'{"order": 1}', meta, Direction.OUTBOUND)])
    pid = outcome.record.id
    await gateway.send_pending()
    record = await gateway.store.get_payload(pid)
    assert record is not None
    assert (record.state, record.attempts) == (State.RECEIVED, 1)  # waiting for retry 1
    await _attempt(gateway, 0.0)
    assert len(refusing.attempts) == 1  # not before the profile's backoff
    await gateway.stop()

    gateway = await _opened(settings)  # a restart: a new process with new channel objects
    try:
        await _attempt(gateway, 0.35)
        assert len(refusing.attempts) == 2
        await _attempt(gateway, 0.7)  # retry 2 after 0.6 s (backoff doubled)
        record = await gateway.store.get_payload(pid)
        assert record is not None
        assert (record.state, record.failed_step) == (State.FAILED, Step.SEND)
        assert "gave up after 3 attempt(s)" in (record.reason or "")
        assert "retry limit 2 of the profile reached" in (record.reason or "")
        assert len(refusing.attempts) == 3  # the first attempt and the profile's two retries, no more
        assert refusing.attempts[2] - refusing.attempts[1] >= 0.6
        await _attempt(gateway, 1.0)
        assert len(refusing.attempts) == 3
        await gateway.outbound.resend(pid, False, "partner back", "support")  # a resend starts afresh
        await gateway.send_pending()
        assert len(refusing.attempts) == 4
        record = await gateway.store.get_payload(pid)
        assert record is not None
        assert (record.state, record.attempts) == (State.RECEIVED, 1)
    finally:
        await gateway.stop()


async def test_the_file_drop_uses_the_gateway_defaults_counted_across_a_restart(tmp_path: Path) -> None:
    blocked = tmp_path / "filedrop"
    blocked.write_text("a file where the directory should be")  # every write fails, retryably
    settings = _settings(tmp_path, REPO / "partners", max_attempts=3, retry_backoff_seconds=0.1)
    settings = settings.model_copy(update={"channels": ChannelSettings()})
    gateway = await Gateway.open(settings)
    assert gateway.channels["filedrop"].retry_policy("acme-retail") is None
    meta = ChannelMeta("filedrop", "acme-retail", filename="x.x12")
    [outcome] = await gateway.store.save_payloads([NewPayload(b"ISA*x", meta, Direction.OUTBOUND)])
    pid = outcome.record.id
    await gateway.send_pending()
    await gateway.stop()
    gateway = await Gateway.open(settings)
    try:
        await _attempt(gateway, 0.15)
        await _attempt(gateway, 0.25)
        record = await gateway.store.get_payload(pid)
        assert record is not None
        assert record.state is State.FAILED
        assert "gave up after 3 attempt(s)" in (record.reason or "")
        assert "retry limit 2 of the gateway's default policy reached" in (record.reason or "")
    finally:
        await gateway.stop()
