"""Our AS2 key material: loading private keys by reference (PEM or PKCS#12), rollover, test pairs.

A profile names each of our keys with a :class:`SecretRef` (``file:`` or ``env:``); the value
may be a PEM private key (optionally encrypted, optionally followed by its certificate) or a
PKCS#12 bundle (usually with its certificate inside). A password comes from the profile's
password reference; for PKCS#12 without one, from ``<file>.password`` beside it (or the
environment variable ``<NAME>_PASSWORD`` for an ``env:NAME`` reference).

Every loaded key is checked against its certificate (same public key), so a key file that
does not belong to the configured certificate fails at load with a clear reason instead of
producing signatures nobody can verify. Keys are cached per reference and file modification
time (looked at again every few seconds), so a rotated key file is picked up without a
restart.

Rollover (``our_keys``): the newest key whose window includes now signs; decryption tries
every configured key, those valid now first (a partner may switch to our new certificate
early, or still use the old one for a message in flight).
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from gateway.adapters.as2.protocol.signing import SigningKey
from gateway.domain.profiles import As2Channel, SecretRef, SecretUnavailable
from gateway.domain.profiles.as2 import OwnKey
from gateway.domain.profiles.certs import validity

__all__ = ["KeyLoadError", "KeyStore", "LoadedKey", "generate_self_signed", "load_private_key"]


class KeyLoadError(ValueError):
    """Our private key cannot be loaded; the message names the reference, never key material."""


def _read_password(ref: SecretRef) -> bytes:
    try:
        return ref.read().rstrip(b"\r\n")
    except SecretUnavailable as exc:
        raise KeyLoadError(f"the key password is unavailable: {exc}") from exc


def _pkcs12_password(ref: SecretRef, password: SecretRef | None) -> bytes | None:
    if password is not None:
        return _read_password(password)
    if ref.kind == "file":
        side = Path(f"{ref.target}.password")
        return side.read_bytes().rstrip(b"\r\n") if side.exists() else None
    value = os.environ.get(f"{ref.target}_PASSWORD")
    return value.encode() if value is not None else None


def _pem_key(ref: SecretRef, data: bytes, password: SecretRef | None) -> object:
    secret = _read_password(password) if password is not None else None
    try:
        return serialization.load_pem_private_key(data, password=secret)
    except TypeError as exc:  # encrypted without a password, or a password for a plain key
        if secret is None:
            raise KeyLoadError(
                f"{ref} is an encrypted PEM key: give its password by reference (our_key_password)"
            ) from exc
        raise KeyLoadError(f"{ref} is not encrypted, but a password reference was given") from exc
    except ValueError as exc:
        hint = " (wrong password?)" if secret is not None else ""
        raise KeyLoadError(f"{ref} is not a PEM private key we can read{hint}: {exc}") from exc


def load_private_key(
    ref: SecretRef, password: SecretRef | None = None
) -> tuple[rsa.RSAPrivateKey, list[x509.Certificate]]:
    """The RSA key behind ``ref`` and any certificates stored with it (PKCS#12: its own first)."""
    try:
        data = ref.read()
    except SecretUnavailable as exc:
        raise KeyLoadError(str(exc)) from exc
    key: object
    if b"-----BEGIN" in data:
        key = _pem_key(ref, data, password)
        certs = x509.load_pem_x509_certificates(data) if b"CERTIFICATE-----" in data else []
    else:
        try:
            key, cert, extra = pkcs12.load_key_and_certificates(data, _pkcs12_password(ref, password))
        except (ValueError, TypeError) as exc:
            raise KeyLoadError(
                f"{ref} is neither PEM nor a PKCS#12 bundle we can open (wrong password?): {exc}"
            ) from exc
        certs = [c for c in [cert, *extra] if c is not None]
    if not isinstance(key, rsa.RSAPrivateKey):
        raise KeyLoadError(f"{ref} does not hold an RSA private key (AS2 needs RSA)")
    return key, certs


def _matches(key: rsa.RSAPrivateKey, cert: x509.Certificate) -> bool:
    public = cert.public_key()
    return (
        isinstance(public, rsa.RSAPublicKey) and public.public_numbers() == key.public_key().public_numbers()
    )


def _stamp(ref: SecretRef) -> float | None:
    if ref.kind != "file":
        return None
    try:
        return os.stat(ref.target).st_mtime
    except OSError:
        return None


@dataclass(frozen=True, slots=True)
class LoadedKey:
    """One of our key pairs, ready to use, with the window in which it is ours."""

    signing: SigningKey
    not_before: dt.datetime
    not_after: dt.datetime

    def valid_at(self, moment: dt.datetime) -> bool:
        return self.not_before <= moment < self.not_after


def _load(own: OwnKey) -> LoadedKey:
    key, bundled = load_private_key(own.key, own.password)
    if own.certificate is not None:
        cert = own.certificate.certificate
        if not _matches(key, cert):
            raise KeyLoadError(
                f"the key {own.key} does not belong to the certificate {own.certificate.path} "
                "(their public keys differ)"
            )
        assert own.certificate.not_before is not None  # filled in by validation
        assert own.certificate.not_after is not None
        return LoadedKey(SigningKey(key, cert), own.certificate.not_before, own.certificate.not_after)
    matching = [c for c in bundled if _matches(key, c)]
    if not matching:
        detail = "holds no certificate" if not bundled else "holds no certificate for this key"
        raise KeyLoadError(f"{own.key} {detail}: set the certificate in the profile")
    start, end = validity(matching[0])
    return LoadedKey(SigningKey(key, matching[0]), start, end)


class KeyStore:
    """Loads and caches our keys per profile reference (thread-safe).

    A cached key is used as is for ``recheck_seconds``; after that its file's modification
    time is looked at again (one ``stat``), and a changed file is loaded anew. So a rotated
    key file is picked up within seconds, and a busy gateway does not ``stat`` per message.
    """

    def __init__(self, recheck_seconds: float = 5.0) -> None:
        self._cache: dict[tuple[SecretRef, SecretRef | None, str], tuple[float | None, LoadedKey]] = {}
        self._fresh: dict[int, tuple[float, OwnKey, LoadedKey]] = {}  # id(OwnKey) -> (checked at, ...)
        self._recheck = recheck_seconds
        self._lock = threading.Lock()

    def loaded(self, own: OwnKey) -> LoadedKey:
        """One key pair, from the cache while its file is unchanged."""
        now = time.monotonic()
        with self._lock:
            fresh = self._fresh.get(id(own))
        if fresh is not None and fresh[1] is own and now - fresh[0] < self._recheck:
            return fresh[2]
        cert = own.certificate.certificate if own.certificate is not None else None
        fingerprint = cert.fingerprint(hashes.SHA256()).hex() if cert is not None else ""
        cache_key = (own.key, own.password, fingerprint)
        stamp = _stamp(own.key)
        with self._lock:
            hit = self._cache.get(cache_key)
        if hit is not None and hit[0] == stamp:
            loaded = hit[1]
        else:
            loaded = _load(own)
            with self._lock:
                self._cache[cache_key] = (stamp, loaded)
        with self._lock:
            if len(self._fresh) > 1024:  # profiles reloaded many times: forget the old entries
                self._fresh.clear()
            self._fresh[id(own)] = (now, own, loaded)
        return loaded

    def all_keys(self, channel: As2Channel) -> list[LoadedKey]:
        """Every key pair of the channel, in profile order (raises on the first that fails)."""
        return [self.loaded(own) for own in channel.own_keys()]

    def ours(self, channel: As2Channel, moment: dt.datetime | None = None) -> SigningKey | None:
        """The key that signs now (newest window first), or ``None`` when the profile has no key."""
        keys = self.all_keys(channel)
        if not keys:
            return None
        when = moment or dt.datetime.now(dt.UTC)
        current = sorted((k for k in keys if k.valid_at(when)), key=lambda k: k.not_before, reverse=True)
        if not current:
            windows = ", ".join(f"{k.not_before:%Y-%m-%d}..{k.not_after:%Y-%m-%d}" for k in keys)
            raise KeyLoadError(f"none of our keys is valid now (their windows: {windows})")
        return current[0].signing

    def decryption_keys(self, channel: As2Channel, moment: dt.datetime | None = None) -> list[SigningKey]:
        """Every key that may decrypt, those valid now first (newest first)."""
        when = moment or dt.datetime.now(dt.UTC)
        keys = sorted(self.all_keys(channel), key=lambda k: (not k.valid_at(when), -k.not_before.timestamp()))
        return [k.signing for k in keys]


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
