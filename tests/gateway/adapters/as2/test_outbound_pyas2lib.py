"""edigate sends to a pyas2lib-based receiver (aiohttp + pyas2lib) over real HTTP and verifies its MDNs.

The Sender worker drives the ``as2`` channel exactly as in production; the receiver parses
with pyas2lib and answers with pyas2lib's own MDNs, sync or async (to ``POST /as2/mdn``).
"""

from __future__ import annotations

import asyncio
import json
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from gateway.domain.runtime.lifecycle import Direction, State
from gateway.domain.runtime.records import ChannelMeta, NewPayload
from gateway.runtime import Gateway
from tests.gateway.adapters.as2.conftest import Identity
from tests.gateway.adapters.as2.harness import (
    SAMPLE_850,
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


@pytest.fixture
def make_setup(tmp_path: Path, ours: Identity, peer: Identity) -> Any:
    async def start(stack: Any, *, receiver_expects: dict[str, Any], **as2: Any) -> Setup:
        org = organization("PEER-AS2", peer.key_pem, peer.cert_pem)
        receiver = Pyas2Receiver(org, partner("EDIGATE-AS2", ours.cert_pem, **receiver_expects))
        app = web.Application()
        app.router.add_post("/as2", receiver.handle)
        peer_url = await stack.enter_async_context(serve(app))
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
        gw = await stack.enter_async_context(
            gateway_on_sqlite(tmp_path, directory, retry_backoff_seconds=0.05)
        )
        _, url = await stack.enter_async_context(edigate_as2(gw))
        if is_async:  # now that edigate's port is known, point the profile's async MDN URL at it
            write_profiles(directory, profile(f"{url}/as2/mdn"))
            assert not gw.registry.reload().problems
        return Setup(gw, receiver, url)

    return start


async def queue(gw: Gateway, content: bytes = SAMPLE_850) -> str:
    meta = ChannelMeta(
        channel="as2", partner_id="peer-co", filename="po-4711.x12", content_type="application/edi-x12"
    )
    [outcome] = await gw.store.save_payloads([NewPayload(content, meta, Direction.OUTBOUND)])
    return outcome.record.id


async def wait_state(gw: Gateway, payload_id: str, state: State, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        record = await gw.store.get_payload(payload_id)
        if record is not None and record.state is state:
            return
        await asyncio.sleep(0.05)
    record = await gw.store.get_payload(payload_id)
    raise AssertionError(f"payload {payload_id} is {record.state if record else None}, expected {state}")


async def last_event(gw: Gateway, payload_id: str) -> str:
    trail = await gw.store.audit_trail("payload", payload_id)
    return trail[-1].detail or ""


SYNC_MATRIX = [
    pytest.param({}, {"sign": True, "encrypt": True}, id="signed-encrypted-aes256"),
    pytest.param(
        {"encryption": "3des", "key_transport": "rsa_oaep_sha1"},
        {"sign": True, "encrypt": True},
        id="3des-oaep",
    ),
    pytest.param(
        {"encryption": "aes128_cbc", "compress": True}, {"sign": True, "encrypt": True}, id="compressed"
    ),
    pytest.param(
        {"signature_digest": "sha512", "signature_scheme": "pss"},
        {"sign": True, "encrypt": True},
        id="sha512-pss",
    ),
    pytest.param({"signature_digest": "sha1"}, {"sign": True, "encrypt": True}, id="sha1"),
    pytest.param(
        {"encrypt": False, "require_encrypted": False, "compress": True},
        {"sign": True},
        id="signed-compressed",
    ),
]


@pytest.mark.parametrize(("ours_options", "expects"), SYNC_MATRIX)
async def test_send_with_sync_signed_mdn(
    make_setup: Any, ours_options: dict[str, Any], expects: dict[str, Any]
) -> None:
    async with AsyncExitStack() as stack:
        s = await make_setup(stack, receiver_expects=expects, **ours_options)
        payload_id = await queue(s.gw)
        await s.gw.send_pending()
        [(message, status, exception)] = s.receiver.received
        assert status == "processed", exception
        assert message.content == SAMPLE_850  # pyas2lib got our bytes exactly
        record = await s.gw.store.get_payload(payload_id)
        assert record is not None
        assert record.state is State.SENT
        assert "MIC" in await last_event(s.gw, payload_id)
        sent = [e for e in await s.gw.store.audit_trail("payload", payload_id) if e.state == "as2-sent"]
        assert json.loads(sent[0].detail or "{}")["message_id"] == message.message_id


async def test_async_mdn_is_verified_and_marks_the_payload_delivered(make_setup: Any) -> None:
    async with AsyncExitStack() as stack:
        s = await make_setup(
            stack, receiver_expects={"sign": True, "encrypt": True}, mdn={"mode": "async", "signed": True}
        )
        payload_id = await queue(s.gw)
        await s.gw.send_pending()
        await wait_state(s.gw, payload_id, State.DELIVERED)
        assert s.receiver.async_posts == [200]
        assert "MIC" in await last_event(s.gw, payload_id)


async def test_mic_mismatch_in_the_mdn_fails_the_payload(make_setup: Any) -> None:
    async with AsyncExitStack() as stack:
        s = await make_setup(stack, receiver_expects={"sign": True, "encrypt": True})
        s.receiver.tamper_mic = True
        payload_id = await queue(s.gw)
        await s.gw.send_pending()
        record = await s.gw.store.get_payload(payload_id)
        assert record is not None
        assert record.state is State.FAILED
        assert "MIC mismatch" in await last_event(s.gw, payload_id)


async def test_negative_mdn_fails_the_payload_with_the_partners_reason(
    make_setup: Any, stranger: Identity
) -> None:
    async with AsyncExitStack() as stack:
        s = await make_setup(stack, receiver_expects={"sign": True, "encrypt": True})
        s.receiver.sender = partner(
            "EDIGATE-AS2", stranger.cert_pem, sign=True, encrypt=True
        )  # expects another key
        payload_id = await queue(s.gw)
        await s.gw.send_pending()
        record = await s.gw.store.get_payload(payload_id)
        assert record is not None
        assert record.state is State.FAILED
        assert "negative MDN" in await last_event(s.gw, payload_id)


async def test_http_failures_are_retried_then_sent(make_setup: Any) -> None:
    async with AsyncExitStack() as stack:
        s = await make_setup(
            stack,
            receiver_expects={"sign": True, "encrypt": True},
            retry={"limit": 3, "backoff_seconds": 0.05},  # the profile's policy, not a global one
        )
        s.receiver.answers = [503]
        payload_id = await queue(s.gw)
        await s.gw.send_pending()
        assert (await s.gw.store.get_payload(payload_id)).state is State.RECEIVED
        await asyncio.sleep(0.1)
        await s.gw.send_pending()
        await wait_state(s.gw, payload_id, State.SENT)


async def test_profile_retry_limit_fails_the_payload_and_keeps_it(make_setup: Any) -> None:
    async with AsyncExitStack() as stack:
        s = await make_setup(
            stack,
            receiver_expects={"sign": True, "encrypt": True},
            retry={"limit": 1, "backoff_seconds": 0.05},
        )
        s.receiver.answers = [503, 503, 503]
        payload_id = await queue(s.gw)
        for _ in range(3):
            await s.gw.send_pending()
            await asyncio.sleep(0.1)
        record = await s.gw.store.get_payload(payload_id)
        assert record is not None
        assert record.state is State.FAILED
        assert "retry limit 1" in await last_event(s.gw, payload_id)
        assert s.receiver.answers == [503]  # two attempts were made: the first and one retry
        assert await s.gw.store.payload_content(payload_id) == SAMPLE_850  # never lost; resendable
