"""ISA delimiter detection: fixed-width headers, repetition separators, damaged and unrecoverable ISAs."""

from __future__ import annotations

import pytest

from edi import Code, Delimiters, Location, Reader, Severity, UnreadableInput, parse
from edi.delimiters import ISA_LENGTH
from edi.isa import MAX_ISA_SCAN, IsaUnreadable, detect_isa, salvage_isa
from tests.edi.strategies import isa_text, simple_interchange, x12

REST = simple_interchange()[1:]


def head(data: bytes) -> bytes:
    return data[:MAX_ISA_SCAN]


def test_well_formed_isa_is_read_at_fixed_offsets() -> None:
    data = x12(*simple_interchange())
    header = detect_isa(head(data), at_eof=False)
    assert header.delimiters == Delimiters("*", ":", "~", None)
    assert header.length == ISA_LENGTH
    assert header.codec == "utf-8"
    assert header.problems == []


@pytest.mark.parametrize(
    ("isa11", "version", "repetition"),
    [
        ("U", "00401", None),  # before 00402 ISA11 is the standards identifier
        ("U", "00200", None),
        ("^", "00402", "^"),  # from 00402 on it is the repetition separator
        ("^", "00501", "^"),
        ("!", "00601", "!"),
        ("U", "00501", None),  # a letter is never a separator
    ],
)
def test_repetition_separator_depends_on_the_version(
    isa11: str, version: str, repetition: str | None
) -> None:
    data = x12(isa_text(isa11=isa11, version=version), *REST)
    assert detect_isa(head(data), at_eof=False).delimiters.repetition == repetition


def test_repetition_separator_before_00402_is_ignored_and_reported() -> None:
    result = parse(x12(isa_text(isa11="^", version="00401"), *REST))
    assert result.summaries[0].delimiters.repetition is None
    assert [(f.code, f.location, f.bad_value) for f in result.findings] == [
        (
            Code.ISA_STANDARDS_ID,
            Location(interchange=0, segment_position=1, segment_id="ISA", element=11),
            "^",
        )
    ]


def test_repetition_equal_to_another_delimiter_is_not_a_repetition_separator() -> None:
    data = x12(isa_text(isa11=":", version="00501"), *REST)
    assert detect_isa(head(data), at_eof=False).delimiters == Delimiters("*", ":", "~", None)


def test_non_ascii_delimiter_switches_the_codec_to_latin_1() -> None:
    data = x12(isa_text(element="\xa7"), *REST, element="\xa7")
    header = detect_isa(head(data), at_eof=False)
    assert header.delimiters.element == "\xa7"
    assert header.codec == "latin-1"


# --- damaged but recoverable --------------------------------------------------------------


@pytest.mark.parametrize(
    ("sender", "length"),
    [("SENDER", 97), ("SENDER_ID_16CHAR", 107), ("", 91)],
)
def test_isa_of_the_wrong_length_is_recovered(sender: str, length: int) -> None:
    isa = isa_text().replace("SENDER         ", sender)
    data = x12(isa, *REST)
    header = detect_isa(head(data), at_eof=False)
    assert header.length == length
    assert header.delimiters == Delimiters("*", ":", "~", None)
    assert header.problems == [
        (Code.ISA_LENGTH, Severity.ERROR, f"ISA is {length} bytes, not 106: fields are not fixed width"),
        (
            Code.ISA_RECOVERED,
            Severity.WARNING,
            "recovered delimiters {'element': '*', 'component': ':', 'segment': '~', 'repetition': None}",
        ),
    ]


def test_reader_carries_on_after_a_recovered_isa() -> None:
    good = x12(*simple_interchange(1))
    damaged = x12(isa_text(2).replace("RECEIVER       ", "RCV"), *simple_interchange(2, group=2)[1:])
    result = parse(good + damaged)
    assert len(result.interchanges) == 2
    assert result.interchanges[1].receiver == "RCV"
    assert [ts.control_number for _, ts in result.interchanges[1].transactions()] == ["0001"]
    at = Location(interchange=1, byte_offset=len(good))
    isa08 = Location(interchange=1, segment_position=1, segment_id="ISA", element=8)
    assert [(f.code, f.severity, f.location) for f in result.findings] == [
        (Code.ISA_LENGTH, Severity.ERROR, at),
        (Code.ISA_RECOVERED, Severity.WARNING, at),
        (Code.ISA_RECEIVER, Severity.ERROR, isa08),
    ]
    assert result.summaries[1].groups[0].transactions[0].valid


