"""What the MDNs of a pyas2lib receiver do to the payloads we send: every shape of receipt.

Sync MDNs that arrive in pieces, unsigned messages (``sign: false``, no MIC returned),
unsigned receipts, and async receipts that are negative, carry a wrong MIC, are signed by
the wrong key, are unsigned when a signed one was asked for, are malformed, are addressed
to someone else, or never come. Each ends in a stated payload state with its reason, and
every MDN is kept as received.
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gateway.adapters.as2.verdicts import expire_overdue
from gateway.domain.runtime.lifecycle import State
from tests.gateway.adapters.as2.conftest import Identity
from tests.gateway.adapters.as2.harness import SAMPLE_850
from tests.gateway.adapters.as2.outbound_kit import (
    Setup,
    kept_mdns,
    last_event,
    queue,
    start_setup,
    wait_state,
)
from tests.support.pyas2_peer import as2, organization

SIGNED_ENCRYPTED = {"sign": True, "encrypt": True}
ASYNC_SIGNED = {"mode": "async", "signed": True}


@pytest.fixture
def make_setup(tmp_path: Path, ours: Identity, peer: Identity) -> Any:
    async def start(stack: AsyncExitStack, **options: Any) -> Setup:
        return await start_setup(stack, tmp_path, ours, peer, **options)

    return start


def mdn_fields(content: bytes) -> str:
    return content.decode("latin-1").lower()


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
async def test_a_sync_mdn_written_in_pieces_with_pauses_is_read_whole(make_setup: Any, chunked: bool) -> None:
    async with AsyncExitStack() as stack:
        s = await make_setup(stack, receiver_expects=SIGNED_ENCRYPTED)
        s.receiver.chunk_delay = 0.15  # four writes, 0.15 s apart: several TCP segments
        s.receiver.chunked = chunked
        payload_id = await queue(s.gw)
        await s.gw.send_pending()
        record = await wait_state(s.gw, payload_id, State.DELIVERED)
        assert "MIC" in (await last_event(s.gw, payload_id)), record.reason
        [mdn] = await kept_mdns(s.gw, payload_id)
        kept = await s.gw.store.payload_content(mdn.id)
        assert b"received-content-mic" in kept.lower()  # the whole signed MDN, not its first segment


@pytest.mark.parametrize(
    "mdn",
    [
        {"mode": "sync", "signed": True},
        {"mode": "sync", "signed": False},
        {"mode": "async", "signed": True},
        {"mode": "async", "signed": False},
    ],
    ids=["sync-signed-mdn", "sync-unsigned-mdn", "async-signed-mdn", "async-unsigned-mdn"],
)
async def test_unsigned_messages_are_delivered_without_a_returned_mic(
    make_setup: Any, mdn: dict[str, Any]
) -> None:
    async with AsyncExitStack() as stack:
        s = await make_setup(
            stack,
            receiver_expects={"sign": False, "encrypt": True},
            sign=False,
            require_signed=False,
            mdn=mdn,
        )
        payload_id = await queue(s.gw)
        await s.gw.send_pending()
        await wait_state(s.gw, payload_id, State.DELIVERED)
        [(message, status, exception)] = s.receiver.received
        assert status == "processed", exception
        assert message.content == SAMPLE_850
        assert message.mic is None  # pyas2lib computes and returns no MIC for an unsigned message
        assert "no MIC returned (the message was not signed)" in await last_event(s.gw, payload_id)
        [kept] = await kept_mdns(s.gw, payload_id)
        content = await s.gw.store.payload_content(kept.id)
        assert b"received-content-mic" not in content.lower()
        assert (b"multipart/signed" in content) is mdn["signed"]


async def test_a_signed_message_with_an_unsigned_async_receipt(make_setup: Any) -> None:
    async with AsyncExitStack() as stack:
        s = await make_setup(stack, receiver_expects=SIGNED_ENCRYPTED, mdn={"mode": "async", "signed": False})
        payload_id = await queue(s.gw)
        await s.gw.send_pending()
        await wait_state(s.gw, payload_id, State.DELIVERED)
        assert "MIC" in await last_event(s.gw, payload_id)  # pyas2lib returned it: it is compared


async def _async_outcome(s: Setup) -> tuple[str, str]:
    payload_id = await queue(s.gw)
    await s.gw.send_pending()
    record = await wait_state(s.gw, payload_id, State.FAILED)
    await s.receiver.settled()
    assert await s.gw.store.payload_content(payload_id) == SAMPLE_850  # kept, resendable
    return payload_id, record.reason or ""


async def _sent_awaiting_mdn(s: Setup) -> str:
    """A payload sent to a receiver that holds back its async MDN: ``sent``, awaiting it."""
    s.receiver.drop_async = True
    payload_id = await queue(s.gw)
    await s.gw.send_pending()
    await wait_state(s.gw, payload_id, State.SENT)
    return payload_id


async def test_a_negative_async_mdn_fails_the_payload(make_setup: Any) -> None:
    async with AsyncExitStack() as stack:
        s = await make_setup(stack, receiver_expects=SIGNED_ENCRYPTED, mdn=ASYNC_SIGNED)
        s.receiver.negative = "decryption-failed"
        payload_id, reason = await _async_outcome(s)
        assert "negative MDN from the partner" in reason
        assert "decryption-failed" in reason
        assert s.receiver.async_posts == [200]  # a verified negative MDN is accepted as a receipt
        [kept] = await kept_mdns(s.gw, payload_id)
        assert kept.state is State.DELIVERED


async def test_an_async_mdn_with_a_wrong_mic_fails_the_payload(make_setup: Any) -> None:
    async with AsyncExitStack() as stack:
        s = await make_setup(stack, receiver_expects=SIGNED_ENCRYPTED, mdn=ASYNC_SIGNED)
        s.receiver.tamper_mic = True
        _, reason = await _async_outcome(s)
        assert "MIC mismatch" in reason


@pytest.mark.parametrize(
    ("knob", "status", "words"),
    [
        ("mdn_signer", 401, "authentication-failed"),
        ("unsigned_mdn", 403, "insufficient-message-security"),
        ("garbage_mdn", 400, "unexpected-processing-error"),
    ],
    ids=["signed-by-a-stranger", "unsigned-when-signed-asked", "malformed"],
)
async def test_a_refused_async_mdn_is_recorded_on_the_payload(
    make_setup: Any, stranger: Identity, knob: str, status: int, words: str
) -> None:
    async with AsyncExitStack() as stack:
        s = await make_setup(stack, receiver_expects=SIGNED_ENCRYPTED, mdn=ASYNC_SIGNED)
        if knob == "mdn_signer":
            s.receiver.mdn_signer = organization("PEER-AS2", stranger.key_pem, stranger.cert_pem)
        else:
            setattr(s.receiver, knob, True)
        payload_id, reason = await _async_outcome(s)
        assert s.receiver.async_posts == [status]
        assert reason.startswith("the async MDN was refused: ")
        assert words in reason
        [kept] = await kept_mdns(s.gw, payload_id)  # the refused MDN, as received, for support
        assert kept.state is State.REJECTED
        assert words in (kept.reason or "")


async def test_an_async_mdn_addressed_to_another_as2_id_is_refused(make_setup: Any) -> None:
    async with AsyncExitStack() as stack:
        s = await make_setup(stack, receiver_expects=SIGNED_ENCRYPTED, mdn=ASYNC_SIGNED)
        payload_id = await _sent_awaiting_mdn(s)
        [(message, status, _)] = s.receiver.received
        assert status == "processed"
        mdn = as2.Mdn(mdn_mode="ASYNC", digest_alg="sha256")
        mdn.build(message=message, status="processed")
        headers = {k: str(v) for k, v in mdn.headers.items()}
        headers["AS2-To"] = "SOMEONE-ELSE"
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{s.edigate_url}/as2/mdn", headers=headers, data=mdn.content) as r,
        ):
            assert r.status == 403
            assert "SOMEONE-ELSE" in await r.text()
        await wait_state(s.gw, payload_id, State.SENT, timeout=0.5)  # still awaiting its MDN
        headers["AS2-To"] = "EDIGATE-AS2"  # the same MDN, correctly addressed, settles it
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{s.edigate_url}/as2/mdn", headers=headers, data=mdn.content) as r,
        ):
            assert r.status == 200
        await wait_state(s.gw, payload_id, State.DELIVERED)


async def _post_mdn(s: Setup, mdn: Any, path: str = "/as2/mdn") -> int:
    headers = {k: str(v) for k, v in mdn.headers.items()}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{s.edigate_url}{path}", headers=headers, data=mdn.content) as r,
    ):
        return r.status


@pytest.mark.parametrize("signed", [True, False], ids=["signed-mdn", "unsigned-mdn"])
async def test_an_async_mdn_posted_to_the_message_endpoint_settles_the_payload(
    make_setup: Any, signed: bool
) -> None:
    """Partners that use one URL for both: a multipart/report, bare or signed, is an MDN."""
    async with AsyncExitStack() as stack:
        s = await make_setup(
            stack, receiver_expects=SIGNED_ENCRYPTED, mdn={"mode": "async", "signed": signed}
        )
        payload_id = await _sent_awaiting_mdn(s)
        [(message, _, _)] = s.receiver.received
        mdn = as2.Mdn(mdn_mode="ASYNC", digest_alg="sha256" if signed else None)
        mdn.build(message=message, status="processed")
        content_type = {k.lower(): str(v) for k, v in mdn.headers.items()}["content-type"]
        assert content_type.startswith("multipart/signed" if signed else "multipart/report")
        assert await _post_mdn(s, mdn, path="/as2") == 200
        await wait_state(s.gw, payload_id, State.DELIVERED)
        [kept] = await kept_mdns(s.gw, payload_id)
        assert kept.state is State.DELIVERED


async def test_a_forged_async_mdn_does_not_block_the_genuine_one(make_setup: Any, stranger: Identity) -> None:
    """A refused MDN fails the payload for support to see; the partner's verified MDN still settles it."""
    async with AsyncExitStack() as stack:
        s = await make_setup(stack, receiver_expects=SIGNED_ENCRYPTED, mdn=ASYNC_SIGNED)
        payload_id = await _sent_awaiting_mdn(s)
        [(message, status, _)] = s.receiver.received
        assert status == "processed"
        genuine_signer = message.receiver
        message.receiver = organization("PEER-AS2", stranger.key_pem, stranger.cert_pem)
        forged = as2.Mdn(mdn_mode="ASYNC", digest_alg="sha256")
        forged.build(message=message, status="processed/Error", detailed_status="decryption-failed")
        assert await _post_mdn(s, forged) == 401
        record = await wait_state(s.gw, payload_id, State.FAILED)
        assert (record.reason or "").startswith("the async MDN was refused: ")
        message.receiver = genuine_signer
        genuine = as2.Mdn(mdn_mode="ASYNC", digest_alg="sha256")
        genuine.build(message=message, status="processed")
        assert await _post_mdn(s, genuine) == 200
        record = await wait_state(s.gw, payload_id, State.DELIVERED)
        assert "MIC" in (record.reason or "") or "MIC" in await last_event(s.gw, payload_id)
        assert sorted(m.state.value for m in await kept_mdns(s.gw, payload_id)) == ["delivered", "rejected"]


