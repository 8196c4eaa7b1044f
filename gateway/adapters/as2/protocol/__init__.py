"""The AS2 protocol core: bytes in, bytes and typed results out; no HTTP, no store.

* :func:`unpack` opens a received message (decrypt, verify, decompress in any order);
* :func:`pack` builds one (compress, sign, encrypt);
* :func:`build_mdn` / :func:`parse_mdn` write and read receipts;
* errors (:mod:`.errors`) carry their MDN disposition (``exc.as2_disposition``).
"""

from gateway.adapters.as2.protocol.algorithms import micalg_label, normalise_digest
from gateway.adapters.as2.protocol.compression import compress, decompress
from gateway.adapters.as2.protocol.envelope import Decrypted, decrypt, encrypt
from gateway.adapters.as2.protocol.errors import (
    DigestMismatch,
    MalformedMessage,
    SignatureNotVerified,
    UnsupportedAlgorithm,
)
from gateway.adapters.as2.protocol.mdn import (
    MdnRequest,
    MdnResult,
    build_mdn,
    disposition_text,
    parse_mdn,
    parse_mdn_request,
    peek_original_message_id,
)
from gateway.adapters.as2.protocol.mic import Mic, compute_mic, parse_mic
from gateway.adapters.as2.protocol.mime import MimePart, build_entity, parse_entity, split_multipart
from gateway.adapters.as2.protocol.pack import Packed, PackOptions, pack
from gateway.adapters.as2.protocol.signing import (
    SigningKey,
    VerifiedSignature,
    sign_detached,
    verify_signature,
)
from gateway.adapters.as2.protocol.unpack import Trust, Unpacked, unpack

__all__ = [
    "Decrypted",
    "DigestMismatch",
    "MalformedMessage",
    "MdnRequest",
    "MdnResult",
    "Mic",
    "MimePart",
    "PackOptions",
    "Packed",
    "SignatureNotVerified",
    "SigningKey",
    "Trust",
    "Unpacked",
    "UnsupportedAlgorithm",
    "VerifiedSignature",
    "build_entity",
    "build_mdn",
    "compress",
    "compute_mic",
    "decompress",
    "decrypt",
    "disposition_text",
    "encrypt",
    "micalg_label",
    "normalise_digest",
    "pack",
    "parse_entity",
    "parse_mdn",
    "parse_mdn_request",
    "parse_mic",
    "peek_original_message_id",
    "sign_detached",
    "split_multipart",
    "unpack",
    "verify_signature",
]
