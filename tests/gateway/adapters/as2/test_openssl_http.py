"""``openssl cms`` as the partner, over real HTTP, for what pyas2lib cannot do.

* inbound: AES-128/192/256-GCM (AuthEnvelopedData) built by openssl, and sign-then-compress
  (openssl signs, pyas2lib's CMS code compresses); our MDN's MIC is checked against
  ``openssl dgst`` over what openssl signed or encrypted, and openssl verifies our signed MDN;
* outbound: we send AES-GCM (every key size) to a receiver that opens our message with
  ``openssl cms -decrypt`` and ``openssl cms -verify -binary``, hashes the signed entity
  with ``openssl dgst`` and answers with an MDN carrying that MIC, which we must accept.
"""

from __future__ import annotations

import asyncio
import base64
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from gateway.adapters.as2.protocol import build_entity, parse_entity
from gateway.domain.runtime.lifecycle import State
from gateway.runtime import Gateway
from tests.gateway.adapters.as2.conftest import Identity, run_openssl
from tests.gateway.adapters.as2.harness import (
    SAMPLE_850,
    as2_profile,
    by_message_id,
    edigate_as2,
    gateway_on_sqlite,
    serve,
    write_profiles,
)
from tests.gateway.adapters.as2.outbound_kit import queue, wait_state
from tests.support.pyas2_peer import compress_message

ENTITY = build_entity(
    [("Content-Type", "application/edi-x12"), ("Content-Transfer-Encoding", "binary")], SAMPLE_850
)


def _file(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / f"{name}-{uuid.uuid4().hex[:8]}"
    path.write_bytes(data)
    return str(path)


def _b64_digest(openssl: str, tmp_path: Path, md: str, data: bytes) -> str:
    return base64.b64encode(
        run_openssl(openssl, ["dgst", f"-{md}", "-binary", _file(tmp_path, "d", data)])
    ).decode()


class Inbound:
    def __init__(self, gw: Gateway, url: str) -> None:
        self.gw = gw
        self.url = url


@pytest.fixture
async def inbound(tmp_path: Path, ours: Identity, peer: Identity) -> AsyncIterator[Inbound]:
    profiles = write_profiles(
        tmp_path / "partners",
        as2_profile(
            partner_id="peer-co",
            as2_name="PEER-AS2",
            ours=ours,
            partner_certs=[peer.cert_path],
            require_signed=False,
            require_encrypted=False,
        ),
    )
    async with gateway_on_sqlite(tmp_path, profiles) as gw, edigate_as2(gw) as (_, url):
        yield Inbound(gw, url)


async def _post(url: str, headers: dict[str, str], body: bytes) -> tuple[dict[str, str], bytes]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{url}/as2", headers=headers, data=body) as r,
    ):
        assert r.status == 200
        return dict(r.headers), await r.read()


def _as2_headers(message_id: str, micalg: str) -> dict[str, str]:
    return {
        "AS2-Version": "1.2",
        "AS2-From": "PEER-AS2",
        "AS2-To": "EDIGATE-AS2",
        "Message-ID": f"<{message_id}>",
        "Disposition-Notification-To": "edi@peer.example",
        "Disposition-Notification-Options": (
            f"signed-receipt-protocol=required, pkcs7-signature; signed-receipt-micalg=required, {micalg}"
        ),
    }


def _verified_report(
    openssl: str, tmp_path: Path, ours: Identity, headers: dict[str, str], body: bytes
) -> bytes:
    """openssl verifies our signed MDN; returns the report it signed."""
    mdn = _file(tmp_path, "mdn", build_entity(list(headers.items()), body))
    return run_openssl(openssl, ["cms", "-verify", "-in", mdn, "-CAfile", str(ours.cert_path)])


@pytest.mark.parametrize("cipher", ["-aes-128-gcm", "-aes-192-gcm", "-aes-256-gcm"])
async def test_openssl_aes_gcm_over_http_unsigned_with_the_rfc_mic(
    inbound: Inbound, ours: Identity, openssl: str, tmp_path: Path, cipher: str
) -> None:
    der = run_openssl(
        openssl,
        [
            "cms",
            "-encrypt",
            "-binary",
            cipher,
            "-outform",
            "DER",
            "-in",
            _file(tmp_path, "e", ENTITY),
            str(ours.cert_path),
        ],
    )
    message_id = f"{uuid.uuid4()}@openssl"
    headers = _as2_headers(message_id, "sha-256")
    headers["Content-Type"] = "application/pkcs7-mime; smime-type=authEnveloped-data; name=smime.p7m"
    reply_headers, reply = await _post(inbound.url, headers, der)
    report = _verified_report(openssl, tmp_path, ours, reply_headers, reply)
    decrypted = run_openssl(
        openssl,
        [
            "cms",
            "-decrypt",
            "-binary",
            "-inform",
            "DER",
            "-in",
            _file(tmp_path, "der", der),
            "-inkey",
            str(ours.key_path),
        ],
    )
    assert decrypted == ENTITY
    mic = _b64_digest(openssl, tmp_path, "sha256", decrypted)  # unsigned + encrypted: the decrypted entity
    assert b"; processed\r\n" in report
    assert f"Received-Content-MIC: {mic}, sha-256".encode() in report
    [edi] = await by_message_id(inbound.gw, message_id)
    assert await inbound.gw.store.payload_content(edi.id) == SAMPLE_850


