"""Mapped documents against the exported schemas (docs/schemas), with format assertion on.

The drift test (tests/gateway/cli/test_schema_cli.py) compares the schemas with the models; this
compares them with what the gateway actually writes. Every canonical document the mapping produces
from the fixtures (X12 850/855/856/810 in 004010 and 005010, 997, 999 and TA1 acknowledgements,
JSON in each partner's shape) and, when present, from the corpus, is validated as a consumer would:
Draft 2020-12 with ``format`` asserted, so a time written without a UTC offset under
``format: time`` (RFC 3339 requires one) fails here."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from functools import cache
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from edi import UnreadableInput, parse
from edi.acks import AckControlNumbers, acknowledge
from edi.errors import X12Error
from edi.writer import write
from gateway.domain.canonical import (
    X12_DOCUMENT_TYPES,
    CanonicalDocument,
    DocumentType,
    FunctionalAck,
    dump_document,
)
from gateway.domain.mapping import Mapper, MappingError, load_json
from tests.gateway.domain.test_mapping_support import (
    CORPUS,
    FIXTURES,
    ROOT,
    header,
    mapper,
    profiles,
    read_x12,
)

SCHEMAS = ROOT / "docs" / "schemas"
FORMATS = Draft202012Validator.FORMAT_CHECKER

#: JSON fixtures: file -> (document type, partner whose shape it is, or None for the default shape).
JSON_FIXTURES = {
    FIXTURES / "acme-marketplace-po.json": ("po_json", "acme-retail"),
    FIXTURES / "northwind-poack.json": ("poack_json", "northwind-supply"),
    FIXTURES / "po-default.json": ("po_json", None),
    FIXTURES / "poack-default.json": ("poack_json", None),
    FIXTURES / "shipment-confirmation-default.json": ("shipment_confirmation_json", None),
    FIXTURES / "swift-shipment-confirmation.json": ("shipment_confirmation_json", "swift-3pl"),
    ROOT / "fixtures" / "runtime" / "swift-3pl-shipment.json": ("shipment_confirmation_json", "swift-3pl"),
}
X12_FIXTURES = [
    *sorted(FIXTURES.glob("*.x12")),
    ROOT / "fixtures" / "x12" / "sample-850.edi",
    *sorted((ROOT / "fixtures" / "acks").glob("*.ack")),
]


@cache
def validator(document_type: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{document_type}.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FORMATS)


def _from_x12(data: bytes, partner: str | None) -> list[CanonicalDocument]:
    """Every mapped set of ``data`` and its TA1 segments, as the inbound pipeline maps them."""
    profile = profiles()[partner] if partner else None
    docs = read_x12(data, profile)
    for ix in parse(data).interchanges:
        ta1 = mapper().ta1_to_canonical(ix, header=header(DocumentType.FUNCTIONAL_ACK))
        if ta1 is not None:
            docs.append(ta1)
    return docs


def _999_of(data: bytes) -> bytes:
    [ack] = acknowledge(
        parse(data), kind="999", control_numbers=AckControlNumbers(), when=datetime(2025, 3, 1)
    )
    return write(ack)


def fixture_documents() -> list[tuple[str, CanonicalDocument]]:
    out: list[tuple[str, CanonicalDocument]] = []
    for path in X12_FIXTURES:
        partner = "northwind-supply" if path.name.startswith("northwind") else None
        out += [(path.name, doc) for doc in _from_x12(path.read_bytes(), partner)]
    out += [
        ("999 of 850-005010.x12", doc)
        for doc in _from_x12(_999_of((FIXTURES / "850-005010.x12").read_bytes()), None)
    ]
    for path, (document_type, partner) in JSON_FIXTURES.items():
        kind = Mapper.canonical_type_for(document_type)
        doc = mapper().json_to_canonical(
            load_json(path.read_bytes()),
            document_type=document_type,
            profile=profiles()[partner] if partner else None,
            header=header(kind, partner or "acme-retail"),
        )
        out.append((path.name, doc))
    return out


def corpus_documents() -> list[tuple[str, CanonicalDocument]]:
    """Every set of the corpus that maps (those that do not are test_mapping_corpus's concern)."""
    out: list[tuple[str, CanonicalDocument]] = []
    folders = ("850", "855", "856", "810", "997", "999", "TA1", "mixed")
    for path in sorted(p for folder in folders for p in (CORPUS / folder).glob("*") if p.is_file()):
        try:
            interchanges = parse(path.read_bytes()).interchanges
        except (UnreadableInput, X12Error):
            continue
        for ix in interchanges:
            for group, ts in ix.transactions():
                if ts.set_id not in X12_DOCUMENT_TYPES:
                    continue
                kind = X12_DOCUMENT_TYPES[ts.set_id]
                try:
                    doc = mapper().x12_to_canonical(
                        ts, interchange=ix, group=group, profile=None, header=header(kind)
                    )
                except MappingError:
                    continue
                out.append((f"{path.parent.name}/{path.name}", doc))
            try:
                ta1 = mapper().ta1_to_canonical(ix, header=header(DocumentType.FUNCTIONAL_ACK))
            except MappingError:
                continue
            if ta1 is not None:
                out.append((f"{path.parent.name}/{path.name} TA1", ta1))
    return out


def _errors(doc: CanonicalDocument) -> list[str]:
    instance: Any = json.loads(dump_document(doc))
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator(doc.type).iter_errors(instance)
    ]


def _kind(doc: CanonicalDocument) -> str:
    return f"{doc.type}:{doc.ack_kind}" if isinstance(doc, FunctionalAck) else str(doc.type)


def test_format_assertion_is_on() -> None:
    """The checker asserts the formats the schemas use (RFC 3339 time needs its optional extra)."""
    assert not FORMATS.conforms("10:15:00", "time")  # full-time needs an offset
    assert FORMATS.conforms("10:15:00Z", "time")
    assert not FORMATS.conforms("2025-03-01T12:00:00", "date-time")
    assert not FORMATS.conforms("2025-02-30", "date")


def test_fixture_documents_match_the_exported_schemas() -> None:
    found = fixture_documents()
    kinds = Counter(_kind(doc) for _, doc in found)
    assert set(kinds) >= {
        "purchase_order", "purchase_order_ack", "ship_notice", "invoice", "shipment_confirmation",
        "functional_ack:997", "functional_ack:999", "functional_ack:TA1",
    }  # fmt: skip
    # local times are among the values checked (BSN04, DTM03, TA103)
    written = b"\n".join(dump_document(doc) for _, doc in found)
    assert b'"shipment_time":"' in written
    assert b'"time":"' in written
    problems = {f"{name} {_kind(doc)}": errors for name, doc in found if (errors := _errors(doc))}
    assert problems == {}


@pytest.mark.skipif(not CORPUS.is_dir(), reason="corpus not present")
def test_corpus_documents_match_the_exported_schemas() -> None:
    found = corpus_documents()
    assert len(found) > 50
    problems = {f"{name} {_kind(doc)}": errors for name, doc in found if (errors := _errors(doc))}
    assert problems == {}
