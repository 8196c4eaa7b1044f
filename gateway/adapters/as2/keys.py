"""Our AS2 key material: loading private keys by reference (PEM or PKCS#12), and test pairs.

A profile names our key with a :class:`SecretRef` (``file:`` or ``env:``); the value may be
a PEM private key (optionally followed by certificates) or a PKCS#12 bundle. A PKCS#12 file
with a password reads it from ``<file>.password`` beside it (or the environment variable
``<NAME>_PASSWORD`` for an ``env:NAME`` reference). Loaded keys are cached per reference
and file modification time, so a rotated key file is picked up without a restart.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from gateway.adapters.as2.protocol.signing import SigningKey
from gateway.domain.profiles import As2Channel, SecretRef, SecretUnavailable

__all__ = ["KeyLoadError", "KeyStore", "generate_self_signed", "load_private_key"]


class KeyLoadError(ValueError):
    """Our private key cannot be loaded; the message names the reference, never key material."""


def _pkcs12_password(ref: SecretRef) -> bytes | None:
    if ref.kind == "file":
        side = Path(f"{ref.target}.password")
        return side.read_bytes().rstrip(b"\r\n") if side.exists() else None
    value = os.environ.get(f"{ref.target}_PASSWORD")
    return value.encode() if value is not None else None


def load_private_key(ref: SecretRef) -> tuple[rsa.RSAPrivateKey, list[x509.Certificate]]:
    """The RSA key behind ``ref`` and any certificates stored with it."""
    try:
        data = ref.read()
    except SecretUnavailable as exc:
        raise KeyLoadError(str(exc)) from exc
    key: object
    if b"-----BEGIN" in data:
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError) as exc:
            raise KeyLoadError(f"{ref} is not an unencrypted PEM private key: {exc}") from exc
        certs = x509.load_pem_x509_certificates(data) if b"CERTIFICATE-----" in data else []
    else:
        try:
            key, cert, extra = pkcs12.load_key_and_certificates(data, _pkcs12_password(ref))
        except (ValueError, TypeError) as exc:
            raise KeyLoadError(f"{ref} is neither PEM nor a PKCS#12 bundle we can open: {exc}") from exc
        certs = [c for c in [cert, *extra] if c is not None]
    if not isinstance(key, rsa.RSAPrivateKey):
        raise KeyLoadError(f"{ref} does not hold an RSA private key (AS2 needs RSA)")
    return key, certs


def _stamp(ref: SecretRef) -> float | None:
    if ref.kind != "file":
        return None
    try:
        return os.stat(ref.target).st_mtime
    except OSError:
        return None


class KeyStore:
    """Caches our signing/decryption keys per profile reference."""

    def __init__(self) -> None:
        self._cache: dict[tuple[SecretRef, str], tuple[float | None, SigningKey]] = {}
        self._lock = threading.Lock()

    def ours(self, channel: As2Channel) -> SigningKey | None:
        """Our key and certificate for this partner, or ``None`` when the profile has no key."""
        if channel.our_key is None:
            return None
        cert = channel.our_certificate.certificate if channel.our_certificate is not None else None
        fingerprint = cert.fingerprint(hashes.SHA256()).hex() if cert is not None else ""
        cache_key = (channel.our_key, fingerprint)
        stamp = _stamp(channel.our_key)
        with self._lock:
            hit = self._cache.get(cache_key)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        key, bundled = load_private_key(channel.our_key)
        certificate = cert or (bundled[0] if bundled else None)
        if certificate is None:
            raise KeyLoadError(f"no certificate for {channel.our_key}: set our_certificate in the profile")
        signing = SigningKey(key, certificate)
        with self._lock:
            self._cache[cache_key] = (stamp, signing)
        return signing


def generate_self_signed(name: str, days: int = 365, key_size: int = 2048) -> tuple[bytes, bytes]:
    """A new RSA key (PKCS#8 PEM, unencrypted) and a self-signed certificate (PEM) for ``name``."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)
