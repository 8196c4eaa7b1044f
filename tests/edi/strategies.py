"""Hypothesis strategies for X12 models, and small builders for hand-written samples.

The strategies generate interchanges that are valid at envelope level (so the
reader must report no error for them) but otherwise as hostile as X12 allows:
delimiters drawn from control characters and punctuation, every interchange
of a file with its own delimiters, empty elements, composites and
repetitions built with the interchange's own separators.

Import as ``from tests.edi.strategies import ...`` (pytest runs with ``pythonpath = ["."]``).
"""

from __future__ import annotations

import functools
from datetime import datetime

from hypothesis import strategies as st

from edi.delimiters import Delimiters
from edi.model import FunctionalGroup, Interchange, Segment, TransactionSet
from edi.writer import EnvelopeParties, build_group, build_interchange, build_transaction

__all__ = [
    "DELIMITER_POOL",
    "ENVELOPE_IDS",
    "TERMINATOR_ONLY",
    "body_segments",
    "delimiters",
    "element_values",
    "file_of_interchanges",
    "groups",
    "interchanges",
    "isa_text",
    "segment_ids",
    "simple_interchange",
    "transactions",
    "x12",
]

#: Control characters and punctuation usable as any of the four separators.
DELIMITER_POOL = (
    "*|^~:>!#$%&+,/;<=?@[]\\_`{}'\"-()."
    "\x01\x02\x07\x0b\x0c\x15\x1b\x1c\x1d\x1e\x1f\x7f\t"
    # Non-ASCII bytes, Latin-1 letters and UTF-8 lead bytes included: the interchange is then
    # read and written as Latin-1, and any byte that is not ASCII data can be a delimiter.
    "\xa7\xb6\xaa\xb2\xb5\xba\xc3\xc7\xd6\xe2\xe9\xf1\xff\x85\xa0\x80"
)
#: CR and LF are tolerated as the segment terminator only (never as element separator).
TERMINATOR_ONLY = "\r\n"
ENVELOPE_IDS = frozenset({"ISA", "IEA", "GS", "GE", "ST", "SE"})
_ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
#: Element text: printable ASCII, tab, CR, LF, Latin-1 letters, stray control bytes and unused delimiters.
_TEXT_CHARS = "".join(chr(c) for c in range(0x20, 0x7F)) + "\t\r\n\x1a\x00éüñ§" + DELIMITER_POOL
_ISA_VERSIONS = ("00200", "00300", "00401", "00402", "00501", "00601")
_GS_VERSIONS = ("003040", "004010", "004010VICS", "005010", "005010X222A1", "006020")


_FOUR_SEPARATORS = st.lists(st.sampled_from(DELIMITER_POOL), min_size=4, max_size=4, unique=True)
#: Mostly a pool character; CR or LF as the terminator in one case out of five.
_LINE_TERMINATOR = st.sampled_from([None, None, None, None, None, None, None, None, "\r", "\n"])


@st.composite
def delimiters(draw: st.DrawFn, *, with_repetition: bool | None = None) -> Delimiters:
    """Four distinct separators; ``repetition`` is ``None`` when ``with_repetition`` is false."""
    element, component, terminator, repetition = draw(_FOUR_SEPARATORS)
    terminator = draw(_LINE_TERMINATOR) or terminator
    if with_repetition is None:
        with_repetition = draw(st.booleans())
    return Delimiters(element, component, terminator, repetition if with_repetition else None)


def segment_ids() -> st.SearchStrategy[str]:
    """2-3 uppercase letters or digits, never an envelope segment ID."""
    return _SEGMENT_IDS


_SEGMENT_IDS = st.text(_ID_CHARS, min_size=2, max_size=3).filter(lambda s: s not in ENVELOPE_IDS)


@functools.cache
def element_values(delims: Delimiters) -> st.SearchStrategy[str]:
    """Raw element text: empty, simple, composite or repeated, using ``delims``' own separators.

    One text draw per element (separators weighted into its alphabet) keeps generation cheap;
    strategies are cached per delimiter set because building and validating them dominates.
    """
    used = {delims.element, delims.component, delims.segment, delims.repetition}
    separators = [delims.component] * 12
    if delims.repetition is not None:
        separators += [delims.repetition] * 12
    chars = [c for c in _TEXT_CHARS if c not in used] + separators
    return st.text(st.sampled_from(chars), max_size=8)


@functools.cache
def body_segments(delims: Delimiters) -> st.SearchStrategy[list[Segment]]:
    """0-5 segments between ST and SE, with 0-5 elements each."""
    segment = st.builds(Segment, segment_ids(), st.lists(element_values(delims), max_size=5))
    return st.lists(segment, max_size=5)


