"""The pure part of the inbound pipeline: parse, validate and map a stored payload.

No I/O and no awaits, so it can run in a worker thread or process. The async pipeline
(:mod:`gateway.domain.usecases.inbound`) stores what this produces.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from edi import Interchange, ParseResult, UnreadableInput, parse
from edi.acks import AckResult, parse_acks
from edi.errors import AckParseError
from edi.model import FunctionalGroup, TransactionSet
from edi.reader import SetValidator
from gateway.domain.canonical import DocumentHeader, DocumentType, SourceChannel, Usage, dump_document
from gateway.domain.canonical.header import X12_DOCUMENT_TYPES
from gateway.domain.canonical.header import Direction as CanonicalDirection
from gateway.domain.mapping import Mapper, MappingError, load_json
from gateway.domain.profiles import Direction as ProfileDirection
from gateway.domain.profiles import DocumentFormat, PartnerProfile, ProfileSet
from gateway.domain.runtime.correlation import correlation_scope
from gateway.domain.runtime.lifecycle import Direction, State, Step
from gateway.domain.runtime.records import DocumentRecord, EnvelopeRecord, PayloadRecord

__all__ = [
    "Analysis",
    "analyse",
    "analyse_safely",
    "content_key",
    "detect_format",
    "document_id",
    "resend_allowed",
]

log = logging.getLogger("edigate.pipeline")

_DOC_NAMESPACE = uuid.UUID("5b0c1c1e-8a7e-4d0e-9b3c-6a4f0e9d2c11")


def document_id(key: str, *path: int) -> str:
    """A canonical document's ID: derived from its source and where it sits in it, so replays keep it.

    ``key`` is :func:`content_key` for content that must not be routed twice (the same content
    from the same partner always yields the same IDs, so a consumer can recognise a copy even
    if one ever slipped through), or the payload ID where the profile allows resends.
    """
    return str(uuid.uuid5(_DOC_NAMESPACE, ":".join([key, *map(str, path)])))


def content_key(partner_id: str, sha256: str) -> str:
    return f"content:{partner_id}:{sha256}"


def resend_allowed(partner: PartnerProfile, types: set[str]) -> bool:
    """True when the profile allows resends of every inbound document type in the payload."""
    policies = [partner.document_policy(ProfileDirection.INBOUND, t) for t in types]
    return bool(policies) and all(p is not None and p.allow_resend for p in policies)


def detect_format(content: bytes) -> str:
    head = content[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"ISA"):
        return "x12"
    if head[:1] in (b"{", b"["):
        return "json"
    return "unknown"


@dataclass(slots=True)
class Analysis:
    """What the pure pipeline steps found; the async pipeline turns it into a ProcessingResult."""

    state: State
    partner: PartnerProfile | None
    step: Step | None = None
    reason: str | None = None
    parsed: ParseResult | None = None
    envelopes: list[EnvelopeRecord] = field(default_factory=list)
    documents: list[DocumentRecord] = field(default_factory=list)
    document_types: dict[str, str] = field(default_factory=dict)  # document id -> profile doc type key
    set_errors: list[str] = field(default_factory=list)
    inbound_acks: list[AckResult] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)
    events: list[tuple[State, str]] = field(default_factory=list)
    #: Same content from the same partner must not be routed twice (no ``allow_resend``).
    dedupe: bool = True

    def fail(self, step: Step, reason: str) -> Analysis:
        self.state, self.step, self.reason = State.FAILED, step, reason
        return self


def _channel(record: PayloadRecord) -> SourceChannel:
    try:
        return SourceChannel(record.channel)
    except ValueError:
        return SourceChannel.FILE


def analyse(
    content: bytes,
    record: PayloadRecord,
    profiles: ProfileSet,
    mapper: Mapper,
    validator: SetValidator | None,
) -> Analysis:
    kind = detect_format(content)
    if kind == "x12":
        return _analyse_x12(content, record, profiles, mapper, validator)
    if kind == "json":
        return _analyse_json(content, record, profiles, mapper)
    partner = profiles.get(record.partner_id) if record.partner_id else None
    return Analysis(State.FAILED, partner).fail(Step.PARSE, "payload is neither X12 (no ISA) nor JSON")


def analyse_safely(
    content: bytes,
    record: PayloadRecord,
    profiles: ProfileSet,
    mapper: Mapper,
    validator: SetValidator | None,
) -> Analysis:
    """:func:`analyse`, where an unexpected error fails the payload (replayably) instead of raising."""
    with correlation_scope(record.correlation_id):
        try:
            return analyse(content, record, profiles, mapper, validator)
        except Exception as exc:  # an unexpected bug must not lose the payload
            log.exception("pipeline error", extra={"payload_id": record.id})
            partner = profiles.get(record.partner_id) if record.partner_id else None
            return Analysis(State.FAILED, partner).fail(
                Step.PARSE, f"unexpected error: {type(exc).__name__}: {exc}"
            )


def _resolve_partner(record: PayloadRecord, profiles: ProfileSet, ix: Interchange) -> PartnerProfile | None:
    if record.partner_id:
        return profiles.get(record.partner_id)
    return profiles.by_isa(ix.sender_qualifier, ix.sender)


def _sender_mismatch(partner: PartnerProfile, interchanges: list[Interchange]) -> str | None:
    """A channel that knows the partner (AS2, SFTP, webhook, CLI) must not carry another sender's
    interchange: processing it as this partner's would misroute it and acknowledge it wrongly."""
    expected = partner.identity.isa_key
    if expected is None:
        return None
    for ix in interchanges:
        if (ix.sender_qualifier.strip(), ix.sender.strip()) != expected:
            return (
                f"ISA sender {ix.sender_qualifier}:{ix.sender} is not {partner.partner_id}'s "
                f"identity {expected[0]}:{expected[1]}"
            )
    return None


