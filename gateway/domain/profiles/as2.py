"""The AS2 channel of a partner profile: endpoints, keys, certificates for rollover, algorithms, MDNs.

Partner certificates are loaded (with :mod:`cryptography`) while the profile validates.
Each has a validity window taken from the certificate and optionally narrowed in the
profile, so a replacement certificate can be configured ahead of the partner's switch
date: :meth:`As2Channel.certificates_at` tells which ones apply at a given moment.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import Field, PrivateAttr, ValidationInfo, field_validator, model_validator

from gateway.domain.profiles.certs import CertificateLoadError, leaf_certificate, load_certificates, validity
from gateway.domain.profiles.common import FieldProblems, HttpUrl, Loc, RetryPolicy, StrictModel, resolve_path
from gateway.domain.profiles.identity import As2Name
from gateway.domain.profiles.refs import SecretRef

__all__ = [
    "As2Channel",
    "As2Mdn",
    "Certificate",
    "EncryptionAlgorithm",
    "KeyTransport",
    "SignatureDigest",
    "SignatureScheme",
]


class EncryptionAlgorithm(StrEnum):
    TRIPLE_DES = "3des"
    AES128_CBC = "aes128_cbc"
    AES192_CBC = "aes192_cbc"
    AES256_CBC = "aes256_cbc"
    AES128_GCM = "aes128_gcm"
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


class As2Mdn(StrictModel):
    """Which receipt we ask for on outbound messages."""

    mode: Literal["sync", "async"] = "sync"
    async_url: HttpUrl | None = Field(default=None, description="where the partner posts async MDNs")
    signed: bool = True

    @model_validator(mode="after")
    def _url_for_async(self) -> As2Mdn:
        if self.mode == "async" and self.async_url is None:
            raise FieldProblems([(("async_url",), "async MDNs need async_url")])
        if self.mode == "sync" and self.async_url is not None:
            raise FieldProblems([(("async_url",), "async_url is only used with mode: async")])
        return self


class As2Channel(StrictModel):
    """AS2 exchange with one partner (RFC 4130)."""

    url: HttpUrl = Field(description="the partner's AS2 endpoint")
    our_as2_id: As2Name
    our_key: SecretRef | None = Field(default=None, description="our private key: signs and decrypts")
    our_certificate: Certificate | None = None
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
        if needs_our_key and self.our_key is None:
            problems.append(
                (("our_key",), f"our private key reference is needed for {' and '.join(needs_our_key)}")
            )
        if needs_our_key and self.our_certificate is None:
            problems.append(
                (("our_certificate",), f"our certificate is needed for {' and '.join(needs_our_key)}")
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
        return self

    def certificates_at(self, moment: datetime | None = None) -> list[Certificate]:
        """Partner certificates usable at ``moment`` (default now), newest window first.

        Verify inbound signatures with any of them; encrypt outbound with the first.
        """
        when = _aware(moment) or datetime.now(UTC)
        usable = [cert for cert in self.partner_certificates if cert.valid_at(when)]
        return sorted(usable, key=lambda cert: cert.not_before or when, reverse=True)