def test_recovered_isa_still_detects_the_repetition_separator() -> None:
    data = x12(isa_text(isa11="^", version="00501").replace("SENDER         ", "SENDER"), *REST)
    header = detect_isa(head(data), at_eof=False)
    assert header.delimiters == Delimiters("*", ":", "~", "^")
    assert header.length == 97


def test_missing_isa16_with_a_line_break_after_the_terminator() -> None:
    # "...*P*~\n": read naively, '~' is ISA16 and LF the terminator.
    isa = isa_text()[:-1]  # drop ISA16, keep its separator
    data = x12(isa, *REST, after="\n")
    header = detect_isa(head(data), at_eof=False)
    assert header.delimiters.segment == "~"
    assert header.delimiters.element == "*"
    assert header.delimiters.component not in ("*", "~")
    assert header.length == ISA_LENGTH - 1
    assert header.problems == [
        (
            Code.ISA_COMPONENT_SEPARATOR,
            Severity.ERROR,
            "ISA16 is missing: '~' is the segment terminator, not the component separator",
        )
    ]
    result = parse(data)
    assert [(f.code, f.location) for f in result.findings] == [
        (Code.ISA_COMPONENT_SEPARATOR, Location(interchange=0, byte_offset=0))
    ]
    assert [ts.set_id for _, ts in result.interchanges[0].transactions()] == ["850"]


def test_missing_isa16_without_a_line_break_is_unreadable() -> None:
    data = x12(isa_text()[:-1], *REST)
    with pytest.raises(
        UnreadableInput, match=r"cannot recover a segment terminator from the ISA \(found b'G'\)"
    ):
        parse(data)


# --- unrecoverable ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"ISA", "input ends inside the ISA header"),
        (b"ISA 00 ", "invalid element separator b' ' after ISA"),
        (b"ISA000", "invalid element separator b'0' after ISA"),
        (b"ISA\n00", "invalid element separator b'\\n' after ISA"),
        (b"ISA*00*          *00*~", "ISA header has fewer than 16 elements"),
        (x12(isa_text())[:60], "ISA header has fewer than 16 elements"),
        (x12(isa_text())[:105], "input ends inside the ISA header"),
        (x12(isa_text(component="A"), *REST), "invalid component separator b'A' in ISA16"),
        (x12(isa_text(component="*"), *REST), "invalid component separator b'*' in ISA16"),
        (
            x12(isa_text(), *REST, terminator="Z"),
            "cannot recover a segment terminator from the ISA (found b'Z')",
        ),
        (
            x12(isa_text(), *REST, terminator="*"),
            "cannot recover a segment terminator from the ISA (found b'*')",
        ),
        (
            x12(isa_text(), *REST, terminator=" "),
            "cannot recover a segment terminator from the ISA (found b' ')",
        ),
    ],
)
def test_unrecoverable_isa_raises_a_clear_error(data: bytes, message: str) -> None:
    with pytest.raises(UnreadableInput) as excinfo:
        parse(data)
    assert str(excinfo.value) == message


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"ISA", Code.ISA_TRUNCATED),
        (b"ISA000", Code.ISA_ELEMENT_SEPARATOR),
        (b"ISA*00*          *00*~", Code.ISA_FIELD),
        (x12(isa_text(component="A"), *REST), Code.ISA_COMPONENT_SEPARATOR),
        (x12(isa_text(), *REST, terminator="Z"), Code.ISA_SEGMENT_TERMINATOR),
    ],
)
def test_unrecoverable_isa_says_which_ta105_code_it_is(data: bytes, code: Code) -> None:
    with pytest.raises(IsaUnreadable) as excinfo:
        detect_isa(head(data), at_eof=True)
    assert excinfo.value.code is code


@pytest.mark.parametrize(
    "terminator",
    [
        "\u2026",  # an ellipsis typed as the terminator: E2 80 A6 in UTF-8
        "\u00d6",  # O-diaeresis in UTF-8: C3 96
    ],
)
def test_a_multi_byte_utf8_terminator_is_refused_as_ambiguous(terminator: str) -> None:
    data = (isa_text() + terminator + terminator.join(REST) + terminator).encode("utf-8")
    with pytest.raises(UnreadableInput, match="looks like the start of a multi-byte UTF-8 character"):
        parse(data)


