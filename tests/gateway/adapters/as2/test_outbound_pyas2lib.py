"""edigate sends to a pyas2lib-based receiver (aiohttp + pyas2lib) over real HTTP and verifies its MDNs.

The Sender worker drives the ``as2`` channel exactly as in production; the receiver parses
with pyas2lib and answers with pyas2lib's own MDNs, sync or async (to ``POST /as2/mdn``).
"""

from __future__ import annotations

import asyncio
import base64
import email
import email.message
import email.policy
import json
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import cms

from gateway.domain.runtime.lifecycle import State
from tests.gateway.adapters.as2.conftest import Identity
from tests.gateway.adapters.as2.harness import SAMPLE_850
from tests.gateway.adapters.as2.outbound_kit import kept_mdns, last_event, queue, start_setup, wait_state
from tests.support.pyas2_peer import decrypt_message, partner


@pytest.fixture
def make_setup(tmp_path: Path, ours: Identity, peer: Identity) -> Any:
    async def start(stack: AsyncExitStack, **options: Any) -> Any:
        return await start_setup(stack, tmp_path, ours, peer, **options)

    return start


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
        assert record.state is State.DELIVERED  # a verified sync MDN: the same state as a verified async one
        assert "MIC" in await last_event(s.gw, payload_id)
        sent = [e for e in await s.gw.store.audit_trail("payload", payload_id) if e.state == "as2-sent"]
        assert json.loads(sent[0].detail or "{}")["message_id"] == message.message_id
        [mdn] = await kept_mdns(s.gw, payload_id)  # the signed receipt is kept as received
        assert mdn.state is State.DELIVERED
        assert mdn.correlation_id == record.correlation_id
        assert (await s.gw.store.payload_content(mdn.id)).startswith(b"AS2-Version")


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
        await wait_state(s.gw, payload_id, State.DELIVERED)


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


def _on_the_wire(headers: dict[str, str], body: bytes, receiver: Any) -> dict[str, Any]:
    """The algorithms of a received message, read from its CMS with asn1crypto (decrypted by
    pyas2lib with the receiver's key, the signed entity split by the standard library)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    der = base64.b64decode(body) if lowered.get("content-transfer-encoding") == "base64" else body
    info = cms.ContentInfo.load(der)
    assert info["content_type"].native == "enveloped_data"
    envelope = info["content"]
    recipient = envelope["recipient_infos"][0].chosen
    transport = recipient["key_encryption_algorithm"]
    out: dict[str, Any] = {
        "cipher": envelope["encrypted_content_info"]["content_encryption_algorithm"]["algorithm"].native,
        "key_transport": transport["algorithm"].native,
        "oaep_hash": (
            transport["parameters"]["hash_algorithm"]["algorithm"].native
            if transport["algorithm"].native == "rsaes_oaep"
            else None
        ),
    }
    _, inner = decrypt_message(der, receiver.org.decrypt_key)
    signed = email.message_from_bytes(inner, policy=email.policy.compat32)
    assert signed.get_content_type() == "multipart/signed"
    parts = signed.get_payload()
    assert isinstance(parts, list)
    [_, signature_part] = parts
    assert isinstance(signature_part, email.message.Message)
    signed_data = cms.ContentInfo.load(signature_part.get_payload(decode=True))["content"]
    signer = signed_data["signer_infos"][0]
    out["digest"] = signer["digest_algorithm"]["algorithm"].native
    out["signature"] = signer["signature_algorithm"]["algorithm"].native
    out["pss_hash"] = (
        signer["signature_algorithm"]["parameters"]["hash_algorithm"]["algorithm"].native
        if out["signature"] == "rsassa_pss"
        else None
    )
    return out


@pytest.mark.parametrize(
    ("ours_options", "expected"),
    [
        pytest.param(
            {"encryption": "3des", "key_transport": "rsa_oaep_sha1"},
            {
                "cipher": "tripledes_3key",
                "key_transport": "rsaes_oaep",
                "oaep_hash": "sha1",
                "digest": "sha256",
                "signature": {"rsassa_pkcs1v15", "sha256_rsa"},
                "pss_hash": None,
            },
            id="3des-oaep-sha1-pkcs1v15-sha256",
        ),
        pytest.param(
            {"encryption": "aes192_cbc", "signature_digest": "sha512", "signature_scheme": "pss"},
            {
                "cipher": "aes192_cbc",
                "key_transport": "rsaes_pkcs1v15",
                "oaep_hash": None,
                "digest": "sha512",
                "signature": {"rsassa_pss"},
                "pss_hash": "sha512",
            },
            id="aes192-pkcs1v15-pss-sha512",
        ),
        pytest.param(
            {"encryption": "aes128_cbc", "signature_digest": "sha384"},
            {
                "cipher": "aes128_cbc",
                "key_transport": "rsaes_pkcs1v15",
                "oaep_hash": None,
                "digest": "sha384",
                "signature": {"rsassa_pkcs1v15", "sha384_rsa"},
                "pss_hash": None,
            },
            id="aes128-pkcs1v15-sha384",
        ),
    ],
)
async def test_the_profiles_algorithms_are_the_ones_on_the_wire(
    make_setup: Any, ours_options: dict[str, Any], expected: dict[str, Any]
) -> None:
    async with AsyncExitStack() as stack:
        s = await make_setup(stack, receiver_expects={"sign": True, "encrypt": True}, **ours_options)
        await queue(s.gw)
        await s.gw.send_pending()
        [(_, status, exception)] = s.receiver.received
        assert status == "processed", exception
        [(headers, body)] = s.receiver.wire
        got = _on_the_wire(headers, body, s.receiver)
        signature = got.pop("signature")
        assert signature in expected.pop("signature")
        assert got == expected


async def test_a_redirect_from_the_partner_fails_the_send_without_retries(make_setup: Any) -> None:
    async with AsyncExitStack() as stack:
        s = await make_setup(
            stack,
            receiver_expects={"sign": True, "encrypt": True},
            retry={"limit": 3, "backoff_seconds": 0.05},
        )
        s.receiver.answers = [307]
        payload_id = await queue(s.gw)
        await s.gw.send_pending()
        record = await s.gw.store.get_payload(payload_id)
        assert record is not None
        assert record.state is State.FAILED  # at once: a redirect is not retried
        reason = await last_event(s.gw, payload_id)
        assert "answered HTTP 307" in reason
        assert "redirects are not followed" in reason
        assert s.receiver.received == []  # and nothing was posted anywhere else
