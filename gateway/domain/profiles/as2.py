"""The AS2 channel of a partner profile: endpoints, keys, certificates for rollover, algorithms, MDNs.

Partner certificates are loaded (with :mod:`cryptography`) while the profile validates.
Each has a validity window taken from the certificate and optionally narrowed in the
profile, so a replacement certificate can be configured ahead of the partner's switch
date: :meth:`As2Channel.certificates_at` tells which ones apply at a given moment.

Our own keys roll over the same way: ``our_keys`` lists several (key reference, optional
password reference, certificate) entries, each used within its certificate's window. The
newest one valid now signs; every one valid now may decrypt. ``our_key`` /
``our_key_password`` / ``our_certificate`` are the one-key shorthand. Keys are secrets and
are only read by the AS2 adapter (:mod:`gateway.adapters.as2.keys`), never here.

``tls`` says how to trust the partner's HTTPS server (for our POSTs and for async MDNs we
deliver to it): a CA bundle, or the server's own certificate pinned by fingerprint.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import Field, PrivateAttr, ValidationInfo, field_validator, model_validator

from gateway.domain.profiles.certs import CertificateLoadError, leaf_certificate, load_certificates, validity
from gateway.domain.profiles.common import FieldProblems, HttpUrl, Loc, RetryPolicy, StrictModel, resolve_path
from gateway.domain.profiles.identity import As2Name
from gateway.domain.profiles.refs import SecretRef

__all__ = [
    "As2Channel",
    "As2Mdn",
    "As2Tls",
    "Certificate",
    "EncryptionAlgorithm",
    "KeyTransport",
    "OwnKey",
    "SignatureDigest",
    "SignatureScheme",
]


class EncryptionAlgorithm(StrEnum):
    TRIPLE_DES = "3des"
    AES128_CBC = "aes128_cbc"
    AES192_CBC = "aes192_cbc"
    AES256_CBC = "aes256_cbc"
    AES128_GCM = "aes128_gcm"
    AES192_GCM = "aes192_gcm"
    AES256_GCM = "aes256_gcm"
    RC2_40 = "rc2_40"
    RC2_128 = "rc2_128"


class SignatureDigest(StrEnum):
    SHA1 = "sha1"
    SHA224 = "sha224"
    SHA256 = "sha256"
    SHA384 = "sha384"
    SHA512 = "sha512"


class SignatureScheme(StrEnum):
    PKCS1V15 = "pkcs1v15"
    PSS = "pss"


class KeyTransport(StrEnum):
    RSA_PKCS1V15 = "rsa_pkcs1v15"
    RSA_OAEP_SHA1 = "rsa_oaep_sha1"
    RSA_OAEP_SHA256 = "rsa_oaep_sha256"
    RSA_OAEP_SHA512 = "rsa_oaep_sha512"


def _aware(value: datetime | None) -> datetime | None:
    """Times without a zone are read as UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


class Certificate(StrictModel):
    """A public certificate file, with the window in which the profile uses it.

    ``not_before``/``not_after`` default to the certificate's own validity; giving them in
    the profile narrows the window (it cannot extend past the certificate's own).
    """

    path: Path
    not_before: datetime | None = None
    not_after: datetime | None = None
    _certs: list[x509.Certificate] = PrivateAttr(default_factory=list)

    @field_validator("path", mode="after")
    @classmethod
    def _resolve(cls, value: Path, info: ValidationInfo) -> Path:
        return resolve_path(value, info)

    @field_validator("not_before", "not_after", mode="after")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return _aware(value)

    @model_validator(mode="after")
    def _load(self) -> Certificate:
        try:
            certs = load_certificates(self.path)
        except CertificateLoadError as exc:
            raise FieldProblems([(("path",), str(exc))]) from exc
        own_start, own_end = validity(leaf_certificate(certs))
        start = self.not_before or own_start
        end = self.not_after or own_end
        problems: list[tuple[Loc, str]] = []
        if start < own_start:
            problems.append(
                (("not_before",), f"is before the certificate's own start {own_start.isoformat()}")
            )
        if end > own_end:
            problems.append((("not_after",), f"is after the certificate's own expiry {own_end.isoformat()}"))
        if start >= end:
            problems.append((("not_after",), "the validity window is empty (not_after <= not_before)"))
        FieldProblems.raise_if_any(problems)
        object.__setattr__(self, "not_before", start)
        object.__setattr__(self, "not_after", end)
        self._certs = certs
        return self

    @property
    def certificate(self) -> x509.Certificate:
        """The end-entity certificate in the file."""
        return leaf_certificate(self._certs)

    @property
    def chain(self) -> list[x509.Certificate]:
        """Every certificate in the file, leaf included, in file order."""
        return list(self._certs)

    def valid_at(self, moment: datetime) -> bool:
        assert self.not_before is not None  # both set by validation
        assert self.not_after is not None
        return self.not_before <= moment < self.not_after


