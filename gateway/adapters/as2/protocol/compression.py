"""CMS CompressedData with zlib (RFC 3274), as AS2 uses it (RFC 5402).

Decompression is bounded, so a small "zip bomb" cannot exhaust memory: it stops after
``max_size`` bytes (the receiver passes its payload limit, so a compressed layer can never
inflate to more than a body may be, whether or not the message was authenticated yet).
"""

from __future__ import annotations

import zlib

from asn1crypto import cms

from gateway.adapters.as2.protocol.errors import MalformedMessage, UnsupportedAlgorithm

__all__ = ["DEFAULT_MAX_DECOMPRESSED", "compress", "decompress"]

DEFAULT_MAX_DECOMPRESSED = 512 * 1024 * 1024


def compress(content: bytes) -> bytes:
    """A DER ``ContentInfo`` of CompressedData holding ``content`` zlib-compressed."""
    compressed = cms.CompressedData(
        {
            "version": "v0",
            "compression_algorithm": {"algorithm": "zlib"},
            "encap_content_info": {
                "content_type": "data",
                "content": cms.ParsableOctetString(zlib.compress(content)),
            },
        }
    )
    return bytes(cms.ContentInfo({"content_type": "compressed_data", "content": compressed}).dump())


def decompress(der: bytes, max_size: int = DEFAULT_MAX_DECOMPRESSED) -> bytes:
    try:
        info = cms.ContentInfo.load(der)
        if info["content_type"].native != "compressed_data":
            raise MalformedMessage(f"expected CMS compressed-data, found {info['content_type'].native}")
        data = info["content"]
        algorithm = data["compression_algorithm"]["algorithm"].native
        inner = data["encap_content_info"]["content"]
        packed = inner.native if isinstance(inner.native, bytes) else inner.contents
    except (ValueError, TypeError, KeyError) as exc:
        raise MalformedMessage(f"the compressed body is not a readable CMS structure: {exc}") from exc
    if algorithm != "zlib":
        raise UnsupportedAlgorithm(f"compression {algorithm} is not supported (zlib only)")
    engine = zlib.decompressobj()
    try:
        out = engine.decompress(packed, max_size + 1)
    except zlib.error as exc:
        raise MalformedMessage(f"the compressed content does not inflate: {exc}") from exc
    if len(out) > max_size:
        raise MalformedMessage(f"the compressed content inflates beyond the limit of {max_size} bytes")
    if not engine.eof:
        raise MalformedMessage("the compressed content is truncated")
    return out
