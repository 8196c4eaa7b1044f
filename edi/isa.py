"""Delimiter detection from an ISA header, with recovery for damaged ones.

The ISA is fixed width: 106 bytes, the element separator at byte 3, the
component separator (ISA16) at byte 104 and the segment terminator at 105.
When the fixed positions do not line up (unpadded IDs, a wrapped line, a
non-ASCII pad character) the delimiters are recovered by counting element
separators instead, and the caller is told so through findings.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from edi.delimiters import ISA_LENGTH, Delimiters
from edi.errors import UnreadableInput
from edi.findings import Code, Severity

__all__ = ["IsaHeader", "detect_isa"]

# Byte offsets of the 16 element separators in a well-formed ISA.
_SEPARATOR_OFFSETS = (3, 6, 17, 20, 31, 34, 50, 53, 69, 76, 81, 83, 89, 99, 101, 103)
_FIELD_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)
#: Bytes needed to recover delimiters from a damaged ISA.
MAX_ISA_SCAN = 512
_PLACEHOLDER_COMPONENTS = ("\x1f", ">", ":", "^", "|", "\\")


@dataclass(slots=True)
class IsaHeader:
    """Where the ISA ends and which delimiters it declares."""

    delimiters: Delimiters
    length: int  # bytes up to and including the segment terminator
    codec: str  # "utf-8" when every delimiter is ASCII, else "latin-1"
    problems: list[tuple[Code, Severity, str]] = field(default_factory=list)


def _bad_delimiter(b: int) -> bool:
    """Letters, digits and space can never be delimiters."""
    return chr(b).isalnum() or b == 0x20


def detect_isa(head: bytes, at_eof: bool) -> IsaHeader:
    """Detect delimiters from ``head``, which starts with ``ISA``.

    ``head`` should hold at least :data:`MAX_ISA_SCAN` bytes unless the input
    ends sooner (``at_eof``). Raises :class:`UnreadableInput` when no safe set
    of delimiters can be found.
    """
    if len(head) < 4:
        raise UnreadableInput("input ends inside the ISA header")
    es = head[3]
    if _bad_delimiter(es) or es in (0x0A, 0x0D):
        raise UnreadableInput(f"invalid element separator {bytes([es])!r} after ISA")
    problems: list[tuple[Code, Severity, str]] = []
    fixed = len(head) >= ISA_LENGTH and all(head[o] == es for o in _SEPARATOR_OFFSETS)
    if fixed:
        comp_at, term_at = 104, 105
    else:
        seps: list[int] = []
        start = 0
        while len(seps) < 16:
            i = head.find(bytes([es]), start)
            if i < 0:
                raise UnreadableInput("ISA header has fewer than 16 elements")
            seps.append(i)
            start = i + 1
        comp_at, term_at = seps[15] + 1, seps[15] + 2
        if len(head) <= term_at:
            raise UnreadableInput("input ends inside the ISA header")
        problems.append(
            (
                Code.ISA_LENGTH,
                Severity.ERROR,
                f"ISA is {term_at + 1} bytes, not {ISA_LENGTH}: fields are not fixed width",
            )
        )
    comp, term = head[comp_at], head[term_at]
    if _bad_delimiter(term) or term in (es, comp):
        raise UnreadableInput(f"cannot recover a segment terminator from the ISA (found {bytes([term])!r})")
    if _bad_delimiter(comp) or comp == es:
        raise UnreadableInput(f"invalid component separator {bytes([comp])!r} in ISA16")

    # ISA16 missing: "...*T*~\n" reads as component '~' and terminator LF. The next
    # segment then ends with that '~' too; when it does, '~' is the terminator.
    comp_ch: str | None = chr(comp)
    if term in (0x0A, 0x0D):
        nxt_end = head.find(bytes([term]), term_at + 1)
        nxt = head[term_at + 1 : nxt_end].rstrip(b"\r\n") if nxt_end > 0 else b""
        if nxt.lstrip().startswith(b"GS") and nxt.endswith(bytes([comp])):
            term = comp
            comp_ch = None
            problems.append(
                (
                    Code.ISA_COMPONENT_SEPARATOR,
                    Severity.ERROR,
                    f"ISA16 is missing: {chr(term)!r} is the segment terminator, not the component separator",
                )
            )
            term_at = comp_at

    version = head[84:89] if fixed else b""
    rep: str | None = None
    isa11 = head[82] if fixed else _field_byte(head, es, 11)
    if isa11 is not None and (version >= b"00402" if fixed else _field(head, es, 12) >= b"00402"):
        rep = chr(isa11)
        if _bad_delimiter(isa11) or rep in (chr(es), chr(term)) or (comp_ch is not None and rep == comp_ch):
            rep = None
    if comp_ch is None:
        taken = {chr(es), chr(term), rep}
        comp_ch = next(c for c in _PLACEHOLDER_COMPONENTS if c not in taken)
    delimiters = Delimiters(chr(es), comp_ch, chr(term), rep)
    codec = delimiters.codec
    if problems and problems[0][0] is Code.ISA_LENGTH:
        problems.append(
            (Code.ISA_RECOVERED, Severity.WARNING, f"recovered delimiters {delimiters.as_dict()!r}")
        )
    return IsaHeader(delimiters, term_at + 1, codec, problems)


def _field(head: bytes, es: int, n: int) -> bytes:
    parts = head.split(bytes([es]), 17)
    return parts[n] if len(parts) > n else b""


def _field_byte(head: bytes, es: int, n: int) -> int | None:
    value = _field(head, es, n)
    return value[0] if len(value) == 1 else None
