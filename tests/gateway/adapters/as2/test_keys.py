"""Our keys: PKCS#12 with its certificate inside, encrypted PEM with a password by reference,
a key that does not match its certificate, and our own rollover (several keys with windows).

The rollover case runs over real HTTP: pyas2lib encrypts to our old and to our new
certificate, and verifies the MDN signed with the key whose window is current.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from pydantic import ValidationError

from gateway.adapters.as2 import KeyLoadError, KeyStore
from gateway.adapters.as2.protocol import PackOptions, Trust, pack, unpack
from gateway.domain.profiles import As2Channel
from gateway.runtime import Gateway
from tests.gateway.adapters.as2.conftest import Identity
from tests.gateway.adapters.as2.harness import (
    SAMPLE_850,
    as2_profile,
    by_message_id,
    edigate_as2,
    gateway_on_sqlite,
    write_profiles,
)
from tests.support.pyas2_peer import as2, build, organization, partner, raw_http

PLAIN = {"sign": False, "encrypt": False, "require_signed": False, "mdn": {"signed": False}}


def channel(**fields: Any) -> As2Channel:
    data: dict[str, Any] = {"url": "http://127.0.0.1:9/as2", "our_as2_id": "EDIGATE", **PLAIN}
    data.update(fields)
    return As2Channel.model_validate(data)


def p12(identity: Identity, path: Path, password: bytes | None, *, with_cert: bool = True) -> Path:
    encryption = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    cert = identity.cert if with_cert else None
    path.write_bytes(pkcs12.serialize_key_and_certificates(b"edigate", identity.key, cert, None, encryption))
    return path


def encrypted_pem(identity: Identity, path: Path, password: bytes) -> Path:
    path.write_bytes(
        identity.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(password),
        )
    )
    return path


def roundtrip(store: KeyStore, ch: As2Channel, peer: Identity, ours_cert: x509.Certificate) -> bytes:
    """Encrypt for ``ours_cert`` and open it with the channel's keys, as the inbound path does."""
    packed = pack(SAMPLE_850, "application/edi-x12", None, PackOptions(encrypt_for=ours_cert))
    trust = Trust(our_keys=store.decryption_keys(ch), require_encrypted=True)
    return unpack(packed.headers, packed.body, trust).payload


# --- PKCS#12 -------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["no-password", "password-ref", "sidecar-file"])
def test_pkcs12_with_its_certificate_inside_needs_no_separate_certificate(
    tmp_path: Path, ours: Identity, peer: Identity, how: str
) -> None:
    password = None if how == "no-password" else b"s3cret-p12"
    bundle = p12(ours, tmp_path / "ours.p12", password)
    fields: dict[str, Any] = {"our_key": f"file:{bundle}"}
    if how == "password-ref":
        (tmp_path / "p12-pass").write_bytes(b"s3cret-p12\n")
        fields["our_key_password"] = f"file:{tmp_path / 'p12-pass'}"
    elif how == "sidecar-file":
        (tmp_path / "ours.p12.password").write_bytes(b"s3cret-p12\n")
    ch = channel(**fields)
    assert ch.our_certificate is None
    store = KeyStore()
    signing = store.ours(ch)
    assert signing is not None
    assert signing.certificate == ours.cert  # taken from the bundle
    assert roundtrip(store, ch, peer, ours.cert) == SAMPLE_850


def test_a_replaced_key_file_is_picked_up_after_the_recheck_interval(
    tmp_path: Path, ours: Identity, stranger: Identity
) -> None:
    bundle = p12(ours, tmp_path / "ours.p12", None)
    ch = channel(our_key=f"file:{bundle}")
    cached, eager = KeyStore(recheck_seconds=3600), KeyStore(recheck_seconds=0)
    assert cached.ours(ch).certificate == eager.ours(ch).certificate == ours.cert  # type: ignore[union-attr]
    p12(stranger, bundle, None)  # rotated in place
    os.utime(bundle, (time.time() + 5, time.time() + 5))  # a different modification time
    assert eager.ours(ch).certificate == stranger.cert  # type: ignore[union-attr]
    assert cached.ours(ch).certificate == ours.cert  # type: ignore[union-attr]  # until its recheck


