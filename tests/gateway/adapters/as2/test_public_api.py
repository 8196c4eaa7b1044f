"""Pins the public API of the AS2 adapter and of its protocol core, and their import rule."""

from __future__ import annotations

import ast
from pathlib import Path

import gateway.adapters.as2 as as2
import gateway.adapters.as2.protocol as protocol


def test_adapter_api() -> None:
    assert sorted(as2.__all__) == [
        "As2Inbound", "As2Install", "As2MdnChannel", "As2MdnReceiver", "As2PartnerChannel", "HttpClient",
        "HttpResponse", "KeyLoadError", "KeyStore", "Reply", "content_type_for", "generate_self_signed",
        "install_as2", "load_private_key",
    ]  # fmt: skip


def test_protocol_api() -> None:
    assert sorted(protocol.__all__) == [
        "Decrypted", "DigestMismatch", "MalformedMessage", "MdnRequest", "MdnResult", "Mic", "MimePart",
        "PackOptions", "Packed", "SignatureNotVerified", "SigningKey", "Trust", "Unpacked",
        "UnsupportedAlgorithm", "VerifiedSignature", "build_entity", "build_mdn", "compress", "compute_mic",
        "decompress",
        "decrypt", "disposition_text", "encrypt", "micalg_label", "normalise_digest", "pack", "parse_entity",
        "parse_mdn", "parse_mdn_request", "parse_mic", "peek_original_message_id", "sign_detached",
        "split_multipart", "unpack", "verify_signature",
    ]  # fmt: skip


def test_product_code_never_imports_pyas2lib_or_oscrypto_and_the_core_no_http() -> None:
    root = Path(as2.__file__).parent
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text())
        names = {
            alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
        }
        names |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        tops = {name.split(".")[0] for name in names}
        assert not tops & {"pyas2lib", "oscrypto"}, path
        if "protocol" in path.parts:
            assert not tops & {"aiohttp", "sqlalchemy", "asyncio"}, path
