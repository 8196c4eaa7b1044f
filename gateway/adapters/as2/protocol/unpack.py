"""Opening a received AS2 message: decrypt, verify, decompress, in whatever order it was built.

:func:`unpack` takes the HTTP content headers and body and peels one layer at a time until a
plain MIME entity is left, so every order RFC 4130/5402 allows is accepted: sign then
encrypt, compress then sign, sign then compress, compress alone, and so on. It returns the
payload with a typed account of what was found (:class:`Unpacked`) or raises an error that
names its MDN disposition. It never touches HTTP or the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from asn1crypto import cms
from cryptography import x509

from gateway.adapters.as2.protocol.algorithms import normalise_digest, parse_micalg_list
from gateway.adapters.as2.protocol.compression import DEFAULT_MAX_DECOMPRESSED, decompress
from gateway.adapters.as2.protocol.envelope import decrypt
from gateway.adapters.as2.protocol.errors import (
    DecryptionFailed,
    DigestMismatch,
    InsufficientSecurity,
    MalformedMessage,
    UnsupportedAlgorithm,
)
from gateway.adapters.as2.protocol.fastcms import content_kind
from gateway.adapters.as2.protocol.mic import Mic, compute_mic
from gateway.adapters.as2.protocol.mime import MimePart, canonical_crlf, parse_entity, split_multipart
from gateway.adapters.as2.protocol.signing import SigningKey, VerifiedSignature, verify_signature

__all__ = ["Trust", "Unpacked", "unpack"]

_MAX_LAYERS = 6
_PKCS7_MIME = ("application/pkcs7-mime", "application/x-pkcs7-mime")
_PKCS7_SIGNATURE = ("application/pkcs7-signature", "application/x-pkcs7-signature")
_CONTENT_HEADERS = ("content-type", "content-transfer-encoding", "content-disposition")


@dataclass(frozen=True, slots=True)
class Trust:
    """What one exchange may use: our keys (decryption) and the partner's certificates valid now."""

    our_keys: Sequence[SigningKey] = ()
    partner_certificates: Sequence[x509.Certificate] = ()
    require_signed: bool = False
    require_encrypted: bool = False
    max_decompressed: int = DEFAULT_MAX_DECOMPRESSED


@dataclass(frozen=True, slots=True)
class Unpacked:
    payload: bytes
    content_type: str
    filename: str | None
    layers: tuple[str, ...]  # outermost first: encrypted | signed | compressed
    mic: Mic
    encryption: str | None = None
    key_transport: str | None = None
    signature_digest: str | None = None
    signature_scheme: str | None = None
    signer: x509.Certificate | None = field(default=None, compare=False)

    @property
    def signed(self) -> bool:
        return "signed" in self.layers

    @property
    def encrypted(self) -> bool:
        return "encrypted" in self.layers

    @property
    def compressed(self) -> bool:
        return "compressed" in self.layers


def _cms_kind(data: bytes) -> str:
    kind = content_kind(data)
    if kind is not None:
        return kind
    try:
        return str(cms.ContentInfo.load(data)["content_type"].native)
    except (ValueError, TypeError) as exc:
        raise MalformedMessage(f"the application/pkcs7-mime body is not CMS: {exc}") from exc


def _verify_multipart(
    part: MimePart, certs: Sequence[x509.Certificate]
) -> tuple[MimePart, VerifiedSignature]:
    boundary = part.param("boundary")
    pieces = split_multipart(part.body, boundary or "")
    if len(pieces) != 2:
        raise MalformedMessage(f"multipart/signed needs 2 parts, found {len(pieces)}")
    signed_bytes, signature_bytes = pieces
    signature_part = parse_entity(signature_bytes)
    if signature_part.content_type not in _PKCS7_SIGNATURE:
        raise MalformedMessage(f"the signature part is {signature_part.content_type}, not pkcs7-signature")
    signature = signature_part.decoded()
    try:
        verified = verify_signature(signature, signed_bytes, certs)
    except DigestMismatch:
        canonical = canonical_crlf(signed_bytes)
        if canonical == signed_bytes or not _line_ends_are_not_content(signed_bytes):
            raise
        verified = verify_signature(signature, canonical, certs)  # a signer that hashed CRLF text
        return parse_entity(canonical), verified  # the bytes the signature covers, not the received ones
    return parse_entity(signed_bytes), verified


