"""A minimal DER writer for the CMS structures this gateway builds on every message.

Building a SignedData with asn1crypto objects costs several milliseconds per message (more
than the RSA signature itself); the structure is mostly constant per key, so the constant
parts are encoded once with asn1crypto (:func:`functools.lru_cache`) and the rest is
assembled here as tag-length-value bytes. Parsing still uses asn1crypto.
"""

from __future__ import annotations

__all__ = ["SEQUENCE", "SET", "explicit", "octet_string", "set_of", "tlv"]

SEQUENCE = 0x30
SET = 0x31
_OCTET_STRING = 0x04


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def tlv(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _length(len(content)) + content


def octet_string(value: bytes) -> bytes:
    return tlv(_OCTET_STRING, value)


def set_of(*items: bytes) -> bytes:
    """A DER SET OF: elements sorted by their encodings (X.690 11.6)."""
    return tlv(SET, b"".join(sorted(items)))


def explicit(number: int, content: bytes) -> bytes:
    """A context-specific constructed tag ``[number]`` around ``content``."""
    return tlv(0xA0 | number, content)