def test_pkcs12_with_a_wrong_password_or_without_a_certificate_is_a_clear_error(
    tmp_path: Path, ours: Identity
) -> None:
    bundle = p12(ours, tmp_path / "ours.p12", b"right")
    (tmp_path / "pass").write_text("wrong")
    with pytest.raises(KeyLoadError, match="wrong password"):
        KeyStore().ours(channel(our_key=f"file:{bundle}", our_key_password=f"file:{tmp_path / 'pass'}"))
    bare = p12(ours, tmp_path / "bare.p12", None, with_cert=False)
    with pytest.raises(KeyLoadError, match="holds no certificate: set the certificate in the profile"):
        KeyStore().ours(channel(our_key=f"file:{bare}"))


# --- encrypted PEM -------------------------------------------------------------------------------


def test_encrypted_pem_key_with_its_password_by_reference(
    tmp_path: Path, ours: Identity, peer: Identity, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = encrypted_pem(ours, tmp_path / "ours.key", b"pem-pass")
    monkeypatch.setenv("EDIGATE_TEST_KEY_PASS", "pem-pass")
    ch = channel(
        our_key=f"file:{key}",
        our_key_password="env:EDIGATE_TEST_KEY_PASS",
        our_certificate={"path": str(ours.cert_path)},
    )
    store = KeyStore()
    assert roundtrip(store, ch, peer, ours.cert) == SAMPLE_850
    without = channel(our_key=f"file:{key}", our_certificate={"path": str(ours.cert_path)})
    with pytest.raises(KeyLoadError, match="encrypted PEM key: give its password by reference"):
        KeyStore().ours(without)
    monkeypatch.setenv("EDIGATE_TEST_KEY_PASS", "not-it")
    with pytest.raises(KeyLoadError, match="wrong password"):
        KeyStore().ours(ch)


def test_a_password_never_appears_in_the_error(tmp_path: Path, ours: Identity) -> None:
    key = encrypted_pem(ours, tmp_path / "ours.key", b"pem-pass")
    (tmp_path / "pass").write_text("Sup3r-Secret-Value")
    ch = channel(
        our_key=f"file:{key}",
        our_key_password=f"file:{tmp_path / 'pass'}",
        our_certificate={"path": str(ours.cert_path)},
    )
    with pytest.raises(KeyLoadError) as caught:
        KeyStore().ours(ch)
    assert "Sup3r-Secret-Value" not in str(caught.value)


# --- key and certificate must belong together ----------------------------------------------------


async def test_a_key_that_does_not_match_its_certificate_fails_at_load_and_at_start(
    tmp_path: Path, ours: Identity, peer: Identity
) -> None:
    mismatched = channel(our_key=f"file:{ours.key_path}", our_certificate={"path": str(peer.cert_path)})
    with pytest.raises(KeyLoadError, match="does not belong to the certificate"):
        KeyStore().ours(mismatched)
    profile = as2_profile(
        partner_id="peer-co",
        as2_name="PEER-AS2",
        ours=ours,
        partner_certs=[peer.cert_path],
        our_certificate={"path": str(peer.cert_path)},
    )
    async with (
        gateway_on_sqlite(tmp_path, write_profiles(tmp_path / "p", profile)) as gw,
        edigate_as2(gw) as (installed, _),
    ):
        problems = installed.check_keys()  # also run (and logged) when the channel starts
    assert len(problems) == 1
    assert problems[0].startswith("peer-co: the key file:")
    assert "does not belong to the certificate" in problems[0]


# --- profile rules -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"our_key": "env:A", "our_keys": [{"key": "env:B"}]}, "our_keys"),
        ({"our_key_password": "env:A"}, "our_key"),
        ({"tls": {"ca_bundle": "ca.pem", "pinned_certificate": "server.pem"}}, "tls"),
    ],
    ids=["one-key-and-rollover", "password-without-key", "ca-and-pin"],
)
def test_profile_key_and_tls_rules(
    tmp_path: Path, ours: Identity, fields: dict[str, Any], where: str
) -> None:
    for name in ("ca.pem", "server.pem"):
        (tmp_path / name).write_bytes(ours.cert_pem)
    with pytest.raises(ValidationError) as caught:
        As2Channel.model_validate(
            {"url": "http://127.0.0.1:9/as2", "our_as2_id": "E", **PLAIN, **fields},
            context={"base_dir": tmp_path},
        )
    assert where in str(caught.value)


