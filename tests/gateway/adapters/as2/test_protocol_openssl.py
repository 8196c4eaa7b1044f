"""The protocol core against the ``openssl cms`` command, an independent CMS implementation.

openssl builds signed, opaque-signed, encrypted and signed-then-encrypted bodies that
:func:`unpack` must open; openssl verifies and decrypts what :func:`pack` and
:func:`build_mdn` produce. (This openssl has no zlib, so compression is covered by the
pyas2lib tests and by the round trips in ``test_protocol.py``.)
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

from gateway.adapters.as2.protocol import (
    DigestMismatch,
    PackOptions,
    SignatureNotVerified,
    Trust,
    build_entity,
    build_mdn,
    compute_mic,
    pack,
    parse_entity,
    parse_mdn,
    unpack,
)
from tests.gateway.adapters.as2.conftest import Identity, run_openssl
from tests.support.pyas2_peer import decompress_message

EDI = (
    b"ISA*00*          *00*          *ZZ*PEER           *ZZ*EDIGATE        "
    b"*240101*1200*U*00401*000000001*0*P*>~"
)
ENTITY = build_entity(
    [
        ("Content-Type", "application/edi-x12"),
        ("Content-Transfer-Encoding", "binary"),
        ("Content-Disposition", 'attachment; filename="po.x12"'),
    ],
    EDI + b"\r\nGS*PO*PEER*EDIGATE~\r\n",
)


# openssl's S/MIME reader in -binary mode strips only the LF before a boundary (it keeps the
# CR that RFC 2046 assigns to the delimiter), so whole multiparts are verified in text mode
# here, where openssl canonicalises to CRLF (these payloads are CRLF text already); the
# binary-mode checks at the end of this file hand openssl the parts separately.


def _smime(raw: bytes) -> tuple[list[tuple[str, str]], bytes]:
    """An openssl S/MIME output as (HTTP-style headers, body)."""
    part = parse_entity(raw)
    return list(part.headers), part.body


def _write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize(
    ("md", "label"), [("sha1", "sha1"), ("sha256", "sha-256"), ("sha384", "sha-384"), ("sha512", "sha-512")]
)
def test_openssl_detached_signature_is_verified_and_the_mic_covers_the_signed_entity(
    openssl: str, peer: Identity, tmp_path: Path, md: str, label: str
) -> None:
    src = _write(tmp_path, "entity", ENTITY)
    out = run_openssl(
        openssl,
        [
            "cms",
            "-sign",
            "-binary",
            "-md",
            md,
            "-in",
            src,
            "-signer",
            str(peer.cert_path),
            "-inkey",
            str(peer.key_path),
        ],
    )
    headers, body = _smime(out)
    got = unpack(headers, body, Trust(partner_certificates=[peer.cert], require_signed=True))
    assert got.layers == ("signed",)
    assert got.payload == EDI + b"\r\nGS*PO*PEER*EDIGATE~\r\n"
    assert got.filename == "po.x12"
    assert got.signature_digest == md
    assert got.mic.value == base64.b64encode(hashlib.new(md, ENTITY).digest()).decode()
    assert got.mic.label.replace('"', "") in (label, f"sha-{md[3:]}")


def test_openssl_opaque_signed_data_in_base64_is_accepted(
    openssl: str, peer: Identity, tmp_path: Path
) -> None:
    src = _write(tmp_path, "entity", ENTITY)
    out = run_openssl(
        openssl,
        [
            "cms",
            "-sign",
            "-nodetach",
            "-binary",
            "-in",
            src,
            "-signer",
            str(peer.cert_path),
            "-inkey",
            str(peer.key_path),
        ],
    )
    headers, body = _smime(out)
    assert "base64" in {k.lower(): v for k, v in headers}["content-transfer-encoding"]
    got = unpack(headers, body, Trust(partner_certificates=[peer.cert]))
    assert got.layers == ("signed",)
    assert got.payload.startswith(EDI)


@pytest.mark.parametrize(
    ("cipher", "expected", "extra"),
    [
        ("-des3", "3des", []),
        ("-aes128", "aes128_cbc", []),
        ("-aes192", "aes192_cbc", []),
        ("-aes256", "aes256_cbc", []),
        ("-aes-128-gcm", "aes128_gcm", []),
        ("-aes-256-gcm", "aes256_gcm", []),
        ("-rc2-40", "rc2_40", ["-provider", "legacy", "-provider", "default"]),
        ("-rc2", "rc2_128", ["-provider", "legacy", "-provider", "default"]),
    ],
)
def test_openssl_encrypted_bodies_decrypt(
    openssl: str, ours: Identity, tmp_path: Path, cipher: str, expected: str, extra: list[str]
) -> None:
    src = _write(tmp_path, "entity", ENTITY)
    der = run_openssl(
        openssl,
        ["cms", "-encrypt", "-binary", cipher, *extra, "-outform", "DER", "-in", src, str(ours.cert_path)],
    )
    headers = [("Content-Type", "application/pkcs7-mime; smime-type=enveloped-data")]
    got = unpack(headers, der, Trust(our_keys=[ours.signing], require_encrypted=True), ["sha-256"])
    assert got.layers == ("encrypted",)
    assert got.encryption == expected
    assert got.payload.startswith(EDI)
    # unsigned but encrypted: the MIC covers the decrypted MIME entity, headers included
    assert got.mic == compute_mic(ENTITY, "sha256", "sha-256")


@pytest.mark.parametrize(
    ("keyopts", "transport"),
    [
        ([], "rsa_pkcs1v15"),
        (["-keyopt", "rsa_padding_mode:oaep"], "rsa_oaep_sha1"),
        (["-keyopt", "rsa_padding_mode:oaep", "-keyopt", "rsa_oaep_md:sha256"], "rsa_oaep_sha256"),
        (["-keyopt", "rsa_padding_mode:oaep", "-keyopt", "rsa_oaep_md:sha512"], "rsa_oaep_sha512"),
    ],
)
def test_openssl_key_transports_in_smime_base64(
    openssl: str, ours: Identity, tmp_path: Path, keyopts: list[str], transport: str
) -> None:
    src = _write(tmp_path, "entity", ENTITY)
    out = run_openssl(
        openssl,
        ["cms", "-encrypt", "-binary", "-aes256", "-in", src, "-recip", str(ours.cert_path), *keyopts],
    )
    headers, body = _smime(out)  # S/MIME output: base64 transfer encoding
    got = unpack(headers, body, Trust(our_keys=[ours.signing]))
    assert got.key_transport == transport
    assert got.payload.startswith(EDI)


def test_openssl_sign_then_encrypt(openssl: str, ours: Identity, peer: Identity, tmp_path: Path) -> None:
    src = _write(tmp_path, "entity", ENTITY)
    signed = run_openssl(
        openssl,
        [
            "cms",
            "-sign",
            "-binary",
            "-md",
            "sha256",
            "-in",
            src,
            "-signer",
            str(peer.cert_path),
            "-inkey",
            str(peer.key_path),
        ],
    )
    der = run_openssl(
        openssl,
        [
            "cms",
            "-encrypt",
            "-binary",
            "-aes256",
            "-outform",
            "DER",
            "-in",
            _write(tmp_path, "signed", signed),
            str(ours.cert_path),
        ],
    )
    trust = Trust(
        our_keys=[ours.signing], partner_certificates=[peer.cert], require_signed=True, require_encrypted=True
    )
    got = unpack([("Content-Type", "application/pkcs7-mime; smime-type=enveloped-data")], der, trust)
    assert got.layers == ("encrypted", "signed")
    assert got.mic.value == base64.b64encode(hashlib.sha256(ENTITY).digest()).decode()


def test_openssl_signature_by_an_unknown_key_is_an_authentication_failure(
    openssl: str, peer: Identity, stranger: Identity, tmp_path: Path
) -> None:
    src = _write(tmp_path, "entity", ENTITY)
    out = run_openssl(
        openssl,
        [
            "cms",
            "-sign",
            "-binary",
            "-in",
            src,
            "-signer",
            str(stranger.cert_path),
            "-inkey",
            str(stranger.key_path),
        ],
    )
    headers, body = _smime(out)
    with pytest.raises(SignatureNotVerified) as caught:
        unpack(headers, body, Trust(partner_certificates=[peer.cert]))
    assert caught.value.as2_disposition == "authentication-failed"


def test_openssl_signed_content_altered_in_transit_fails_the_integrity_check(
    openssl: str, peer: Identity, tmp_path: Path
) -> None:
    src = _write(tmp_path, "entity", ENTITY)
    out = run_openssl(
        openssl,
        ["cms", "-sign", "-binary", "-in", src, "-signer", str(peer.cert_path), "-inkey", str(peer.key_path)],
    )
    tampered = out.replace(b"GS*PO*PEER", b"GS*PO*EVIL")
    assert tampered != out
    headers, body = _smime(tampered)
    with pytest.raises(DigestMismatch) as caught:
        unpack(headers, body, Trust(partner_certificates=[peer.cert]))
    assert caught.value.as2_disposition == "integrity-check-failed"


@pytest.mark.parametrize("scheme", ["pkcs1v15", "pss"])
@pytest.mark.parametrize("digest", ["sha1", "sha224", "sha256", "sha384", "sha512"])
def test_openssl_verifies_our_signatures(
    openssl: str, ours: Identity, tmp_path: Path, scheme: str, digest: str
) -> None:
    packed = pack(
        EDI,
        "application/edi-x12",
        "po.x12",
        PackOptions(sign_with=ours.signing, digest=digest, scheme=scheme),
    )
    message = _write(tmp_path, "msg", build_entity([("MIME-Version", "1.0"), *packed.headers], packed.body))
    content = run_openssl(openssl, ["cms", "-verify", "-in", message, "-CAfile", str(ours.cert_path)])
    assert content.endswith(EDI)
    assert packed.mic == compute_mic(content, digest)  # the MIC we expect back covers what was signed


@pytest.mark.parametrize(
    "algorithm",
    ["3des", "aes128_cbc", "aes192_cbc", "aes256_cbc", "aes128_gcm", "aes256_gcm", "rc2_40", "rc2_128"],
)
@pytest.mark.parametrize("transport", ["rsa_pkcs1v15", "rsa_oaep_sha1", "rsa_oaep_sha256", "rsa_oaep_sha512"])
def test_openssl_decrypts_what_we_encrypt(
    openssl: str, ours: Identity, peer: Identity, tmp_path: Path, algorithm: str, transport: str
) -> None:
    options = PackOptions(
        sign_with=ours.signing, encrypt_for=peer.cert, encryption=algorithm, key_transport=transport
    )
    packed = pack(EDI, "application/edi-x12", "po.x12", options)
    legacy = ["-provider", "legacy", "-provider", "default"] if algorithm.startswith("rc2") else []
    src = _write(tmp_path, "enc", packed.body)
    signed = run_openssl(
        openssl,
        ["cms", "-decrypt", "-binary", "-inform", "DER", "-in", src, "-inkey", str(peer.key_path), *legacy],
    )
    # what came out is our multipart/signed entity; openssl verifies it too
    content = run_openssl(
        openssl,
        [
            "cms",
            "-verify",
            "-in",
            _write(tmp_path, "signed", signed),
            "-CAfile",
            str(ours.cert_path),
        ],
    )
    assert content.endswith(EDI)


def test_openssl_verifies_our_signed_mdn_and_we_read_it_back(
    openssl: str, ours: Identity, tmp_path: Path
) -> None:
    mic = compute_mic(ENTITY, "sha256")
    headers, body = build_mdn(
        original_message_id="<abc@peer>",
        our_as2_id="EDIGATE",
        partner_as2_id="PEER",
        message_id="<mdn-1@edigate>",
        error=None,
        mic=mic,
        text="processed",
        sign_with=ours.signing,
        digest="sha256",
    )
    message = _write(tmp_path, "mdn", build_entity(headers, body))
    report = run_openssl(openssl, ["cms", "-verify", "-in", message, "-CAfile", str(ours.cert_path)])
    assert b"multipart/report" in report
    assert b"Disposition: automatic-action/MDN-sent-automatically; processed" in report
    assert f"Received-Content-MIC: {mic.value}, sha-256".encode() in report
    result = parse_mdn(headers, body, [ours.cert], require_signed=True)
    assert result.ok
    assert result.signed
    assert result.original_message_id == "abc@peer"
    assert result.mic is not None
    assert result.mic.matches(mic)


# --- binary mode: openssl checks exactly the bytes we signed -----------------------------------
# openssl's S/MIME reader keeps the CR of the CRLF that RFC 2046 assigns to the boundary, so
# it cannot read a binary multipart/signed itself. The parts are split here by the RFC
# (independently of edigate's splitter) and handed to `openssl cms -verify -binary` apart.


def _rfc2046_parts(content_type: str, body: bytes) -> tuple[bytes, bytes]:
    boundary = content_type.split('boundary="', 1)[1].split('"', 1)[0].encode()
    delimiter = b"\r\n--" + boundary
    first_start = body.index(b"--" + boundary + b"\r\n") + len(boundary) + 4
    first_end = body.index(delimiter, first_start)
    second_start = first_end + len(delimiter) + 2
    second_end = body.index(delimiter, second_start)
    return body[first_start:first_end], body[second_start:second_end]


BINARY_PAYLOADS = [
    pytest.param(b"line one\nline two\n\nend without newline", id="bare-lf"),
    pytest.param(b"ISA*00~\r\nGS*PO~\r\n\r\nIEA*1~\r\n", id="crlf"),
    pytest.param(b"mixed\r\nbare\n\r\r\n\x00\xff binary\r", id="mixed-binary"),
]


@pytest.mark.parametrize("payload", BINARY_PAYLOADS)
@pytest.mark.parametrize("digest", ["sha1", "sha256", "sha512"])
def test_openssl_verifies_our_signatures_in_binary_mode(
    openssl: str, ours: Identity, tmp_path: Path, payload: bytes, digest: str
) -> None:
    packed = pack(
        payload, "application/octet-stream", "data.bin", PackOptions(sign_with=ours.signing, digest=digest)
    )
    [(_, content_type)] = packed.headers
    signed_entity, signature_part = _rfc2046_parts(content_type, packed.body)
    signature = base64.b64decode(signature_part.split(b"\r\n\r\n", 1)[1])
    content = _write(tmp_path, "content", signed_entity)
    out = run_openssl(
        openssl,
        [
            "cms", "-verify", "-binary", "-inform", "DER", "-in", _write(tmp_path, "sig.der", signature),
            "-content", content, "-CAfile", str(ours.cert_path),
        ],
    )  # fmt: skip
    assert out == signed_entity
    assert signed_entity.endswith(payload)  # the payload went out byte for byte, line ends untouched
    digest_out = run_openssl(openssl, ["dgst", f"-{digest}", "-binary", content])
    assert packed.mic.value == base64.b64encode(digest_out).decode()  # the MIC we expect back


@pytest.mark.parametrize("digest", ["sha256", "sha384"])
def test_openssl_verifies_our_signed_mdn_in_binary_mode(
    openssl: str, ours: Identity, tmp_path: Path, digest: str
) -> None:
    mic = compute_mic(ENTITY, digest)
    headers, body = build_mdn(
        original_message_id="<bin@peer>",
        our_as2_id="EDIGATE",
        partner_as2_id="PEER",
        message_id="<mdn-2@edigate>",
        error=None,
        mic=mic,
        text="processed",
        sign_with=ours.signing,
        digest=digest,
    )
    content_type = dict(headers)["Content-Type"]
    report, signature_part = _rfc2046_parts(content_type, body)
    signature = base64.b64decode(signature_part.split(b"\r\n\r\n", 1)[1])
    out = run_openssl(
        openssl,
        [
            "cms", "-verify", "-binary", "-inform", "DER", "-in", _write(tmp_path, "sig.der", signature),
            "-content", _write(tmp_path, "report", report), "-CAfile", str(ours.cert_path),
        ],
    )  # fmt: skip
    assert f"Received-Content-MIC: {mic.value}, {mic.label}".encode() in out


# --- MICs of unsigned messages we send, computed outside edigate -------------------------------


@pytest.mark.parametrize(
    ("compress", "encrypt"), [(False, False), (True, False), (False, True), (True, True)],
    ids=["plain", "compressed", "encrypted", "compressed-encrypted"],
)  # fmt: skip
def test_the_mic_we_expect_for_unsigned_messages_follows_rfc_4130_and_5402(
    openssl: str, peer: Identity, tmp_path: Path, compress: bool, encrypt: bool
) -> None:
    options = PackOptions(compress=compress, encrypt_for=peer.cert if encrypt else None)
    packed = pack(EDI, "application/edi-x12", "po.x12", options)
    data = packed.body
    if encrypt:  # openssl opens the envelope
        data = run_openssl(
            openssl,
            ["cms", "-decrypt", "-binary", "-inform", "DER", "-in", _write(tmp_path, "enc", data),
             "-inkey", str(peer.key_path)],
        )  # fmt: skip
    if compress:  # pyas2lib inflates (this openssl has no zlib)
        data = decompress_message(data.split(b"\r\n\r\n", 1)[1] if encrypt else data)
    if compress or encrypt:  # the innermost MIME entity, headers included
        assert data.startswith(b"Content-Type: application/edi-x12\r\n")
    else:  # plain: the content alone
        assert data == EDI
    digest = run_openssl(openssl, ["dgst", "-sha256", "-binary", _write(tmp_path, "covered", data)])
    assert packed.mic.value == base64.b64encode(digest).decode()
