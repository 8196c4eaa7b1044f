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

__all__ = ["IsaHeader", "IsaUnreadable", "detect_isa", "salvage_isa"]

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


class IsaUnreadable(UnreadableInput):
    """No safe delimiters can be found in this ISA; ``code`` says which part failed (TA105)."""

    def __init__(self, message: str, code: Code) -> None:
        self.code = code
        super().__init__(message)


def _bad_delimiter(b: int) -> bool:
    """ASCII letters, digits and space are data, never delimiters; any other byte may be one."""
    return b < 0x80 and (chr(b).isalnum() or b == 0x20)


def _utf8_character_at(data: bytes, i: int) -> bool:
    """True when ``data[i]`` starts a complete multi-byte UTF-8 character.

    Such a byte is ambiguous as a delimiter: it is more likely the first byte of a
    character (say an ellipsis typed as the terminator) than a one-byte separator.
    """
    b = data[i]
    n = 2 if 0xC2 <= b <= 0xDF else 3 if 0xE0 <= b <= 0xEF else 4 if 0xF0 <= b <= 0xF4 else 0
    if not n or len(data) < i + n:
        return False
    try:
        data[i : i + n].decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def detect_isa(head: bytes, at_eof: bool) -> IsaHeader:
    """Detect delimiters from ``head``, which starts with ``ISA``.

    ``head`` should hold at least :data:`MAX_ISA_SCAN` bytes unless the input
    ends sooner (``at_eof``). Raises :class:`UnreadableInput` when no safe set
    of delimiters can be found.
    """
    if len(head) < 4:
        raise IsaUnreadable("input ends inside the ISA header", Code.ISA_TRUNCATED)
    es = head[3]
    if _bad_delimiter(es) or es in (0x0A, 0x0D) or _utf8_character_at(head, 3):
        raise IsaUnreadable(
            f"invalid element separator {bytes([es])!r} after ISA", Code.ISA_ELEMENT_SEPARATOR
        )
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
                raise IsaUnreadable("ISA header has fewer than 16 elements", Code.ISA_FIELD)
            seps.append(i)
            start = i + 1
        comp_at, term_at = seps[15] + 1, seps[15] + 2
        if len(head) <= term_at:
            raise IsaUnreadable("input ends inside the ISA header", Code.ISA_TRUNCATED)
        length = term_at + 1
        problems.append(
            (
                Code.ISA_LENGTH,
                Severity.ERROR,
                f"ISA is {length} bytes, not {ISA_LENGTH}: fields are not fixed width"
                if length != ISA_LENGTH
                else f"ISA is {ISA_LENGTH} bytes, but its fields are not at their fixed positions "
                "(some are too long, others too short)",
            )
        )
    comp, term = head[comp_at], head[term_at]
    if _bad_delimiter(term) or term in (es, comp):
        raise IsaUnreadable(
            f"cannot recover a segment terminator from the ISA (found {bytes([term])!r})",
            Code.ISA_SEGMENT_TERMINATOR,
        )
    if _utf8_character_at(head, term_at):
        raise IsaUnreadable(
            f"the segment terminator {head[term_at : term_at + 4]!r} looks like the start of a multi-byte "
            "UTF-8 character, not a one-byte delimiter",
            Code.ISA_SEGMENT_TERMINATOR,
        )
    if _bad_delimiter(comp) or comp == es:
        raise IsaUnreadable(
            f"invalid component separator {bytes([comp])!r} in ISA16", Code.ISA_COMPONENT_SEPARATOR
        )

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


def salvage_isa(head: bytes) -> tuple[str, Delimiters]:
    """The text and best-guess delimiters of an ISA that :func:`detect_isa` refused.

    Used to report an unreadable interchange after a readable one: its fields (sender,
    control number, dates) are split on the byte after ``ISA`` when that can be a
    separator, so a TA1 can still answer it. The text stops after ISA16, at a line
    break or after :data:`MAX_ISA_SCAN` bytes.
    """
    head = head[:MAX_ISA_SCAN]
    es = head[3] if len(head) > 3 and not _bad_delimiter(head[3]) and head[3] not in (0x0A, 0x0D) else 0x2A
    end, count = len(head), 0
    for i in range(3, len(head)):
        if head[i] == es:
            count += 1
            if count == 16:
                end = min(i + 2, len(head))
                break
        elif head[i] in (0x0A, 0x0D) and count < 16:
            end = i
            break
    # ISA16 when it is there and usable, else a common one; the terminator is what usually failed.
    isa16 = head[end - 1] if count == 16 and end == len(head[:end]) and end - 1 > 3 else None
    term = next(c for c in "~\n'|" if ord(c) != es)
    usable = isa16 is not None and not _bad_delimiter(isa16) and chr(isa16) not in (chr(es), term, "\r", "\n")
    comp = chr(isa16) if usable and isa16 is not None else next(c for c in ">:^|" if c not in (chr(es), term))
    delimiters = Delimiters(chr(es), comp, term, None)
    return head[:end].decode(delimiters.codec, "surrogateescape"), delimiters
