"""The streaming lexer: sources, bounded reads, chunk boundaries, delimiters and tolerated layouts."""

from __future__ import annotations

import io
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from edi import Code, Delimiters, Finding, Lexer, Location, Reader, Severity, UnreadableInput
from tests.edi.strategies import isa_text, simple_interchange, x12

SEGMENTS = simple_interchange()


class RecordingReader(io.BytesIO):
    """A binary file that records every read request and how many bytes each returned."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.requests: list[int | None] = []
        self.returned: list[int] = []

    def read(self, size: int | None = -1, /) -> bytes:
        chunk = super().read(size)
        self.requests.append(size)
        self.returned.append(len(chunk))
        return chunk


def lex(data: bytes, chunk_size: int = 1 << 20) -> tuple[list[str], Lexer]:
    lexer = Lexer(data, chunk_size)
    return list(lexer), lexer


# --- sources --------------------------------------------------------------------------


def test_bytes_path_and_file_object_give_the_same_segments(tmp_path: Path) -> None:
    data = x12(*SEGMENTS)
    path = tmp_path / "in.x12"
    path.write_bytes(data)
    from_bytes = list(Lexer(data))
    assert from_bytes == SEGMENTS
    assert list(Lexer(bytearray(data))) == SEGMENTS
    assert list(Lexer(memoryview(data))) == SEGMENTS
    assert list(Lexer(str(path))) == SEGMENTS
    assert list(Lexer(path)) == SEGMENTS
    with path.open("rb") as fh:
        assert list(Lexer(fh)) == SEGMENTS


def test_text_mode_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "in.x12"
    path.write_bytes(x12(*SEGMENTS))
    with path.open("r") as fh, pytest.raises(TypeError, match="binary mode"):
        list(Lexer(fh))  # type: ignore[arg-type]


def test_missing_file_is_unreadable_input(tmp_path: Path) -> None:
    with pytest.raises(UnreadableInput, match=r"cannot open .*nope\.x12"):
        list(Lexer(tmp_path / "nope.x12"))


# --- streaming: reads are chunk-sized and bounded -------------------------------------------


def _big_interchange(body_segments: int) -> bytes:
    body = [f"REF*ZZ*{n:012d}*LINE ITEM REFERENCE" for n in range(body_segments)]
    segments = [
        isa_text(),
        "GS*PO*SND*RCV*20240305*1430*1*X*004010",
        "ST*850*0001",
        *body,
        f"SE*{len(body) + 2}*0001",
        "GE*1*1",
        "IEA*1*000000001",
    ]
    return x12(*segments)


def test_multi_megabyte_input_is_read_in_chunks_with_bounded_lookahead() -> None:
    data = _big_interchange(80_000)
    assert len(data) > 3_000_000
    chunk = 64 * 1024
    source = RecordingReader(data)
    lexer = Lexer(source, chunk)
    consumed = 0
    worst_lookahead = 0
    count = 0
    for segment in lexer:
        consumed += len(segment) + 1
        worst_lookahead = max(worst_lookahead, source.tell() - consumed)
        count += 1
    assert count == 80_006
    assert consumed == len(data)
    # Every read asked for one chunk, none returned more, and the file was read exactly once.
    assert set(source.requests) == {chunk}
    assert max(source.returned) == chunk
    assert sum(source.returned) == len(data)
    assert len(source.requests) == len(data) // chunk + 2  # the last partial chunk, then EOF
    # The lexer never ran more than two chunks ahead of the segments it had handed out.
    assert worst_lookahead <= 2 * chunk


def test_summary_of_a_large_file_holds_a_bounded_amount_of_memory(tmp_path: Path) -> None:
    data = _big_interchange(60_000)
    path = tmp_path / "big.x12"
    path.write_bytes(data)
    del data
    tracemalloc.start()
    try:
        reader = Reader(path, chunk_size=64 * 1024)
        summaries = reader.run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert reader.findings == []
    assert summaries[0].groups[0].transactions[0].segments == 60_002
    # A 2.4 MB file read in 64 KiB chunks: memory follows the chunk size, not the file size.
    assert path.stat().st_size > 2_400_000
    assert peak < 1_000_000


# --- chunk boundaries anywhere --------------------------------------------------------------

#: BOM, leading blank lines, CRLF padding, indentation, two interchanges with different
#: separators (the second with control characters), a body segment with an empty element
#: and a trailing Ctrl-Z.
MIXED = (
    b"\xef\xbb\xbf\r\n  "
    + x12(*SEGMENTS, after="\r\n    ")
    + x12(
        isa_text(2, element="\x1d", component="\x1c", isa11="\x15", version="00501"),
        *simple_interchange(2)[1:],
        element="\x1d",
        terminator="\x07",
        after="\n",
    )
    + b"\x1a"
)


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 7, 64, 105, 106, 107])
def test_chunk_boundaries_anywhere_give_the_one_shot_result(chunk_size: int) -> None:
    one_shot, whole = lex(MIXED)
    assert len(one_shot) == 14
    assert whole.findings == []
    segments, lexer = lex(MIXED, chunk_size)
    assert segments == one_shot
    assert lexer.findings == whole.findings
    assert lexer.delimiters == whole.delimiters


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 7, 64])
def test_chunked_findings_and_offsets_match_the_one_shot_result(chunk_size: int) -> None:
    data = b"junk\n" + x12(*SEGMENTS) + x12(*simple_interchange(2)) + b"TRAILING GARBAGE"
    one_shot, whole = lex(data)
    segments, lexer = lex(data, chunk_size)
    assert segments == one_shot
    assert lexer.findings == whole.findings
    assert [(f.code, f.location) for f in lexer.findings] == [
        (Code.SEGMENT_OUTSIDE_ENVELOPE, Location(interchange=0, byte_offset=0)),
        (Code.SEGMENT_OUTSIDE_ENVELOPE, Location(interchange=1, byte_offset=len(data) - 16)),
    ]
    assert lexer.findings[0].message == "5 bytes of data before the ISA were skipped"
    assert lexer.findings[1].message == "16 bytes of data after the last interchange"


# --- delimiters per interchange ------------------------------------------------------------


def test_delimiters_are_detected_from_every_isa() -> None:
    first = x12(*SEGMENTS)
    second_isa = isa_text(2, element="|", component=">", isa11="^", version="00501")
    second = x12(second_isa, *simple_interchange(2)[1:], element="|", terminator="\n")
    lexer = Lexer(first + second)
    seen: list[tuple[str, Delimiters | None, int, int]] = []
    for segment in lexer:
        if segment.startswith("ISA"):
            seen.append((segment, lexer.delimiters, lexer.interchange_index, lexer.interchange_offset))
    assert seen == [
        (SEGMENTS[0], Delimiters("*", ":", "~", None), 0, 0),
        (second_isa, Delimiters("|", ">", "\n", "^"), 1, len(first)),
    ]
    assert lexer.findings == []


def test_each_interchange_is_split_with_its_own_separators() -> None:
    second = simple_interchange(2)
    data = x12(*SEGMENTS) + x12(
        isa_text(2, element="!", component="@", isa11="#", version="00501"), *second[1:], element="!"
    )
    segments = list(Lexer(data))
    assert segments[: len(SEGMENTS)] == SEGMENTS
    assert segments[len(SEGMENTS) + 1] == "GS!PO!SND!RCV!20240305!1430!2!X!004010"
    assert segments[-1] == "IEA!1!000000002"


# --- tolerated layouts ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("element", "component", "terminator", "repetition"),
    [
        ("\x1d", "\x1c", "\x07", "\x15"),  # GS, FS, BEL and NAK
        ("\x7f", "\x1f", "\x1e", "\x1c"),  # DEL as element separator
        ("\x1c", "\x1d", "\x7f", None),  # DEL as terminator, before 00402
        ("|", "\\", "\r", "^"),  # CR terminator
        ("*", ">", "\n", "^"),  # LF terminator
        ("\t", ":", "'", "^"),  # tab separator
        ("\xa7", "\xb6", "~", "^"),  # non-ASCII bytes: Latin-1
        ("*", ":", "\xe9", "^"),  # Latin-1 letters are bytes like any other: e-acute as terminator
        ("*", ":", "\xff", None),  # y-diaeresis
        ("*", ":", "\xaa", "^"),  # feminine ordinal
        ("*", ":", "\xb2", "^"),  # superscript two
        ("\xc7", "\xd6", "\xe9", "\xf1"),  # C-cedilla, O-diaeresis, e-acute, n-tilde
        ("\xa0", "\x85", "~", None),  # no-break space and NEL (Unicode whitespace, not ASCII)
        ("\xc3", "\xa9", "\xe2", "^"),  # UTF-8 lead bytes are fine where no character follows
    ],
)
def test_any_byte_delimiters(element: str, component: str, terminator: str, repetition: str | None) -> None:
    version = "00501" if repetition else "00401"
    header = isa_text(7, element=element, component=component, isa11=repetition or "U", version=version)
    body = simple_interchange(7)[1:]
    data = x12(header, *body, element=element, terminator=terminator)
    segments, lexer = lex(data)
    assert segments == [header] + [s.replace("*", element) for s in body]
    assert lexer.delimiters == Delimiters(element, component, terminator, repetition)
    assert lexer.findings == []


@pytest.mark.parametrize(
    ("terminator", "after"),
    [("~", "\n"), ("~", "\r\n"), ("~", "\r"), ("\r", "\n"), ("\n", ""), ("\r", ""), ("~", "\n\n  \t")],
)
def test_line_breaks_as_terminator_or_padding(terminator: str, after: str) -> None:
    data = x12(*SEGMENTS, terminator=terminator, after=after)
    segments, lexer = lex(data)
    assert segments == SEGMENTS
    assert lexer.delimiters is not None
    assert lexer.delimiters.segment == terminator
    assert lexer.findings == []


def test_bom_leading_whitespace_indentation_and_ctrl_z_are_tolerated() -> None:
    indented = [SEGMENTS[0], *("    " + s for s in SEGMENTS[1:])]
    data = b"\xef\xbb\xbf \r\n\t" + x12(*indented, after="\n") + b"\x1a"
    segments, lexer = lex(data)
    assert segments == SEGMENTS
    assert lexer.findings == []
    assert lexer.interchange_offset == 7  # BOM (3) and the blank space before the ISA


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 4, 7])
def test_bom_is_skipped_whatever_the_chunk_size(chunk_size: int) -> None:
    segments, lexer = lex(b"\xef\xbb\xbf" + x12(*SEGMENTS), chunk_size)
    assert segments == SEGMENTS
    assert lexer.findings == []
    assert lexer.interchange_offset == 3


def test_empty_segments_are_skipped() -> None:
    data = x12(*SEGMENTS).replace(b"~ST*", b"~~~ST*")
    assert list(Lexer(data)) == SEGMENTS


def test_missing_final_terminator_is_a_warning_and_the_segment_is_kept() -> None:
    data = x12(*SEGMENTS)[:-1] + b"\r\n\x1a"
    segments, lexer = lex(data)
    assert segments == SEGMENTS
    assert [(f.code, f.severity) for f in lexer.findings] == [(Code.INTERCHANGE_STRUCTURE, Severity.WARNING)]
    assert lexer.findings[0].message == "the last segment has no segment terminator"


def test_several_interchanges_in_one_file() -> None:
    data = b"".join(x12(*simple_interchange(n), after="\n") for n in (1, 2, 3))
    segments, lexer = lex(data)
    assert [s for s in segments if s.startswith("IEA")] == [
        "IEA*1*000000001",
        "IEA*1*000000002",
        "IEA*1*000000003",
    ]
    assert lexer.interchange_index == 2
    assert lexer.interchange_offset == 2 * len(x12(*SEGMENTS, after="\n"))


def test_new_isa_before_the_iea_starts_a_new_interchange() -> None:
    truncated = SEGMENTS[:-1]
    data = x12(*truncated, *simple_interchange(2))
    lexer = Lexer(data)
    indexes = []
    for segment in lexer:
        indexes.append((segment[:3], lexer.interchange_index))
    assert [i for s, i in indexes if s == "ISA"] == [0, 1]
    assert len(indexes) == len(truncated) + len(SEGMENTS)


def test_a_new_interchange_with_a_latin_1_element_separator_is_found_after_a_missing_iea() -> None:
    first = x12(*SEGMENTS[:-1])  # no IEA
    second = x12(isa_text(2, element="\xe9"), *simple_interchange(2, group=2)[1:], element="\xe9")
    segments, lexer = lex(first + second)
    assert [s[:4] for s in segments if s.startswith("ISA")] == ["ISA*", "ISA\xe9"]
    assert lexer.interchange_index == 1
    assert lexer.delimiters == Delimiters("\xe9", ":", "~", None)


# --- data that is not X12 -------------------------------------------------------------------


class JunkStream(io.RawIOBase):
    """``size`` bytes of data that is not X12, made on the fly (the test holds none of it)."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.block = (b"%PDF-1.7 obj<</Type/Page/ISABLE 0/SA 1>>stream\n" * 1400)[:65536]

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        n = min(len(buffer), self.left, len(self.block))
        buffer[:n] = self.block[:n]
        self.left -= n
        return n


