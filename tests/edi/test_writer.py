"""The writer: serialisation with chosen delimiters, envelope builders and computed trailers."""

from __future__ import annotations

from datetime import datetime

import pytest

from edi import Delimiters, Segment, WriteError, parse
from edi.delimiters import ISA_LENGTH
from edi.writer import (
    EnvelopeParties,
    build_group,
    build_interchange,
    build_transaction,
    segment_text,
    write,
    write_segments,
)

WHEN = datetime(2024, 3, 5, 14, 30, 59)
PARTIES = EnvelopeParties("ZZ", "SENDER", "01", "123456789")


def purchase_order(control: str = "0001") -> list[Segment]:
    return [Segment("BEG", ["00", "SA", f"PO{control}", "", "20240305"]), Segment("REF", ["ZZ", "A>B"])]


# --- segments -------------------------------------------------------------------------------


def test_segment_text_uses_the_element_separator() -> None:
    d = Delimiters("|", ">", "\n", "^")
    assert segment_text(Segment("N1", ["ST", "", "A>B^C"]), d) == "N1|ST||A>B^C"
    assert segment_text(Segment("LS", []), d) == "LS"
    assert segment_text(Segment("LS", [""]), d) == "LS|"


@pytest.mark.parametrize(
    ("elements", "message"),
    [
        (["A*B"], "REF01 value 'A*B' contains a delimiter (element '*', segment '~')"),
        (["OK", "X~"], "REF02 value 'X~' contains a delimiter (element '*', segment '~')"),
    ],
)
def test_values_holding_a_delimiter_are_refused(elements: list[str], message: str) -> None:
    with pytest.raises(WriteError) as excinfo:
        segment_text(Segment("REF", elements), Delimiters())
    assert str(excinfo.value) == message


def test_component_and_repetition_separators_are_allowed_in_values() -> None:
    assert segment_text(Segment("REF", ["A:B^C"]), Delimiters()) == "REF*A:B^C"


def test_write_segments_with_and_without_newline() -> None:
    segments = [Segment("ST", ["850", "0001"]), Segment("SE", ["2", "0001"])]
    assert write_segments(segments, Delimiters()) == b"ST*850*0001~SE*2*0001~"
    assert write_segments(segments, Delimiters(), newline=True) == b"ST*850*0001~\nSE*2*0001~\n"
    control = Delimiters("\x1d", "\x1c", "\x07", "\x15")
    assert write_segments(segments, control) == b"ST\x1d850\x1d0001\x07SE\x1d2\x1d0001\x07"


def test_non_ascii_delimiters_are_written_as_single_latin_1_bytes() -> None:
    d = Delimiters("\xa7", ":", "~", None)
    assert write_segments([Segment("N1", ["ST", "Müller"])], d) == b"N1\xa7ST\xa7M\xfcller~"
    assert write_segments([Segment("N1", ["ST", "Müller"])], Delimiters()) == "N1*ST*Müller~".encode()


def test_text_the_interchange_encoding_cannot_hold_is_a_write_error() -> None:
    d = Delimiters("\xa7", ":", "~", None)
    with pytest.raises(WriteError, match="cannot be written as latin-1"):
        write_segments([Segment("N1", ["ST", "5 €"])], d)


# --- envelope builders ----------------------------------------------------------------------


def test_build_transaction_counts_se01_and_echoes_st02() -> None:
    ts = build_transaction("850", "0042", purchase_order())
    assert ts.segments[0] == Segment("ST", ["850", "0042"])
    assert ts.segments[-1] == Segment("SE", ["4", "0042"])
    assert ts.body == purchase_order()
    ts = build_transaction("837", "0001", [], implementation_reference="005010X222A1")
    assert ts.segments == [Segment("ST", ["837", "0001", "005010X222A1"]), Segment("SE", ["2", "0001"])]


def test_build_group_counts_sets_and_echoes_gs06() -> None:
    sets = [build_transaction("850", f"000{n}", purchase_order()) for n in (1, 2, 3)]
    group = build_group("PO", "SND", "RCV", "0007", "004010", sets, when=WHEN)
    assert group.header == Segment("GS", ["PO", "SND", "RCV", "20240305", "1430", "7", "X", "004010"])
    assert group.trailer == Segment("GE", ["3", "7"])
    assert group.transactions == sets


@pytest.mark.parametrize("control_number", [1_000_000_000, -5, "-5"])
def test_build_group_refuses_a_control_number_that_is_not_1_to_9_digits(control_number: int | str) -> None:
    with pytest.raises(WriteError, match=f"group control number {control_number} is not 1-9 digits"):
        build_group("PO", "SND", "RCV", control_number, "004010", [], when=WHEN)


def test_build_interchange_pads_isa_fields_to_fixed_width() -> None:
    ix = build_interchange(PARTIES, 42, [], when=WHEN, usage="T", ack_requested=True)
    assert ix.header.elements == [
        "00",
        " " * 10,
        "00",
        " " * 10,
        "ZZ",
        "SENDER         ",
        "01",
        "123456789      ",
        "240305",
        "1430",
        "U",
        "00401",
        "000000042",
        "1",
        "T",
        ":",
    ]
    assert ix.trailer == Segment("IEA", ["0", "000000042"])
    data = write(ix)
    assert data.index(b"IEA") == ISA_LENGTH
    assert data[ISA_LENGTH - 1 : ISA_LENGTH] == b"~"


