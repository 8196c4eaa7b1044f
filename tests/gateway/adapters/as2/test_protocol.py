"""The protocol core on its own: MIME splitting, every layer order, MICs, MDNs, RC2, limits."""

from __future__ import annotations

import base64
import hashlib

import pytest

from gateway.adapters.as2.protocol import (
    DigestMismatch,
    MalformedMessage,
    PackOptions,
    Trust,
    build_entity,
    build_mdn,
    compress,
    compute_mic,
    decompress,
    encrypt,
    normalise_digest,
    pack,
    parse_mdn,
    parse_mdn_request,
    split_multipart,
    unpack,
)
from gateway.adapters.as2.protocol.errors import InsufficientSecurity, UnsupportedAlgorithm
from gateway.adapters.as2.protocol.pack import signed_multipart
from gateway.adapters.as2.protocol.rc2 import _encrypt_block as rc2_block
from gateway.adapters.as2.protocol.rc2 import _expand as rc2_expand
from gateway.adapters.as2.protocol.rc2 import rc2_cbc_decrypt, rc2_cbc_encrypt
from tests.gateway.adapters.as2.conftest import Identity

EDI = b"ISA*00*X~GS*PO~ST*850*0001~SE*2*0001~GE*1*1~IEA*1*1~\n"
PAYLOAD_ENTITY = build_entity(
    [("Content-Type", "application/edi-x12"), ("Content-Transfer-Encoding", "binary")], EDI
)


def test_multipart_split_keeps_parts_exact_and_drops_the_crlf_before_each_boundary() -> None:
    body = b"preamble\r\n--b\r\nA: 1\r\n\r\nfirst\r\n\r\n--b  \r\nB: 2\r\n\r\nsecond\r\n--b--\r\nepilogue"
    assert split_multipart(body, "b") == [b"A: 1\r\n\r\nfirst\r\n", b"B: 2\r\n\r\nsecond"]


def test_multipart_split_accepts_bare_lf_and_ignores_boundary_lookalikes() -> None:
    body = b"--b\nA: 1\n\nx--b in text\n--bb not a delimiter\n--b\nB: 2\n\ny\n--b--\n"
    assert split_multipart(body, "b") == [b"A: 1\n\nx--b in text\n--bb not a delimiter", b"B: 2\n\ny"]


def test_multipart_without_closing_boundary_is_truncated() -> None:
    with pytest.raises(MalformedMessage, match="truncated"):
        split_multipart(b"--b\r\nA: 1\r\n\r\nfirst\r\n--b\r\nB: 2\r\n\r\nsec", "b")


@pytest.mark.parametrize("spelling", ["sha-256", "SHA256", "sha256", '"sha-256"'])
def test_micalg_spellings(spelling: str) -> None:
    assert normalise_digest(spelling) == "sha256"


def test_md5_is_refused() -> None:
    with pytest.raises(UnsupportedAlgorithm):
        normalise_digest("md5")


@pytest.mark.parametrize(
    ("key", "bits", "plain", "cipher"),
    [  # RFC 2268 section 5 test vectors
        ("0000000000000000", 63, "0000000000000000", "ebb773f993278eff"),
        ("ffffffffffffffff", 64, "ffffffffffffffff", "278b27e42e2f0d49"),
        ("3000000000000000", 64, "1000000000000001", "30649edf9be7d2c2"),
        ("88", 64, "0000000000000000", "61a8a244adacccf0"),
        ("88bca90e90875a", 64, "0000000000000000", "6ccf4308974c267f"),
        ("88bca90e90875a7f0f79c384627bafb2", 64, "0000000000000000", "1a807d272bbe5db1"),
        ("88bca90e90875a7f0f79c384627bafb2", 128, "0000000000000000", "2269552ab0f85ca6"),
    ],
)
def test_rc2_matches_rfc_2268(key: str, bits: int, plain: str, cipher: str) -> None:
    assert rc2_block(rc2_expand(bytes.fromhex(key), bits), bytes.fromhex(plain)).hex() == cipher
    iv = bytes(8)
    assert rc2_cbc_decrypt(bytes.fromhex(key), iv, bytes.fromhex(cipher), bits) == bytes.fromhex(plain)
    data = bytes(range(32))
    assert rc2_cbc_decrypt(b"k" * 5, iv, rc2_cbc_encrypt(b"k" * 5, iv, data, 40), 40) == data


def test_compression_round_trip_and_bomb_limit() -> None:
    assert decompress(compress(PAYLOAD_ENTITY)) == PAYLOAD_ENTITY
    with pytest.raises(MalformedMessage, match="inflates beyond"):
        decompress(compress(b"\0" * 100_000), max_size=10_000)