def _peak(run: Callable[[], None]) -> int:
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_input_that_is_not_x12_is_scanned_in_bounded_memory() -> None:
    size = 24 << 20

    def scan() -> None:
        with pytest.raises(UnreadableInput, match=r"^no ISA segment found: this is not X12$"):
            list(Lexer(io.BufferedReader(JunkStream(size)), 64 * 1024))

    # 24 MiB of junk in 64 KiB chunks: memory follows the chunk size, not the input size.
    assert _peak(scan) < 1_000_000


def test_junk_after_the_last_interchange_is_scanned_in_bounded_memory() -> None:
    good = x12(*SEGMENTS)
    size = 16 << 20
    findings: list[Finding] = []

    def scan() -> None:
        lexer = Lexer(io.BufferedReader(_Prefixed(good, JunkStream(size))), 64 * 1024)
        assert [s[:3] for s in lexer][-1] == "IEA"
        findings.extend(lexer.findings)

    assert _peak(scan) < 1_000_000
    assert [(f.code, f.message, f.location.byte_offset) for f in findings] == [
        (Code.SEGMENT_OUTSIDE_ENVELOPE, f"{size} bytes of data after the last interchange", len(good))
    ]


class _Prefixed(io.RawIOBase):
    def __init__(self, head: bytes, rest: io.RawIOBase) -> None:
        self.head, self.rest = head, rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self.head:
            n = min(len(buffer), len(self.head))
            buffer[:n], self.head = self.head[:n], self.head[n:]
            return n
        return self.rest.readinto(buffer)


