"""Loading public certificates named by a profile (PEM, DER, PKCS#7 ``.p7b``/``.p7c``).

Certificates are public, so a profile gives them as plain file paths. They are loaded
while the profile is validated, so a file that is missing, truncated or of the wrong kind
stops start-up with a clear reason instead of failing the first AS2 exchange.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import pkcs7

__all__ = ["CertificateLoadError", "fingerprint", "leaf_certificate", "load_certificates", "validity"]


_Loader = Callable[[bytes], list[x509.Certificate]]


class CertificateLoadError(ValueError):
    """A certificate file is unreadable or holds no certificate we can parse."""


def load_certificates(path: Path) -> list[x509.Certificate]:
    """Every certificate in ``path``; PEM may hold several, PKCS#7 bundles usually do."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise CertificateLoadError(f"certificate file not found: {path}") from exc
    except OSError as exc:
        raise CertificateLoadError(f"cannot read certificate file {path}: {exc.strerror}") from exc
    if not data.strip():
        raise CertificateLoadError(f"certificate file is empty: {path}")
    attempts: list[str] = []
    for label, loader in _loaders(data):
        try:
            certs = loader(data)
        except ValueError as exc:
            attempts.append(f"{label}: {exc}")
            continue
        if certs:
            return certs
        attempts.append(f"{label}: no certificates inside")
    detail = "; ".join(attempts) if attempts else "not PEM, DER or PKCS#7"
    raise CertificateLoadError(f"certificate {path} does not load ({detail})")


def _loaders(data: bytes) -> list[tuple[str, _Loader]]:
    if b"-----BEGIN PKCS7-----" in data or b"-----BEGIN CMS-----" in data:
        return [("PKCS#7 PEM", pkcs7.load_pem_pkcs7_certificates)]
    if b"-----BEGIN" in data:
        if b"PRIVATE KEY-----" in data:
            return [("PEM", _reject_private_key)]
        return [("PEM", x509.load_pem_x509_certificates)]
    return [("DER", _der_certificate), ("PKCS#7 DER", pkcs7.load_der_pkcs7_certificates)]


def _der_certificate(data: bytes) -> list[x509.Certificate]:
    return [x509.load_der_x509_certificate(data)]


def _reject_private_key(data: bytes) -> list[x509.Certificate]:
    raise ValueError("the file holds a PRIVATE KEY; certificates are public, keys go in a secret reference")


def leaf_certificate(certs: Sequence[x509.Certificate]) -> x509.Certificate:
    """The end-entity certificate of a bundle: the one that issued none of the others.

    A bundle is written leaf first by convention, so ties go to the earliest one.
    """
    issuers = {cert.issuer for cert in certs}
    for cert in certs:
        if cert.subject not in issuers or len(certs) == 1:
            return cert
    return certs[0]


def validity(cert: x509.Certificate) -> tuple[datetime, datetime]:
    """The certificate's own ``(not_before, not_after)``, timezone-aware in UTC."""
    return cert.not_valid_before_utc.astimezone(UTC), cert.not_valid_after_utc.astimezone(UTC)


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 fingerprint as colon-separated upper-case hex, as shown by ``openssl x509``."""
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()