async def test_sign_then_compress_over_http(
    inbound: Inbound, ours: Identity, peer: Identity, openssl: str, tmp_path: Path
) -> None:
    signed = run_openssl(
        openssl,
        [
            "cms", "-sign", "-binary", "-md", "sha384", "-in", _file(tmp_path, "e", ENTITY),
            "-signer", str(peer.cert_path), "-inkey", str(peer.key_path),
        ],
    )  # fmt: skip
    smime = parse_entity(signed)
    signed_entity = build_entity(
        [(k, v) for k, v in smime.headers if k.lower() != "mime-version"], smime.body
    )
    body = compress_message(signed_entity)  # pyas2lib's CMS compression around openssl's signature
    message_id = f"{uuid.uuid4()}@openssl"
    headers = _as2_headers(message_id, "sha-384")
    headers["Content-Type"] = 'application/pkcs7-mime; smime-type=compressed-data; name="smime.p7z"'
    reply_headers, reply = await _post(inbound.url, headers, body)
    report = _verified_report(openssl, tmp_path, ours, reply_headers, reply)
    mic = _b64_digest(openssl, tmp_path, "sha384", ENTITY)  # signed: exactly what openssl signed
    assert f"Received-Content-MIC: {mic}, sha-384".encode() in report
    [edi] = await by_message_id(inbound.gw, message_id)
    assert edi.meta["headers"]["as2-security"] == "compressed,signed"
    assert await inbound.gw.store.payload_content(edi.id) == SAMPLE_850


class OpensslReceiver:
    """An AS2 receiver made of openssl commands: decrypt, verify in binary mode, hash, answer."""

    def __init__(self, openssl: str, peer: Identity, ours: Identity, tmp_path: Path) -> None:
        self.openssl, self.peer, self.ours, self.tmp = openssl, peer, ours, tmp_path
        self.opened: list[bytes] = []

    def _open(self, body: bytes) -> tuple[bytes, str]:
        decrypted = run_openssl(
            self.openssl,
            [
                "cms",
                "-decrypt",
                "-binary",
                "-inform",
                "DER",
                "-in",
                _file(self.tmp, "in", body),
                "-inkey",
                str(self.peer.key_path),
            ],
        )
        top = parse_entity(decrypted)
        boundary = re.search(r'boundary="([^"]+)"', dict(top.headers)["Content-Type"])
        assert boundary is not None
        delimiter = b"\r\n--" + boundary.group(1).encode()
        start = top.body.index(b"--" + boundary.group(1).encode() + b"\r\n") + len(boundary.group(1)) + 4
        end = top.body.index(delimiter, start)
        signed_entity = top.body[start:end]
        sig_start = end + len(delimiter) + 2
        signature = base64.b64decode(
            top.body[sig_start : top.body.index(delimiter, sig_start)].split(b"\r\n\r\n", 1)[1]
        )
        run_openssl(
            self.openssl,
            [
                "cms", "-verify", "-binary", "-inform", "DER", "-in", _file(self.tmp, "sig", signature),
                "-content", _file(self.tmp, "content", signed_entity), "-CAfile", str(self.ours.cert_path),
            ],
        )  # fmt: skip
        self.opened.append(signed_entity)
        return signed_entity, _b64_digest(self.openssl, self.tmp, "sha256", signed_entity)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        _, mic = await asyncio.to_thread(self._open, body)
        report = (
            "Reporting-UA: openssl test receiver\r\n"
            f"Original-Recipient: rfc822; PEER-AS2\r\nFinal-Recipient: rfc822; PEER-AS2\r\n"
            f"Original-Message-ID: {request.headers['Message-ID']}\r\n"
            "Disposition: automatic-action/MDN-sent-automatically; processed\r\n"
            f"Received-Content-MIC: {mic}, sha-256\r\n"
        )
        mdn = (
            "--b1\r\nContent-Type: text/plain\r\n\r\nreceived\r\n"
            f"--b1\r\nContent-Type: message/disposition-notification\r\n\r\n{report}\r\n--b1--\r\n"
        )
        headers = {
            "AS2-Version": "1.2",
            "AS2-From": "PEER-AS2",
            "AS2-To": "EDIGATE-AS2",
            "Message-ID": f"<{uuid.uuid4()}@openssl>",
            "Content-Type": 'multipart/report; report-type=disposition-notification; boundary="b1"',
        }
        return web.Response(headers=headers, body=mdn.encode())


@pytest.mark.parametrize("encryption", ["aes128_gcm", "aes192_gcm", "aes256_gcm"])
async def test_we_send_aes_gcm_to_an_openssl_receiver_and_accept_its_mic(
    tmp_path: Path, ours: Identity, peer: Identity, openssl: str, encryption: str
) -> None:
    receiver = OpensslReceiver(openssl, peer, ours, tmp_path)
    app = web.Application()
    app.router.add_post("/as2", receiver.handle)
    async with AsyncExitStack() as stack:
        peer_url = await stack.enter_async_context(serve(app))
        profile: dict[str, Any] = as2_profile(
            partner_id="peer-co",
            as2_name="PEER-AS2",
            ours=ours,
            partner_certs=[peer.cert_path],
            url=f"{peer_url}/as2",
            encryption=encryption,
            key_transport="rsa_oaep_sha256",
            mdn={"mode": "sync", "signed": False},
        )
        gw = await stack.enter_async_context(
            gateway_on_sqlite(tmp_path, write_profiles(tmp_path / "p", profile))
        )
        await stack.enter_async_context(edigate_as2(gw))
        payload_id = await queue(gw)
        await gw.send_pending()
        record = await wait_state(gw, payload_id, State.DELIVERED)
        assert "verified" in (record.reason or "") or record.reason is None
        [signed_entity] = receiver.opened
        assert signed_entity.endswith(SAMPLE_850)
