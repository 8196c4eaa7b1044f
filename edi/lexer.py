"""Streaming X12 lexer: bytes in, segment texts out.

The lexer knows nothing of schemas. It reads the source in chunks, detects
the delimiters from every ISA (interchanges in one file may differ), and
yields one string per segment, without its terminator. Memory use is bounded
by the chunk size, whatever the size of the input.

The hot path works a chunk at a time: one decode and one split per chunk, and
C-level scans (regular expressions) for the rare cases that need per-segment
care (padding after a terminator, empty segments, the IEA or a new ISA), so
:meth:`Lexer.batches` costs next to nothing per segment.

Tolerated: a UTF-8 BOM, CR/LF/CRLF as terminator or as padding after it,
indented segments, a trailing Ctrl-Z, any byte delimiters (control
characters included), several interchanges per file.
"""

from __future__ import annotations

import functools
import io
import os
import re
from collections.abc import Iterator
from typing import BinaryIO, Union

from edi.delimiters import Delimiters
from edi.errors import UnreadableInput
from edi.findings import Code, Finding, Location, Severity
from edi.isa import MAX_ISA_SCAN, IsaUnreadable, detect_isa, salvage_isa

__all__ = ["DEFAULT_CHUNK_SIZE", "Lexer", "Source"]

Source = Union[bytes, bytearray, memoryview, str, "os.PathLike[str]", BinaryIO]
DEFAULT_CHUNK_SIZE = 1 << 20
#: A segment longer than this means the terminator was detected wrongly.
MAX_SEGMENT_BYTES = 16 << 20
_JUNK = b" \t\r\n\x0b\x0c\x1a\x00"
_WS = " \t\r\n\x0b\x0c"
_BOM = b"\xef\xbb\xbf"
#: ``ISA`` followed by a byte that can be an element separator (ASCII letters, digits, space,
#: CR and LF cannot; see :func:`edi.isa.detect_isa`): where an interchange may start.
_ISA_START = re.compile(rb"ISA[^A-Za-z0-9 \r\n]")


