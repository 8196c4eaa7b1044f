"""Serialise segments and envelopes, and build envelopes with computed trailers.

``write(parse(b)) == b`` holds for any interchange written by this module
(with the same ``newline`` choice), and ``parse(write(x)) == x`` for any model
whose values contain no delimiter. Control numbers are always supplied by the
caller: sequences are the gateway's business, not the library's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from edi.delimiters import Delimiters
from edi.errors import WriteError
from edi.model import FunctionalGroup, Interchange, Segment, TransactionSet

__all__ = [
    "EnvelopeParties",
    "build_group",
    "build_interchange",
    "build_transaction",
    "segment_text",
    "write",
    "write_segments",
]


def segment_text(segment: Segment, delimiters: Delimiters) -> str:
    """One segment without its terminator; refuses values that hold a delimiter."""
    es, term = delimiters.element, delimiters.segment
    for position, value in enumerate(segment.elements, start=1):
        if es in value or term in value:
            raise WriteError(
                f"{segment.id}{position:02d} value {value!r} contains a delimiter "
                f"(element {es!r}, segment {term!r})"
            )
    if not segment.elements:
        return segment.id
    return segment.id + es + es.join(segment.elements)


def write_segments(segments: Iterable[Segment], delimiters: Delimiters, *, newline: bool = False) -> bytes:
    end = delimiters.segment + ("\n" if newline else "")
    text = "".join(segment_text(s, delimiters) + end for s in segments)
    try:
        return text.encode(delimiters.codec, "surrogateescape")
    except UnicodeEncodeError as exc:
        bad = exc.object[exc.start : exc.end]
        raise WriteError(f"{bad!r} cannot be written as {delimiters.codec} with these delimiters") from exc


def _interchange_segments(ix: Interchange) -> Iterable[Segment]:
    yield ix.header
    yield from ix.service_segments
    for group in ix.groups:
        yield group.header
        for ts in group.transactions:
            yield from ts.segments
        if group.trailer is not None:
            yield group.trailer
    if ix.trailer is not None:
        yield ix.trailer


def write(interchanges: Interchange | Iterable[Interchange], *, newline: bool = False) -> bytes:
    """Serialise one or more interchanges, each with its own delimiters."""
    items = [interchanges] if isinstance(interchanges, Interchange) else list(interchanges)
    return b"".join(write_segments(_interchange_segments(ix), ix.delimiters, newline=newline) for ix in items)


def build_transaction(
    set_id: str, control_number: str, body: Sequence[Segment], *, implementation_reference: str | None = None
) -> TransactionSet:
    """ST + body + SE, with SE01 counted and SE02 echoing ST02."""
    st_elements = [set_id, control_number]
    if implementation_reference:
        st_elements.append(implementation_reference)
    st = Segment("ST", st_elements)
    segments = [st, *body]
    segments.append(Segment("SE", [str(len(segments) + 1), control_number]))
    return TransactionSet(segments)


def build_group(
    functional_id: str,
    sender: str,
    receiver: str,
    control_number: int | str,
    version: str,
    transactions: Sequence[TransactionSet],
    *,
    when: datetime | None = None,
) -> FunctionalGroup:
    """GS + sets + GE, with GE01 counted and GE02 echoing GS06."""
    when = when or datetime.now()
    ctrl = str(int(control_number))
    if len(ctrl) > 9 or not ctrl.isdigit():
        raise WriteError(f"group control number {ctrl} is not 1-9 digits")
    date, time = when.strftime("%Y%m%d"), when.strftime("%H%M")
    gs = Segment("GS", [functional_id, sender, receiver, date, time, ctrl, "X", version])
    ge = Segment("GE", [str(len(transactions)), ctrl])
    return FunctionalGroup(gs, list(transactions), ge)


@dataclass(frozen=True, slots=True)
class EnvelopeParties:
    """Who sends and who receives an interchange (ISA05-08)."""

    sender_qualifier: str
    sender: str
    receiver_qualifier: str
    receiver: str

    def swapped(self) -> EnvelopeParties:
        return EnvelopeParties(self.receiver_qualifier, self.receiver, self.sender_qualifier, self.sender)


def build_interchange(
    parties: EnvelopeParties,
    control_number: int | str,
    groups: Sequence[FunctionalGroup],
    *,
    delimiters: Delimiters | None = None,
    version: str = "00401",
    usage: str = "P",
    ack_requested: bool = False,
    when: datetime | None = None,
    service_segments: Sequence[Segment] = (),
) -> Interchange:
    """ISA + groups + IEA with fixed-width ISA fields and a computed IEA."""
    delimiters = delimiters or Delimiters(repetition="^" if version >= "00402" else None)
    when = when or datetime.now()
    ctrl = f"{int(control_number):09d}"
    if len(ctrl) != 9 or not ctrl.isdigit():
        raise WriteError(f"interchange control number {control_number} does not fit 9 digits")
    for label, value, width in (("sender", parties.sender, 15), ("receiver", parties.receiver, 15)):
        if len(value) > width:
            raise WriteError(f"ISA {label} ID {value!r} is longer than {width} characters")
    for label, value, width in (
        ("sender qualifier", parties.sender_qualifier, 2),
        ("receiver qualifier", parties.receiver_qualifier, 2),
        ("version", version, 5),
    ):
        if len(value) != width:
            raise WriteError(f"ISA {label} {value!r} is not {width} characters")
    if usage not in ("P", "T", "I"):
        raise WriteError(f"usage indicator {usage!r} is not P, T or I")
    isa11 = delimiters.repetition if version >= "00402" and delimiters.repetition else "U"
    isa = Segment(
        "ISA",
        [
            "00", " " * 10, "00", " " * 10,
            parties.sender_qualifier, parties.sender.ljust(15),
            parties.receiver_qualifier, parties.receiver.ljust(15),
            when.strftime("%y%m%d"), when.strftime("%H%M"),
            isa11, version, ctrl, "1" if ack_requested else "0", usage, delimiters.component,
        ],
    )  # fmt: skip
    iea = Segment("IEA", [str(len(groups)), ctrl])
    return Interchange(isa, delimiters, list(groups), iea, list(service_segments))
