"""Outbound: canonical replies from ERP/WMS become X12 (or JSON) sent over the partner's channel.

``submit`` validates the canonical document, maps it with the partner's profile,
envelopes it with the partner's next control numbers and stores it (with the
ack we expect back and when it is due) in one transaction. A sender worker
then hands stored payloads to the partner's channel, retrying with backoff; a
payload that exhausts its retries stays ``failed`` and can be resent.

Invalid requests are stored too (state ``rejected``, visible in the admin
API) and answered with :class:`BrokerAction.REJECT`, which dead-letters them.

A request that cannot be numbered because a control-number sequence with
``wrap: false`` is at its ``max`` is stored ``failed`` at step ``envelope``
with the reason and its canonical document, and never sent; the broker message
is acknowledged (the stored payload is the one copy to act on). Once an
operator resets or raises the sequence, a resend of that payload envelopes it
with new numbers.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from pydantic import ValidationError

from edi import parse
from edi.model import Interchange, TransactionSet
from edi.writer import EnvelopeParties, build_group, build_interchange, build_transaction, write
from gateway.domain.canonical import CanonicalDocument, dump_document, parse_document
from gateway.domain.mapping import Mapper, MappingError, functional_id_for
from gateway.domain.profiles import AckType, DocumentFormat, PartnerProfile
from gateway.domain.profiles import Direction as ProfileDirection
from gateway.domain.runtime.correlation import correlation_scope
from gateway.domain.runtime.errors import (
    BrokerAction,
    Conflict,
    InvalidDocument,
    NotFound,
    SequenceExhausted,
)
from gateway.domain.runtime.lifecycle import Direction, State, Step
from gateway.domain.runtime.ports import OutboundRequest
from gateway.domain.runtime.records import (
    ChannelMeta,
    DocumentRecord,
    EnvelopeRecord,
    NewPayload,
    PayloadRecord,
    ProcessingResult,
)
from gateway.domain.runtime.store import NumberRequest, Store
from gateway.domain.usecases.registry import ProfileRegistry

__all__ = ["OurParty", "OutboundService"]

log = logging.getLogger("edigate.outbound")


@dataclass(frozen=True, slots=True)
class OurParty:
    isa_qualifier: str
    isa_id: str
    gs_id: str


class OutboundService:
    def __init__(
        self,
        store: Store,
        profiles: ProfileRegistry,
        mapper: Mapper | None,
        ours: OurParty,
        channel_for: Callable[[PartnerProfile], str],
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self._store = store
        self._profiles = profiles
        self._fixed_mapper = mapper  # None: the registry's current mappings
        self._ours = ours
        self._channel_for = channel_for
        self._wake = wake

    @property
    def _mapper(self) -> Mapper:
        return self._fixed_mapper or self._profiles.mapper

    async def handle(self, request: OutboundRequest) -> BrokerAction:
        """The broker-facing entry: store, map, envelope; reject invalid requests with the reason."""
        with correlation_scope(request.correlation_id or request.message_id):
            return await self._handle(request)

    async def _handle(self, request: OutboundRequest) -> BrokerAction:
        try:
            await self.submit(request)
        except InvalidDocument as exc:
            await self._store.save_payloads(
                [
                    NewPayload(
                        request.body,
                        ChannelMeta(
                            "broker",
                            self._partner_hint(request),
                            correlation_id=request.correlation_id,
                            idempotency_key=None,
                            headers=dict(request.headers),
                            content_type="application/json",
                        ),
                        Direction.OUTBOUND,
                        State.REJECTED,
                        exc.message,
                    )
                ]
            )
            log.warning("outbound request rejected", extra={"reason": exc.message})
            raise
        return BrokerAction.ACK

    def _partner_hint(self, request: OutboundRequest) -> str | None:
        """Whom a rejected request was for, so support finds it under that partner: the
        ``partner``/``partner_id`` header, else the partner the body names, if it is one of ours."""
        hinted = request.headers.get("partner") or request.headers.get("partner_id")
        if hinted:
            return hinted
        named = _body_partner(request.body)
        return named if named is not None and self._profiles.current.get(named) is not None else None

    async def submit(self, request: OutboundRequest, *, resend_of: str | None = None) -> PayloadRecord:
        """Map, envelope and store a request; a redelivery returns the payload stored before.

        Raises :class:`InvalidDocument` for a request that cannot be sent as it is. A request
        whose numbers a sequence without wrap refuses is stored ``failed`` (step ``envelope``)
        and returned; a resend (``resend_of``) refused that way raises :class:`SequenceExhausted`
        and stores nothing, leaving the payload it resends as it was.
        """
        try:
            doc = parse_document(request.body)
        except (ValidationError, ValueError) as exc:
            raise InvalidDocument(
                f"not a valid canonical document: {_first_errors(exc)}", details=_details(exc)
            ) from exc
        earlier = await self._earlier(request, doc.header.partner_id)
        if earlier is not None:  # a redelivery: nothing new is mapped, numbered or stored
            return earlier
        header = doc.header
        partner = self._profiles.current.get(header.partner_id)
        if partner is None:
            raise InvalidDocument(f"unknown partner {header.partner_id!r}")
        # The partner's rule for this canonical type: X12, its JSON shape or canonical JSON (a
        # "document_type" header picks one when the partner has several, e.g. 855 or poack_json).
        wanted = request.headers.get("document_type")
        policy = self._mapper.outbound_policy(partner, doc.type, wanted)
        if policy is None:
            raise InvalidDocument(f"no outbound {wanted or doc.type} is agreed with {partner.partner_id}")
        set_id = policy.type
        envelopes: list[EnvelopeRecord] = []
        refused: SequenceExhausted | None = None
        content: bytes
        if policy.format is DocumentFormat.JSON:
            try:
                content = self._mapper.canonical_to_json(doc, profile=partner, policy=policy)
            except MappingError as exc:
                raise InvalidDocument(f"cannot map to {set_id}: {exc}") from exc
        else:
            try:
                content, envelopes = await self._x12(
                    doc, partner, policy.version, set_id, policy.ack.type, policy.ack.overdue_hours
                )
            except SequenceExhausted as exc:
                if resend_of is not None:
                    raise  # the payload being resent stays as it is; the resend reports why
                content, refused = request.body, exc  # kept as the ERP sent it, with the reason
        correlation = request.correlation_id or header.correlation_id
        channel = self._channel_for(partner)
        payload_id = str(uuid.uuid4())
        meta = ChannelMeta(
            channel=channel,
            partner_id=partner.partner_id,
            document_type=set_id,
            correlation_id=correlation,
            idempotency_key=request.message_id,
            filename=_filename(partner, set_id, envelopes, content),
            content_type="application/edi-x12" if envelopes else "application/json",
            headers={k: v for k, v in request.headers.items() if k.lower() not in _SECRET_HEADERS},
        )
        record = DocumentRecord(
            id=f"out-{payload_id}",  # one document per payload: never another one's ID
            payload_id=payload_id,
            partner_id=partner.partner_id,
            document_type=doc.type,
            direction=Direction.OUTBOUND,
            schema_version=doc.schema_version,
            business_number=self._mapper.business_number(doc),
            correlation_id=correlation,
            test=partner.environment.value == "test",
            body=dump_document(doc),
            state=State.MAPPED,
            envelope=envelopes[0] if envelopes else None,
            source_type=set_id,
        )
        events = [(State.MAPPED, f"{doc.type} -> {set_id}")]
        if resend_of is not None:
            events.append((State.REPLAYED, f"resend of {resend_of} with new control numbers"))
        result = ProcessingResult(
            State.RECEIVED,
            partner.partner_id,
            envelopes=envelopes,
            documents=[record],
            business_numbers=[record.business_number] if record.business_number else [],
            events=events,
            direction=Direction.OUTBOUND,
        )
        keys: tuple[tuple[str, str], ...] = (("resend_of", resend_of),) if resend_of is not None else ()
        if request.message_id is None:  # how a redelivery of this request is recognised
            keys += ((REQUEST_KEY, _request_digest(request.body)),)
        new = NewPayload(content, meta, Direction.OUTBOUND, payload_id=payload_id, keys=keys)
        if refused is not None:
            new = replace(new, state=State.FAILED, reason=refused.message, failed_step=Step.ENVELOPE)
        outcome = await self._store.record_outbound(new, result)
        if refused is not None:
            log.error(
                "outbound document not sent: control numbers exhausted",
                extra={"partner": partner.partner_id, "payload_id": outcome.record.id, "reason": new.reason},
            )
        elif outcome.created:
            self._wake()
        return outcome.record

    async def _earlier(self, request: OutboundRequest, partner_id: str) -> PayloadRecord | None:
        """The payload stored for this request before (a broker redelivery): by its message ID;
        without one, a redelivered request by its body (a first delivery is always new, so an
        ERP may send the same document twice on purpose)."""
        partner = self._profiles.current.get(partner_id)
        if partner is None:
            return None
        if request.message_id is not None:
            return await self._store.find_by_idempotency_key(
                partner.partner_id, self._channel_for(partner), request.message_id
            )
        if not request.redelivered:
            return None
        # only what was stored since the message was first published (or, when the publisher
        # set no timestamp, within the last REDELIVERY_WINDOW): an older payload with the same
        # body is an earlier, deliberate send
        since = request.first_seen or datetime.now(UTC) - REDELIVERY_WINDOW
        digest = _request_digest(request.body)
        return await self._store.find_by_key(
            partner.partner_id, Direction.OUTBOUND, REQUEST_KEY, digest, since=since - timedelta(seconds=1)
        )

    async def _x12(
        self,
        doc: CanonicalDocument,
        partner: PartnerProfile,
        version: str | None,
        set_id: str,
        ack: AckType,
        overdue_hours: float,
    ) -> tuple[bytes, list[EnvelopeRecord]]:
        """Map and envelope; control numbers are allocated only once the result is known good."""
        seq = partner.control_numbers
        policy = partner.document_policy(ProfileDirection.OUTBOUND, set_id)
        try:  # mapped with a stand-in ST02 first: a mapping failure burns no numbers
            ts = self._mapper.canonical_to_x12(
                doc,
                profile=partner,
                policy=policy,
                control_number=seq.transaction.format(seq.transaction.start),
            )
        except MappingError as exc:
            raise InvalidDocument(f"cannot map to X12 {set_id}: {exc}") from exc
        ident = partner.identity
        if ident.isa_qualifier is None or ident.isa_id is None:
            raise InvalidDocument(f"profile {partner.partner_id} has no ISA identity to send X12 to")
        now = datetime.now(UTC)
        trial = self._envelope(partner, version, set_id, ack, ts, seq.interchange.start, seq.group.start, now)
        problems = [f.message for f in parse(write(trial, newline=True)).findings if f.is_error]
        if problems:  # our own output must be clean X12; never send what we would reject
            raise InvalidDocument(
                f"the {set_id} built for {partner.partner_id} is not valid X12: {problems[:3]}"
            )
        allocation = str(uuid.uuid4())
        numbers = await self._store.allocate_control_numbers(
            [
                NumberRequest(partner.partner_id, kind, 1, s.start, s.max, allocation, wrap=s.wrap)
                for kind, s in (("isa", seq.interchange), ("gs", seq.group), ("st", seq.transaction))
            ]
        )  # one transaction for the three
        [isa13], [gs06], [st02] = numbers
        st = seq.transaction.format(st02)
        ix = self._envelope(partner, version, set_id, ack, _renumbered(ts, st), isa13, gs06, now)
        [group] = ix.groups
        due = now + timedelta(hours=overdue_hours) if ack is not AckType.NONE else None
        env = EnvelopeRecord(
            0,
            0,
            0,
            self._ours.isa_qualifier,
            self._ours.isa_id,
            ident.isa_qualifier,
            ident.isa_id,
            ix.control_number,
            group.control_number,
            st,
            group.functional_id,
            set_id,
            group.version,
            ix.usage,
            True,
            ack.value if ack is not AckType.NONE else None,
            due,
            allocation,
        )
        return write(ix, newline=True), [env]

    def _envelope(
        self,
        partner: PartnerProfile,
        version: str | None,
        set_id: str,
        ack: AckType,
        ts: TransactionSet,
        isa13: int,
        gs06: int,
        when: datetime,
    ) -> Interchange:
        ident = partner.identity
        assert ident.isa_qualifier is not None
        assert ident.isa_id is not None
        gs_receiver = ident.gs_application_ids[0] if ident.gs_application_ids else ident.isa_id
        gs_version = version or "004010"
        isa_version = "00501" if gs_version[:6] >= "005010" else "00401"
        group = build_group(
            functional_id_for(set_id), self._ours.gs_id, gs_receiver, gs06, gs_version, [ts], when=when
        )
        return build_interchange(
            EnvelopeParties(self._ours.isa_qualifier, self._ours.isa_id, ident.isa_qualifier, ident.isa_id),
            isa13,
            [group],
            version=isa_version,
            usage="T" if partner.environment.value == "test" else "P",
            ack_requested=ack is AckType.TA1,  # ISA14=1 asks the partner for a TA1
            when=when,
        )

    async def resend(self, payload_id: str, renew: bool, reason: str, actor: str) -> str:
        """Send a stored outbound payload again, with the same or with new control numbers.

        A payload that was never enveloped (failed at step ``envelope``: its sequence was
        exhausted) has no numbers to keep, so it always gets new ones. A renewal the sequence
        still refuses raises :class:`SequenceExhausted` and is noted in the payload's trail."""
        record = await self._store.get_payload(payload_id)
        if record is None or record.direction is not Direction.OUTBOUND:
            raise NotFound(f"no outbound payload {payload_id}")
        unnumbered = record.state is State.FAILED and record.failed_step is Step.ENVELOPE
        if record.state is State.REPLAYED and record.failed_step is Step.ENVELOPE:
            # never enveloped, and already sent as a new payload: resend that one instead
            sent_as = await self._store.find_by_key(
                record.partner_id or "", Direction.OUTBOUND, "resend_of", payload_id
            )
            which = sent_as.id if sent_as is not None else "a later payload"
            raise Conflict(f"payload {payload_id} was never enveloped; it was sent as {which}: resend that")
        if not unnumbered and (not renew or record.meta.get("content_type") != "application/edi-x12"):
            await self._store.reset_for_replay(payload_id, reason=reason, actor=actor)
            self._wake()
            return payload_id
        detail = await self._store.payload_detail(payload_id)
        docs = (detail or {}).get("documents") or []
        body = await self._store.document_body(docs[0]["id"]) if docs else None
        if body is None:
            raise InvalidDocument(f"payload {payload_id} has no stored canonical document to re-envelope")
        # the original request's headers (e.g. ``document_type``: an 855 or the partner's JSON)
        kept = record.meta.get("headers")
        headers = {str(k): str(v) for k, v in kept.items()} if isinstance(kept, dict) else {}
        try:
            new = await self.submit(
                OutboundRequest(body, headers=headers, correlation_id=record.correlation_id),
                resend_of=payload_id,
            )
        except SequenceExhausted as exc:
            await self._store.add_audit(
                "payload",
                payload_id,
                State.REPLAYED.value,
                detail=f"resend with new control numbers refused: {exc.message}",
                actor=actor,
                reason=reason,
            )
            raise
        if unnumbered:  # done: no later resend or bulk replay of failures picks it up again
            await self._store.set_payload_state(
                payload_id, State.REPLAYED, detail=f"sent as {new.id} with new control numbers", actor=actor
            )
        await self._store.stop_awaiting_acks(
            payload_id, f"acknowledgement no longer awaited: resent with new control numbers as {new.id}",
            actor=actor, reason=reason,
        )  # fmt: skip
        await self._store.add_audit(
            "payload",
            payload_id,
            State.REPLAYED.value,
            detail=f"resent with new control numbers as {new.id}",
            actor=actor,
            reason=reason,
        )
        return new.id