@functools.lru_cache(maxsize=64)
def _scanners(term: str, es: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Two scans of a decoded chunk for one interchange's delimiters.

    The first finds a terminator followed by padding or by another terminator
    (segments that need stripping or skipping); the second finds the first
    segment after a terminator that ends the interchange (``IEA`` or a new ``ISA``),
    capturing where its ID starts.
    """
    t, e = re.escape(term), re.escape(es)
    pad = "".join(re.escape(c) for c in _WS if c != term)
    irregular = re.compile(f"{t}[{pad}{t}]")
    stop = re.compile(f"{t}[{pad}]*(ISA[^A-Za-z0-9 \\r\\n]|IEA(?:{e}|(?={t})|\\Z))")
    return irregular, stop


_LEAD = re.compile(b"[" + b"".join(re.escape(bytes([c])) for c in _JUNK) + b"]*")


@functools.lru_cache(maxsize=64)
def _end_scanner(term_b: bytes) -> re.Pattern[bytes]:
    """Finds, in raw bytes, a terminator followed by the segment that ends an interchange."""
    pad = b"".join(re.escape(bytes([c])) for c in _JUNK if bytes([c]) != term_b)
    return re.compile(re.escape(term_b) + b"[" + pad + rb"]*(?P<end>IEA|ISA[^A-Za-z0-9 \r\n])")


def _interchange_cut(buf: bytes, cut: int, term_b: bytes, end_b: re.Pattern[bytes]) -> int:
    """Where to stop decoding: at the end of this interchange if it ends before ``cut``.

    Without this, every interchange of a file with many small ones would decode and split
    the rest of the chunk again (quadratic in the number of interchanges).
    """
    lead = _LEAD.match(buf).end()  # type: ignore[union-attr]  # matches the empty string at worst
    if buf.startswith(b"IEA", lead):
        end = buf.find(term_b, lead)
        return end if 0 <= end < cut else cut
    found = end_b.search(buf, 0, cut + 1)
    if found is None:
        return cut
    if found.group("end") == b"IEA":
        end = buf.find(term_b, found.start("end"))
        return end if 0 <= end < cut else cut
    return found.start()  # the terminator before a new ISA: the ISA is left for the ISA search


def _new_isa(segment: str | bytes) -> bool:
    """A new ISA, whatever its element separator (it may differ from the current interchange's).

    Only ASCII letters, digits, space, CR and LF rule a separator out: any other byte,
    a tab or a Latin-1 letter included, can separate elements.
    """
    if len(segment) < 4 or segment[:3] not in ("ISA", b"ISA"):
        return False
    sep = segment[3:4]
    sep = sep.decode("latin-1") if isinstance(sep, bytes) else sep
    return not (sep.isascii() and (sep.isalnum() or sep in " \r\n"))


def _ends_interchange(segment: str, iea_prefix: str) -> bool:
    seg = segment.lstrip(_WS)
    return _new_isa(seg) or seg.startswith(iea_prefix) or seg == "IEA"


def _chunks(source: Source, chunk_size: int) -> Iterator[bytes]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        for i in range(0, len(data), chunk_size):
            yield data[i : i + chunk_size]
        return
    if isinstance(source, (str, os.PathLike)):
        try:
            fh = open(source, "rb")  # noqa: SIM115 - closed in finally, generator-scoped
        except OSError as exc:
            raise UnreadableInput(f"cannot open {os.fspath(source)}: {exc.strerror}") from exc
        try:
            while chunk := fh.read(chunk_size):
                yield chunk
        finally:
            fh.close()
        return
    reader: io.RawIOBase | io.BufferedIOBase | BinaryIO = source
    while chunk := reader.read(chunk_size):
        if isinstance(chunk, str):
            raise TypeError("open X12 files in binary mode")
        yield bytes(chunk)


class Lexer:
    """Iterate over segment texts of ``source``.

    After the lexer yields an ISA, :attr:`delimiters` holds that interchange's
    delimiters and :attr:`interchange_index` its 0-based index. Problems found
    while framing (damaged ISA, junk between interchanges) accumulate in
    :attr:`findings`.

    An ISA whose delimiters cannot be recovered raises :class:`UnreadableInput`
    only when no interchange of the input can be read. Otherwise it is an
    interchange of its own: the lexer yields a best-effort ISA text (see
    :func:`edi.isa.salvage_isa`) with :attr:`damaged` set, reports why in a
    finding carrying the TA105-mapped code, and skips to the next ISA.
    """

    def __init__(self, source: Source, chunk_size: int = DEFAULT_CHUNK_SIZE) -> None:
        self._source = source
        self._chunk_size = chunk_size
        self.delimiters: Delimiters | None = None
        self.interchange_index = -1
        self.interchange_offset = 0
        #: True while the current interchange's ISA could not be read: it is reported and skipped.
        self.damaged = False
        self.findings: list[Finding] = []

    def _finding(self, code: Code, severity: Severity, message: str, offset: int | None = None) -> None:
        loc = Location(interchange=max(self.interchange_index, 0), byte_offset=offset)
        self.findings.append(Finding(code, message, loc, severity))

    def __iter__(self) -> Iterator[str]:
        for batch in self.batches():
            yield from batch

    def batches(self) -> Iterator[list[str]]:
        """The same segment texts as iterating, a list at a time (the fast way to stream).

        An interchange's ISA always starts a batch and no batch spans two
        interchanges, so :attr:`delimiters` is right for every segment of a batch.
        """
        chunks = _chunks(self._source, self._chunk_size)
        buf = b""
        consumed = 0  # absolute offset of buf[0]
        eof = False

        def more() -> bool:
            nonlocal buf, eof
            if eof:
                return False
            nxt = next(chunks, None)
            if nxt is None:
                eof = True
                return False
            buf += nxt
            return True

        def skip_to_isa() -> bool:
            """Drop bytes up to the next possible ISA (then at ``buf[0]``); ``False`` at the end.

            Only the last three bytes are kept between chunks, so data that is not X12
            is scanned in linear time and in memory bounded by the chunk size.
            """
            nonlocal buf, consumed
            while True:
                found = _ISA_START.search(buf)
                if found is not None:
                    buf, consumed = buf[found.start() :], consumed + found.start()
                    return True
                drop = max(0, len(buf) - 3)
                buf, consumed = buf[drop:], consumed + drop
                if not more():
                    buf, consumed = b"", consumed + len(buf)
                    return False

        while len(buf) < len(_BOM) and more():  # a BOM may span tiny chunks
            pass
        if buf.startswith(_BOM):
            buf, consumed = buf[3:], 3
        readable = 0  # interchanges whose ISA could be read
        failure: IsaUnreadable | None = None  # the first ISA that could not be
        while True:
            # ---- between interchanges: skip padding, find the next ISA ----------
            while True:
                stripped = buf.lstrip(_JUNK)
                consumed += len(buf) - len(stripped)
                buf = stripped
                if buf or not more():
                    break
            if not buf:
                if not readable:
                    raise failure or UnreadableInput("no ISA segment found: the input is empty")
                return
            while len(buf) < MAX_ISA_SCAN and more():
                pass
            # The first ISA is tried wherever the data starts with "ISA" (for a precise error);
            # later ones only where a separator follows, the rest is data outside any interchange.
            if not (buf.startswith(b"ISA") if self.interchange_index < 0 else _ISA_START.match(buf)):
                start = consumed
                if not skip_to_isa():
                    if not readable:
                        raise failure or UnreadableInput("no ISA segment found: this is not X12")
                    self._finding(
                        Code.SEGMENT_OUTSIDE_ENVELOPE,
                        Severity.ERROR,
                        f"{consumed - start} bytes of data after the last interchange",
                        start,
                    )
                    return
                self._finding(
                    Code.SEGMENT_OUTSIDE_ENVELOPE,
                    Severity.ERROR,
                    f"{consumed - start} bytes of data before the ISA were skipped",
                    start,
                )
                while len(buf) < MAX_ISA_SCAN and more():
                    pass
            # ---- the ISA ---------------------------------------------------------
            try:
                header = detect_isa(buf[:MAX_ISA_SCAN], eof)
            except IsaUnreadable as exc:
                # Report it as an interchange of its own, skip to the next ISA and carry on:
                # the interchanges before and after it are not lost.
                failure = failure or exc
                text, self.delimiters = salvage_isa(buf)
                self.interchange_index += 1
                self.interchange_offset = start = consumed
                self.damaged = True
                buf, consumed = buf[3:], consumed + 3
                where = "up to the next ISA" if skip_to_isa() else "to the end of the input"
                self._finding(
                    exc.code,
                    Severity.ERROR,
                    f"unreadable ISA, interchange skipped: {exc}; "
                    f"{consumed - start} bytes {where} were skipped",
                    start,
                )
                yield [text]
                continue
            readable += 1
            self.damaged = False
            self.interchange_index += 1
            self.interchange_offset = consumed
            self.delimiters = header.delimiters
            for code, severity, message in header.problems:
                self._finding(code, severity, message, consumed)
            codec = header.codec
            term = header.delimiters.segment
            term_b = term.encode("latin-1")
            es = header.delimiters.element
            iea_prefix = "IEA" + es
            irregular, stop = _scanners(term, es)
            end_b = _end_scanner(term_b)
            yield [buf[: header.length - 1].decode(codec, "surrogateescape")]
            buf, consumed = buf[header.length :], consumed + header.length
            # ---- segments until IEA ----------------------------------------------
            ended = False
            while not ended:
                cut = buf.rfind(term_b)
                if cut < 0:
                    if more():
                        if len(buf) > MAX_SEGMENT_BYTES:
                            raise UnreadableInput(
                                f"no segment terminator {term!r} within {MAX_SEGMENT_BYTES} bytes", consumed
                            )
                        continue
                    tail = buf.strip(_JUNK)
                    if _new_isa(tail):  # a new interchange (other delimiters) after a missing IEA
                        break
                    buf = b""
                    if tail:
                        self._finding(
                            Code.INTERCHANGE_STRUCTURE,
                            Severity.WARNING,
                            "the last segment has no segment terminator",
                            consumed,
                        )
                        yield [tail.decode(codec, "surrogateescape")]
                    return
                cut = _interchange_cut(buf, cut, term_b, end_b)
                text = buf[:cut].decode(codec, "surrogateescape")
                parts = text.split(term)
                rest = buf[cut + 1 :]
                # k: the first segment that ends the interchange (an IEA or a new ISA).
                k = -1
                if _ends_interchange(parts[0], iea_prefix):
                    k = 0
                elif found := stop.search(text):
                    k = text.count(term, 0, found.start(1))
                batch = parts if k < 0 else parts[:k]
                if not text or text[0] in _WS or text[-1] == term or irregular.search(text):
                    # Padding after a terminator is stripped; empty segments are skipped.
                    batch = [seg for seg in [p.lstrip(_WS) for p in batch] if seg]
                if k < 0:
                    if batch:
                        yield batch
                    consumed += cut + 1
                    buf = rest
                    while len(buf) - _LEAD.match(buf).end() < 4 and more():  # type: ignore[union-attr]
                        pass
                    # A new interchange with other delimiters right after a missing IEA.
                    lead = _LEAD.match(buf).end()  # type: ignore[union-attr]
                    ended = _new_isa(buf[lead : lead + 4])
                    if not ended:
                        more()
                    continue
                ended = True
                seg = parts[k].lstrip(_WS)
                if not _new_isa(seg):  # a new ISA is left for the ISA search
                    batch.append(seg)
                    k += 1
                if batch:
                    yield batch
                # Give what follows back to the ISA search, byte for byte.
                remainder = term.join(parts[k:]).encode(codec, "surrogateescape")
                if k < len(parts):
                    remainder += term_b
                consumed += cut + 1 - len(remainder)
                buf = remainder + rest