_HOST_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST_NAME = re.compile(rf"{_HOST_LABEL}(?:\.{_HOST_LABEL})*\.?")


def _host_problem(host: str) -> str | None:
    """Why ``host`` is not a bare host name or IP address (``None``: it is one)."""
    if not host:
        return "is empty"
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        ipaddress.ip_address(bare)
        return None
    except ValueError:
        pass
    if len(host) <= 253 and _HOST_NAME.fullmatch(host.lower()):
        return None
    return (
        f"{host!r} is not a host name or IP address: give the host alone "
        "(e.g. as2.partner.example), without scheme, port, path or wildcard"
    )


def _normal_host(host: str) -> str:
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        return str(ipaddress.ip_address(bare))
    except ValueError:
        return host.lower().rstrip(".")


class As2Mdn(StrictModel):
    """Which receipt we ask for on outbound messages, and where the partner may have ours sent.

    ``return_url_hosts`` bounds the ``Receipt-Delivery-Option`` URL of the partner's
    messages: an async MDN is POSTed only to an http(s) URL on one of these hosts (any port).
    Unset, the host of the channel's ``url`` is the only one allowed; an empty list allows
    none (every MDN is then answered synchronously).
    """

    mode: Literal["sync", "async"] = "sync"
    async_url: HttpUrl | None = Field(default=None, description="where the partner posts async MDNs")
    signed: bool = True
    async_timeout_seconds: float = Field(
        default=3600.0,
        ge=1.0,
        le=7 * 86_400,
        description="an async MDN not received this long after the send fails the payload (resendable)",
    )
    return_url_hosts: list[str] | None = Field(
        default=None,
        description="hosts the partner may ask us to POST async MDNs to (default: the host of url)",
    )

    @model_validator(mode="after")
    def _url_for_async(self) -> As2Mdn:
        problems: list[tuple[Loc, str]] = []
        if self.mode == "async" and self.async_url is None:
            problems.append((("async_url",), "async MDNs need async_url"))
        if self.mode == "sync" and self.async_url is not None:
            problems.append((("async_url",), "async_url is only used with mode: async"))
        for index, host in enumerate(self.return_url_hosts or []):
            if (problem := _host_problem(host)) is not None:
                problems.append((("return_url_hosts", index), problem))
        FieldProblems.raise_if_any(problems)
        return self


class OwnKey(StrictModel):
    """One of our key pairs: the private key by reference, and its certificate.

    Without ``certificate`` the one stored with the key is used (a PKCS#12 bundle, or a PEM
    file that holds the key followed by its certificate); its window is then the
    certificate's own validity. ``password`` is needed for an encrypted PEM key or a
    password-protected PKCS#12 bundle.
    """

    key: SecretRef
    password: SecretRef | None = None
    certificate: Certificate | None = None