@pytest.mark.parametrize("compressed", [False, True])
@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("encrypted", [False, True])
def test_pack_unpack_every_combination_agrees_on_the_mic(
    ours: Identity, peer: Identity, compressed: bool, signed: bool, encrypted: bool
) -> None:
    options = PackOptions(
        sign_with=peer.signing if signed else None,
        encrypt_for=ours.cert if encrypted else None,
        compress=compressed,
        digest="sha384",
    )
    packed = pack(EDI, "application/edi-x12", "po.x12", options)
    trust = Trust(our_keys=[ours.signing], partner_certificates=[peer.cert])
    got = unpack(packed.headers, packed.body, trust, ["sha-384"])
    assert got.payload == EDI
    assert got.layers == packed.layers
    assert got.mic.matches(packed.mic)


def test_compress_after_sign_then_encrypt(ours: Identity, peer: Identity) -> None:
    """RFC 5402 allows compressing a signed entity: the MIC still covers what was signed."""
    signed_type, signed_body = signed_multipart(PAYLOAD_ENTITY, peer.signing, "sha256", "pkcs1v15")
    signed_entity = build_entity([("Content-Type", signed_type)], signed_body)
    compressed = build_entity(
        [
            ("Content-Type", "application/pkcs7-mime; smime-type=compressed-data"),
            ("Content-Transfer-Encoding", "base64"),
        ],
        base64.encodebytes(compress(signed_entity)),
    )
    body = encrypt(compressed, ours.cert, "aes128_cbc", "rsa_oaep_sha256")
    trust = Trust(our_keys=[ours.signing], partner_certificates=[peer.cert], require_signed=True)
    got = unpack([("Content-Type", "application/pkcs7-mime; smime-type=enveloped-data")], body, trust)
    assert got.layers == ("encrypted", "compressed", "signed")
    assert got.payload == EDI
    assert got.mic.value == base64.b64encode(hashlib.sha256(PAYLOAD_ENTITY).digest()).decode()


def test_base64_transfer_encoded_body(peer: Identity) -> None:
    packed = pack(EDI, "application/edi-x12", None, PackOptions(compress=True))
    headers = [(k, v) for k, v in packed.headers if k != "Content-Transfer-Encoding"]
    headers.append(("Content-Transfer-Encoding", "base64"))
    got = unpack(headers, base64.encodebytes(packed.body), Trust())
    assert got.payload == EDI


def test_policy_requires_signature_and_encryption(ours: Identity, peer: Identity) -> None:
    plain = pack(EDI, "application/edi-x12", None, PackOptions())
    with pytest.raises(InsufficientSecurity) as caught:
        unpack(plain.headers, plain.body, Trust(require_signed=True))
    assert caught.value.as2_disposition == "insufficient-message-security"
    signed = pack(EDI, "application/edi-x12", None, PackOptions(sign_with=peer.signing))
    with pytest.raises(InsufficientSecurity):
        unpack(signed.headers, signed.body, Trust(partner_certificates=[peer.cert], require_encrypted=True))


def test_unsigned_unencrypted_mic_covers_the_content_only() -> None:
    got = unpack([("Content-Type", "application/edi-x12")], EDI, Trust(), ["sha1", "sha-256"])
    assert got.mic == compute_mic(EDI, "sha1", "sha1")


@pytest.mark.parametrize(
    "body",
    [b"", b"garbage that is not CMS", b"\x30\x82\xff\xff\x06\x09"],
)
def test_garbage_encrypted_bodies_are_malformed(ours: Identity, body: bytes) -> None:
    with pytest.raises(MalformedMessage):
        unpack(
            [("Content-Type", "application/pkcs7-mime; smime-type=enveloped-data")],
            body,
            Trust([ours.signing]),
        )


def test_truncated_encrypted_body_is_refused(ours: Identity) -> None:
    full = encrypt(PAYLOAD_ENTITY, ours.cert, "aes256_cbc", "rsa_pkcs1v15")
    with pytest.raises((MalformedMessage, DigestMismatch)) as caught:
        unpack([("Content-Type", "application/pkcs7-mime")], full[: len(full) - 20], Trust([ours.signing]))
    assert caught.value.as2_disposition in ("unexpected-processing-error", "decryption-failed")


def test_message_for_another_key_is_a_decryption_failure(ours: Identity, stranger: Identity) -> None:
    body = encrypt(PAYLOAD_ENTITY, stranger.cert, "aes256_cbc", "rsa_pkcs1v15")
    with pytest.raises(Exception) as caught:
        unpack([("Content-Type", "application/pkcs7-mime")], body, Trust([ours.signing]))
    assert getattr(caught.value, "as2_disposition", None) == "decryption-failed"


def test_mdn_request_options() -> None:
    request = parse_mdn_request(
        [
            ("Disposition-Notification-To", "x@example.com"),
            (
                "Disposition-Notification-Options",
                "signed-receipt-protocol=optional, pkcs7-signature; "
                "signed-receipt-micalg=optional, md5, sha-256, sha1",
            ),
            ("Receipt-Delivery-Option", "https://peer.example.com/mdn"),
        ]
    )
    assert request.requested
    assert request.signed
    assert request.micalgs == ("sha-256", "sha1")
    assert request.async_url == "https://peer.example.com/mdn"
    assert not parse_mdn_request([]).requested


