"""edigate sending to a pyas2lib receiver: the setup shared by the outbound AS2 tests.

``start_setup`` serves a :class:`Pyas2Receiver` (HTTP, or HTTPS with ``peer_tls``), writes a
profile ``peer-co`` whose AS2 URL points at it, opens a gateway on SQLite and serves
edigate's AS2 endpoints (HTTPS with ``our_tls``), so async MDNs come back over the wire.
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from gateway.adapters.as2 import As2Install
from gateway.domain.runtime.lifecycle import Direction, State
from gateway.domain.runtime.records import ChannelMeta, NewPayload, PayloadRecord
from gateway.domain.runtime.store import MessageFilter
from gateway.runtime import Gateway
from tests.gateway.adapters.as2.conftest import Identity
from tests.gateway.adapters.as2.harness import (
    SAMPLE_850,
    TlsFiles,
    as2_profile,
    edigate_as2,
    gateway_on_sqlite,
    serve,
    write_profiles,
)
from tests.support.pyas2_peer import Pyas2Receiver, organization, partner


@dataclass
class Setup:
    gw: Gateway
    receiver: Pyas2Receiver
    edigate_url: str
    peer_url: str
    as2: As2Install


async def start_setup(
    stack: AsyncExitStack,
    tmp_path: Path,
    ours: Identity,
    peer: Identity,
    *,
    receiver_expects: dict[str, Any],
    peer_tls: TlsFiles | None = None,
    our_tls: TlsFiles | None = None,
    mdn_scan_seconds: float = 30.0,
    **as2: Any,
) -> Setup:
    org = organization("PEER-AS2", peer.key_pem, peer.cert_pem)
    receiver = Pyas2Receiver(org, partner("EDIGATE-AS2", ours.cert_pem, **receiver_expects))
    if our_tls is not None:
        receiver.mdn_ssl = our_tls.client_context()
    app = web.Application()
    app.router.add_post("/as2", receiver.handle)
    peer_url = await stack.enter_async_context(
        serve(app, peer_tls.server_context() if peer_tls is not None else None)
    )
    directory = tmp_path / "partners"

    def profile(async_url: str | None) -> dict[str, Any]:
        channel = dict(as2)
        if async_url is not None:
            channel["mdn"] = {**channel.get("mdn", {}), "async_url": async_url}
        return as2_profile(
            partner_id="peer-co",
            as2_name="PEER-AS2",
            ours=ours,
            partner_certs=[peer.cert_path],
            url=f"{peer_url}/as2",
            **channel,
        )

    is_async = as2.get("mdn", {}).get("mode") == "async"
    write_profiles(directory, profile("http://127.0.0.1:9/as2/mdn" if is_async else None))
    gw = await stack.enter_async_context(gateway_on_sqlite(tmp_path, directory, retry_backoff_seconds=0.05))
    installed, url = await stack.enter_async_context(
        edigate_as2(
            gw, our_tls.server_context() if our_tls is not None else None, mdn_scan_seconds=mdn_scan_seconds
        )
    )
    if is_async:  # now that edigate's port is known, point the profile's async MDN URL at it
        write_profiles(directory, profile(f"{url}/as2/mdn"))
        assert not gw.registry.reload().problems
    return Setup(gw, receiver, url, peer_url, installed)


async def queue(gw: Gateway, content: bytes = SAMPLE_850, partner_id: str = "peer-co") -> str:
    """An outbound payload on channel ``as2``, as the Sender would find it."""
    meta = ChannelMeta(
        channel="as2", partner_id=partner_id, filename="po-4711.x12", content_type="application/edi-x12"
    )
    [outcome] = await gw.store.save_payloads([NewPayload(content, meta, Direction.OUTBOUND)])
    return outcome.record.id


async def wait_state(gw: Gateway, payload_id: str, state: State, timeout: float = 10.0) -> PayloadRecord:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        record = await gw.store.get_payload(payload_id)
        if record is not None and record.state is state:
            return record
        await asyncio.sleep(0.05)
    record = await gw.store.get_payload(payload_id)
    raise AssertionError(
        f"payload {payload_id} is {record.state if record else None} ({record and record.reason}), "
        f"expected {state}"
    )


async def last_event(gw: Gateway, payload_id: str) -> str:
    trail = await gw.store.audit_trail("payload", payload_id)
    return trail[-1].detail or ""


async def kept_mdns(gw: Gateway, payload_id: str | None = None) -> list[PayloadRecord]:
    """The MDNs stored as received (inbound, channel as2-mdn), for one payload when given."""
    found = await gw.store.list_payloads(
        MessageFilter(channel="as2-mdn", direction=Direction.INBOUND, limit=500)
    )
    if payload_id is None:
        return found
    return [p for p in found if p.meta.get("headers", {}).get("answers-payload") == payload_id]