def _analyse_x12(
    content: bytes,
    record: PayloadRecord,
    profiles: ProfileSet,
    mapper: Mapper,
    validator: SetValidator | None,
) -> Analysis:
    try:
        result = parse(content, validator=validator)
    except UnreadableInput as exc:
        partner = profiles.get(record.partner_id) if record.partner_id else None
        return Analysis(State.FAILED, partner).fail(Step.PARSE, f"unreadable X12: {exc}")
    if not result.interchanges:
        return Analysis(State.FAILED, None).fail(Step.PARSE, "no interchange in the payload")
    first = result.interchanges[0]
    partner = _resolve_partner(record, profiles, first)
    out = Analysis(State.PARSED, partner, parsed=result)
    out.findings = [f.as_dict() for f in result.findings]
    errors = sum(1 for f in result.findings if f.is_error)
    out.events.append((State.PARSED, f"{len(result.interchanges)} interchange(s), {errors} error finding(s)"))
    placed = _envelopes(result)
    out.envelopes = [env for env, *_ in placed]  # kept even when failed: findable by ISA13/GS06/ST02
    if partner is None:
        who = f"{first.sender_qualifier}:{first.sender}"
        return out.fail(Step.PARSE, f"unknown partner: no profile for ISA sender {who}")
    mismatch = _sender_mismatch(partner, result.interchanges)
    if mismatch is not None:
        return out.fail(Step.PARSE, f"{mismatch}; it came from {partner.partner_id} over {record.channel}")
    out.dedupe = not resend_allowed(partner, {env.set_id for env in out.envelopes})
    for i, ix in enumerate(result.interchanges):
        problem = partner.check_usage(ix.usage)
        if problem:  # test data must never reach ERP as production (nor the reverse): kept, failed
            out.findings.append(
                {"severity": "error", "code": "usage-mismatch", "message": problem}
                | {"location": {"interchange": i}}
            )
            return out.fail(Step.PARSE, f"interchange {ix.control_number}: {problem}")
    if any(g.functional_id == "FA" for ix in result.interchanges for g in ix.groups) or any(
        s.id == "TA1" for ix in result.interchanges for s in ix.service_segments
    ):
        try:
            out.inbound_acks = parse_acks(content)
        except AckParseError as exc:
            out.set_errors.append(f"acknowledgement could not be read: {exc}")
    _map_sets(out, placed, record, partner, mapper)
    _map_ta1s(out, result, record, partner, mapper)
    return out


def _map_ta1s(
    out: Analysis, parsed: ParseResult, record: PayloadRecord, partner: PartnerProfile, mapper: Mapper
) -> None:
    """Interchange acknowledgements (TA1) received become FunctionalAck documents, like 997/999."""
    for i, ix in enumerate(parsed.interchanges):
        if not any(s.id == "TA1" for s in ix.service_segments):
            continue
        usage = Usage.TEST if ix.usage == "T" else Usage.PRODUCTION
        header = _header(record, partner, DocumentType.FUNCTIONAL_ACK, usage, isa13=ix.control_number)
        try:
            doc = mapper.ta1_to_canonical(ix, header=header)
        except MappingError as exc:
            out.set_errors.append(f"TA1 in interchange {ix.control_number} (interchange {i}): {exc}")
            continue
        if doc is None:
            continue
        kind = DocumentType.FUNCTIONAL_ACK
        _add_document(out, record, partner, kind, doc, mapper, None, "TA1", (i,), usage)
        if out.state is not State.FAILED:
            out.state = State.MAPPED
        out.events.append((State.MAPPED, f"TA1 of interchange {ix.control_number} mapped"))


_Placed = tuple[EnvelopeRecord, Interchange, FunctionalGroup, TransactionSet]


def _envelopes(parsed: ParseResult) -> list[_Placed]:
    """An envelope record for every transaction set, with where it sits."""
    out: list[_Placed] = []
    for i, ix in enumerate(parsed.interchanges):
        for g, group in enumerate(ix.groups):
            for s, ts in enumerate(group.transactions):
                summary = parsed.summaries[i].groups[g].transactions[s]
                env = EnvelopeRecord(
                    i,
                    g,
                    s,
                    ix.sender_qualifier,
                    ix.sender,
                    ix.receiver_qualifier,
                    ix.receiver,
                    ix.control_number,
                    group.control_number,
                    ts.control_number,
                    group.functional_id,
                    ts.set_id,
                    group.version,
                    ix.usage,
                    summary.valid,
                )
                out.append((env, ix, group, ts))
    return out


