"""Helpers shared by the mapping tests (no tests here): headers, fixture reading, round trips."""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from pathlib import Path
from typing import Any

from edi import Interchange, parse
from edi.model import FunctionalGroup, TransactionSet
from edi.writer import EnvelopeParties, build_group, build_interchange, write
from gateway.domain.canonical import (
    X12_DOCUMENT_TYPES,
    CanonicalDocument,
    Direction,
    DocumentHeader,
    DocumentType,
    SourceChannel,
    Usage,
    dump_document,
    parse_document,
)
from gateway.domain.mapping import Mapper, functional_id_for
from gateway.domain.profiles import PartnerProfile, ProfileSet, load_profiles

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "fixtures" / "mapping"
CORPUS = ROOT.parent / "shared" / "corpus" / "x12"


@cache
def mapper() -> Mapper:
    return Mapper.load(ROOT / "mappings")


@cache
def profiles() -> ProfileSet:
    return load_profiles(ROOT / "partners", mappings_dir=ROOT / "mappings")


def header(document_type: DocumentType, partner: str = "acme-retail", direction: Direction = Direction.INBOUND
           ) -> DocumentHeader:  # fmt: skip
    return DocumentHeader(
        partner_id=partner, document_type=document_type, direction=direction,
        source_channel=SourceChannel.FILE, usage=Usage.TEST, correlation_id="corr-1",
        received_at=dt.datetime(2025, 3, 1, 12, tzinfo=dt.UTC),
    )  # fmt: skip


def sets(data: bytes) -> list[tuple[Interchange, FunctionalGroup, TransactionSet]]:
    return [(ix, g, ts) for ix in parse(data).interchanges for g, ts in ix.transactions()]


def read_x12(
    data: bytes, profile: PartnerProfile | None = None, direction: Direction = Direction.INBOUND
) -> list[CanonicalDocument]:
    out = []
    for ix, group, ts in sets(data):
        doc_type = X12_DOCUMENT_TYPES[ts.set_id]
        partner = profile.partner_id if profile is not None else "acme-retail"
        out.append(
            mapper().x12_to_canonical(
                ts, interchange=ix, group=group, profile=profile, header=header(doc_type, partner, direction)
            )
        )
    return out


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def envelope(ts: TransactionSet, version: str = "004010") -> bytes:
    """``ts`` in a whole interchange (default delimiters), as the outbound runtime would send it."""
    when = dt.datetime(2025, 3, 2, 8, 0)
    group = build_group(functional_id_for(ts.set_id), "EDIGATE", "PARTNER", 7, version, [ts], when=when)
    isa_version = "00501" if version >= "005010" else "00401"
    parties = EnvelopeParties("ZZ", "EDIGATE", "ZZ", "PARTNER")
    return write(build_interchange(parties, 7, [group], version=isa_version, when=when))


def plain(doc: CanonicalDocument) -> dict[str, Any]:
    """The document's JSON form without the envelope control numbers."""
    data: dict[str, Any] = json.loads(dump_document(doc))
    for key in ("isa13", "gs06", "st02"):
        data["header"][key] = None
    return data


def assert_valid(doc: CanonicalDocument) -> None:
    """The mapped document passes full pydantic validation and survives its JSON form."""
    again = parse_document(dump_document(doc))
    assert plain(again) == plain(doc)
