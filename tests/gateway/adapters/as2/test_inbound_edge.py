"""Inbound negatives, certificate rollover and openssl-built messages over real HTTP.

Every refused message gets an MDN with the disposition its error declares, is stored as
received in state ``rejected`` with the reason, and nothing is left for the pipeline.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from gateway.adapters.as2 import inbound as inbound_module
from gateway.adapters.as2.protocol import build_entity, build_mdn, parse_entity
from gateway.domain.runtime.lifecycle import Direction, State
from gateway.runtime import Gateway
from tests.gateway.adapters.as2.conftest import Identity, run_openssl
from tests.gateway.adapters.as2.harness import (
    SAMPLE_850,
    as2_profile,
    by_message_id,
    edigate_as2,
    gateway_on_sqlite,
    mdn_outcome,
    payloads,
    post,
    transmissions,
    write_profiles,
)
from tests.support.pyas2_peer import as2, build, organization, partner

pytestmark = pytest.mark.asyncio(loop_scope="module")


@dataclass
class Env:
    gw: Gateway
    url: str


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def env(
    tmp_path_factory: pytest.TempPathFactory, ours: Identity, peer: Identity, stranger: Identity
) -> AsyncIterator[Env]:
    tmp_path = tmp_path_factory.mktemp("as2-edge")
    ended = (datetime.now(UTC) - timedelta(seconds=30)).isoformat()
    profiles = write_profiles(
        tmp_path / "partners",
        as2_profile(
            partner_id="strict-co",
            as2_name="STRICT-AS2",
            ours=ours,
            partner_certs=[peer.cert_path],
            require_signed=True,
            require_encrypted=True,
        ),
        as2_profile(
            partner_id="open-co",
            as2_name="OPEN-AS2",
            isa_id="OPENCO",
            ours=ours,
            partner_certs=[peer.cert_path],
            require_signed=False,
            require_encrypted=False,
        ),
        as2_profile(  # rollover: the partner signs with either certificate while both are valid
            partner_id="rollover-co",
            as2_name="ROLLOVER-AS2",
            isa_id="ROLLOVER",
            ours=ours,
            partner_certs=[stranger.cert_path, peer.cert_path],
            require_signed=True,
            require_encrypted=False,
        ),
        as2_profile(
            partner_id="expired-co",
            as2_name="EXPIRED-AS2",
            isa_id="EXPIRED",
            ours=ours,
            partner_certs=[peer.cert_path],
            require_signed=True,
            require_encrypted=False,
        ),
    )
    expired = profiles / "expired-co.yaml"
    expired.write_text(
        expired.read_text().replace(
            f"path: {peer.cert_path}", f"path: {peer.cert_path}\n      not_after: '{ended}'"
        )
    )
    async with gateway_on_sqlite(tmp_path, profiles) as gw, edigate_as2(gw) as (_, url):
        yield Env(gw, url)  # fmt: skip


async def assert_refused(gw: Gateway, message_id: str, disposition: str, partner_id: str | None) -> None:
    assert await by_message_id(gw, message_id) == []  # nothing for the pipeline
    [stored] = await transmissions(gw, message_id)
    assert stored.state is State.REJECTED
    assert stored.partner_id == partner_id
    assert (stored.reason or "").startswith(f"{disposition}: ")


def sender(name: str, who: Identity, ours: Identity, **options: Any) -> tuple[as2.Organization, as2.Partner]:
    org = organization(name, who.key_pem, who.cert_pem)
    return org, partner("EDIGATE-AS2", ours.cert_pem, mdn_mode="SYNC", mdn_digest_alg="sha256", **options)


async def test_tampered_signed_payload_is_an_integrity_failure(
    env: Env, ours: Identity, peer: Identity
) -> None:
    headers, body, message = build(
        *sender("OPEN-AS2", peer, ours, sign=True), SAMPLE_850, content_type="application/octet-stream"
    )
    tampered = body.replace(b"PO-778812", b"PO-778813")
    assert tampered != body
    assert mdn_outcome(message, *await post(env.url, headers, tampered)) == (
        "processed/error",
        "integrity-check-failed",
    )
    await assert_refused(env.gw, message.message_id, "integrity-check-failed", "open-co")


async def test_signature_by_the_wrong_certificate(env: Env, ours: Identity, stranger: Identity) -> None:
    headers, body, message = build(*sender("OPEN-AS2", stranger, ours, sign=True), SAMPLE_850)
    assert mdn_outcome(message, *await post(env.url, headers, body)) == (
        "processed/error",
        "authentication-failed",
    )
    await assert_refused(env.gw, message.message_id, "authentication-failed", "open-co")


async def test_encrypted_for_someone_else(
    env: Env, ours: Identity, peer: Identity, stranger: Identity
) -> None:
    org = organization("OPEN-AS2", peer.key_pem, peer.cert_pem)
    to_stranger = partner("EDIGATE-AS2", stranger.cert_pem, encrypt=True, mdn_mode="SYNC")
    headers, body, message = build(org, to_stranger, SAMPLE_850)
    reply_headers, reply = await post(env.url, headers, body)
    message.receiver = partner("EDIGATE-AS2", ours.cert_pem)  # verify our (unsigned) MDN as ourselves
    assert mdn_outcome(message, reply_headers, reply) == ("processed/error", "decryption-failed")
    await assert_refused(env.gw, message.message_id, "decryption-failed", "open-co")


async def test_unknown_partner(env: Env, ours: Identity, peer: Identity) -> None:
    headers, body, message = build(*sender("NOBODY-AS2", peer, ours, sign=True), SAMPLE_850)
    reply_headers, reply = await post(env.url, headers, body)
    assert reply_headers["Content-Type"].startswith("multipart/report")  # unknown: we cannot sign for it
    message.receiver = partner("EDIGATE-AS2", ours.cert_pem)
    assert mdn_outcome(message, reply_headers, reply) == ("processed/error", "unknown-trading-partner")
    await assert_refused(env.gw, message.message_id, "unknown-trading-partner", None)


async def test_known_partner_addressed_to_another_as2_id(env: Env, ours: Identity, peer: Identity) -> None:
    org, receiver = sender("OPEN-AS2", peer, ours, sign=True)
    receiver.as2_name = "SOMEONE-ELSE"
    headers, body, message = build(org, receiver, SAMPLE_850)
    reply_headers, reply = await post(env.url, headers, body)
    message.receiver = partner("EDIGATE-AS2", ours.cert_pem)
    assert mdn_outcome(message, reply_headers, reply) == ("processed/error", "unknown-trading-partner")
    await assert_refused(env.gw, message.message_id, "unknown-trading-partner", "open-co")


@pytest.mark.parametrize(
    ("options", "missing"), [({"encrypt": True}, "signed"), ({"sign": True}, "encrypted")]
)
async def test_profile_requires_signing_and_encryption(
    env: Env, ours: Identity, peer: Identity, options: dict[str, Any], missing: str
) -> None:
    headers, body, message = build(*sender("STRICT-AS2", peer, ours, **options), SAMPLE_850)
    got = mdn_outcome(message, *await post(env.url, headers, body))
    assert got == ("processed/error", "insufficient-message-security")
    await assert_refused(env.gw, message.message_id, "insufficient-message-security", "strict-co")
    [stored] = await transmissions(env.gw, message.message_id)
    assert f"requires {missing} messages" in (stored.reason or "")


@pytest.mark.parametrize(
    ("mangle", "disposition"),
    [
        (lambda body: body[: len(body) // 2], "unexpected-processing-error"),  # truncated in transit
        (lambda body: b"\x00garbage" * 50, "unexpected-processing-error"),
    ],
    ids=["truncated", "garbage"],
)
async def test_truncated_or_garbage_bodies(
    env: Env, ours: Identity, peer: Identity, mangle: Any, disposition: str
) -> None:
    headers, body, message = build(*sender("STRICT-AS2", peer, ours, sign=True, encrypt=True), SAMPLE_850)
    assert mdn_outcome(message, *await post(env.url, headers, mangle(body))) == (
        "processed/error",
        disposition,
    )
    await assert_refused(env.gw, message.message_id, disposition, "strict-co")


async def test_replayed_message_id_gets_a_positive_mdn_and_is_not_routed_again(
    env: Env, ours: Identity, peer: Identity
) -> None:
    headers, body, message = build(*sender("STRICT-AS2", peer, ours, sign=True, encrypt=True), SAMPLE_850)
    first = mdn_outcome(message, *await post(env.url, headers, body))
    second = mdn_outcome(message, *await post(env.url, headers, body))
    third = mdn_outcome(message, *await post(env.url, headers, body))
    assert first == second == third == ("processed", None)
    [edi] = await by_message_id(env.gw, message.message_id)
    trail = await env.gw.store.audit_trail("payload", edi.id)
    assert [e.state for e in trail if e.state == "duplicate"] == ["duplicate", "duplicate"]
    [archive] = await transmissions(env.gw, message.message_id, channel="as2-raw")  # one copy, not three
    assert archive.correlation_id == edi.correlation_id


async def test_a_failure_building_the_early_mdn_only_delays_it(
    env: Env, ours: Identity, peer: Identity, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The positive MDN is signed on the crypto thread right after opening; if that fails, the
    message is still stored as received and the MDN is built again after the commit."""
    calls: list[str] = []
    real = build_mdn

    def flaky(**kwargs: Any) -> Any:
        calls.append(kwargs["original_message_id"])
        if len(calls) == 1:
            raise RuntimeError("signing failed once")
        return real(**kwargs)

    monkeypatch.setattr(inbound_module, "build_mdn", flaky)
    headers, body, message = build(*sender("STRICT-AS2", peer, ours, sign=True, encrypt=True), SAMPLE_850)
    assert mdn_outcome(message, *await post(env.url, headers, body)) == ("processed", None)
    assert calls == [message.message_id, message.message_id]
    [edi] = await by_message_id(env.gw, message.message_id)
    assert edi.state is not State.REJECTED
    assert len(await transmissions(env.gw, message.message_id, channel="as2-raw")) == 1


