"""CMS EnvelopedData (RFC 5652) and AuthEnvelopedData with AES-GCM (RFC 5083/5084).

Content ciphers: 3DES, AES-128/192/256-CBC, AES-128/192/256-GCM, RC2-40/128 (legacy,
:mod:`gateway.adapters.as2.protocol.rc2`). Key transport: RSA PKCS#1 v1.5 and RSA-OAEP with
SHA-1, SHA-256 or SHA-512 (parameters per RFC 4055; absent parameters mean SHA-1).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from asn1crypto import algos, cms, core
from asn1crypto import x509 as ax509
from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from gateway.adapters.as2.protocol.algorithms import hash_for
from gateway.adapters.as2.protocol.errors import DecryptionFailed, MalformedMessage, UnsupportedAlgorithm
from gateway.adapters.as2.protocol.fastcms import decrypt_common
from gateway.adapters.as2.protocol.rc2 import (
    rc2_cbc_decrypt,
    rc2_cbc_encrypt,
    rc2_effective_bits,
    rc2_parameter_version,
)

__all__ = ["CONTENT_ALGORITHMS", "KEY_TRANSPORTS", "Decrypted", "decrypt", "encrypt"]

#: profile name -> (CMS algorithm name, key bytes)
CONTENT_ALGORITHMS: dict[str, tuple[str, int]] = {
    "3des": ("tripledes_3key", 24),
    "aes128_cbc": ("aes128_cbc", 16),
    "aes192_cbc": ("aes192_cbc", 24),
    "aes256_cbc": ("aes256_cbc", 32),
    "aes128_gcm": ("aes128_gcm", 16),
    "aes192_gcm": ("aes192_gcm", 24),
    "aes256_gcm": ("aes256_gcm", 32),
    "rc2_40": ("rc2", 5),
    "rc2_128": ("rc2", 16),
}
_CMS_TO_PROFILE = {
    "tripledes_3key": "3des",
    "aes128_cbc": "aes128_cbc",
    "aes192_cbc": "aes192_cbc",
    "aes256_cbc": "aes256_cbc",
    "aes128_gcm": "aes128_gcm",
    "aes192_gcm": "aes192_gcm",
    "aes256_gcm": "aes256_gcm",
}
#: profile key transport -> OAEP digest (None: PKCS#1 v1.5)
KEY_TRANSPORTS: dict[str, str | None] = {
    "rsa_pkcs1v15": None,
    "rsa_oaep_sha1": "sha1",
    "rsa_oaep_sha256": "sha256",
    "rsa_oaep_sha512": "sha512",
}


class GcmParams(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    """GCMParameters (RFC 5084): the nonce and the tag length."""

    _fields = [  # noqa: RUF012 - asn1crypto reads the field list from this class attribute
        ("aes_nonce", core.OctetString),
        ("aes_icvlen", core.Integer, {"default": 12}),
    ]


@dataclass(frozen=True, slots=True)
class Decrypted:
    content: bytes
    algorithm: str  # profile spelling: aes256_cbc, 3des, rc2_40, ...
    key_transport: str


def _pad(data: bytes, block: int) -> bytes:
    n = block - len(data) % block
    return data + bytes([n]) * n


def _unpad(data: bytes, block: int) -> bytes:
    if not data or len(data) % block:
        raise DecryptionFailed("the decrypted content is not a whole number of blocks")
    n = data[-1]
    if not 1 <= n <= block or data[-n:] != bytes([n]) * n:
        raise DecryptionFailed("the decrypted content has bad padding (wrong key or altered data)")
    return data[:-n]


def _cbc(alg: str, key: bytes, iv: bytes) -> Cipher[modes.CBC]:
    cipher: algorithms.AES | TripleDES = TripleDES(key) if alg == "tripledes_3key" else algorithms.AES(key)
    return Cipher(cipher, modes.CBC(iv))


def _wrap_key(cek: bytes, cert: x509.Certificate, transport: str) -> tuple[bytes, cms.KeyEncryptionAlgorithm]:
    public = cert.public_key()
    if not isinstance(public, rsa.RSAPublicKey):
        raise UnsupportedAlgorithm("key transport needs an RSA certificate")
    if transport not in KEY_TRANSPORTS:
        raise UnsupportedAlgorithm(f"key transport {transport!r} is not supported")
    oaep = KEY_TRANSPORTS[transport]
    if oaep is None:
        return public.encrypt(cek, padding.PKCS1v15()), cms.KeyEncryptionAlgorithm(
            {"algorithm": "rsaes_pkcs1v15"}
        )
    encrypted = public.encrypt(cek, padding.OAEP(padding.MGF1(hash_for(oaep)), hash_for(oaep), None))
    params = algos.RSAESOAEPParams(
        {
            "hash_algorithm": {"algorithm": oaep},
            "mask_gen_algorithm": {"algorithm": "mgf1", "parameters": {"algorithm": oaep}},
        }
    )
    return encrypted, cms.KeyEncryptionAlgorithm({"algorithm": "rsaes_oaep", "parameters": params})


def encrypt(content: bytes, recipient: x509.Certificate, algorithm: str, key_transport: str) -> bytes:
    """A DER ``ContentInfo`` with ``content`` encrypted for ``recipient``."""
    if algorithm not in CONTENT_ALGORITHMS:
        raise UnsupportedAlgorithm(f"content encryption {algorithm!r} is not supported")
    cms_name, size = CONTENT_ALGORITHMS[algorithm]
    cek = os.urandom(size)
    wrapped, kea = _wrap_key(cek, recipient, key_transport)
    cert = ax509.Certificate.load(recipient.public_bytes(serialization.Encoding.DER))
    recipient_info = cms.RecipientInfo(
        name="ktri",
        value=cms.KeyTransRecipientInfo(
            {
                "version": "v0",
                "rid": cms.RecipientIdentifier(
                    name="issuer_and_serial_number",
                    value=cms.IssuerAndSerialNumber(
                        {"issuer": cert.issuer, "serial_number": cert.serial_number}
                    ),
                ),
                "key_encryption_algorithm": kea,
                "encrypted_key": wrapped,
            }
        ),
    )
    if cms_name.endswith("_gcm"):
        nonce = os.urandom(12)
        sealed = AESGCM(cek).encrypt(nonce, content, None)
        ciphertext, tag = sealed[:-16], sealed[-16:]
        eci = cms.EncryptedContentInfo(
            {
                "content_type": "data",
                "content_encryption_algorithm": algos.EncryptionAlgorithm(
                    {"algorithm": cms_name, "parameters": GcmParams({"aes_nonce": nonce, "aes_icvlen": 16})}
                ),
                "encrypted_content": ciphertext,
            }
        )
        auth = cms.AuthEnvelopedData(
            {
                "version": "v0",
                "recipient_infos": [recipient_info],
                "auth_encrypted_content_info": eci,
                "mac": tag,
            }
        )
        return bytes(
            cms.ContentInfo({"content_type": "authenticated_enveloped_data", "content": auth}).dump()
        )
    if cms_name == "rc2":
        iv = os.urandom(8)
        bits = size * 8
        ciphertext = rc2_cbc_encrypt(cek, iv, _pad(content, 8), bits)
        params: core.Asn1Value = algos.Rc2Params(
            {"rc2_parameter_version": rc2_parameter_version(bits), "iv": iv}
        )
    else:
        block = 8 if cms_name == "tripledes_3key" else 16
        iv = os.urandom(block)
        enc = _cbc(cms_name, cek, iv).encryptor()
        ciphertext = enc.update(_pad(content, block)) + enc.finalize()
        params = core.OctetString(iv)
    eci = cms.EncryptedContentInfo(
        {
            "content_type": "data",
            "content_encryption_algorithm": algos.EncryptionAlgorithm(
                {"algorithm": cms_name, "parameters": params}
            ),
            "encrypted_content": ciphertext,
        }
    )
    env = cms.EnvelopedData(
        {"version": "v0", "recipient_infos": [recipient_info], "encrypted_content_info": eci}
    )
    return bytes(cms.ContentInfo({"content_type": "enveloped_data", "content": env}).dump())


def _unwrap_key(ktri: cms.KeyTransRecipientInfo, key: rsa.RSAPrivateKey) -> tuple[bytes, str]:
    kea = ktri["key_encryption_algorithm"]
    name = kea["algorithm"].native
    encrypted = ktri["encrypted_key"].native
    if name == "rsaes_pkcs1v15":
        return key.decrypt(encrypted, padding.PKCS1v15()), "rsa_pkcs1v15"
    if name != "rsaes_oaep":
        raise UnsupportedAlgorithm(f"key transport {name} is not supported")
    params = kea["parameters"]
    digest = mgf = "sha1"
    if not isinstance(params, core.Void) and params.native is not None:
        digest = params["hash_algorithm"]["algorithm"].native
        mgf = params["mask_gen_algorithm"]["parameters"]["algorithm"].native
    plain = key.decrypt(encrypted, padding.OAEP(padding.MGF1(hash_for(mgf)), hash_for(digest), None))
    return plain, f"rsa_oaep_{digest}"


def _recipients(infos: cms.RecipientInfos, cert: x509.Certificate | None) -> list[cms.KeyTransRecipientInfo]:
    ktris = [info.chosen for info in infos if info.name == "ktri"]
    if not ktris:
        raise UnsupportedAlgorithm("no key transport recipient in the enveloped data (only RSA is supported)")
    if cert is None:
        return ktris

    def ours(ktri: cms.KeyTransRecipientInfo) -> bool:
        rid = ktri["rid"]
        return rid.name == "issuer_and_serial_number" and bool(
            rid.chosen["serial_number"].native == cert.serial_number
        )

    return sorted(ktris, key=lambda k: not ours(k))


#: Content-encryption key sizes in bytes (RC2 keys vary in length and are not listed).
_KEY_SIZES = {
    "tripledes_3key": 24,
    "aes128_cbc": 16,
    "aes192_cbc": 24,
    "aes256_cbc": 32,
    "aes128_gcm": 16,
    "aes192_gcm": 24,
    "aes256_gcm": 32,
}


def _open_content(eci: cms.EncryptedContentInfo, cek: bytes, mac: bytes | None) -> tuple[bytes, str]:
    alg = eci["content_encryption_algorithm"]
    name = alg["algorithm"].native
    encrypted = eci["encrypted_content"].native
    if encrypted is None:
        raise MalformedMessage("the enveloped data holds no encrypted content")
    size = _KEY_SIZES.get(name)
    if size is not None and len(cek) != size:
        # An RSA key that is not the recipient's can "decrypt" to random bytes (implicit
        # rejection): a content key of the wrong size means the key is not ours for this message.
        raise DecryptionFailed(f"the content key is {len(cek)} bytes, not {size}: not encrypted for this key")
    if name in ("aes128_gcm", "aes192_gcm", "aes256_gcm"):
        if mac is None:
            raise MalformedMessage("AES-GCM content outside AuthEnvelopedData has no authentication tag")
        params = GcmParams.load(alg["parameters"].dump())
        try:
            return AESGCM(cek).decrypt(params["aes_nonce"].native, encrypted + mac, None), _CMS_TO_PROFILE[
                name
            ]
        except (InvalidTag, ValueError) as exc:
            raise DecryptionFailed("AES-GCM authentication failed (wrong key or altered data)") from exc
    if name == "rc2":
        rc2 = alg["parameters"]
        version = rc2["rc2_parameter_version"].native
        bits = rc2_effective_bits(version, len(cek))
        plain = rc2_cbc_decrypt(cek, rc2["iv"].native, encrypted, bits)
        return _unpad(plain, 8), f"rc2_{bits}"
    if name in ("tripledes_3key", "aes128_cbc", "aes192_cbc", "aes256_cbc"):
        block = 8 if name == "tripledes_3key" else 16
        if len(encrypted) % block:
            raise DecryptionFailed("the encrypted content is not a whole number of cipher blocks")
        dec = _cbc(name, cek, alg["parameters"].native).decryptor()
        return _unpad(dec.update(encrypted) + dec.finalize(), block), _CMS_TO_PROFILE[name]
    raise UnsupportedAlgorithm(f"content encryption {name} is not supported")


def decrypt(der: bytes, key: rsa.RSAPrivateKey, certificate: x509.Certificate | None = None) -> Decrypted:
    """Open EnvelopedData or AuthEnvelopedData with our RSA key."""
    common = decrypt_common(der, key, certificate)  # the usual shape, read by hand; else below
    if common is not None:
        return Decrypted(*common)
    try:
        info = cms.ContentInfo.load(der)
        kind = info["content_type"].native
        body = info["content"]
        if kind == "enveloped_data":
            eci, mac = body["encrypted_content_info"], None
        elif kind == "authenticated_enveloped_data":
            eci, mac = body["auth_encrypted_content_info"], body["mac"].native
        else:
            raise MalformedMessage(f"expected CMS enveloped-data, found {kind}")
        recipients = _recipients(body["recipient_infos"], certificate)
        eci["encrypted_content"].native  # noqa: B018 - parse now so truncation surfaces as malformed
    except (ValueError, TypeError, KeyError) as exc:
        raise MalformedMessage(f"the encrypted body is not a readable CMS structure: {exc}") from exc
    last: Exception | None = None
    for ktri in recipients:
        try:
            cek, transport = _unwrap_key(ktri, key)
        except ValueError as exc:
            last = exc
            continue
        try:
            content, algorithm = _open_content(eci, cek, mac)
        except DecryptionFailed as exc:
            last = exc
            continue
        except ValueError as exc:
            raise DecryptionFailed(f"cannot decrypt the content: {exc}") from exc
        return Decrypted(content, algorithm, transport)
    raise DecryptionFailed(
        "the message was not encrypted for our key (or the key does not open it)"
    ) from last
