"""``edigate translate``: map a file between X12 / partner JSON and canonical JSON, offline.

* ``edigate translate FILE --partner ID`` (``--to canonical``, the default) reads X12 (a file
  starting with ``ISA``) or the partner's JSON (``--type`` names the JSON document type when
  the partner has several; it must be one the profile has) and prints the canonical documents
  as **JSON lines**: one per transaction set (and one per interchange that carries TA1
  acknowledgements), in file order. Each set is read with the partner's rule for it: the
  inbound rule, or the outbound one when the partner only has that (our own 855/856/810 read
  back); ``--direction`` forces one. An interchange whose ISA15 (test/production) does not
  fit the profile is refused, as the gateway refuses it, unless ``--ignore-usage``.
* ``edigate translate FILE --partner ID --to x12`` reads canonical JSON (one document, a
  JSON array of documents, or JSON lines) and prints one X12 interchange holding one
  functional group per document type. Our identity is ``--sender-qualifier``/``--sender-id``
  (default ``ZZ``/``EDIGATE``); the receiver is the partner's ISA identity and, in GS03, its
  first GS application ID (as the gateway sends). Control numbers start at
  ``--control-number`` (default 1) for the interchange, each group and each set. The version
  is the partner's outbound rule's (else 004010).
* ``--to json`` prints each canonical document as the partner's JSON (its outbound JSON rule
  for that document: partner-shaped, or canonical JSON), one per line.

Documents for ``--to x12``/``json`` must be the partner's (``header.partner_id``). Partner
deviations (profile and named variant) apply both ways. Exit codes: 0 done, 1 a document
could not be mapped (one line naming the segment/element or JSON path), 2 unreadable input,
unknown partner or type, bad profiles or mappings. Never a traceback.
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
from edi.model import Interchange, TransactionSet
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
from gateway.domain.mapping import Mapper, MappingError, functional_id_for, load_json, set_id_for
from gateway.domain.profiles import DocumentFormat, PartnerProfile, ProfileError, load_profiles

__all__ = ["register"]


class _Unreadable(Exception):
    """Input, partner, profiles or mappings that cannot be used (exit 2)."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "translate", help="map X12 or partner JSON to canonical JSON lines, or canonical JSON to X12 or JSON"
    )
    parser.add_argument("file", metavar="FILE", type=Path, help="X12, partner JSON or canonical JSON file")
    parser.add_argument("--partner", required=True, help="partner ID (profile whose deviations apply)")
    parser.add_argument(
        "--to", choices=("canonical", "x12", "json"), default="canonical", help="default: %(default)s"
    )
    parser.add_argument("--type", dest="json_type", help="partner JSON document type, e.g. po_json")
    parser.add_argument(
        "--direction",
        choices=("inbound", "outbound"),
        help="the partner rule to read with (default: by the profile)",
    )
    parser.add_argument("--ignore-usage", action="store_true", help="read test data for a production partner")
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
        elif args.to == "json":
            for doc in _canonical_documents(content, args.file, profile):
                sys.stdout.buffer.write(_to_json(doc, profile, mapper) + b"\n")
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
        first = str(exc).splitlines()[1].strip() if len(str(exc).splitlines()) > 1 else str(exc)
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


def _header(
    profile: PartnerProfile, doc_type: Any, usage: Usage, direction: Direction, **envelope: Any
) -> DocumentHeader:
    return DocumentHeader(
        partner_id=profile.partner_id,
        document_type=doc_type,
        direction=direction,
        source_channel=SourceChannel.FILE,
        usage=usage,
        correlation_id=str(uuid.uuid4()),
        received_at=dt.datetime.now(dt.UTC),
        **envelope,
    )


def _direction(profile: PartnerProfile, document_type: str, args: argparse.Namespace) -> Direction:
    """The rule a document is read with: as asked, else inbound when the partner has that, else outbound."""
    if args.direction is not None:
        return Direction(args.direction)
    if profile.document_policy("inbound", document_type) is None and profile.document_policy(
        "outbound", document_type
    ):
        return Direction.OUTBOUND
    return Direction.INBOUND


def _to_canonical(
    content: bytes, profile: PartnerProfile, mapper: Mapper, args: argparse.Namespace
) -> list[CanonicalDocument]:
    if _is_x12(content):
        try:
            result = parse(content)
        except (UnreadableInput, X12Error) as exc:
            raise _Unreadable(f"{args.file}: unreadable X12: {exc}") from None
        docs: list[CanonicalDocument] = []
        for ix in result.interchanges:
            docs.extend(_interchange(ix, profile, mapper, args))
        if not docs:
            raise _Unreadable(f"{args.file}: no transaction set or TA1 found")
        return docs
    try:
        data = load_json(content)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _Unreadable(f"{args.file}: neither X12 (no ISA) nor JSON: {exc}") from None
    direction = args.direction or "inbound"
    json_types = [
        d.type for d in profile.documents if d.format is DocumentFormat.JSON and d.direction == direction
    ]
    wanted = args.json_type or (json_types[0] if len(json_types) == 1 else None)
    if wanted is None:
        raise _Unreadable(f"give --type: {profile.partner_id} exchanges {', '.join(json_types) or 'no JSON'}")
    if wanted not in json_types:
        has = ", ".join(json_types) or "none"
        raise _Unreadable(f"{profile.partner_id} has no {direction} {wanted} (its {direction} JSON: {has})")
    usage = Usage.TEST if profile.environment.value == "test" else Usage.PRODUCTION
    head = _header(profile, mapper.canonical_type_for(wanted), usage, Direction(direction))
    return [mapper.json_to_canonical(data, document_type=wanted, profile=profile, header=head)]