def test_negative_unsigned_mdn_round_trip(ours: Identity) -> None:
    headers, body = build_mdn(
        original_message_id="m-1@peer",
        our_as2_id="EDIGATE AS2",
        partner_as2_id="PEER",
        message_id="mdn-1@edigate",
        error="decryption-failed",
        mic=compute_mic(EDI, "sha256"),
        text="could not decrypt",
    )
    assert dict(headers)["AS2-From"] == '"EDIGATE AS2"'
    result = parse_mdn(headers, body, [ours.cert], require_signed=False)
    assert not result.ok
    assert result.status == "processed"
    assert result.modifier == "error: decryption-failed"
    assert result.mic is None  # no MIC on a failure
    assert result.text == "could not decrypt"
    with pytest.raises(InsufficientSecurity):
        parse_mdn(headers, body, [ours.cert], require_signed=True)


@pytest.mark.parametrize("algorithm", ["3des", "aes128_cbc", "aes256_gcm"])
def test_a_content_key_of_the_wrong_size_means_not_our_message(ours: Identity, algorithm: str) -> None:
    """An RSA key that is not the recipient's may "decrypt" the wrapped key to random bytes of any
    length (implicit rejection). Such a key is reported as not ours, so key rollover tries the next."""
    from asn1crypto import cms
    from cryptography.hazmat.primitives.asymmetric import padding

    from gateway.adapters.as2.protocol import envelope
    from gateway.adapters.as2.protocol.errors import DecryptionFailed

    info = cms.ContentInfo.load(encrypt(PAYLOAD_ENTITY, ours.cert, algorithm, "rsa_pkcs1v15"))
    ktri = info["content"]["recipient_infos"][0].chosen
    wrapped = ours.key.public_key().encrypt(b"8 bytes!", padding.PKCS1v15())  # decrypts fine, wrong size
    ktri["encrypted_key"] = cms.OctetString(wrapped)
    tampered = info.dump(force=True)
    with pytest.raises(DecryptionFailed, match="not encrypted for"):
        envelope.decrypt(tampered, ours.key, ours.cert)


def test_crlf_to_lf_in_a_signed_binary_payload_is_refused(peer: Identity) -> None:
    """The line ends of a binary entity are content: changing them is altering it."""
    entity = build_entity(
        [("Content-Type", "application/octet-stream"), ("Content-Transfer-Encoding", "binary")],
        b"BIN\r\nDATA\r\nEND",
    )
    signed_type, body = signed_multipart(entity, peer.signing, "sha256", "pkcs1v15")
    altered = body.replace(b"BIN\r\nDATA\r\nEND", b"BIN\nDATA\nEND")
    assert altered != body
    trust = Trust(partner_certificates=[peer.cert], require_signed=True)
    with pytest.raises(DigestMismatch):
        unpack([("Content-Type", signed_type)], altered, trust)
    assert unpack([("Content-Type", signed_type)], body, trust).payload == b"BIN\r\nDATA\r\nEND"


@pytest.mark.parametrize(
    "content_type", ["application/edi-x12", "application/EDI-X12", "application/edifact", "text/plain"]
)
def test_a_text_payload_signed_in_crlf_form_and_sent_with_lf_is_delivered_as_signed(
    peer: Identity, content_type: str
) -> None:
    """RFC 5751 3.1.1: text is signed in canonical (CRLF) form; the payload is what was signed."""
    edi = b"ISA*00*X~\r\nGS*PO~\r\nST*850*0001~\r\nSE*2*0001~\r\nGE*1*1~\r\nIEA*1*1~\r\n"
    entity = build_entity([("Content-Type", content_type), ("Content-Transfer-Encoding", "binary")], edi)
    signed_type, body = signed_multipart(entity, peer.signing, "sha256", "pkcs1v15")
    altered = body.replace(entity, entity.replace(b"\r\n", b"\n"))
    assert altered != body
    got = unpack([("Content-Type", signed_type)], altered, Trust(partner_certificates=[peer.cert]))
    assert got.layers == ("signed",)
    assert got.payload == edi  # the signed bytes (CRLF), not the received ones (LF)
    assert got.mic.value == base64.b64encode(hashlib.sha256(entity).digest()).decode()


def test_a_base64_binary_payload_with_lf_line_ends_is_accepted(peer: Identity) -> None:
    """Base64 lines are text: their line ends are not part of the decoded content."""
    data = bytes(range(256)) * 4
    entity = build_entity(
        [("Content-Type", "application/octet-stream"), ("Content-Transfer-Encoding", "base64")],
        base64.encodebytes(data).replace(b"\n", b"\r\n"),
    )
    signed_type, body = signed_multipart(entity, peer.signing, "sha256", "pkcs1v15")
    altered = body.replace(entity, entity.replace(b"\r\n", b"\n"))
    assert altered != body
    got = unpack([("Content-Type", signed_type)], altered, Trust(partner_certificates=[peer.cert]))
    assert got.payload == data
