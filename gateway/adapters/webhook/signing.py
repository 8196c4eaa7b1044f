"""The webhook signing scheme (version ``v1``), both directions: pure functions, no I/O.

A request carries two headers::

    X-Edigate-Timestamp: 1732312800                (unix seconds, ASCII digits)
    X-Edigate-Signature: v1=<64 lowercase hex>[, v1=<hex> ...]

Each ``v1`` value is ``HMAC-SHA256(secret, f"{timestamp}.".encode() + raw_body)`` in hex: the
canonical string is the timestamp header exactly as sent, one ``.``, then the body bytes
exactly as sent (no re-encoding, no JSON normalisation). Several ``v1`` values may be sent
(comma-separated) so a sender can sign with an old and a new secret while a secret is
rotated; a request is authentic when any of them matches any current secret. On our side a
secret reference may hold several secrets, one per line, for the same reason.

Comparisons are constant-time (:func:`hmac.compare_digest`), every candidate is compared
(no early exit), and no error message ever contains a secret or a signature.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from gateway.domain.runtime.errors import AuthenticationFailed

__all__ = [
    "MAX_SIGNATURES",
    "SCHEME",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "SignatureRejected",
    "Verified",
    "canonical_string",
    "sign",
    "signature_header",
    "signed_headers",
    "split_secrets",
    "verify",
]

TIMESTAMP_HEADER = "X-Edigate-Timestamp"
SIGNATURE_HEADER = "X-Edigate-Signature"
SCHEME = "v1"
#: At most this many signatures of one request are checked (bounds the work per request).
MAX_SIGNATURES = 8
_MAX_TIMESTAMP_DIGITS = 12


class SignatureRejected(AuthenticationFailed):
    """The request is not authentic (HTTP 401). ``reason`` is a short code for logs and metrics."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Verified:
    timestamp: int
    skew_seconds: int  # our clock minus the sender's timestamp


def split_secrets(raw: bytes) -> list[bytes]:
    """The secrets held by one reference: one per line, empty lines ignored, ``\\r`` dropped."""
    return [line.rstrip(b"\r") for line in raw.split(b"\n") if line.rstrip(b"\r")]


def canonical_string(timestamp: str, body: bytes) -> bytes:
    """What is signed: ``<timestamp>.<raw body>``."""
    return timestamp.encode("ascii") + b"." + body


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """The hex HMAC-SHA256 of the canonical string."""
    return hmac.new(secret, canonical_string(timestamp, body), hashlib.sha256).hexdigest()


def signature_header(secrets: Sequence[bytes], timestamp: str, body: bytes) -> str:
    """``v1=<hex>`` for each secret, comma-separated (one per secret during a rotation)."""
    return ", ".join(f"{SCHEME}={sign(secret, timestamp, body)}" for secret in secrets)


def signed_headers(secrets: Sequence[bytes], body: bytes, now: float) -> dict[str, str]:
    """The two signature headers for ``body`` sent at ``now`` (unix time)."""
    if not secrets:
        raise ValueError("at least one secret is needed to sign")
    timestamp = str(int(now))
    return {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: signature_header(secrets, timestamp, body)}


def _timestamp(raw: str | None) -> int:
    if raw is None or not raw.strip():
        raise SignatureRejected("missing-timestamp", f"the {TIMESTAMP_HEADER} header is missing")
    text = raw.strip()
    if not text.isascii() or not text.isdigit() or len(text) > _MAX_TIMESTAMP_DIGITS:
        raise SignatureRejected(
            "bad-timestamp", f"the {TIMESTAMP_HEADER} header must be unix time in whole seconds"
        )
    return int(text)


def _signatures(raw: str | None) -> list[bytes]:
    if raw is None or not raw.strip():
        raise SignatureRejected("missing-signature", f"the {SIGNATURE_HEADER} header is missing")
    found: list[bytes] = []
    for item in raw.split(","):
        scheme, sep, value = item.strip().partition("=")
        if sep and scheme.strip() == SCHEME and value.strip():
            found.append(value.strip().lower().encode("ascii", "replace"))
    if not found:
        raise SignatureRejected(
            "no-v1-signature", f"the {SIGNATURE_HEADER} header holds no '{SCHEME}=<hex>' signature"
        )
    return found[:MAX_SIGNATURES]


def verify(
    secrets: Sequence[bytes],
    timestamp_header: str | None,
    signature_header_value: str | None,
    body: bytes,
    *,
    now: float,
    tolerance_seconds: int,
) -> Verified:
    """Check the headers of a received request; raise :class:`SignatureRejected` if not authentic.

    The signature is checked before the timestamp's age, so a stale but correctly signed
    request is reported as stale (a clock or retry problem on the sender's side), while
    anything unsigned or wrongly signed is reported as a bad signature.
    """
    stamp = _timestamp(timestamp_header)
    given = _signatures(signature_header_value)
    if not secrets:
        raise SignatureRejected("no-secret", "no secret is configured for this partner's webhook")
    text = timestamp_header.strip() if timestamp_header else ""
    expected = [sign(secret, text, body).encode("ascii") for secret in secrets]
    matched = False
    for candidate in given:
        for wanted in expected:
            matched |= hmac.compare_digest(candidate, wanted)
    if not matched:
        raise SignatureRejected(
            "bad-signature", "no signature matches: check the secret and that the exact body bytes are signed"
        )
    skew = int(now) - stamp
    if abs(skew) > tolerance_seconds:
        direction = "in the past" if skew > 0 else "in the future"
        raise SignatureRejected(
            "stale-timestamp",
            f"the timestamp is {abs(skew)} s {direction}; the allowed window is {tolerance_seconds} s",
        )
    return Verified(stamp, skew)
