"""Acknowledgements: the 997/999/TA1 we owe a partner, and the ones partners send us.

Outgoing acks are generated with :func:`edi.acks.acknowledge` using control
numbers from the partner's persistent sequences, then stored as outbound
payloads in the same transaction as the inbound result. When a partner's
sequence has ``wrap: false`` and too few numbers left, that partner gets none
(its :class:`_Numbers` carries the refusal, for the pipeline to fail the
payloads that owe an ack); the other partners of the batch are numbered as
usual. Incoming acks are matched to the groups we sent (by GS06 and functional
ID, or ISA13 for TA1) and mark them accepted, accepted with errors, or rejected.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from edi import ParseResult
from edi.acks import AckKind, AckResult, GroupAck, InterchangeAck, acknowledge
from edi.acks import AckStatus as X12AckStatus
from edi.model import Interchange
from edi.writer import write
from gateway.domain.profiles import AckType, PartnerProfile
from gateway.domain.profiles import Direction as ProfileDirection
from gateway.domain.runtime.errors import SequenceExhausted
from gateway.domain.runtime.lifecycle import AckStatus, Direction
from gateway.domain.runtime.records import ChannelMeta, EnvelopeRecord, NewPayload, PayloadRecord
from gateway.domain.runtime.store import NumberRequest, Store

__all__ = ["AckService", "ack_owed"]

log = logging.getLogger("edigate.acks")


class _Numbers:
    """Pre-allocated control numbers handed to the synchronous ack generator (or, in
    ``refused``, why the partner's sequences gave none)."""

    def __init__(
        self,
        isa: list[int],
        gs: list[int],
        st: list[int],
        allocation: str | None = None,
        refused: SequenceExhausted | None = None,
        st_width: int = 4,
    ) -> None:
        self._isa, self._gs, self._st = isa, gs, st
        self.allocation = allocation
        self.refused = refused
        self._st_width = st_width  # the profile's transaction width, as in the sets we send

    def next_interchange(self) -> int:
        return self._isa.pop(0)

    def next_group(self) -> int:
        return self._gs.pop(0)

    def next_transaction(self) -> str:
        return str(self._st.pop(0)).zfill(self._st_width)


def _ack_kind(partner: PartnerProfile, parsed: ParseResult) -> AckKind | None:
    """The ack the profile asks for, for the sets in this payload; None when no ack is owed."""
    kinds: set[AckType] = set()
    for ix in parsed.interchanges:
        for group in ix.groups:
            if group.functional_id == "FA":
                continue
            for ts in group.transactions:
                policy = partner.document_policy(ProfileDirection.INBOUND, ts.set_id)
                if policy is not None:
                    kinds.add(policy.ack.type)
    kinds.discard(AckType.NONE)
    if not kinds:
        # ISA14=1 asks for a TA1 whatever the profile says about functional acks.
        return "ta1" if any(s.ack_requested for s in parsed.summaries) else None
    if AckType.IA_999 in kinds:
        return "999"
    if AckType.FA_997 in kinds:
        return "997"
    return "ta1"


def ack_owed(partner: PartnerProfile, parsed: ParseResult) -> bool:
    """True when the profile (or ISA14) asks for an acknowledgement of this payload."""
    return _ack_kind(partner, parsed) is not None


def _envelopes(ack: Interchange, allocation: str | None) -> tuple[EnvelopeRecord, ...]:
    """Envelope records of an ack we send, linked to the allocation its numbers came from."""
    common = (ack.sender_qualifier, ack.sender, ack.receiver_qualifier, ack.receiver, ack.control_number)
    out: list[EnvelopeRecord] = []
    for g, group in enumerate(ack.groups):
        for s, ts in enumerate(group.transactions):
            out.append(
                EnvelopeRecord(0, g, s, *common, group.control_number, ts.control_number, group.functional_id,
                               ts.set_id, group.version, ack.usage, True, allocation=allocation)
            )  # fmt: skip
    if not out:  # a TA1 on its own: an interchange without groups
        out.append(
            EnvelopeRecord(0, -1, -1, *common, "", "", "", "TA1", ack.version, ack.usage, True,
                           allocation=allocation)
        )  # fmt: skip
    return tuple(out)


class AckService:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def allocate(self, wanted: list[tuple[PartnerProfile, ParseResult]]) -> dict[str, _Numbers]:
        """Control numbers for every ack a batch owes: one allocation per partner and counter.

        All in one transaction; a partner whose sequence refuses (``wrap: false`` at ``max``)
        is left out and the rest allocated again, so its refusal costs the others nothing."""
        need: dict[str, tuple[PartnerProfile, int, int]] = {}
        for partner, parsed in wanted:
            if _ack_kind(partner, parsed) is None:
                continue
            n_ix = len(parsed.summaries)
            n_groups = max(1, sum(len(s.groups) for s in parsed.summaries))
            _, a, b = need.get(partner.partner_id, (partner, 0, 0))
            need[partner.partner_id] = (partner, a + n_ix, b + n_groups)
        out: dict[str, _Numbers] = {}
        while need:
            requests: list[NumberRequest] = []
            allocations: dict[str, str] = {}
            for pid, (partner, n_ix, n_groups) in need.items():
                seq = partner.control_numbers
                alloc = allocations[pid] = str(uuid.uuid4())
                requests += [
                    NumberRequest(pid, kind, n, s.start, s.max, alloc, wrap=s.wrap)
                    for kind, n, s in (
                        ("isa", n_ix, seq.interchange),
                        ("gs", n_groups, seq.group),
                        ("st", n_groups, seq.transaction),
                    )
                ]
            try:
                numbers = await self._store.allocate_control_numbers(requests)
            except SequenceExhausted as exc:  # nothing was issued: again without that partner
                log.error(
                    "no control numbers for acknowledgements",
                    extra={"partner": exc.partner_id, "reason": exc.message},
                )
                out[exc.partner_id] = _Numbers([], [], [], refused=exc)
                del need[exc.partner_id]
                continue
            for n, (pid, (partner, _, _)) in enumerate(need.items()):  # three lists per partner
                isa, gs, st = numbers[3 * n : 3 * n + 3]
                width = partner.control_numbers.transaction.width
                out[pid] = _Numbers(isa, gs, st, allocations[pid], st_width=width)
            break
        for partner, _ in wanted:
            out.setdefault(partner.partner_id, _Numbers([], [], []))
        return out

    def build(
        self,
        partner: PartnerProfile,
        parsed: ParseResult,
        record: PayloadRecord,
        channel: str,
        when: datetime,
        numbers: _Numbers,
    ) -> list[NewPayload]:
        """The ack payloads owed for one parsed payload, numbered from ``numbers``.

        Raises the partner's :class:`SequenceExhausted` when an ack is owed and its sequences
        refused to number it."""
        kind = _ack_kind(partner, parsed)
        if kind is None:
            return []
        if numbers.refused is not None:
            raise numbers.refused
        acks = acknowledge(parsed, kind=kind, control_numbers=numbers, when=when)
        out: list[NewPayload] = []
        for ack in acks:
            label = "TA1" if not ack.groups else ack.groups[0].transactions[0].set_id
            meta = ChannelMeta(
                channel=channel,
                partner_id=partner.partner_id,
                document_type=label,
                filename=f"{partner.partner_id}-{label}-{ack.control_number}.x12",
                correlation_id=record.correlation_id,
                content_type="application/edi-x12",
            )
            out.append(
                NewPayload(
                    write(ack, newline=True),
                    meta,
                    Direction.OUTBOUND,
                    envelopes=_envelopes(ack, numbers.allocation),
                    keys=(("ack_for", record.id),),
                )
            )
        return out

    async def reconcile(
        self, partner: PartnerProfile, results: list[AckResult], ack_payload_id: str
    ) -> list[str]:
        """Apply inbound acks to what we sent; returns one line per ack for the audit trail."""
        notes: list[str] = []
        for result in results:
            if isinstance(result, InterchangeAck):
                status = _status(result.status)
                n = await self._store.record_interchange_ack(
                    partner.partner_id,
                    result.control_number,
                    status,
                    {"note_code": result.note_code, "note": result.note_meaning},
                    ack_payload_id,
                )
                notes.append(
                    f"TA1 for ISA13 {result.control_number}: {status.value}" + ("" if n else " (unmatched)")
                )
                continue
            notes.append(await self._group(partner, result, ack_payload_id))
        return notes

    async def _group(self, partner: PartnerProfile, ack: GroupAck, ack_payload_id: str) -> str:
        sent = await self._store.find_sent_group(
            partner.partner_id, ack.group_control_number, ack.functional_id
        )
        label = f"{ack.kind} for {ack.functional_id} GS06 {ack.group_control_number}"
        if sent is None:
            log.warning(
                "acknowledgement matches nothing we sent", extra={"partner": partner.partner_id, "ack": label}
            )
            return f"{label}: no matching group sent to {partner.partner_id}"
        status = _status(ack.status)
        detail = {
            "kind": ack.kind,
            "group_errors": ack.error_codes,
            "sets": {s.control_number: _status(s.status).value for s in ack.sets},
            "set_errors": {
                s.control_number: s.error_meanings
                + [f"{e.segment_id}@{e.position}: {e.meaning or e.code}" for e in s.segment_errors]
                for s in ack.sets
                if s.error_codes or s.segment_errors
            },
        }
        await self._store.record_ack(sent.group_id, status, detail, ack_payload_id)
        return f"{label}: {status.value}"


def _status(status: X12AckStatus | None) -> AckStatus:
    if status is None:
        return AckStatus.REJECTED
    return {
        X12AckStatus.ACCEPTED: AckStatus.ACCEPTED,
        X12AckStatus.ACCEPTED_WITH_ERRORS: AckStatus.ACCEPTED_WITH_ERRORS,
    }.get(status, AckStatus.REJECTED)
