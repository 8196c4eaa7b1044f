"""Algorithm names as AS2 spells them (``micalg``), as CMS identifies them (OIDs) and as
:mod:`cryptography` implements them.

Digest names are normalised to ``sha1``/``sha256``/...; both spellings seen on the wire
(``sha-256`` from RFC 5751, ``sha256`` from RFC 3851) are accepted.
"""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives import hashes

from gateway.adapters.as2.protocol.errors import UnsupportedAlgorithm

__all__ = [
    "DIGESTS",
    "digest_bytes",
    "hash_for",
    "micalg_label",
    "normalise_digest",
    "parse_micalg_list",
]

#: normalised name -> (cryptography hash class, RFC 5751 micalg label)
DIGESTS: dict[str, tuple[type[hashes.HashAlgorithm], str]] = {
    "sha1": (hashes.SHA1, "sha-1"),
    "sha224": (hashes.SHA224, "sha-224"),
    "sha256": (hashes.SHA256, "sha-256"),
    "sha384": (hashes.SHA384, "sha-384"),
    "sha512": (hashes.SHA512, "sha-512"),
}

_ALIASES = {
    "sha_1": "sha1",
    "sha-1": "sha1",
    "sha-224": "sha224",
    "sha-256": "sha256",
    "sha-384": "sha384",
    "sha-512": "sha512",
    "sha2-256": "sha256",
    "sha2-384": "sha384",
    "sha2-512": "sha512",
}


def normalise_digest(name: str) -> str:
    """``'SHA-256'`` -> ``'sha256'``; raise :class:`UnsupportedAlgorithm` for anything else (md5 too)."""
    key = name.strip().strip('"').lower()
    key = _ALIASES.get(key, key)
    if key not in DIGESTS:
        raise UnsupportedAlgorithm(f"digest algorithm {name!r} is not supported")
    return key


def micalg_label(name: str) -> str:
    """The RFC 5751 label (``sha-256``) for a normalised digest name."""
    return DIGESTS[normalise_digest(name)][1]


def hash_for(name: str) -> hashes.HashAlgorithm:
    return DIGESTS[normalise_digest(name)][0]()


def digest_bytes(name: str, data: bytes) -> bytes:
    return hashlib.new(normalise_digest(name), data).digest()


def parse_micalg_list(value: str) -> list[str]:
    """The supported digests of a ``signed-receipt-micalg=...`` list, in the sender's order, as spelled."""
    out: list[str] = []
    for item in value.split(","):
        label = item.strip().strip('"')
        if not label or label.lower() in ("required", "optional"):
            continue
        try:
            normalise_digest(label)
        except UnsupportedAlgorithm:
            continue
        out.append(label)
    return out