async def test_a_body_over_the_limit_gets_an_error_mdn_and_its_headers_are_kept(
    tmp_path_factory: pytest.TempPathFactory, ours: Identity, peer: Identity
) -> None:
    tmp_path = tmp_path_factory.mktemp("as2-oversize")
    profiles = write_profiles(
        tmp_path / "partners",
        as2_profile(partner_id="strict-co", as2_name="STRICT-AS2", ours=ours, partner_certs=[peer.cert_path]),
    )
    headers, body, message = build(*sender("STRICT-AS2", peer, ours, sign=True, encrypt=True), SAMPLE_850)
    async with (
        gateway_on_sqlite(tmp_path, profiles) as gw,
        edigate_as2(gw, max_payload_bytes=len(body) - 1) as (_, url),
    ):
        for chunked in (False, True):  # declared by Content-Length, or found out while reading

            async def pieces() -> Any:
                yield body

            async with (
                aiohttp.ClientSession() as session,
                session.post(f"{url}/as2", headers=headers, data=pieces() if chunked else body) as r,
            ):
                assert r.status == 200
                reply_headers, reply = dict(r.headers), await r.read()
            assert reply_headers["Content-Type"].startswith("multipart/signed")  # signed, as asked
            assert mdn_outcome(message, reply_headers, reply) == (
                "processed/error",
                "unexpected-processing-error",
            )
        stored = await transmissions(gw, message.message_id)
        assert [p.state for p in stored] == [State.REJECTED, State.REJECTED]
        assert all("over the limit" in (p.reason or "") for p in stored)
        assert await by_message_id(gw, message.message_id) == []
        kept = await gw.store.payload_content(stored[0].id)
        assert f"Message-ID: <{message.message_id}>".encode() in kept  # the headers, for support


