"""AS2 protocol errors: each is a :class:`GatewayError` and so declares its MDN disposition.

::

    GatewayError (gateway.domain.runtime.errors)   AS2 disposition modifier
    +-- UnknownPartner                             unknown-trading-partner
    +-- AuthenticationFailed                       authentication-failed
    |   +-- SignatureNotVerified                   (no partner certificate verifies the signature)
    +-- InsufficientSecurity                       insufficient-message-security
    +-- DecryptionFailed                           decryption-failed
    +-- IntegrityCheckFailed                       integrity-check-failed
    |   +-- DigestMismatch                         (the signed content was altered)
    +-- MalformedMessage                           unexpected-processing-error
        +-- UnsupportedAlgorithm                   unexpected-processing-error

The protocol core raises these; the HTTP handler turns ``exc.as2_disposition`` into the
MDN. Library exceptions (asn1crypto, cryptography, zlib) are translated where they occur,
chained with ``raise ... from exc``.
"""

from __future__ import annotations

from gateway.domain.runtime.errors import (
    AuthenticationFailed,
    DecryptionFailed,
    GatewayError,
    InsufficientSecurity,
    IntegrityCheckFailed,
    UnknownPartner,
)

__all__ = [
    "AuthenticationFailed",
    "DecryptionFailed",
    "DigestMismatch",
    "GatewayError",
    "InsufficientSecurity",
    "IntegrityCheckFailed",
    "MalformedMessage",
    "SignatureNotVerified",
    "UnknownPartner",
    "UnsupportedAlgorithm",
]


class MalformedMessage(GatewayError):
    """The transmission is not a well-formed AS2 message (truncated, garbage, missing headers)."""

    http_status = 400


class UnsupportedAlgorithm(MalformedMessage):
    """An algorithm (digest, cipher, key transport) this gateway does not implement."""


class SignatureNotVerified(AuthenticationFailed):
    """No certificate of the partner valid now verifies the signature."""


class DigestMismatch(IntegrityCheckFailed):
    """The signed digest does not match the content: the content was altered in transit."""