def _map_sets(
    out: Analysis, placed: list[_Placed], record: PayloadRecord, partner: PartnerProfile, mapper: Mapper
) -> None:
    mapped = rejected = 0
    for env, ix, group, ts in placed:
        i, g, s = env.interchange_index, env.group_index, env.set_index
        usage = Usage.TEST if ix.usage == "T" else Usage.PRODUCTION
        where = f"set {ts.set_id} {ts.control_number} (interchange {i}, group {g}, set {s})"
        if not env.valid:
            rejected += 1
            continue
        doc_type = X12_DOCUMENT_TYPES.get(ts.set_id)
        policy = partner.document_policy(ProfileDirection.INBOUND, ts.set_id)
        if doc_type is None or (policy is None and ts.set_id not in ("997", "999")):
            out.set_errors.append(f"{where}: no inbound {ts.set_id} is agreed with {partner.partner_id}")
            continue
        header = _header(
            record,
            partner,
            doc_type,
            usage,
            isa13=ix.control_number,
            gs06=group.control_number,
            st02=ts.control_number,
            x12_version=group.version or None,
        )
        try:
            doc = mapper.x12_to_canonical(ts, interchange=ix, group=group, profile=partner, header=header)
        except MappingError as exc:
            out.set_errors.append(f"{where}: {exc}")
            continue
        mapped += 1
        _add_document(out, record, partner, doc_type, doc, mapper, env, ts.set_id, (i, g, s), usage)
    if mapped:
        out.state = State.MAPPED
        out.events.append((State.MAPPED, f"{mapped} document(s) mapped"))
    if rejected and not mapped and not out.set_errors:
        out.state = State.REJECTED
        out.reason = f"{rejected} transaction set(s) rejected by validation"


def _header(
    record: PayloadRecord, partner: PartnerProfile, doc_type: DocumentType, usage: Usage, **envelope: Any
) -> DocumentHeader:
    """The header of a document received in ``record``; ``envelope`` holds its X12 control numbers."""
    return DocumentHeader(
        partner_id=partner.partner_id,
        document_type=doc_type,
        direction=CanonicalDirection.INBOUND,
        source_channel=_channel(record),
        usage=usage,
        correlation_id=record.correlation_id,
        received_at=record.received_at,
        raw_document_id=record.id,
        **envelope,
    )


def _add_document(
    out: Analysis,
    record: PayloadRecord,
    partner: PartnerProfile,
    doc_type: DocumentType,
    doc: Any,
    mapper: Mapper,
    env: EnvelopeRecord | None,
    key: str,
    path: tuple[int, ...],
    usage: Usage,
) -> None:
    doc_id = document_id(content_key(partner.partner_id, record.sha256) if out.dedupe else record.id, *path)
    out.documents.append(
        DocumentRecord(
            id=doc_id,
            payload_id=record.id,
            partner_id=partner.partner_id,
            document_type=doc_type.value,
            direction=Direction.INBOUND,
            schema_version=doc.schema_version,
            business_number=mapper.business_number(doc),
            correlation_id=record.correlation_id,
            test=usage is Usage.TEST,
            body=dump_document(doc),
            state=State.MAPPED,
            envelope=env,
            replay_count=record.replay_count,
            source_type=key,
        )
    )
    out.document_types[doc_id] = key


def _analyse_json(content: bytes, record: PayloadRecord, profiles: ProfileSet, mapper: Mapper) -> Analysis:
    partner = profiles.get(record.partner_id) if record.partner_id else None
    if partner is None:
        return Analysis(State.FAILED, None).fail(
            Step.PARSE, f"unknown partner {record.partner_id!r}: JSON payloads must come from a known partner"
        )
    json_types = [
        d.type
        for d in partner.documents
        if d.direction is ProfileDirection.INBOUND and d.format is DocumentFormat.JSON
    ]
    wanted = record.meta.get("document_type") or (json_types[0] if len(json_types) == 1 else None)
    out = Analysis(State.PARSED, partner)
    out.dedupe = wanted is None or not resend_allowed(partner, {wanted})
    if wanted is None or wanted not in json_types:
        return out.fail(
            Step.PARSE, f"no inbound JSON document type {wanted!r} is agreed with {partner.partner_id}"
        )
    try:
        data = load_json(content)
    except (ValueError, UnicodeDecodeError) as exc:
        return out.fail(Step.PARSE, f"invalid JSON: {exc}")
    out.events.append((State.PARSED, f"JSON {wanted}"))
    header_type = mapper.canonical_type_for(wanted)
    usage = Usage.TEST if partner.environment.value == "test" else Usage.PRODUCTION
    header = _header(record, partner, header_type, usage)
    try:
        doc = mapper.json_to_canonical(data, document_type=wanted, profile=partner, header=header)
    except MappingError as exc:
        return out.fail(Step.MAP, str(exc))
    _add_document(out, record, partner, header_type, doc, mapper, None, wanted, (0,), header.usage)
    out.state = State.MAPPED
    out.events.append((State.MAPPED, "1 document mapped"))
    return out
