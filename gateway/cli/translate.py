"""``edigate translate``: map a file between X12 / partner JSON and canonical JSON, offline.

* ``edigate translate FILE --partner ID`` (``--to canonical``, the default) reads X12 (a file
  starting with ``ISA``) or the partner's JSON (``--type`` names the JSON document type when
  the partner has several) and prints the canonical documents as **JSON lines**: one
  document per line, one per transaction set, in file order, so large files stream.
* ``edigate translate FILE --partner ID --to x12`` reads canonical JSON (one document, a
  JSON array of documents, or JSON lines) and prints one X12 interchange holding one
  functional group per document type. Our identity is ``--sender-qualifier``/``--sender-id``
  (default ``ZZ``/``EDIGATE``); the receiver is the partner's ISA identity. Control numbers
  start at ``--control-number`` (default 1) for the interchange, each group and each set.
  The version is the partner's outbound policy's (else 004010).

Partner deviations (profile and named variant) apply both ways. Exit codes: 0 done,
1 a document could not be mapped (one line naming the segment/element or JSON path),
2 unreadable input, unknown partner, bad profiles or mappings. Never a traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import uuid
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from edi import UnreadableInput, parse
from edi.errors import X12Error
from edi.model import TransactionSet
from edi.writer import EnvelopeParties, build_group, build_interchange, write
from gateway.domain.canonical import (
    X12_DOCUMENT_TYPES,
    CanonicalDocument,
    Direction,
    DocumentHeader,
    SourceChannel,
    Usage,
    dump_document,
    parse_document,
)
from gateway.domain.mapping import Mapper, MappingError, functional_id_for, set_id_for
from gateway.domain.profiles import Direction as PolicyDirection
from gateway.domain.profiles import DocumentFormat, PartnerProfile, ProfileError, load_profiles

__all__ = ["register"]


class _Unreadable(Exception):
    """Input, partner, profiles or mappings that cannot be used (exit 2)."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "translate", help="map X12 or partner JSON to canonical JSON lines, or canonical JSON to X12"
    )
    parser.add_argument("file", metavar="FILE", type=Path, help="X12, partner JSON or canonical JSON file")
    parser.add_argument("--partner", required=True, help="partner ID (profile whose deviations apply)")
    parser.add_argument(
        "--to", choices=("canonical", "x12"), default="canonical", help="default: %(default)s"
    )
    parser.add_argument("--type", dest="json_type", help="partner JSON document type, e.g. po_json")
    parser.add_argument("--partners", type=Path, default=Path("partners"), help="default: ./partners")
    parser.add_argument("--mappings", type=Path, default=Path("mappings"), help="default: ./mappings")
    parser.add_argument("--control-number", type=int, default=1, help="first control number (default: 1)")
    parser.add_argument("--sender-qualifier", default="ZZ", help="our ISA05 (default: ZZ)")
    parser.add_argument("--sender-id", default="EDIGATE", help="our ISA06 (default: EDIGATE)")
    parser.set_defaults(handler=_translate)


def _translate(args: argparse.Namespace) -> int:
    try:
        mapper = Mapper.load(args.mappings)
        profile = _profile(args.partners, args.mappings, args.partner)
        content = _read(args.file)
        if args.to == "canonical":
            for doc in _to_canonical(content, profile, mapper, args):
                sys.stdout.write(dump_document(doc).decode() + "\n")
        else:
            sys.stdout.buffer.write(_to_x12(content, profile, mapper, args))
    except MappingError as exc:
        print(f"edigate translate: {exc}", file=sys.stderr)
        return 2 if exc.field is not None and exc.field.endswith((".yaml", ".yml")) else 1
    except _Unreadable as exc:
        print(f"edigate translate: {exc}", file=sys.stderr)
        return 2
    return 0


def _profile(partners: Path, mappings: Path, partner_id: str) -> PartnerProfile:
    try:
        profile_set = load_profiles(partners, mappings_dir=mappings)
    except ProfileError as exc:
        first = str(exc).splitlines()[0]
        raise _Unreadable(f"partner profiles in {partners} are invalid: {first}") from None
    profile = profile_set.get(partner_id)
    if profile is None:
        raise _Unreadable(
            f"no partner {partner_id!r} in {partners} (known: {', '.join(profile_set.partner_ids)})"
        )
    return profile


def _read(file: Path) -> bytes:
    try:
        return file.read_bytes()
    except OSError as exc:
        raise _Unreadable(f"{file}: {exc.strerror or exc}") from None


def _is_x12(content: bytes) -> bool:
    return content.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"ISA")