async def test_a_late_mdn_of_an_earlier_send_does_not_settle_the_resend(make_setup: Any) -> None:
    """Only the MDN of the latest send (its Message-ID) may settle a payload that went out again."""
    async with AsyncExitStack() as stack:
        s = await make_setup(stack, receiver_expects=SIGNED_ENCRYPTED, mdn=ASYNC_SIGNED)
        payload_id = await _sent_awaiting_mdn(s)
        await s.gw.store.reset_for_replay(payload_id, reason="partner lost it (OPS-7)", actor="support")
        await s.gw.send_pending()
        await wait_state(s.gw, payload_id, State.SENT)
        (first, _, _), (second, _, _) = s.receiver.received
        assert first.message_id != second.message_id
        late = as2.Mdn(mdn_mode="ASYNC", digest_alg="sha256")
        late.build(message=first, status="processed/Error", detailed_status="decryption-failed")
        assert await _post_mdn(s, late) == 200  # a verified receipt: kept, but only noted
        await wait_state(s.gw, payload_id, State.SENT, timeout=0.5)
        assert "noted, not applied" in await last_event(s.gw, payload_id)
        current = as2.Mdn(mdn_mode="ASYNC", digest_alg="sha256")
        current.build(message=second, status="processed")
        assert await _post_mdn(s, current) == 200
        await wait_state(s.gw, payload_id, State.DELIVERED)


