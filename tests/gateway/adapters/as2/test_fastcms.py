"""The hand-parsed CMS hot path agrees with asn1crypto, and steps aside for anything uncommon.

Every structure here is also opened by the general (asn1crypto) code; the fast path must
return the same result, or ``None`` so the general code decides.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from asn1crypto import cms

from gateway.adapters.as2.protocol import encrypt, parse_entity, sign_detached, split_multipart
from gateway.adapters.as2.protocol.fastcms import content_kind, decrypt_common, verify_common
from tests.gateway.adapters.as2.conftest import Identity, run_openssl
from tests.support.pyas2_peer import build, compress_message, organization, partner

CONTENT = b"Content-Type: application/edi-x12\r\n\r\nISA*00*" + b"x" * 5000 + b"~\r\n"


@pytest.mark.parametrize(
    ("algorithm", "transport", "common"),
    [
        ("aes128_cbc", "rsa_pkcs1v15", True),
        ("aes192_cbc", "rsa_pkcs1v15", True),
        ("aes256_cbc", "rsa_pkcs1v15", True),
        ("3des", "rsa_pkcs1v15", True),
        ("aes256_cbc", "rsa_oaep_sha256", False),
        ("aes128_gcm", "rsa_pkcs1v15", False),
        ("rc2_128", "rsa_pkcs1v15", False),
    ],
)
def test_decrypt_reads_the_common_shape_and_steps_aside_otherwise(
    ours: Identity, algorithm: str, transport: str, common: bool
) -> None:
    der = encrypt(CONTENT, ours.cert, algorithm, transport)
    got = decrypt_common(der, ours.key, ours.cert)
    if common:
        assert got == (CONTENT, algorithm, transport)
    else:
        assert got is None


def test_decrypt_with_the_wrong_key_is_left_to_the_general_path(ours: Identity, stranger: Identity) -> None:
    der = encrypt(CONTENT, ours.cert, "aes256_cbc", "rsa_pkcs1v15")
    assert decrypt_common(der, stranger.key, stranger.cert) is None


@pytest.mark.parametrize(("cipher", "name"), [("-aes256", "aes256_cbc"), ("-des3", "3des")])
def test_decrypt_reads_openssl_output(
    openssl: str, ours: Identity, tmp_path: Path, cipher: str, name: str
) -> None:
    (tmp_path / "in").write_bytes(CONTENT)
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
            str(tmp_path / "in"),
            str(ours.cert_path),
        ],
    )
    assert decrypt_common(der, ours.key, ours.cert) == (CONTENT, name, "rsa_pkcs1v15")


@pytest.mark.parametrize("digest", ["sha1", "sha224", "sha256", "sha384", "sha512"])
def test_verify_reads_our_pkcs1_signatures(ours: Identity, peer: Identity, digest: str) -> None:
    signature = sign_detached(CONTENT, ours.signing, digest)
    assert verify_common(signature, CONTENT, [peer.cert, ours.cert]) == (digest, ours.cert)


def test_verify_steps_aside_for_pss_tampering_strangers_and_embedded_content(
    ours: Identity, stranger: Identity
) -> None:
    assert verify_common(sign_detached(CONTENT, ours.signing, "sha256", "pss"), CONTENT, [ours.cert]) is None
    signature = sign_detached(CONTENT, ours.signing, "sha256")
    assert verify_common(signature, CONTENT + b"!", [ours.cert]) is None
    assert verify_common(signature, CONTENT, [stranger.cert]) is None
    assert verify_common(b"\x30\x03\x02\x01\x01", CONTENT, [ours.cert]) is None


def test_verify_agrees_with_openssl_signatures(openssl: str, peer: Identity, tmp_path: Path) -> None:
    (tmp_path / "in").write_bytes(CONTENT)
    der = run_openssl(
        openssl,
        [
            "cms", "-sign", "-binary", "-outform", "DER", "-md", "sha384", "-in", str(tmp_path / "in"),
            "-signer", str(peer.cert_path), "-inkey", str(peer.key_path),
        ],
    )  # fmt: skip
    assert verify_common(der, CONTENT, [peer.cert]) == ("sha384", peer.cert)


def test_a_pyas2lib_message_takes_the_fast_path_both_ways(ours: Identity, peer: Identity) -> None:
    org = organization("PEER", peer.key_pem, peer.cert_pem)
    to_us = partner(
        "EDIGATE", ours.cert_pem, sign=True, encrypt=True, enc_alg="aes_256_cbc", digest_alg="sha256"
    )
    _, body, _ = build(org, to_us, b"ISA*00*~", content_type="application/edi-x12")
    opened = decrypt_common(body, ours.key, ours.cert)
    assert opened is not None
    entity = parse_entity(opened[0])
    signed, signature = split_multipart(entity.body, entity.param("boundary") or "")
    assert verify_common(parse_entity(signature).decoded(), signed, [peer.cert]) == ("sha256", peer.cert)


def test_content_kind_matches_asn1crypto(ours: Identity) -> None:
    samples = [
        encrypt(CONTENT, ours.cert, "aes256_cbc", "rsa_pkcs1v15"),
        encrypt(CONTENT, ours.cert, "aes128_gcm", "rsa_pkcs1v15"),
        sign_detached(CONTENT, ours.signing, "sha256"),
        compress_message(CONTENT),
    ]
    for der in samples:
        assert content_kind(der) == cms.ContentInfo.load(der)["content_type"].native
    assert content_kind(b"not der at all") is None
