"""Building an AS2 message body: compress, sign, encrypt (RFC 4130, RFC 5402).

:func:`pack` returns the HTTP content headers and body, plus the MIC the partner's MDN
must echo. Compression happens before signing (RFC 5402 recommends it), so the MIC covers
the compressed entity when the message is signed. Unsigned, the MIC covers the payload's
MIME entity (headers included, uncompressed) when the message is encrypted or compressed,
and the content alone when it is neither (RFC 4130 section 7.3.1, RFC 5402 section 4).
MIME parts are written with CRLF line ends and ``binary`` transfer encoding, so what is
signed is exactly what is sent.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass

from cryptography import x509

from gateway.adapters.as2.protocol.algorithms import micalg_label
from gateway.adapters.as2.protocol.compression import compress
from gateway.adapters.as2.protocol.envelope import encrypt
from gateway.adapters.as2.protocol.mic import Mic, compute_mic
from gateway.adapters.as2.protocol.mime import build_entity
from gateway.adapters.as2.protocol.signing import SigningKey, sign_detached

__all__ = ["PackOptions", "Packed", "new_boundary", "pack", "signed_multipart"]


@dataclass(frozen=True, slots=True)
class PackOptions:
    sign_with: SigningKey | None = None
    digest: str = "sha256"
    scheme: str = "pkcs1v15"
    encrypt_for: x509.Certificate | None = None
    encryption: str = "aes256_cbc"
    key_transport: str = "rsa_pkcs1v15"
    compress: bool = False


@dataclass(frozen=True, slots=True)
class Packed:
    headers: list[tuple[str, str]]  # Content-Type and friends, for the HTTP request
    body: bytes
    mic: Mic
    layers: tuple[str, ...]  # outermost first


def new_boundary() -> str:
    return f"----=_edigate_{secrets.token_hex(16)}"


def _base64_lines(data: bytes) -> bytes:
    text = base64.b64encode(data)
    return b"\r\n".join(text[i : i + 76] for i in range(0, len(text), 76))


def signed_multipart(entity: bytes, signer: SigningKey, digest: str, scheme: str) -> tuple[str, bytes]:
    """(Content-Type, body) of a multipart/signed over ``entity`` (RFC 1847/5751)."""
    signature = sign_detached(entity, signer, digest, scheme)
    boundary = new_boundary()
    signature_part = build_entity(
        [
            ("Content-Type", 'application/pkcs7-signature; name="smime.p7s"; smime-type=signed-data'),
            ("Content-Transfer-Encoding", "base64"),
            ("Content-Disposition", 'attachment; filename="smime.p7s"'),
        ],
        _base64_lines(signature),
    )
    delimiter = b"--" + boundary.encode("ascii")
    body = delimiter + b"\r\n" + entity + b"\r\n" + delimiter + b"\r\n" + signature_part
    body += b"\r\n" + delimiter + b"--\r\n"
    content_type = (
        f'multipart/signed; protocol="application/pkcs7-signature"; micalg={micalg_label(digest)}; '
        f'boundary="{boundary}"'
    )
    return content_type, body


def _safe_filename(name: str) -> str:
    return "".join(ch for ch in name if ch.isalnum() or ch in "._-") or "payload"


def pack(payload: bytes, content_type: str, filename: str | None, options: PackOptions) -> Packed:
    headers = [("Content-Type", content_type), ("Content-Transfer-Encoding", "binary")]
    if filename:
        headers.append(("Content-Disposition", f'attachment; filename="{_safe_filename(filename)}"'))
    entity = build_entity(headers, payload)
    original = entity
    layers: list[str] = []
    mic: Mic | None = None
    if options.compress:
        entity = build_entity(
            [
                ("Content-Type", 'application/pkcs7-mime; smime-type=compressed-data; name="smime.p7z"'),
                ("Content-Transfer-Encoding", "binary"),
                ("Content-Disposition", 'attachment; filename="smime.p7z"'),
            ],
            compress(entity),
        )
        headers = []
        layers.insert(0, "compressed")
    if options.sign_with is not None:
        mic = compute_mic(entity, options.digest)
        signed_type, signed_body = signed_multipart(entity, options.sign_with, options.digest, options.scheme)
        headers = [("Content-Type", signed_type)]
        entity = build_entity(headers, signed_body)
        layers.insert(0, "signed")
    if options.encrypt_for is not None:
        if mic is None:
            mic = compute_mic(original, options.digest)  # unsigned: the uncompressed entity, headers too
        enveloped = encrypt(entity, options.encrypt_for, options.encryption, options.key_transport)
        layers.insert(0, "encrypted")
        return Packed(
            [
                ("Content-Type", 'application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"'),
                ("Content-Transfer-Encoding", "binary"),
                ("Content-Disposition", 'attachment; filename="smime.p7m"'),
            ],
            enveloped,
            mic,
            tuple(layers),
        )
    if options.sign_with is not None:
        assert mic is not None
        return Packed(headers, signed_body, mic, tuple(layers))
    if options.compress:
        # compressed only: the MIC covers the decompressed entity, headers included (RFC 5402 4.3)
        return Packed(
            [
                ("Content-Type", 'application/pkcs7-mime; smime-type=compressed-data; name="smime.p7z"'),
                ("Content-Transfer-Encoding", "binary"),
            ],
            entity.split(b"\r\n\r\n", 1)[1],
            compute_mic(original, options.digest),
            tuple(layers),
        )
    return Packed(headers, payload, compute_mic(payload, options.digest), tuple(layers))