class As2Tls(StrictModel):
    """How to trust the partner's HTTPS server instead of (or as well as) the system store."""

    ca_bundle: Path | None = Field(
        default=None, description="PEM file of the CA(s) that issued its certificate"
    )
    pinned_certificate: Path | None = Field(
        default=None, description="its exact server certificate (PEM or DER); matched by SHA-256 fingerprint"
    )
    _pin: bytes = PrivateAttr(default=b"")

    @field_validator("ca_bundle", "pinned_certificate", mode="after")
    @classmethod
    def _resolve(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        return resolve_path(value, info) if value is not None else None

    @model_validator(mode="after")
    def _load(self) -> As2Tls:
        problems: list[tuple[Loc, str]] = []
        if self.ca_bundle is not None and self.pinned_certificate is not None:
            problems.append(
                (("pinned_certificate",), "give either ca_bundle or pinned_certificate, not both")
            )
        for name, path in (("ca_bundle", self.ca_bundle), ("pinned_certificate", self.pinned_certificate)):
            if path is None:
                continue
            try:
                certs = load_certificates(path)
            except CertificateLoadError as exc:
                problems.append(((name,), str(exc)))
                continue
            if name == "pinned_certificate":
                self._pin = leaf_certificate(certs).fingerprint(hashes.SHA256())
        FieldProblems.raise_if_any(problems)
        return self

    @property
    def pin_sha256(self) -> bytes | None:
        """The pinned server certificate's SHA-256 fingerprint (raw bytes), if one is pinned."""
        return self._pin or None


class As2Channel(StrictModel):
    """AS2 exchange with one partner (RFC 4130)."""

    url: HttpUrl = Field(description="the partner's AS2 endpoint")
    our_as2_id: As2Name
    our_key: SecretRef | None = Field(default=None, description="our private key: signs and decrypts")
    our_key_password: SecretRef | None = Field(
        default=None, description="password of an encrypted PEM key or of a PKCS#12 bundle"
    )
    our_certificate: Certificate | None = None
    our_keys: list[OwnKey] = Field(
        default_factory=list, description="several key pairs with validity windows (our own rollover)"
    )
    tls: As2Tls | None = None
    partner_certificates: list[Certificate] = Field(default_factory=list)
    encryption: EncryptionAlgorithm = EncryptionAlgorithm.AES256_CBC
    signature_digest: SignatureDigest = SignatureDigest.SHA256
    signature_scheme: SignatureScheme = SignatureScheme.PKCS1V15
    key_transport: KeyTransport = KeyTransport.RSA_PKCS1V15
    compress: bool = False
    sign: bool = True
    encrypt: bool = True
    mdn: As2Mdn = Field(default_factory=As2Mdn)
    require_signed: bool = True
    require_encrypted: bool = True
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    _own: tuple[OwnKey, ...] = PrivateAttr(default=())

    @model_validator(mode="after")
    def _keys_for_security(self) -> As2Channel:
        problems: list[tuple[Loc, str]] = []
        needs_partner_cert = [
            what for what, on in (("encrypt", self.encrypt), ("require_signed", self.require_signed)) if on
        ]
        if needs_partner_cert and not self.partner_certificates:
            problems.append(
                (
                    ("partner_certificates",),
                    f"at least one partner certificate is needed for {' and '.join(needs_partner_cert)}",
                )
            )
        needs_our_key = [
            what
            for what, on in (
                ("sign", self.sign),
                ("require_encrypted", self.require_encrypted),
                ("mdn.signed", self.mdn.signed),
            )
            if on
        ]
        if self.our_key is not None and self.our_keys:
            problems.append((("our_keys",), "give our_key (one key) or our_keys (rollover), not both"))
        if self.our_key is None and (self.our_key_password is not None or self.our_certificate is not None):
            problems.append((("our_key",), "our_key_password and our_certificate belong to our_key"))
        if needs_our_key and self.our_key is None and not self.our_keys:
            problems.append(
                (("our_key",), f"our private key reference is needed for {' and '.join(needs_our_key)}")
            )
        if self.encrypt:
            for index, cert in enumerate(self.partner_certificates):
                if not isinstance(cert.certificate.public_key(), rsa.RSAPublicKey):
                    problems.append(
                        (
                            ("partner_certificates", index, "path"),
                            "encryption needs an RSA certificate for key transport",
                        )
                    )
        FieldProblems.raise_if_any(problems)
        if self.our_key is not None:
            single = OwnKey(
                key=self.our_key, password=self.our_key_password, certificate=self.our_certificate
            )
            self._own = (single,)
        else:
            self._own = tuple(self.our_keys)
        return self

    def mdn_return_hosts(self) -> list[str]:
        """The hosts our async MDNs may be POSTed to (``mdn.return_url_hosts``, default: ``url``'s host)."""
        if self.mdn.return_url_hosts is not None:
            return [_normal_host(h) for h in self.mdn.return_url_hosts]
        own = urlsplit(self.url).hostname
        return [_normal_host(own)] if own else []

    def mdn_url_problem(self, url: str) -> str | None:
        """Why our async MDN must not be POSTed to ``url`` (``None``: the profile allows it).

        The URL comes from a message header (``Receipt-Delivery-Option``) that no signature
        covers, so it is checked against the profile before anything is sent there.
        """
        if any(ch.isspace() or ord(ch) < 32 for ch in url):
            return "the URL contains whitespace or control characters"
        try:
            parts = urlsplit(url)
            _ = parts.port  # an unreadable port is refused like any other malformed URL
        except ValueError as exc:
            return f"the URL is malformed: {exc}"
        if parts.scheme.lower() not in ("http", "https"):
            return "only http:// and https:// URLs are allowed"
        if parts.username is not None or parts.password is not None:
            return "the URL embeds credentials"
        host = _normal_host(parts.hostname or "")
        allowed = self.mdn_return_hosts()
        if host not in allowed:
            listed = ", ".join(allowed) or "none"
            return f"host {host!r} is not one the partner's profile allows (mdn.return_url_hosts: {listed})"
        return None

    def own_keys(self) -> list[OwnKey]:
        """Our key pairs in profile order (``our_key`` as a one-entry list)."""
        return list(self._own)

    def named_certificates(self) -> list[tuple[str, Certificate]]:
        """Every certificate file of the channel with its place in the profile (for expiry reports)."""
        named = [(f"partner_certificates[{i}]", c) for i, c in enumerate(self.partner_certificates)]
        if self.our_certificate is not None:
            named.append(("our_certificate", self.our_certificate))
        named += [
            (f"our_keys[{i}].certificate", k.certificate)
            for i, k in enumerate(self.our_keys)
            if k.certificate is not None
        ]
        return named

    def certificates_at(self, moment: datetime | None = None) -> list[Certificate]:
        """Partner certificates usable at ``moment`` (default now), newest window first.

        Verify inbound signatures with any of them; encrypt outbound with the first.
        """
        when = _aware(moment) or datetime.now(UTC)
        usable = [cert for cert in self.partner_certificates if cert.valid_at(when)]
        return sorted(usable, key=lambda cert: cert.not_before or when, reverse=True)
