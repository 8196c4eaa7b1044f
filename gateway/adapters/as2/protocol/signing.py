"""CMS SignedData (RFC 5652): detached signatures for multipart/signed, and their verification.

Signing uses signed attributes (content type, signing time, message digest), RSA with
PKCS#1 v1.5 or PSS (RFC 4056 parameters), and carries our certificate. Verification trusts
only the partner certificates it is given (the ones valid now), never certificates inside
the message; the signer identifier only decides which certificate is tried first.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from asn1crypto import algos, cms, core
from asn1crypto import x509 as ax509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from gateway.adapters.as2.protocol import der
from gateway.adapters.as2.protocol.algorithms import hash_for, normalise_digest
from gateway.adapters.as2.protocol.errors import (
    DigestMismatch,
    MalformedMessage,
    SignatureNotVerified,
    UnsupportedAlgorithm,
)
from gateway.adapters.as2.protocol.fastcms import verify_common

__all__ = ["SigningKey", "VerifiedSignature", "sign_detached", "verify_signature"]


@dataclass(frozen=True, slots=True)
class SigningKey:
    """Our RSA key with its certificate (and optionally the rest of its chain)."""

    key: rsa.RSAPrivateKey
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()


@dataclass(frozen=True, slots=True)
class VerifiedSignature:
    digest: str  # normalised: sha1, sha256, ...
    certificate: x509.Certificate
    content: bytes  # what the signature covers (the encapsulated content for opaque signatures)
    scheme: str  # pkcs1v15 | pss


def _asn1_cert(cert: x509.Certificate) -> ax509.Certificate:
    return ax509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _pss_params(digest: str) -> algos.RSASSAPSSParams:
    size = hash_for(digest).digest_size
    return algos.RSASSAPSSParams(
        {
            "hash_algorithm": {"algorithm": digest},
            "mask_gen_algorithm": {"algorithm": "mgf1", "parameters": {"algorithm": digest}},
            "salt_length": size,
        }
    )


def _oid(dotted: str) -> bytes:
    return bytes(core.ObjectIdentifier(dotted).dump())


_OID_DATA = _oid("1.2.840.113549.1.7.1")
_OID_SIGNED_DATA = _oid("1.2.840.113549.1.7.2")
_OID_SIGNING_TIME = _oid("1.2.840.113549.1.9.5")
_OID_MESSAGE_DIGEST = _oid("1.2.840.113549.1.9.4")
_CONTENT_TYPE_ATTR = bytes(cms.CMSAttribute({"type": "content_type", "values": ["data"]}).dump())
_VERSION_1 = b"\x02\x01\x01"


@dataclass(frozen=True, slots=True)
class _Template:
    """The parts of a SignedData that only depend on the key, the digest and the scheme."""

    digest_algorithm: bytes
    signature_algorithm: bytes
    sid: bytes
    certificates: bytes


@lru_cache(maxsize=64)
def _template(cert_ders: tuple[bytes, ...], digest: str, scheme: str) -> _Template:
    cert = ax509.Certificate.load(cert_ders[0])
    if scheme == "pss":
        sig_alg = algos.SignedDigestAlgorithm({"algorithm": "rsassa_pss", "parameters": _pss_params(digest)})
    else:
        sig_alg = algos.SignedDigestAlgorithm({"algorithm": "rsassa_pkcs1v15"})
    sid = cms.IssuerAndSerialNumber({"issuer": cert.issuer, "serial_number": cert.serial_number})
    return _Template(
        digest_algorithm=bytes(algos.DigestAlgorithm({"algorithm": digest}).dump()),
        signature_algorithm=bytes(sig_alg.dump()),
        sid=bytes(sid.dump()),
        certificates=der.explicit(0, b"".join(cert_ders)),
    )


def sign_detached(content: bytes, signer: SigningKey, digest: str, scheme: str = "pkcs1v15") -> bytes:
    """A DER ``ContentInfo`` holding a detached SignedData over ``content``."""
    digest = normalise_digest(digest)
    algorithm = hash_for(digest)
    if scheme == "pss":
        pad: padding.AsymmetricPadding = padding.PSS(
            mgf=padding.MGF1(hash_for(digest)), salt_length=algorithm.digest_size
        )
    elif scheme == "pkcs1v15":
        pad = padding.PKCS1v15()
    else:
        raise UnsupportedAlgorithm(f"signature scheme {scheme!r} is not supported")
    certs = (signer.certificate, *signer.chain)
    template = _template(tuple(c.public_bytes(serialization.Encoding.DER) for c in certs), digest, scheme)
    now = datetime.now(UTC).strftime("%y%m%d%H%M%SZ").encode("ascii")
    attributes = (
        _CONTENT_TYPE_ATTR,
        der.tlv(der.SEQUENCE, _OID_SIGNING_TIME + der.set_of(der.tlv(0x17, now))),
        der.tlv(
            der.SEQUENCE,
            _OID_MESSAGE_DIGEST + der.set_of(der.octet_string(hashlib.new(digest, content).digest())),
        ),
    )
    attrs_content = b"".join(sorted(attributes))  # DER: a SET OF is sorted by encoding
    # the signature covers the attributes with the SET tag; the SignerInfo carries them as [0] IMPLICIT
    signature = signer.key.sign(der.tlv(der.SET, attrs_content), pad, algorithm)
    signer_info = der.tlv(
        der.SEQUENCE,
        _VERSION_1
        + template.sid
        + template.digest_algorithm
        + der.tlv(0xA0, attrs_content)
        + template.signature_algorithm
        + der.octet_string(signature),
    )
    signed_data = der.tlv(
        der.SEQUENCE,
        _VERSION_1
        + der.tlv(der.SET, template.digest_algorithm)
        + der.tlv(der.SEQUENCE, _OID_DATA)
        + template.certificates
        + der.tlv(der.SET, signer_info),
    )
    return der.tlv(der.SEQUENCE, _OID_SIGNED_DATA + der.explicit(0, signed_data))


def _load_signed(der: bytes) -> cms.SignedData:
    try:
        info = cms.ContentInfo.load(der)
        kind = info["content_type"].native
    except (ValueError, TypeError) as exc:
        raise MalformedMessage(f"the signature is not a CMS structure: {exc}") from exc
    if kind != "signed_data":
        raise MalformedMessage(f"the signature holds CMS {kind}, not signed-data")
    return info["content"]


def _padding_for(
    signer: cms.SignerInfo, digest: str
) -> tuple[padding.AsymmetricPadding, hashes.HashAlgorithm, str]:
    alg = signer["signature_algorithm"]
    name = alg["algorithm"].native
    if name == "rsassa_pss":
        params = alg["parameters"]
        if isinstance(params, core.Void) or params.native is None:
            # pyas2lib and others omit the parameters and use the signer's digest for everything.
            return (
                padding.PSS(mgf=padding.MGF1(hash_for(digest)), salt_length=padding.PSS.AUTO),
                hash_for(digest),
                "pss",
            )
        hash_name = params["hash_algorithm"]["algorithm"].native
        mgf_hash = params["mask_gen_algorithm"]["parameters"]["algorithm"].native
        return (
            padding.PSS(mgf=padding.MGF1(hash_for(mgf_hash)), salt_length=padding.PSS.AUTO),
            hash_for(hash_name),
            "pss",
        )
    if name == "rsassa_pkcs1v15" or name.endswith("_rsa"):
        return padding.PKCS1v15(), hash_for(digest), "pkcs1v15"
    raise UnsupportedAlgorithm(f"signature algorithm {name} is not supported (RSA only)")


def _candidates(signer: cms.SignerInfo, certs: Sequence[x509.Certificate]) -> list[x509.Certificate]:
    sid = signer["sid"]
    serial: int | None = None
    if sid.name == "issuer_and_serial_number":
        serial = sid.chosen["serial_number"].native
    return sorted(certs, key=lambda cert: cert.serial_number != serial)


def verify_signature(
    signature_der: bytes, content: bytes | None, certificates: Sequence[x509.Certificate]
) -> VerifiedSignature:
    """Check a CMS signature over ``content`` (``None``: the content inside the structure).

    Raises :class:`DigestMismatch` (integrity-check-failed) when the content was altered and
    :class:`SignatureNotVerified` (authentication-failed) when no certificate verifies it.
    """
    if content is not None and (common := verify_common(signature_der, content, certificates)) is not None:
        return VerifiedSignature(common[0], common[1], content, "pkcs1v15")  # the usual shape, read by hand
    signed = _load_signed(signature_der)
    if content is None:
        inner = signed["encap_content_info"]["content"]
        if isinstance(inner, core.Void) or inner.native is None:
            raise MalformedMessage("the signed-data holds no content and none was given")
        content = bytes(inner.native) if isinstance(inner.native, bytes) else inner.contents
    infos = list(signed["signer_infos"])
    if not infos:
        raise MalformedMessage("the signed-data has no signer")
    if not certificates:
        raise SignatureNotVerified("no partner certificate is valid now to verify the signature")
    mismatch = False
    for signer in infos:
        digest = normalise_digest(signer["digest_algorithm"]["algorithm"].native)
        data = content
        attrs = signer["signed_attrs"]
        if not isinstance(attrs, core.Void) and len(attrs):
            expected = next(
                (a["values"][0].native for a in attrs if a["type"].native == "message_digest"), None
            )
            if expected != hashlib.new(digest, content).digest():
                mismatch = True
                continue
            data = attrs.untag().dump()
        pad, algorithm, scheme = _padding_for(signer, digest)
        signature = signer["signature"].native
        for cert in _candidates(signer, certificates):
            public = cert.public_key()
            if not isinstance(public, rsa.RSAPublicKey):
                continue
            try:
                public.verify(signature, data, pad, algorithm)
            except InvalidSignature:
                continue
            return VerifiedSignature(digest, cert, content, scheme)
    if mismatch:
        raise DigestMismatch("the signed message digest does not match the content: it was altered")
    raise SignatureNotVerified("the signature does not verify with any partner certificate valid now")