_SET_ID = st.text("0123456789", min_size=3, max_size=3)
_WHEN = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31, 23, 59))
_APP_ID = st.text(_ID_CHARS, min_size=2, max_size=15)
_FUNCTIONAL_ID = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=2)
_CONTROL_NUMBERS = st.lists(st.integers(1, 999_999_999), min_size=1, max_size=4, unique=True)
_GROUP_NUMBERS = st.lists(st.integers(1, 999_999_999), min_size=1, max_size=3, unique=True)
_GS_VERSION = st.sampled_from(_GS_VERSIONS)
_ISA_VERSION = st.sampled_from(_ISA_VERSIONS)
_ISA_ID = st.text(_ID_CHARS, min_size=1, max_size=15)
_SENDER_QUALIFIER = st.sampled_from(["01", "12", "14", "ZZ"])
_RECEIVER_QUALIFIER = st.sampled_from(["01", "08", "16", "ZZ"])
_USAGE = st.sampled_from("PTI")


@st.composite
def transactions(draw: st.DrawFn, delims: Delimiters, control_number: str) -> TransactionSet:
    return build_transaction(draw(_SET_ID), control_number, draw(body_segments(delims)))


@st.composite
def groups(draw: st.DrawFn, delims: Delimiters, control_number: int) -> FunctionalGroup:
    """GS, 1-4 sets with distinct ST02 and GE, as :func:`edi.writer.build_group` makes them."""
    sets = [draw(transactions(delims, f"{n:04d}")) for n in draw(_CONTROL_NUMBERS)]
    return build_group(
        draw(_FUNCTIONAL_ID),
        draw(_APP_ID),
        draw(_APP_ID),
        control_number,
        draw(_GS_VERSION),
        sets,
        when=draw(_WHEN),
    )


@st.composite
def interchanges(draw: st.DrawFn, control_number: int) -> Interchange:
    """One interchange with its own delimiters, 1-3 groups and sometimes a TA1 service segment."""
    version = draw(_ISA_VERSION)
    delims = draw(delimiters(with_repetition=version >= "00402"))
    numbers = draw(_GROUP_NUMBERS)
    parties = EnvelopeParties(
        draw(_SENDER_QUALIFIER), draw(_ISA_ID), draw(_RECEIVER_QUALIFIER), draw(_ISA_ID)
    )
    ta1 = Segment("TA1", [f"{control_number:09d}", "240305", "1430", "A", "000"])
    return build_interchange(
        parties,
        control_number,
        [draw(groups(delims, n)) for n in numbers],
        delimiters=delims,
        version=version,
        usage=draw(_USAGE),
        ack_requested=draw(st.booleans()),
        when=draw(_WHEN),
        service_segments=[ta1] if draw(st.booleans()) else [],
    )


_ISA_CONTROL_NUMBERS = st.lists(st.integers(0, 999_999_999), min_size=1, max_size=3, unique=True)


@st.composite
def file_of_interchanges(draw: st.DrawFn) -> list[Interchange]:
    """1-3 interchanges with distinct ISA13 control numbers, each with its own delimiters."""
    return [draw(interchanges(n)) for n in draw(_ISA_CONTROL_NUMBERS)]


def isa_text(
    control: int = 1,
    *,
    element: str = "*",
    component: str = ":",
    isa11: str = "U",
    version: str = "00401",
    sender: str = "SENDER",
    receiver: str = "RECEIVER",
) -> str:
    """A well-formed, fixed-width ISA (105 characters, no terminator) for hand-written samples."""
    fields = [
        "ISA", "00", " " * 10, "00", " " * 10, "ZZ", sender.ljust(15), "ZZ", receiver.ljust(15),
        "240305", "1430", isa11, version, f"{control:09d}", "0", "P", component,
    ]  # fmt: skip
    return element.join(fields)


def x12(*segments: str, element: str = "*", terminator: str = "~", after: str = "") -> bytes:
    """Segments written with ``*`` as element separator, joined with ``terminator`` + ``after``.

    ``*`` is replaced by ``element`` in every segment but an ISA made by :func:`isa_text`
    (pass that one already built with its own separator).
    """
    out = []
    for seg in segments:
        out.append(seg if seg.startswith("ISA") else seg.replace("*", element))
    return "".join(seg + terminator + after for seg in out).encode("latin-1")


def simple_interchange(
    control: int = 1, *, group: int | None = None, sets: tuple[str, ...] = ("0001",)
) -> list[str]:
    """ISA, one GS, one 850 per ST02 in ``sets`` (each ST, BEG, SE), GE and IEA, ``*``-separated.

    GS06 is ``group``, by default the interchange's own control number, so that interchanges
    made with different control numbers never reuse a group number in one file.
    """
    group = control if group is None else group
    body: list[str] = []
    for number in sets:
        body += [f"ST*850*{number}", "BEG*00*SA*PO1**20240305", f"SE*3*{number}"]
    return [
        isa_text(control),
        f"GS*PO*SND*RCV*20240305*1430*{group}*X*004010",
        *body,
        f"GE*{len(sets)}*{group}",
        f"IEA*1*{control:09d}",
    ]