def _line_ends_are_not_content(entity: bytes) -> bool:
    """Whether the entity is one whose line ends RFC 5751 (3.1.1) canonicalises to CRLF.

    That is text: ``text/*``, and the EDI types that are text in practice
    (``application/edi-x12``, ``application/edifact``, ``application/edi-consent``), or a
    base64 body (its decoded bytes do not depend on line ends). For any other entity the
    line ends are content: a signature over CRLF does not cover bare LFs, and the message
    is refused as altered.
    """
    try:
        part = parse_entity(entity)
    except MalformedMessage:
        return False
    kind = part.content_type
    encoding = (part.header("content-transfer-encoding") or "").strip().lower()
    return kind.startswith(("text/", "application/edi")) or encoding == "base64"


def _mic_label(part: MimePart, verified: VerifiedSignature) -> str | None:
    """The digest name as the sender spelled it in ``micalg``, when it agrees with the signature."""
    micalg = part.param("micalg")
    if micalg:
        try:
            if normalise_digest(micalg) == verified.digest:
                return micalg.strip().lower()
        except UnsupportedAlgorithm:
            return None
    return None


def unpack(
    headers: Sequence[tuple[str, str]],
    body: bytes,
    trust: Trust,
    mic_algorithms: Sequence[str] = (),
) -> Unpacked:
    """Open a message given its HTTP headers (only Content-* are read) and body.

    ``mic_algorithms`` are the sender's ``signed-receipt-micalg`` choices, used for the MIC
    of an unsigned message (a signed one uses its signature's digest).
    """
    content_headers = tuple((k, v) for k, v in headers if k.lower() in _CONTENT_HEADERS)
    if not body:
        raise MalformedMessage("the message body is empty")
    part = MimePart(content_headers, body, b"")
    layers: list[str] = []
    mic: Mic | None = None
    details: dict[str, str | None] = {}
    signer: x509.Certificate | None = None
    for _ in range(_MAX_LAYERS):
        kind = part.content_type
        if kind in _PKCS7_MIME:
            data = part.decoded()
            cms_kind = _cms_kind(data)
            if cms_kind in ("enveloped_data", "authenticated_enveloped_data"):
                if not trust.our_keys:
                    raise DecryptionFailed("the message is encrypted but no private key is configured")
                opened = None
                for key in trust.our_keys:
                    try:
                        opened = decrypt(data, key.key, key.certificate)
                        break
                    except DecryptionFailed:
                        continue
                if opened is None:
                    raise DecryptionFailed("none of our keys decrypts the message")
                layers.append("encrypted")
                details["encryption"], details["key_transport"] = opened.algorithm, opened.key_transport
                part = parse_entity(opened.content)
            elif cms_kind == "compressed_data":
                layers.append("compressed")
                part = parse_entity(decompress(data, trust.max_decompressed))
            elif cms_kind == "signed_data":
                verified = verify_signature(data, None, trust.partner_certificates)
                layers.append("signed")
                mic = mic or compute_mic(verified.content, verified.digest)
                details["digest"], details["scheme"], signer = (
                    verified.digest,
                    verified.scheme,
                    verified.certificate,
                )
                part = parse_entity(verified.content)
            else:
                raise MalformedMessage(f"unexpected CMS content {cms_kind} in application/pkcs7-mime")
        elif kind == "multipart/signed":
            inner, verified = _verify_multipart(part, trust.partner_certificates)
            layers.append("signed")
            mic = mic or compute_mic(verified.content, verified.digest, _mic_label(part, verified))
            details["digest"], details["scheme"], signer = (
                verified.digest,
                verified.scheme,
                verified.certificate,
            )
            part = inner
        else:
            break
    else:
        raise MalformedMessage(f"more than {_MAX_LAYERS} nested security layers")
    if trust.require_encrypted and "encrypted" not in layers:
        raise InsufficientSecurity("the partner's profile requires encrypted messages; this one is not")
    if trust.require_signed and "signed" not in layers:
        raise InsufficientSecurity("the partner's profile requires signed messages; this one is not")
    payload = part.decoded()
    if mic is None:
        wanted = parse_micalg_list(",".join(mic_algorithms))
        digest = wanted[0] if wanted else "sha256"
        # unsigned: encrypted and/or compressed -> the innermost (decrypted, uncompressed) MIME
        # entity, headers included (RFC 4130 7.3.1, RFC 5402 4.2/4.3); neither -> the content alone
        covered = part.raw if layers else payload
        mic = compute_mic(covered, digest, wanted[0].lower() if wanted else None)
    return Unpacked(
        payload=payload,
        content_type=part.header("content-type") or "application/octet-stream",
        filename=part.filename,
        layers=tuple(layers),
        mic=mic,
        encryption=details.get("encryption"),
        key_transport=details.get("key_transport"),
        signature_digest=details.get("digest"),
        signature_scheme=details.get("scheme"),
        signer=signer,
    )