_SECRET_HEADERS = frozenset({"authorization", "x-signature", "cookie"})


def _renumbered(ts: TransactionSet, control_number: str) -> TransactionSet:
    """The same set with ST02/SE02 = ``control_number``."""
    st = ts.header.elements
    reference = st[2] if len(st) > 2 and st[2] else None
    return build_transaction(ts.set_id, control_number, ts.body, implementation_reference=reference)


#: Correlation key of an outbound request without a message ID: the SHA-256 of its body.
REQUEST_KEY = "request_sha256"
#: How far back a redelivered request without a message ID or timestamp is looked for.
REDELIVERY_WINDOW = timedelta(hours=1)


def _request_digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _body_partner(body: bytes) -> str | None:
    """``header.partner_id`` of a JSON body, however invalid the rest of it is."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    header = data.get("header") if isinstance(data, dict) else None
    partner = header.get("partner_id") if isinstance(header, dict) else None
    return partner if isinstance(partner, str) else None


def _first_errors(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5])
    return str(exc)


def _details(exc: Exception) -> list[dict[str, object]]:
    if isinstance(exc, ValidationError):
        return [{"field": ".".join(map(str, e["loc"])), "error": e["msg"]} for e in exc.errors()]
    return [{"field": "", "error": str(exc)}]


def _filename(partner: PartnerProfile, set_id: str, envelopes: list[EnvelopeRecord], content: bytes) -> str:
    if envelopes:
        return f"{partner.partner_id}-{set_id}-{envelopes[0].isa13}.x12"
    return f"{partner.partner_id}-{set_id}-{abs(hash(content)) % 10**9:09d}.json"