@pytest.mark.parametrize("who", ["peer", "stranger"])
async def test_rollover_accepts_either_certificate_valid_now(
    env: Env, ours: Identity, peer: Identity, stranger: Identity, who: str
) -> None:
    signer = peer if who == "peer" else stranger
    headers, body, message = build(*sender("ROLLOVER-AS2", signer, ours, sign=True), SAMPLE_850)
    assert mdn_outcome(message, *await post(env.url, headers, body)) == ("processed", None)
    assert len(await by_message_id(env.gw, message.message_id)) == 1


async def test_certificate_outside_its_window_is_not_used(env: Env, ours: Identity, peer: Identity) -> None:
    headers, body, message = build(*sender("EXPIRED-AS2", peer, ours, sign=True), SAMPLE_850)
    reply_headers, reply = await post(env.url, headers, body)
    assert mdn_outcome(message, reply_headers, reply) == ("processed/error", "authentication-failed")
    await assert_refused(env.gw, message.message_id, "authentication-failed", "expired-co")


async def test_openssl_signed_and_encrypted_message_over_http_and_our_mdn_verified_by_openssl(
    env: Env, ours: Identity, peer: Identity, openssl: str, tmp_path: Path
) -> None:
    entity = build_entity(
        [("Content-Type", "application/edi-x12"), ("Content-Transfer-Encoding", "binary")], SAMPLE_850
    )
    (tmp_path / "entity").write_bytes(entity)
    signed = run_openssl(
        openssl,
        [
            "cms",
            "-sign",
            "-binary",
            "-md",
            "sha384",
            "-in",
            str(tmp_path / "entity"),
            "-signer",
            str(peer.cert_path),
            "-inkey",
            str(peer.key_path),
        ],
    )
    (tmp_path / "signed").write_bytes(signed)
    encrypted = run_openssl(
        openssl,
        [
            "cms",
            "-encrypt",
            "-binary",
            "-aes-256-gcm",
            "-in",
            str(tmp_path / "signed"),
            "-recip",
            str(ours.cert_path),
            "-keyopt",
            "rsa_padding_mode:oaep",
            "-keyopt",
            "rsa_oaep_md:sha256",
        ],
    )
    smime = parse_entity(encrypted)  # S/MIME output: base64 body with its Content-* headers
    message_id = f"{uuid.uuid4()}@openssl"
    headers = {k: v for k, v in smime.headers if k.lower() != "mime-version"}
    headers |= {
        "AS2-Version": "1.2",
        "AS2-From": "STRICT-AS2",
        "AS2-To": "EDIGATE-AS2",
        "Message-ID": f"<{message_id}>",
        "Disposition-Notification-To": "edi@peer.example",
        "Disposition-Notification-Options": (
            "signed-receipt-protocol=required, pkcs7-signature; signed-receipt-micalg=required, sha-384"
        ),
    }
    reply_headers, reply = await post(env.url, headers, smime.body)
    (tmp_path / "mdn").write_bytes(build_entity(list(reply_headers.items()), reply))
    report = run_openssl(
        openssl, ["cms", "-verify", "-in", str(tmp_path / "mdn"), "-CAfile", str(ours.cert_path)]
    )
    expected_mic = base64.b64encode(hashlib.sha384(entity).digest()).decode()
    assert b"; processed\r\n" in report
    assert f"Received-Content-MIC: {expected_mic}, sha-384".encode() in report
    [edi] = await by_message_id(env.gw, message_id)
    assert await env.gw.store.payload_content(edi.id) == SAMPLE_850


