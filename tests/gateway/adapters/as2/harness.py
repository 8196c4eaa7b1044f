"""Building blocks for the AS2 HTTP tests: partner profiles on disk, a gateway on SQLite,
and aiohttp applications served on 127.0.0.1 (random ports)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

from gateway.adapters.as2 import As2Install, install_as2
from gateway.config import Settings
from gateway.domain.runtime.lifecycle import Direction, State
from gateway.domain.runtime.records import PayloadRecord
from gateway.domain.runtime.store import MessageFilter
from gateway.runtime import Gateway
from tests.gateway.adapters.as2.conftest import Identity

REPO = Path(__file__).resolve().parents[4]
SAMPLE_850 = (REPO / "fixtures/x12/sample-850.edi").read_bytes()


def as2_profile(
    *,
    partner_id: str,
    as2_name: str,
    ours: Identity,
    partner_certs: list[Path],
    url: str = "http://127.0.0.1:9/as2",
    isa_id: str = "ACMERETAIL",
    **as2: Any,
) -> dict[str, Any]:
    channel: dict[str, Any] = {
        "url": url,
        "our_as2_id": "EDIGATE-AS2",
        "our_key": f"file:{ours.key_path}",
        "our_certificate": {"path": str(ours.cert_path)},
        "partner_certificates": [{"path": str(p)} for p in partner_certs],
    }
    channel.update(as2)
    return {
        "partner_id": partner_id,
        "name": f"{partner_id} (test)",
        "environment": "production",
        "identity": {"isa_qualifier": "ZZ", "isa_id": isa_id, "as2_name": as2_name},
        "channels": {"as2": channel},
        "documents": [
            {
                "direction": "inbound",
                "type": "850",
                "format": "x12",
                "version": "004010",
                "mapping": {"variant": "x12-850-004010"},
                "ack": {"type": "none"},
            },
            {"direction": "outbound", "type": "855", "format": "x12", "version": "004010"},
        ],
        "routing": {"850": ["erp"]},
    }


def write_profiles(directory: Path, *profiles: dict[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for profile in profiles:
        (directory / f"{profile['partner_id']}.yaml").write_text(yaml.safe_dump(profile, sort_keys=False))
    return directory


@asynccontextmanager
async def gateway_on_sqlite(tmp_path: Path, partners_dir: Path, **pipeline: Any) -> AsyncIterator[Gateway]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/gateway.db",
        partners_dir=partners_dir,
        mappings_dir=REPO / "mappings",
        var_dir=tmp_path / "var",
        spool_dir=tmp_path / "spool",
        filedrop_dir=tmp_path / "filedrop",
        pipeline={"poll_seconds": 0.05, **pipeline},
    )
    gw = await Gateway.open(settings)
    await gw.destination.start()
    try:
        yield gw
    finally:
        await gw.stop()


@asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    """Run ``app`` on 127.0.0.1 (a free port); yields the base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    assert server is not None
    port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def edigate_as2(gw: Gateway) -> AsyncIterator[tuple[As2Install, str]]:
    """The gateway's AS2 endpoints on a real port, with its channels registered."""
    app = web.Application()
    as2 = install_as2(
        app,
        store=gw.store,
        profiles=gw.registry,
        receive=gw.receive,
        channels=gw.channels,
        wake_sender=gw.sender_wake.set,
    )
    async with serve(app) as url:
        yield as2, url


async def payloads(gw: Gateway, partner_id: str | None = None, **flt: Any) -> list[PayloadRecord]:
    return await gw.store.list_payloads(MessageFilter(partner_id=partner_id, limit=500, **flt))


async def routable(gw: Gateway, partner_id: str) -> list[PayloadRecord]:
    """Inbound payloads the pipeline would process (state received)."""
    return await payloads(gw, partner_id, state=State.RECEIVED, direction=Direction.INBOUND)


async def by_message_id(gw: Gateway, message_id: str) -> list[PayloadRecord]:
    """Inbound EDI payloads stored for an AS2 Message-ID (any partner, any state)."""
    found = await payloads(gw, direction=Direction.INBOUND, channel="as2")
    return [p for p in found if p.meta.get("as2_message_id") == message_id]


async def transmissions(gw: Gateway, message_id: str, channel: str = "as2") -> list[PayloadRecord]:
    """Payloads whose stored AS2 headers carry ``message_id`` (EDI, archive or rejected copies)."""
    found = await payloads(gw, channel=channel)
    return [p for p in found if p.meta.get("headers", {}).get("message-id", "").strip("<>") == message_id]
