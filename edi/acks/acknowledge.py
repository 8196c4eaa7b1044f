"""Acknowledge a parsed file: choose 997, 999 and/or TA1 and wrap them in envelopes.

One ack interchange answers one inbound interchange. Its ISA swaps the
inbound ISA05-08 and echoes ISA12 and ISA15; each FA group swaps GS02/GS03
and echoes GS08 of the groups it acknowledges (groups with the same parties
and version share one FA group). The TA1, when there is one, goes before the
groups. Control numbers come from the caller through :class:`ControlNumbers`,
allocated in this order: ISA13, then each GS06, then each ST02.

Echoed values are made safe to write: a damaged ISA (a one-letter qualifier, a
delimiter inside an ID, an over-long ID) still gets its TA1, in an envelope whose
qualifiers are padded or cut to two characters, whose IDs are cut to fifteen and
whose values lose any character that is one of the ack's delimiters.

:func:`acknowledge` answers a :class:`~edi.reader.ParseResult` already in memory;
:func:`acknowledge_stream` reads a source itself and yields each ack as soon as its
interchange has been read, in memory bounded like :func:`~edi.reader.read_summary`.

``kind="auto"``: a TA1 when ISA14 asks for one or the envelope is in error;
a 997 for groups before 005010, a 999 from 005010 on. When the TA1 rejects
the interchange its groups are not acknowledged. Acknowledgement groups
(GS01 ``FA``) are never acknowledged.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from edi.acks.codes import AckStatus
from edi.acks.generate import build_functional_ack, clean
from edi.acks.policy import DEFAULT_POLICY, AckFlavor, AckPolicy
from edi.acks.ta1 import build_ta1, needs_ta1
from edi.delimiters import Delimiters
from edi.findings import Finding
from edi.lexer import DEFAULT_CHUNK_SIZE, Source
from edi.model import Interchange, Segment, TransactionSet
from edi.reader import ParseResult, Reader, SetValidator
from edi.summary import GroupSummary, InterchangeSummary
from edi.writer import EnvelopeParties, build_group, build_interchange

__all__ = [
    "AckControlNumbers",
    "AckKind",
    "ControlNumbers",
    "acknowledge",
    "acknowledge_stream",
    "flavor_for",
]

AckKind = Literal["auto", "997", "999", "ta1"]


class ControlNumbers(Protocol):
    """Where ack control numbers come from (the gateway backs this with its sequences).

    ``next_transaction`` may give ST02 as digits already padded to the width a partner wants;
    a number (or shorter digits) is padded to the minimum of four."""

    def next_interchange(self) -> int: ...
    def next_group(self) -> int: ...
    def next_transaction(self) -> int | str: ...


@dataclass(slots=True)
class AckControlNumbers:
    """Three counters, each handing out its current value then counting up."""

    interchange: int = 1
    group: int = 1
    transaction: int = 1

    def next_interchange(self) -> int:
        self.interchange += 1
        return self.interchange - 1

    def next_group(self) -> int:
        self.group += 1
        return self.group - 1

    def next_transaction(self) -> int:
        self.transaction += 1
        return self.transaction - 1


def flavor_for(version: str) -> AckFlavor:
    """997 for GS08 before 005010 (and for unreadable versions), 999 from 005010 on."""
    return "999" if version[:6].isdigit() and version[:6] >= "005010" else "997"


def _isa_version(summary: InterchangeSummary) -> str:
    if summary.version.isdigit() and len(summary.version) == 5:
        return summary.version
    return "00501" if summary.delimiters.repetition else "00401"


def _qualifier(value: str, delimiters: Delimiters) -> str:
    """An ISA05/ISA07 echo that fits: two characters, padded with spaces or cut."""
    return clean(value, delimiters)[:2].ljust(2)


def _parties(summary: InterchangeSummary, delimiters: Delimiters) -> EnvelopeParties:
    inbound = EnvelopeParties(
        _qualifier(summary.sender_qualifier, delimiters),
        clean(summary.sender, delimiters)[:15],
        _qualifier(summary.receiver_qualifier, delimiters),
        clean(summary.receiver, delimiters)[:15],
    )
    return inbound.swapped()


def acknowledge(
    result: ParseResult,
    *,
    kind: AckKind = "auto",
    control_numbers: ControlNumbers,
    when: datetime | None = None,
    policy: AckPolicy = DEFAULT_POLICY,
    delimiters: Delimiters | None = None,
) -> list[Interchange]:
    """The ack interchanges for every interchange in ``result`` that needs one.

    ``delimiters`` overrides the inbound interchange's own delimiters.
    """
    when = when or datetime.now()
    out: list[Interchange] = []
    for index, summary in enumerate(result.summaries):
        findings = [f for f in result.findings if (f.location.interchange or 0) == index]
        model = result.interchanges[index] if index < len(result.interchanges) else None
        ack = _acknowledge_one(summary, findings, model, kind, control_numbers, when, policy, delimiters)
        if ack is not None:
            out.append(ack)
    return out


def acknowledge_stream(
    source: Source,
    *,
    validator: SetValidator | None = None,
    kind: AckKind = "auto",
    control_numbers: ControlNumbers,
    when: datetime | None = None,
    policy: AckPolicy = DEFAULT_POLICY,
    delimiters: Delimiters | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> Iterator[Interchange]:
    """Read ``source`` and yield the ack interchange of each inbound interchange that needs one.

    The same acks as :func:`acknowledge` over :func:`~edi.reader.parse` of ``source``
    (with ``validator``), but nothing is kept beyond summaries and findings: each
    inbound interchange's ack is yielded once the reader has gone past it (data
    after it, such as junk before the next ISA, is its finding too). Raises
    :class:`~edi.errors.UnreadableInput` like the reader, possibly after some acks
    have been yielded (a caller that must not emit partial output buffers them).
    """
    when = when or datetime.now()
    reader = Reader(source, validator=validator, chunk_size=chunk_size)

    def answer(index: int, summary: InterchangeSummary) -> Interchange | None:
        findings = reader.interchange_findings(index)
        return _acknowledge_one(summary, findings, None, kind, control_numbers, when, policy, delimiters)

    pending: tuple[int, InterchangeSummary] | None = None
    for index, (summary, _) in enumerate(reader.walk()):
        if pending is not None and (ack := answer(*pending)) is not None:
            yield ack
        pending = index, summary
    if pending is not None and (ack := answer(*pending)) is not None:
        yield ack


def _fa_group_key(gs: GroupSummary, delimiters: Delimiters) -> tuple[str, str, str]:
    """GS02, GS03 and GS08 of the FA group answering ``gs``: parties swapped, version echoed."""
    return (
        clean(gs.receiver, delimiters),
        clean(gs.sender, delimiters),
        clean(gs.version, delimiters) or "004010",
    )


def _acknowledge_one(
    summary: InterchangeSummary,
    findings: list[Finding],
    model: Interchange | None,
    kind: AckKind,
    numbers: ControlNumbers,
    when: datetime,
    policy: AckPolicy,
    delimiters: Delimiters | None,
) -> Interchange | None:
    delims = delimiters or summary.delimiters
    ta1: Segment | None = None
    if kind == "ta1" or (kind == "auto" and needs_ta1(summary, findings, policy)):
        ta1 = build_ta1(summary, findings, delimiters=delims, policy=policy)
    acked: list[tuple[int, AckFlavor]] = []
    if kind != "ta1" and not (ta1 is not None and ta1.get(4) == AckStatus.REJECTED.value):
        for g_index, gs in enumerate(summary.groups):
            if gs.functional_id == "FA":
                continue
            acked.append((g_index, flavor_for(gs.version) if kind == "auto" else kind))
    if ta1 is None and not acked:
        return None
    isa13 = numbers.next_interchange()
    keys: list[tuple[str, str, str]] = []
    for g_index, _ in acked:
        gs = summary.groups[g_index]
        key = _fa_group_key(gs, delims)
        if key not in keys:
            keys.append(key)
    gs06 = {key: numbers.next_group() for key in keys}
    sets: dict[tuple[str, str, str], list[TransactionSet]] = {key: [] for key in keys}
    for g_index, flavor in acked:
        gs = summary.groups[g_index]
        key = _fa_group_key(gs, delims)
        group_model = model.groups[g_index] if model is not None and g_index < len(model.groups) else None
        sets[key].append(
            build_functional_ack(
                flavor,
                summary,
                g_index,
                findings,
                control_number=numbers.next_transaction(),
                delimiters=delims,
                group=group_model,
                policy=policy,
            )
        )
    groups = [build_group("FA", key[0], key[1], gs06[key], key[2], sets[key], when=when) for key in keys]
    usage = summary.usage if summary.usage in ("P", "T", "I") else "P"
    return build_interchange(
        _parties(summary, delims),
        isa13,
        groups,
        delimiters=delims,
        version=_isa_version(summary),
        usage=usage,
        when=when,
        service_segments=[ta1] if ta1 is not None else [],
    )