def _header(profile: PartnerProfile, doc_type: Any, usage: Usage, **envelope: Any) -> DocumentHeader:
    return DocumentHeader(
        partner_id=profile.partner_id, document_type=doc_type, direction=Direction.INBOUND,
        source_channel=SourceChannel.FILE, usage=usage, correlation_id=str(uuid.uuid4()),
        received_at=dt.datetime.now(dt.UTC), **envelope,
    )  # fmt: skip


def _to_canonical(
    content: bytes, profile: PartnerProfile, mapper: Mapper, args: argparse.Namespace
) -> list[CanonicalDocument]:
    if _is_x12(content):
        try:
            result = parse(content)
        except (UnreadableInput, X12Error) as exc:
            raise _Unreadable(f"{args.file}: unreadable X12: {exc}") from None
        docs = []
        for ix in result.interchanges:
            usage = Usage.TEST if ix.usage == "T" else Usage.PRODUCTION
            for group, ts in ix.transactions():
                doc_type = X12_DOCUMENT_TYPES.get(ts.set_id)
                if doc_type is None:
                    raise MappingError(
                        f"set {ts.set_id} {ts.control_number}: no canonical mapping", segment_id="ST"
                    )
                head = _header(profile, doc_type, usage, isa13=ix.control_number, gs06=group.control_number,
                               st02=ts.control_number, x12_version=group.version or None)  # fmt: skip
                docs.append(
                    mapper.x12_to_canonical(ts, interchange=ix, group=group, profile=profile, header=head)
                )
        if not docs:
            raise _Unreadable(f"{args.file}: no transaction set found")
        return docs
    try:
        data = json.loads(content)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _Unreadable(f"{args.file}: neither X12 (no ISA) nor JSON: {exc}") from None
    json_types = [
        d.type
        for d in profile.documents
        if d.format is DocumentFormat.JSON and d.direction is PolicyDirection.INBOUND
    ]
    wanted = args.json_type or (json_types[0] if len(json_types) == 1 else None)
    if wanted is None:
        raise _Unreadable(f"give --type: {profile.partner_id} exchanges {', '.join(json_types) or 'no JSON'}")
    usage = Usage.TEST if profile.environment.value == "test" else Usage.PRODUCTION
    head = _header(profile, mapper.canonical_type_for(wanted), usage)
    return [mapper.json_to_canonical(data, document_type=wanted, profile=profile, header=head)]


def _canonical_documents(content: bytes, file: Path) -> list[CanonicalDocument]:
    text = content.decode("utf-8", "replace").strip()
    try:
        if text.startswith("["):
            items = json.loads(text)
            return [parse_document(item) for item in items]
        lines = [line for line in text.splitlines() if line.strip()]
        if len(lines) > 1 and all(
            line.lstrip().startswith("{") and line.rstrip().endswith("}") for line in lines
        ):
            return [parse_document(line) for line in lines]
        return [parse_document(text)]
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in error["loc"])
        raise MappingError(
            f"{file}: not a canonical document: {where}: {error['msg']}", field=where
        ) from None
    except ValueError as exc:
        raise _Unreadable(f"{file}: not JSON: {exc}") from None


def _to_x12(content: bytes, profile: PartnerProfile, mapper: Mapper, args: argparse.Namespace) -> bytes:
    docs = _canonical_documents(content, args.file)
    receiver = profile.identity
    if receiver.isa_qualifier is None or receiver.isa_id is None:
        raise _Unreadable(f"partner {profile.partner_id} has no ISA identity: it does not trade X12")
    number = args.control_number
    by_set: dict[str, list[TransactionSet]] = {}
    versions: dict[str, str] = {}
    for doc in docs:
        set_id = set_id_for(doc.type)
        policy = profile.document_policy(PolicyDirection.OUTBOUND, set_id)
        versions[set_id] = policy.version if policy is not None and policy.version else "004010"
        control = f"{number + sum(len(v) for v in by_set.values()):04d}"
        by_set.setdefault(set_id, []).append(
            mapper.canonical_to_x12(doc, profile=profile, policy=policy, control_number=control)
        )
    groups = [
        build_group(
            functional_id_for(set_id), args.sender_id, receiver.isa_id, number + i, versions[set_id], sets
        )
        for i, (set_id, sets) in enumerate(by_set.items())
    ]
    isa_version = "00501" if max(versions.values()) >= "005010" else "00401"
    parties = EnvelopeParties(args.sender_qualifier, args.sender_id, receiver.isa_qualifier, receiver.isa_id)
    try:
        interchange = build_interchange(
            parties, number, groups, version=isa_version, usage=profile.environment.usage_indicator
        )
        return write(interchange, newline=True)
    except X12Error as exc:
        raise MappingError(f"cannot write the interchange: {exc}") from None