# --- our own rollover ----------------------------------------------------------------------------


def test_rollover_signs_with_the_newest_current_key_and_decrypts_with_any(
    ours: Identity, peer: Identity, stranger: Identity
) -> None:
    now = datetime.now(UTC)
    old = {"key": f"file:{ours.key_path}", "certificate": {"path": str(ours.cert_path)}}
    new = {
        "key": f"file:{stranger.key_path}",
        "certificate": {"path": str(stranger.cert_path), "not_before": (now + timedelta(days=1)).isoformat()},
    }
    ch = channel(our_keys=[old, new])
    store = KeyStore()
    assert store.ours(ch).certificate == ours.cert  # type: ignore[union-attr]  # the new window has not begun
    later = now + timedelta(days=2)
    assert store.ours(ch, later).certificate == stranger.cert  # type: ignore[union-attr]
    assert roundtrip(store, ch, peer, ours.cert) == SAMPLE_850
    assert roundtrip(store, ch, peer, stranger.cert) == SAMPLE_850  # a partner that switched early
    with pytest.raises(KeyLoadError, match="none of our keys is valid now"):
        store.ours(ch, now + timedelta(days=60))  # both certificates have expired by then


@pytest.fixture
async def rollover(
    tmp_path: Path, ours: Identity, peer: Identity, stranger: Identity
) -> AsyncIterator[tuple[Gateway, str]]:
    """edigate with two keys of its own, both current; the newer window (stranger's pair) signs."""
    now = datetime.now(UTC)
    profile = as2_profile(
        partner_id="peer-co", as2_name="PEER-AS2", ours=ours, partner_certs=[peer.cert_path]
    )
    channel_fields = profile["channels"]["as2"]
    del channel_fields["our_key"], channel_fields["our_certificate"]
    channel_fields["our_keys"] = [
        {"key": f"file:{ours.key_path}", "certificate": {"path": str(ours.cert_path)}},
        {
            "key": f"file:{stranger.key_path}",
            "certificate": {
                "path": str(stranger.cert_path),
                "not_before": (now - timedelta(minutes=1)).isoformat(),
            },
        },
    ]
    async with (
        gateway_on_sqlite(tmp_path, write_profiles(tmp_path / "p", profile)) as gw,
        edigate_as2(gw) as (_, url),
    ):
        yield gw, url


@pytest.mark.parametrize("encrypted_for", ["old", "new"])
async def test_rollover_over_http(
    rollover: tuple[Gateway, str], ours: Identity, peer: Identity, stranger: Identity, encrypted_for: str
) -> None:
    gw, url = rollover
    target = ours if encrypted_for == "old" else stranger
    org = organization("PEER-AS2", peer.key_pem, peer.cert_pem)
    to_us = partner(
        "EDIGATE-AS2", target.cert_pem, sign=True, encrypt=True, mdn_mode="SYNC", mdn_digest_alg="sha256"
    )
    headers, body, message = build(org, to_us, SAMPLE_850, content_type="application/octet-stream")
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{url}/as2", headers=headers, data=body) as r,
    ):
        mdn_headers, mdn_body = dict(r.headers), await r.read()
    message.receiver = partner("EDIGATE-AS2", stranger.cert_pem)  # the MDN is signed with the newest key
    status, detail = as2.Mdn().parse(raw_http(mdn_headers, mdn_body), find_message_cb=lambda _m, _r: message)
    assert (str(status), detail) == ("processed", None)
    [edi] = await by_message_id(gw, message.message_id)
    assert await gw.store.payload_content(edi.id) == SAMPLE_850