@pytest.mark.parametrize(
    ("version", "delimiters", "isa11", "repetition"),
    [
        ("00401", None, "U", None),
        ("00501", None, "^", "^"),
        ("00501", Delimiters("*", ":", "~", "!"), "!", "!"),
        ("00501", Delimiters("*", ":", "~", None), "U", None),
        ("00402", Delimiters("|", ">", "\n", "^"), "^", "^"),
    ],
)
def test_isa11_is_the_repetition_separator_from_00402(
    version: str, delimiters: Delimiters | None, isa11: str, repetition: str | None
) -> None:
    ix = build_interchange(PARTIES, 1, [], when=WHEN, version=version, delimiters=delimiters)
    assert ix.header.get(11) == isa11
    assert ix.header.get(12) == version
    parsed = parse(write(ix))
    assert parsed.findings == []
    assert parsed.interchanges[0].delimiters.repetition == repetition


@pytest.mark.parametrize(
    "delimiters",
    [
        Delimiters(),
        Delimiters("|", ">", "\n", "^"),
        Delimiters("\x1d", "\x1c", "\x07", "\x15"),
        Delimiters("\x7f", "\x1f", "\r", "\x1e"),
        Delimiters("\xa7", "\xb6", "~", "^"),
    ],
)
def test_written_isa_is_106_bytes_whatever_the_delimiters(delimiters: Delimiters) -> None:
    ts = build_transaction("850", "0001", purchase_order())
    group = build_group("PO", "SND", "RCV", 1, "005010", [ts], when=WHEN)
    ix = build_interchange(PARTIES, 1, [group], when=WHEN, version="00501", delimiters=delimiters)
    data = write(ix)
    assert data[ISA_LENGTH - 1] == ord(delimiters.segment)
    assert data[ISA_LENGTH - 2] == ord(delimiters.component)
    assert data[ISA_LENGTH : ISA_LENGTH + 2] == b"GS"
    result = parse(data)
    assert result.findings == []
    assert result.interchanges == [ix]


def test_built_envelopes_pass_envelope_validation() -> None:
    sets = [build_transaction("850", f"{n:04d}", purchase_order(str(n))) for n in range(1, 4)]
    groups = [
        build_group("PO", "SND", "RCV", 1, "004010", sets[:2], when=WHEN),
        build_group("PO", "SND", "RCV", 2, "004010", sets[2:], when=WHEN),
    ]
    ix = build_interchange(PARTIES, 9, groups, when=WHEN)
    assert ix.trailer == Segment("IEA", ["2", "000000009"])
    result = parse(write(ix, newline=True))
    assert result.findings == []
    assert [[t.segments for t in g.transactions] for g in result.summaries[0].groups] == [[4, 4], [4]]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"control_number": 1_000_000_000}, "does not fit 9 digits"),
        (
            {"parties": EnvelopeParties("ZZ", "S" * 16, "ZZ", "R")},
            "ISA sender ID 'SSSSSSSSSSSSSSSS' is longer than 15",
        ),
        (
            {"parties": EnvelopeParties("ZZ", "S", "ZZ", "R" * 16)},
            "ISA receiver ID 'RRRRRRRRRRRRRRRR' is longer",
        ),
        ({"usage": "X"}, "usage indicator 'X' is not P, T or I"),
        ({"control_number": -1}, "interchange control number -1 does not fit 9 digits"),
        ({"parties": EnvelopeParties("Z", "S", "ZZ", "R")}, "ISA sender qualifier 'Z' is not 2 characters"),
        (
            {"parties": EnvelopeParties("ZZ", "S", "ZZZ", "R")},
            "ISA receiver qualifier 'ZZZ' is not 2 characters",
        ),
        ({"version": "4010"}, "ISA version '4010' is not 5 characters"),
    ],
)
def test_build_interchange_refuses_values_that_do_not_fit(kwargs: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {"parties": PARTIES, "control_number": 1, "groups": [], "when": WHEN}
    arguments.update(kwargs)
    with pytest.raises(WriteError, match=message):
        build_interchange(**arguments)  # type: ignore[arg-type]


def test_write_refuses_an_envelope_value_holding_a_delimiter() -> None:
    ts = build_transaction("850", "0001", [Segment("REF", ["ZZ", "A|B"])])
    group = build_group("PO", "SND", "RCV", 1, "004010", [ts], when=WHEN)
    ix = build_interchange(PARTIES, 1, [group], when=WHEN, delimiters=Delimiters("|", ">", "~", None))
    with pytest.raises(WriteError, match=r"REF02 value 'A\|B' contains a delimiter"):
        write(ix)


def test_write_takes_one_interchange_or_several_each_with_its_own_delimiters() -> None:
    ts = build_transaction("850", "0001", purchase_order())
    group = build_group("PO", "SND", "RCV", 1, "004010", [ts], when=WHEN)
    other = build_group("PO", "SND", "RCV", 2, "004010", [ts], when=WHEN)  # GS06 unique in the file
    star = build_interchange(PARTIES, 1, [group], when=WHEN)
    pipe = build_interchange(PARTIES, 2, [other], when=WHEN, delimiters=Delimiters("|", "\\", "\n", None))
    assert write([star]) == write(star)
    data = write([star, pipe], newline=True)
    assert data == write(star, newline=True) + write(pipe, newline=True)
    assert b"~\nGS*PO" in data
    assert b"\n\nGS|PO" in data
    result = parse(data)
    assert result.interchanges == [star, pipe]
    assert result.findings == []


def test_service_segments_are_written_after_the_isa() -> None:
    ta1 = Segment("TA1", ["000000007", "240305", "1430", "A", "000"])
    ix = build_interchange(PARTIES, 8, [], when=WHEN, service_segments=[ta1])
    data = write(ix)
    assert data[ISA_LENGTH:] == b"TA1*000000007*240305*1430*A*000~IEA*0*000000008~"
    assert parse(data).interchanges == [ix]


def test_envelope_parties_swap_for_replies() -> None:
    assert PARTIES.swapped() == EnvelopeParties("01", "123456789", "ZZ", "SENDER")
    assert PARTIES.swapped().swapped() == PARTIES