# --- an unreadable ISA among readable interchanges ----------------------------------------


def test_unreadable_isa_after_a_good_interchange_is_an_interchange_of_its_own() -> None:
    good = x12(*simple_interchange())
    result = parse(good + b"ISA*00*broken~")
    assert [s.control_number for s in result.summaries] == ["000000001", ""]
    assert [ts.control_number for _, ts in result.interchanges[0].transactions()] == ["0001"]
    assert result.interchanges[1].groups == []
    assert [(f.code, f.severity, f.location, f.message) for f in result.findings] == [
        (
            Code.ISA_FIELD,
            Severity.ERROR,
            Location(interchange=1, byte_offset=len(good)),
            "unreadable ISA, interchange skipped: ISA header has fewer than 16 elements; "
            "14 bytes to the end of the input were skipped",
        )
    ]
    assert Code.ISA_FIELD.spec.ack_code == "022"


def test_interchanges_before_and_after_an_unreadable_isa_are_kept() -> None:
    first = x12(*simple_interchange(1))
    bad = x12(isa_text(2, sender="BROKEN"), *simple_interchange(2, group=2)[1:], terminator="Z")
    last = x12(*simple_interchange(3, group=3))
    result = parse(first + bad + last)
    assert [(s.control_number, s.sender, s.complete) for s in result.summaries] == [
        ("000000001", "SENDER", True),
        ("000000002", "BROKEN", False),  # salvaged from the fixed-width fields
        ("000000003", "SENDER", True),
    ]
    assert [len(ix.groups) for ix in result.interchanges] == [1, 0, 1]
    assert [(f.code, f.location) for f in result.findings] == [
        (Code.ISA_SEGMENT_TERMINATOR, Location(interchange=1, byte_offset=len(first)))
    ]
    assert f"{len(bad)} bytes up to the next ISA were skipped" in result.findings[0].message


def test_unreadable_first_isa_before_a_good_interchange() -> None:
    bad = x12(isa_text(1), *REST, terminator="Z")
    good = x12(*simple_interchange(2, group=2))
    result = parse(bad + good)
    assert [(s.control_number, s.complete) for s in result.summaries] == [
        ("000000001", False),
        ("000000002", True),
    ]
    assert [(f.code, f.location.interchange) for f in result.findings] == [(Code.ISA_SEGMENT_TERMINATOR, 0)]


def test_unreadable_isa_only_is_still_unreadable_input() -> None:
    bad = x12(isa_text(1), *REST, terminator="Z")
    with pytest.raises(
        UnreadableInput, match=r"cannot recover a segment terminator from the ISA \(found b'Z'\)"
    ):
        parse(bad + bad)


def test_salvaged_isa_splits_what_it_can() -> None:
    text, delimiters = salvage_isa(x12(isa_text(5, sender="ME"), *REST, terminator="Z"))
    assert text == isa_text(5, sender="ME")
    assert delimiters.element == "*"
    assert salvage_isa(b"ISA*00*  \r\nGS*")[0] == "ISA*00*  "
    assert salvage_isa(b"ISA\n00")[0] == "ISA"


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 5, 64, 107, 4096])
def test_an_unreadable_isa_reads_the_same_whatever_the_chunk_size(chunk_size: int) -> None:
    first = x12(*simple_interchange(1))
    bad = x12(isa_text(2), *simple_interchange(2)[1:], terminator="Z")
    data = first + b"junk " + bad + x12(*simple_interchange(3)) + b"ISA*00*   "
    one_shot = Reader(data)
    expected = [(s.control_number, s.byte_offset, s.complete) for s in one_shot.run()]
    chunked = Reader(data, chunk_size=chunk_size)
    assert [(s.control_number, s.byte_offset, s.complete) for s in chunked.run()] == expected
    assert chunked.findings == one_shot.findings
    assert [f.code for f in one_shot.findings] == [
        Code.SEGMENT_OUTSIDE_ENVELOPE,
        Code.ISA_SEGMENT_TERMINATOR,
        Code.ISA_FIELD,
    ]
    assert [c for c, _, _ in expected] == ["000000001", "000000002", "000000003", ""]