async def test_an_error_mdn_is_never_posted_to_the_url_of_a_message_we_could_not_verify(
    env: Env, ours: Identity, stranger: Identity
) -> None:
    """A forger who names someone else's URL must not make us POST there: the error MDN is sync."""
    org = organization("OPEN-AS2", stranger.key_pem, stranger.cert_pem, mdn_url="http://127.0.0.1:9/victim")
    to_us = partner("EDIGATE-AS2", ours.cert_pem, sign=True, mdn_mode="ASYNC", mdn_digest_alg="sha256")
    headers, body, message = build(org, to_us, SAMPLE_850)
    assert {k.lower(): v for k, v in headers.items()}[
        "receipt-delivery-option"
    ] == "http://127.0.0.1:9/victim"
    reply_headers, reply = await post(env.url, headers, body)
    assert reply_headers["Content-Type"].lower().startswith(("multipart/signed", "multipart/report"))
    assert mdn_outcome(message, reply_headers, reply) == ("processed/error", "authentication-failed")
    await assert_refused(env.gw, message.message_id, "authentication-failed", "open-co")
    queued = await payloads(env.gw, channel="as2-mdn", direction=Direction.OUTBOUND)
    assert [
        p for p in queued if p.meta.get("headers", {}).get("original-message-id") == message.message_id
    ] == []


async def test_an_async_mdn_is_posted_for_a_message_that_verified(
    env: Env, ours: Identity, peer: Identity
) -> None:
    org = organization("OPEN-AS2", peer.key_pem, peer.cert_pem, mdn_url="http://127.0.0.1:9/partner-mdn")
    to_us = partner("EDIGATE-AS2", ours.cert_pem, sign=True, mdn_mode="ASYNC", mdn_digest_alg="sha256")
    headers, body, message = build(org, to_us, SAMPLE_850)
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{env.url}/as2", headers=headers, data=body) as r,
    ):
        assert r.status == 200
        assert "asynchronously" in await r.text()
    queued = await payloads(env.gw, channel="as2-mdn", direction=Direction.OUTBOUND)
    [mdn] = [p for p in queued if p.meta.get("headers", {}).get("original-message-id") == message.message_id]
    assert mdn.meta["headers"]["receipt-delivery-option"] == "http://127.0.0.1:9/partner-mdn"


async def test_a_signed_message_whose_payload_mentions_disposition_notification_is_a_message(
    env: Env, ours: Identity, peer: Identity
) -> None:
    """Only a multipart/report (bare or signed) is an MDN; words in an EDI payload do not make one."""
    content = SAMPLE_850.replace(b"PO-778812", b"disposition-notification")
    assert b"disposition-notification" in content
    org = organization("OPEN-AS2", peer.key_pem, peer.cert_pem)
    headers, body, message = build(org, partner("EDIGATE-AS2", ours.cert_pem, sign=True), content)
    assert "disposition-notification-to" not in {k.lower() for k in headers}  # no MDN asked for
    assert b"disposition-notification" in body[:4096]
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{env.url}/as2", headers=headers, data=body) as r,
    ):
        assert r.status == 200, await r.text()
        assert await r.text() == "received"
    [stored] = await by_message_id(env.gw, message.message_id)
    assert stored.state is State.RECEIVED
    assert stored.partner_id == "open-co"
