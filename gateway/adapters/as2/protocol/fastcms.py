"""Hand-parsed CMS for the shapes almost every AS2 message has: the hot path, asn1crypto as fallback.

asn1crypto builds an object tree for every structure it reads; on a 10 KB signed and
encrypted message that costs more than the RSA decryption itself. The two structures every
such message carries are simple in their common form:

* EnvelopedData with key-transport recipients (RSA PKCS#1 v1.5) and AES-CBC or 3DES content;
* a detached SignedData with one signer, signed attributes and an RSA PKCS#1 v1.5 signature.

This module reads exactly those, in DER, with a few slices. Anything else (BER indefinite
lengths, OAEP, PSS, GCM, RC2, several signers, embedded content, any parse surprise) makes
it return ``None`` and the caller takes the asn1crypto path, which knows every variant and
produces the precise error. It never decides that a message is bad: a failure here only
means "not the common shape", so errors are always reported by the general code.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from gateway.adapters.as2.protocol.algorithms import hash_for

__all__ = ["content_kind", "decrypt_common", "verify_common"]


class _NotCommon(Exception):
    """The structure is not in the common shape this module reads."""


def _read(data: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the DER element at ``pos``."""
    if pos + 2 > end:
        raise _NotCommon
    tag = data[pos]
    if tag & 0x1F == 0x1F:
        raise _NotCommon  # high tag numbers: not in these structures
    first = data[pos + 1]
    pos += 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or pos + count > end:
            raise _NotCommon  # indefinite (BER) or absurd lengths
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + length > end:
        raise _NotCommon
    return tag, pos, pos + length


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """(tag, content start, content end, element start) of every element in [start, end)."""
    out = []
    pos = start
    while pos < end:
        tag, cstart, cend = _read(data, pos, end)
        out.append((tag, cstart, cend, pos))
        pos = cend
    return out


def _oid(encoded: bytes) -> str:
    first, rest = divmod(encoded[0], 40) if encoded[0] < 80 else (2, encoded[0] - 80)
    parts = [first, rest]
    value = 0
    for byte in encoded[1:]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(value)
            value = 0
    return ".".join(map(str, parts))


_ENVELOPED = "1.2.840.113549.1.7.3"
_SIGNED = "1.2.840.113549.1.7.2"
_CMS_KINDS = {
    _ENVELOPED: "enveloped_data",
    _SIGNED: "signed_data",
    "1.2.840.113549.1.9.16.1.23": "authenticated_enveloped_data",
    "1.2.840.113549.1.9.16.1.9": "compressed_data",
    "1.2.840.113549.1.7.1": "data",
}
_RSA = "1.2.840.113549.1.1.1"
_CIPHERS = {  # OID -> (profile name, key bytes, block bytes)
    "2.16.840.1.101.3.4.1.2": ("aes128_cbc", 16, 16),
    "2.16.840.1.101.3.4.1.22": ("aes192_cbc", 24, 16),
    "2.16.840.1.101.3.4.1.42": ("aes256_cbc", 32, 16),
    "1.2.840.113549.3.7": ("3des", 24, 8),
}
_DIGESTS = {
    "1.3.14.3.2.26": "sha1",
    "2.16.840.1.101.3.4.2.4": "sha224",
    "2.16.840.1.101.3.4.2.1": "sha256",
    "2.16.840.1.101.3.4.2.2": "sha384",
    "2.16.840.1.101.3.4.2.3": "sha512",
}
_PKCS1_SIGNATURES = {_RSA, *(f"1.2.840.113549.1.1.{n}" for n in (5, 11, 12, 13, 14))}
_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"


def _content_info(data: bytes, expected: str) -> tuple[int, int]:
    """The [start, end) of the content of a ContentInfo of type ``expected``."""
    tag, start, end = _read(data, 0, len(data))
    if tag != 0x30:
        raise _NotCommon
    parts = _children(data, start, end)
    if len(parts) != 2 or parts[0][0] != 0x06 or parts[1][0] != 0xA0:
        raise _NotCommon
    if _oid(data[parts[0][1] : parts[0][2]]) != expected:
        raise _NotCommon
    tag, start, end = _read(data, parts[1][1], parts[1][2])
    if tag != 0x30:
        raise _NotCommon
    return start, end


def content_kind(data: bytes) -> str | None:
    """``enveloped_data``, ``signed_data``, ... for a DER ContentInfo; ``None`` if not read here."""
    try:
        tag, start, end = _read(data, 0, len(data))
        if tag != 0x30:
            return None
        tag, ostart, oend = _read(data, start, end)
    except _NotCommon:
        return None
    return _CMS_KINDS.get(_oid(data[ostart:oend])) if tag == 0x06 else None


def _serial(data: bytes, start: int, end: int) -> int | None:
    """The serial number of an IssuerAndSerialNumber SEQUENCE; None for other identifiers."""
    parts = _children(data, start, end)
    if len(parts) != 2 or parts[1][0] != 0x02:
        return None
    return int.from_bytes(data[parts[1][1] : parts[1][2]], "big", signed=True)


def _unpad(plain: bytes, block: int) -> bytes | None:
    if not plain or len(plain) % block:
        return None
    n = plain[-1]
    if not 1 <= n <= block or plain[-n:] != bytes([n]) * n:
        return None
    return plain[:-n]