def _interchange(
    ix: Interchange, profile: PartnerProfile, mapper: Mapper, args: argparse.Namespace
) -> list[CanonicalDocument]:
    problem = profile.check_usage(ix.usage)
    if problem is not None and not args.ignore_usage:
        raise MappingError(
            f"interchange {ix.control_number}: {problem} (--ignore-usage reads it anyway)",
            segment_id="ISA",
            element=15,
        )
    usage = Usage.TEST if ix.usage == "T" else Usage.PRODUCTION
    docs: list[CanonicalDocument] = []
    ta1_header = _header(
        profile, DocumentType.FUNCTIONAL_ACK, usage, Direction.INBOUND, isa13=ix.control_number
    )
    ta1 = mapper.ta1_to_canonical(ix, header=ta1_header)
    if ta1 is not None:
        docs.append(ta1)
    for group, ts in ix.transactions():
        doc_type = X12_DOCUMENT_TYPES.get(ts.set_id)
        if doc_type is None:
            raise MappingError(f"set {ts.set_id} {ts.control_number}: no canonical mapping", segment_id="ST")
        head = _header(
            profile,
            doc_type,
            usage,
            _direction(profile, ts.set_id, args),
            isa13=ix.control_number,
            gs06=group.control_number,
            st02=ts.control_number,
            x12_version=group.version or None,
        )
        docs.append(mapper.x12_to_canonical(ts, interchange=ix, group=group, profile=profile, header=head))
    return docs


def _canonical_documents(content: bytes, file: Path, profile: PartnerProfile) -> list[CanonicalDocument]:
    text = content.decode("utf-8", "replace").strip()
    try:
        if text.startswith("["):
            docs = [parse_document(item) for item in json.loads(text)]
        else:
            lines = [line for line in text.splitlines() if line.strip()]
            if len(lines) > 1 and all(
                line.lstrip().startswith("{") and line.rstrip().endswith("}") for line in lines
            ):
                docs = [parse_document(line) for line in lines]
            else:
                docs = [parse_document(text)]
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in error["loc"])
        raise MappingError(
            f"{file}: not a canonical document: {where}: {error['msg']}", field=where
        ) from None
    except ValueError as exc:
        raise _Unreadable(f"{file}: not JSON: {exc}") from None
    for index, doc in enumerate(docs, start=1):
        if doc.header.partner_id != profile.partner_id:
            raise MappingError(
                f"{file}: document {index} is for partner {doc.header.partner_id!r}, "
                f"not {profile.partner_id!r}",
                field="header.partner_id",
            )
    return docs


def _to_json(doc: CanonicalDocument, profile: PartnerProfile, mapper: Mapper) -> bytes:
    policy = mapper.outbound_policy(profile, doc.type)
    if policy is None or policy.format is not DocumentFormat.JSON:
        raise MappingError(f"{profile.partner_id} has no outbound JSON rule for {doc.type}", field="type")
    return mapper.canonical_to_json(doc, profile=profile, policy=policy)


def _to_x12(content: bytes, profile: PartnerProfile, mapper: Mapper, args: argparse.Namespace) -> bytes:
    docs = _canonical_documents(content, args.file, profile)
    receiver = profile.identity
    if receiver.isa_qualifier is None or receiver.isa_id is None:
        raise _Unreadable(f"partner {profile.partner_id} has no ISA identity: it does not trade X12")
    number = args.control_number
    by_set: dict[str, list[TransactionSet]] = {}
    versions: dict[str, str] = {}
    for doc in docs:
        set_id = set_id_for(doc.type)
        policy = profile.document_policy("outbound", set_id)
        versions[set_id] = policy.version if policy is not None and policy.version else "004010"
        control = f"{number + sum(len(v) for v in by_set.values()):04d}"
        by_set.setdefault(set_id, []).append(
            mapper.canonical_to_x12(doc, profile=profile, policy=policy, control_number=control)
        )
    gs03 = receiver.gs_application_ids[0] if receiver.gs_application_ids else receiver.isa_id
    groups = [
        build_group(functional_id_for(set_id), args.sender_id, gs03, number + i, versions[set_id], sets)
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
