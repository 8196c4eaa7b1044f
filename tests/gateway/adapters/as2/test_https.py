"""Real AS2 exchanges over HTTPS, with private CAs on both sides.

edigate's server certificate comes from one CA, the partner's from another. The partner
(pyas2lib behind aiohttp) trusts our CA; our profile trusts the partner's through
``channels.as2.tls`` (a CA bundle or a pinned certificate), for our POSTs and for the async
MDNs we deliver. Without that trust, nothing is sent: the TLS failure is a retryable error
that names the cause.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from gateway.domain.runtime.lifecycle import State
from gateway.runtime import Gateway
from tests.gateway.adapters.as2.conftest import Identity
from tests.gateway.adapters.as2.harness import (
    SAMPLE_850,
    TlsFiles,
    as2_profile,
    by_message_id,
    edigate_as2,
    gateway_on_sqlite,
    make_tls_files,
    payloads,
    serve,
    write_profiles,
)
from tests.gateway.adapters.as2.outbound_kit import Setup, queue, start_setup, wait_state
from tests.support.pyas2_peer import as2, build, organization, partner, raw_http


@pytest.fixture(scope="module")
def our_tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp("our-tls"), "edigate")


@pytest.fixture(scope="module")
def peer_tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp("peer-tls"), "peer")


def verify_mdn(message: as2.Message, headers: dict[str, str], body: bytes) -> tuple[str, str | None]:
    status, detail = as2.Mdn().parse(raw_http(headers, body), find_message_cb=lambda _m, _r: message)
    return str(status), detail


@dataclass
class Inbound:
    gw: Gateway
    url: str


@pytest.fixture
async def inbound(
    tmp_path: Path, ours: Identity, peer: Identity, our_tls: TlsFiles, peer_tls: TlsFiles
) -> AsyncIterator[Inbound]:
    profile = as2_profile(
        partner_id="peer-co",
        as2_name="PEER-AS2",
        ours=ours,
        partner_certs=[peer.cert_path],
        tls={"ca_bundle": str(peer_tls.ca_path)},
    )
    directory = write_profiles(tmp_path / "partners", profile)
    async with (
        gateway_on_sqlite(tmp_path, directory, retry_backoff_seconds=0.05) as gw,
        edigate_as2(gw, our_tls.server_context()) as (_, url),
    ):
        assert url.startswith("https://")
        yield Inbound(gw, url)


async def test_inbound_over_https_with_a_sync_signed_mdn(
    inbound: Inbound, ours: Identity, peer: Identity, our_tls: TlsFiles
) -> None:
    org = organization("PEER-AS2", peer.key_pem, peer.cert_pem)
    receiver = partner(
        "EDIGATE-AS2", ours.cert_pem, sign=True, encrypt=True, mdn_mode="SYNC", mdn_digest_alg="sha256"
    )
    headers, body, message = build(org, receiver, SAMPLE_850, content_type="application/octet-stream")
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{inbound.url}/as2", headers=headers, data=body, ssl=our_tls.client_context()) as r,
    ):
        assert r.status == 200
        mdn_headers, mdn_body = dict(r.headers), await r.read()
    assert verify_mdn(message, mdn_headers, mdn_body) == ("processed", None)
    [edi] = await by_message_id(inbound.gw, message.message_id)
    assert await inbound.gw.store.payload_content(edi.id) == SAMPLE_850


async def test_async_mdn_delivered_to_an_https_url_trusted_by_the_profile(
    inbound: Inbound, ours: Identity, peer: Identity, our_tls: TlsFiles, peer_tls: TlsFiles
) -> None:
    received: list[tuple[dict[str, str], bytes]] = []

    async def collect(request: web.Request) -> web.Response:
        received.append((dict(request.headers), await request.read()))
        return web.Response(text="thanks")

    app = web.Application()
    app.router.add_post("/mdn", collect)
    async with serve(app, peer_tls.server_context()) as peer_url:
        org = organization("PEER-AS2", peer.key_pem, peer.cert_pem, mdn_url=f"{peer_url}/mdn")
        receiver = partner(
            "EDIGATE-AS2", ours.cert_pem, sign=True, encrypt=True, mdn_mode="ASYNC", mdn_digest_alg="sha256"
        )
        headers, body, message = build(org, receiver, SAMPLE_850)
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{inbound.url}/as2", headers=headers, data=body, ssl=our_tls.client_context()) as r,
        ):
            assert r.status == 200
        await inbound.gw.send_pending()
        [queued] = await payloads(inbound.gw, "peer-co", channel="as2-mdn")
        assert queued.state is State.SENT, queued.reason
    [(mdn_headers, mdn_body)] = received
    assert verify_mdn(message, mdn_headers, mdn_body) == ("processed", None)


@pytest.fixture
def https_setup(tmp_path: Path, ours: Identity, peer: Identity, our_tls: TlsFiles, peer_tls: TlsFiles) -> Any:
    async def start(stack: AsyncExitStack, **options: Any) -> Setup:
        return await start_setup(
            stack,
            tmp_path,
            ours,
            peer,
            receiver_expects={"sign": True, "encrypt": True},
            peer_tls=peer_tls,
            our_tls=our_tls,
            **options,
        )

    return start


@pytest.mark.parametrize("mdn_mode", ["sync", "async"])
async def test_outbound_to_an_https_partner_trusted_by_its_ca_bundle(
    https_setup: Any, peer_tls: TlsFiles, mdn_mode: str
) -> None:
    async with AsyncExitStack() as stack:
        s = await https_setup(
            stack, tls={"ca_bundle": str(peer_tls.ca_path)}, mdn={"mode": mdn_mode, "signed": True}
        )
        assert s.peer_url.startswith("https://")
        assert s.edigate_url.startswith("https://")  # the async MDN comes back over HTTPS too
        payload_id = await queue(s.gw)
        await s.gw.send_pending()
        await wait_state(s.gw, payload_id, State.DELIVERED)
        if mdn_mode == "async":
            await s.receiver.settled()
            assert s.receiver.async_posts == [200]
        [(message, status, _)] = s.receiver.received
        assert (status, message.content) == ("processed", SAMPLE_850)


async def test_outbound_to_an_https_partner_with_a_pinned_certificate(
    https_setup: Any, peer_tls: TlsFiles
) -> None:
    async with AsyncExitStack() as stack:
        s = await https_setup(stack, tls={"pinned_certificate": str(peer_tls.cert_path)})
        payload_id = await queue(s.gw)
        await s.gw.send_pending()
        await wait_state(s.gw, payload_id, State.DELIVERED)


@pytest.mark.parametrize("trust", ["none", "wrong-ca", "wrong-pin"])
async def test_an_untrusted_https_partner_gets_nothing_and_the_reason_says_why(
    https_setup: Any, our_tls: TlsFiles, trust: str
) -> None:
    tls = {
        "none": None,
        "wrong-ca": {"ca_bundle": str(our_tls.ca_path)},
        "wrong-pin": {"pinned_certificate": str(our_tls.cert_path)},
    }[trust]
    async with AsyncExitStack() as stack:
        s = await https_setup(stack, **({"tls": tls} if tls is not None else {}))
        payload_id = await queue(s.gw)
        await s.gw.send_pending()
        record = await s.gw.store.get_payload(payload_id)
        assert record is not None
        assert record.state is State.RECEIVED  # retried later, never lost
        assert s.receiver.received == []  # nothing reached the partner
        reason = (record.reason or "").lower()
        assert "certificate" in reason or "fingerprint" in reason, reason