def decrypt_common(
    der: bytes, key: rsa.RSAPrivateKey, certificate: x509.Certificate | None
) -> tuple[bytes, str, str] | None:
    """(content, algorithm, key transport) of an EnvelopedData in the common shape, else ``None``."""
    try:
        start, end = _content_info(der, _ENVELOPED)
        fields = _children(der, start, end)
        if len(fields) < 3 or fields[0][0] != 0x02 or fields[1][0] != 0x31 or fields[2][0] != 0x30:
            raise _NotCommon  # originatorInfo present, or not an EnvelopedData
        recipients: list[tuple[int | None, bytes]] = []
        for tag, rstart, rend, _ in _children(der, fields[1][1], fields[1][2]):
            if tag != 0x30:
                continue  # not a key-transport recipient
            ktri = _children(der, rstart, rend)
            if len(ktri) != 4 or ktri[2][0] != 0x30 or ktri[3][0] != 0x04:
                raise _NotCommon
            algorithm = _children(der, ktri[2][1], ktri[2][2])
            if _oid(der[algorithm[0][1] : algorithm[0][2]]) != _RSA:
                raise _NotCommon  # OAEP and others: the general path
            serial = _serial(der, ktri[1][1], ktri[1][2]) if ktri[1][0] == 0x30 else None
            recipients.append((serial, der[ktri[3][1] : ktri[3][2]]))
        eci = _children(der, fields[2][1], fields[2][2])
        if len(eci) != 3 or eci[1][0] != 0x30 or eci[2][0] != 0x80:
            raise _NotCommon  # constructed or absent encrypted content
        alg = _children(der, eci[1][1], eci[1][2])
        cipher = _CIPHERS.get(_oid(der[alg[0][1] : alg[0][2]]))
        if cipher is None or len(alg) != 2 or alg[1][0] != 0x04 or not recipients:
            raise _NotCommon
        iv = der[alg[1][1] : alg[1][2]]
        encrypted = der[eci[2][1] : eci[2][2]]
    except (_NotCommon, IndexError):
        return None
    name, size, block = cipher
    if len(iv) != block or len(encrypted) % block:
        return None
    wanted = certificate.serial_number if certificate is not None else None
    for _, wrapped in sorted(recipients, key=lambda r: r[0] != wanted):
        try:
            cek = key.decrypt(wrapped, padding.PKCS1v15())
        except ValueError:
            continue
        if len(cek) != size:
            continue
        engine = TripleDES(cek) if name == "3des" else algorithms.AES(cek)
        decryptor = Cipher(engine, modes.CBC(iv)).decryptor()
        plain = _unpad(decryptor.update(encrypted) + decryptor.finalize(), block)
        if plain is not None:
            return plain, name, "rsa_pkcs1v15"
    return None


def verify_common(
    signature_der: bytes, content: bytes, certificates: Sequence[x509.Certificate]
) -> tuple[str, x509.Certificate] | None:
    """(digest, certificate) when a detached one-signer PKCS#1 v1.5 SignedData verifies, else ``None``."""
    try:
        start, end = _content_info(signature_der, _SIGNED)
        fields = _children(signature_der, start, end)
        if len(fields) < 4 or fields[-1][0] != 0x31 or fields[2][0] != 0x30:
            raise _NotCommon
        encap = _children(signature_der, fields[2][1], fields[2][2])
        if len(encap) != 1:
            raise _NotCommon  # content inside: not detached
        signers = _children(signature_der, fields[-1][1], fields[-1][2])
        if len(signers) != 1 or signers[0][0] != 0x30:
            raise _NotCommon
        info = _children(signature_der, signers[0][1], signers[0][2])
        if len(info) < 6 or info[3][0] != 0xA0 or info[4][0] != 0x30 or info[5][0] != 0x04:
            raise _NotCommon  # no signed attributes, or an unexpected layout
        digest_alg = _children(signature_der, info[2][1], info[2][2])
        digest = _DIGESTS.get(_oid(signature_der[digest_alg[0][1] : digest_alg[0][2]]))
        sig_alg = _children(signature_der, info[4][1], info[4][2])
        if digest is None or _oid(signature_der[sig_alg[0][1] : sig_alg[0][2]]) not in _PKCS1_SIGNATURES:
            raise _NotCommon  # PSS and others: the general path
        expected: bytes | None = None
        for _, astart, aend, _ in _children(signature_der, info[3][1], info[3][2]):
            attribute = _children(signature_der, astart, aend)
            if _oid(signature_der[attribute[0][1] : attribute[0][2]]) == _MESSAGE_DIGEST:
                [(tag, vstart, vend, _)] = _children(signature_der, attribute[1][1], attribute[1][2])
                expected = signature_der[vstart:vend] if tag == 0x04 else None
        serial = _serial(signature_der, info[1][1], info[1][2]) if info[1][0] == 0x30 else None
    except (_NotCommon, IndexError, ValueError):
        return None
    if expected is None or hashlib.new(digest, content).digest() != expected:
        return None  # the general path reports the integrity failure precisely
    attrs_start, attrs_end = info[3][1], info[3][2]
    signed_attrs = (
        b"\x31" + signature_der[info[3][3] + 1 : attrs_start] + signature_der[attrs_start:attrs_end]
    )
    signature = signature_der[info[5][1] : info[5][2]]
    for cert in sorted(certificates, key=lambda c: c.serial_number != serial):
        public = cert.public_key()
        if not isinstance(public, rsa.RSAPublicKey):
            continue
        try:
            public.verify(signature, signed_attrs, padding.PKCS1v15(), hash_for(digest))
        except InvalidSignature:
            continue
        return digest, cert
    return None
