"""The Message Integrity Check (RFC 4130 section 7.3.1) carried in ``Received-Content-MIC``.

Which bytes it covers is decided by :mod:`gateway.adapters.as2.protocol.unpack` and
:mod:`~gateway.adapters.as2.protocol.pack`:

* signed: exactly what was signed (RFC 4130 7.3.1; RFC 5402 4.1: compressed or not);
* unsigned, encrypted and/or compressed: the innermost MIME entity after decryption and
  decompression, headers included (RFC 4130 7.3.1; RFC 5402 4.2 and 4.3);
* unsigned, neither encrypted nor compressed: the content alone, without MIME headers
  (RFC 4130 7.3.1).

This module only computes, formats and compares it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

from gateway.adapters.as2.protocol.algorithms import micalg_label, normalise_digest
from gateway.adapters.as2.protocol.errors import MalformedMessage, UnsupportedAlgorithm

__all__ = ["Mic", "compute_mic", "parse_mic"]


@dataclass(frozen=True, slots=True)
class Mic:
    value: str  # base64 of the digest
    digest: str  # normalised name: sha256
    label: str  # as written on the wire: sha-256 or sha256

    @property
    def header_value(self) -> str:
        return f"{self.value}, {self.label}"

    def matches(self, other: Mic) -> bool:
        """Same digest algorithm and value (labels may be spelled differently)."""
        return self.digest == other.digest and hmac.compare_digest(self.value, other.value)


def compute_mic(data: bytes, digest: str, label: str | None = None) -> Mic:
    name = normalise_digest(digest)
    value = base64.b64encode(hashlib.new(name, data).digest()).decode("ascii")
    return Mic(value, name, label or micalg_label(name))


def parse_mic(header: str) -> Mic:
    """``'q2Zk...=, sha-256'`` -> :class:`Mic`."""
    value, sep, label = header.partition(",")
    if not sep or not value.strip():
        raise MalformedMessage(f"Received-Content-MIC is not 'value, algorithm': {header[:80]!r}")
    try:
        digest = normalise_digest(label)
    except UnsupportedAlgorithm as exc:
        raise MalformedMessage(f"Received-Content-MIC names an unknown algorithm {label.strip()!r}") from exc
    return Mic(value.strip(), digest, label.strip())