def test_scanning_junk_takes_linear_time() -> None:
    """Sixteen times the junk takes about sixteen times as long, not 256 times (no quadratic copying)."""

    def seconds(size: int) -> float:
        data = (b"no interchange here; DISABLED; ISA\n" * (size // 36 + 1))[:size]
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            with pytest.raises(UnreadableInput, match="no ISA segment found"):
                list(Lexer(data, 64 * 1024))
            best = min(best, time.perf_counter() - start)
        return best

    small, large = seconds(1 << 20), seconds(16 << 20)
    assert large < small * 16 * 3 + 0.05  # linear is about 16x (with room for a busy machine)


def test_isa_in_junk_without_a_separator_is_not_an_interchange() -> None:
    data = x12(*SEGMENTS) + b"\nDISABLED ISA ISA0 ISAZ\n" + x12(*simple_interchange(2, group=2))
    segments, lexer = lex(data, 7)
    assert [s for s in segments if s.startswith("ISA")] == [SEGMENTS[0], simple_interchange(2)[0]]
    assert [(f.code, f.message) for f in lexer.findings] == [
        (Code.SEGMENT_OUTSIDE_ENVELOPE, "23 bytes of data before the ISA were skipped")
    ]


# --- unreadable input ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "no ISA segment found: the input is empty"),
        (b" \r\n\t\x1a", "no ISA segment found: the input is empty"),
        (b"\xef\xbb\xbf", "no ISA segment found: the input is empty"),
        (b"UNB+UNOA:1+SENDER+RECEIVER'", "no ISA segment found: this is not X12"),
    ],
)
def test_input_without_an_isa_is_unreadable(data: bytes, message: str) -> None:
    with pytest.raises(UnreadableInput) as excinfo:
        list(Lexer(data))
    assert str(excinfo.value) == message