async def test_an_async_mdn_that_never_comes_fails_the_payload_after_the_profile_timeout(
    make_setup: Any,
) -> None:
    async with AsyncExitStack() as stack:
        s = await make_setup(
            stack,
            receiver_expects=SIGNED_ENCRYPTED,
            mdn={**ASYNC_SIGNED, "async_timeout_seconds": 1},
            mdn_scan_seconds=0.2,  # the scan the installed channel runs in the background
        )
        payload_id = await _sent_awaiting_mdn(s)
        record = await wait_state(s.gw, payload_id, State.FAILED, timeout=10)
        assert (record.reason or "").startswith("no async MDN received within 1 s")
        # resendable: a resend goes out again and this time the MDN comes
        s.receiver.drop_async = False
        await s.gw.outbound.resend(payload_id, False, "partner MDN outage (OPS-7)", "ops")
        await s.gw.send_pending()
        await wait_state(s.gw, payload_id, State.DELIVERED)
        assert len(s.receiver.received) == 2


async def test_the_deadline_leaves_sync_and_fresh_async_sends_alone_and_a_late_mdn_still_settles(
    make_setup: Any,
) -> None:
    async with AsyncExitStack() as stack:
        s = await make_setup(
            stack, receiver_expects=SIGNED_ENCRYPTED, mdn={**ASYNC_SIGNED, "async_timeout_seconds": 60}
        )
        payload_id = await _sent_awaiting_mdn(s)
        assert await expire_overdue(s.gw.store, s.gw.registry) == []  # 60 s have not passed
        later = datetime.now(UTC) + timedelta(seconds=61)
        assert await expire_overdue(s.gw.store, s.gw.registry, later) == [payload_id]
        await wait_state(s.gw, payload_id, State.FAILED, timeout=0.5)
        [(message, _, _)] = s.receiver.received  # the partner's MDN finally comes: it settles the payload
        mdn = as2.Mdn(mdn_mode="ASYNC", digest_alg="sha256", mdn_url=f"{s.edigate_url}/as2/mdn")
        mdn.build(message=message, status="processed")
        await s.receiver._post_async(mdn)
        await wait_state(s.gw, payload_id, State.DELIVERED)
        await asyncio.sleep(0)
