"""The reader: sources, streaming interchanges, the model it builds, summaries and the validator hook."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from edi import (
    Code,
    Delimiters,
    Finding,
    Location,
    Reader,
    Segment,
    Severity,
    iter_interchanges,
    parse,
    read_summary,
)
from tests.edi.strategies import isa_text, simple_interchange, x12

MULTI = [
    isa_text(1, element="|", component=">", isa11="^", version="00501"),
    "GS|PO|SND|RCV|20240305|1430|1|X|005010",
    "ST|850|0001",
    "BEG|00|SA|PO1||20240305",
    "REF|ZZ|A^B^C|C1>C2",
    "SE|4|0001",
    "ST|850|0002",
    "SE|2|0002",
    "GE|2|1",
    "GS|IN|SND|RCV|20240305|1430|2|X|005010",
    "ST|810|0003",
    "SE|2|0003",
    "GE|1|2",
    "IEA|2|000000001",
]


class CountingReader(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.read_sizes: list[int | None] = []

    def read(self, size: int | None = -1, /) -> bytes:
        self.read_sizes.append(size)
        return super().read(size)


def sample() -> bytes:
    return x12(*MULTI, terminator="\n") + x12(*simple_interchange(2, group=3), after="\r\n")


def test_bytes_path_and_file_object_parse_the_same(tmp_path: Path) -> None:
    data = sample()
    path = tmp_path / "sample.edi"
    path.write_bytes(data)
    expected = parse(data)
    assert len(expected.interchanges) == 2
    for source in (str(path), path, io.BytesIO(data)):
        result = parse(source)
        assert result.interchanges == expected.interchanges
        assert result.summaries == expected.summaries
        assert result.findings == expected.findings == []


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 7, 64])
def test_any_chunk_size_builds_the_same_model(chunk_size: int) -> None:
    data = b"\xef\xbb\xbf" + sample() + b"\x1a"
    expected = parse(data)
    reader = Reader(CountingReader(data), build=True, chunk_size=chunk_size)
    assert list(reader.interchanges()) == expected.interchanges
    assert reader.summaries == expected.summaries
    assert reader.findings == expected.findings


def test_interchanges_are_yielded_before_the_rest_is_read() -> None:
    data = b"".join(x12(*simple_interchange(n)) for n in range(1, 2000))
    source = CountingReader(data)
    stream = Reader(source, build=True, chunk_size=4096).interchanges()
    first = next(stream)
    assert first.control_number == "000000001"
    assert source.tell() <= 4096 * 2
    assert [ix.control_number for ix in stream][-1] == "000001999"
    assert source.tell() == len(data)
    assert set(source.read_sizes) == {4096}


def test_iter_interchanges_is_lazy() -> None:
    source = CountingReader(x12(*simple_interchange(1)) + x12(*simple_interchange(2)))
    stream = iter_interchanges(source)
    assert source.read_sizes == []
    assert [ix.control_number for ix in stream] == ["000000001", "000000002"]


def test_the_model_keeps_raw_element_text() -> None:
    result = parse(x12(*MULTI))
    ix = result.interchanges[0]
    assert ix.delimiters == Delimiters("|", ">", "~", "^")
    assert (ix.sender_qualifier, ix.sender, ix.receiver_qualifier, ix.receiver) == (
        "ZZ",
        "SENDER",
        "ZZ",
        "RECEIVER",
    )
    assert (ix.control_number, ix.version, ix.usage, ix.ack_requested) == ("000000001", "00501", "P", False)
    assert ix.trailer == Segment("IEA", ["2", "000000001"])
    assert [(g.functional_id, g.control_number, g.version) for g in ix.groups] == [
        ("PO", "1", "005010"),
        ("IN", "2", "005010"),
    ]
    po = ix.groups[0].transactions[0]
    assert (po.set_id, po.control_number) == ("850", "0001")
    assert [s.id for s in po.segments] == ["ST", "BEG", "REF", "SE"]
    ref = po.body[1]
    assert ref == Segment("REF", ["ZZ", "A^B^C", "C1>C2"])
    assert ref.repetitions(2, ix.delimiters) == ["A", "B", "C"]
    assert ref.components(3, ix.delimiters) == ["C1", "C2"]
    assert po.body[0].get(4) == ""
    assert ix.groups[1].trailer == Segment("GE", ["1", "2"])


def test_before_00402_there_is_no_repetition_separator() -> None:
    segments = simple_interchange()
    segments[3] = "BEG*00*SA*A^B**20240305"
    ix = parse(x12(*segments)).interchanges[0]
    assert ix.delimiters.repetition is None
    assert ix.groups[0].transactions[0].body[0].repetitions(3, ix.delimiters) == ["A^B"]


def test_summaries_describe_every_interchange_group_and_set() -> None:
    data = sample()
    summaries, findings = read_summary(data)
    assert findings == []
    first, second = summaries
    assert first.as_dict() == {
        "sender_qualifier": "ZZ",
        "sender": "SENDER",
        "receiver_qualifier": "ZZ",
        "receiver": "RECEIVER",
        "control_number": "000000001",
        "version": "00501",
        "usage": "P",
        "ack_requested": False,
        "delimiters": {"element": "|", "component": ">", "segment": "\n", "repetition": "^"},
        "groups": [
            {
                "functional_id": "PO",
                "sender": "SND",
                "receiver": "RCV",
                "control_number": "1",
                "version": "005010",
                "transactions": [
                    {"set_id": "850", "control_number": "0001", "segments": 4, "valid": True},
                    {"set_id": "850", "control_number": "0002", "segments": 2, "valid": True},
                ],
            },
            {
                "functional_id": "IN",
                "sender": "SND",
                "receiver": "RCV",
                "control_number": "2",
                "version": "005010",
                "transactions": [{"set_id": "810", "control_number": "0003", "segments": 2, "valid": True}],
            },
        ],
    }
    assert (first.date, first.time, first.byte_offset, first.complete) == ("240305", "1430", 0, True)
    assert second.byte_offset == len(x12(*MULTI, terminator="\n"))
    assert second.delimiters == Delimiters("*", ":", "~", None)


def test_summary_mode_keeps_no_segments_but_counts_them() -> None:
    reader = Reader(x12(*MULTI), build=False)
    assert list(reader.interchanges()) == []
    assert [t.segments for g in reader.summaries[0].groups for t in g.transactions] == [4, 2, 2]


def test_parse_result_has_errors() -> None:
    segments = simple_interchange()
    assert not parse(x12(*segments)).has_errors
    segments[4] = "SE*7*0001"
    result = parse(x12(*segments))
    assert result.has_errors
    assert [f.code for f in result.findings] == [Code.SE_COUNT]


def test_missing_iea_still_yields_the_interchange() -> None:
    segments = simple_interchange()[:-1]
    result = parse(x12(*segments))
    assert len(result.interchanges) == 1
    assert result.interchanges[0].trailer is None
    assert result.interchanges[0].groups[0].trailer == Segment("GE", ["1", "1"])


def test_new_isa_without_iea_closes_the_open_interchange() -> None:
    first = simple_interchange(1)[:4]  # ISA GS ST BEG: set, group and interchange left open
    result = parse(x12(*first, *simple_interchange(2)))
    assert [ix.control_number for ix in result.interchanges] == ["000000001", "000000002"]
    assert [(f.code, f.location) for f in result.findings] == [
        (Code.IEA_MISSING, Location(0)),
        (Code.SE_MISSING, Location(0, 0, 0, 2)),
        (Code.GE_MISSING, Location(0, 0)),
    ]
    assert result.interchanges[0].groups[0].transactions[0].segments[-1].id == "BEG"


def test_interchanges_with_different_delimiters_after_a_missing_iea() -> None:
    """A truncated interchange followed by one with other separators: both are read."""
    first = simple_interchange(1)[:-1]
    second = [isa_text(2, element="|", component=">", isa11="^", version="00501")] + [
        s.replace("*", "|") for s in simple_interchange(2)[1:]
    ]
    data = x12(*first) + x12(*second, terminator="\n")
    result = parse(data)
    assert [ix.control_number for ix in result.interchanges] == ["000000001", "000000002"]
    assert [f.code for f in result.findings] == [Code.IEA_MISSING]


# --- the set validator hook -------------------------------------------------------------------


def test_validator_sees_every_complete_set_with_its_context() -> None:
    calls: list[tuple[list[str], Delimiters, str, int, int, int]] = []

    def validator(
        segments: list[Segment], delims: Delimiters, version: str, ix: int, group: int, ts: int
    ) -> list[Finding] | None:
        calls.append(([s.id for s in segments], delims, version, ix, group, ts))
        return []

    _summaries, findings = read_summary(sample(), validator=validator)
    assert findings == []
    pipe = Delimiters("|", ">", "\n", "^")
    assert calls == [
        (["ST", "BEG", "REF", "SE"], pipe, "005010", 0, 0, 0),
        (["ST", "SE"], pipe, "005010", 0, 0, 1),
        (["ST", "SE"], pipe, "005010", 0, 1, 0),
        (["ST", "BEG", "SE"], Delimiters("*", ":", "~", None), "004010", 1, 0, 0),
    ]


def test_validator_findings_are_reported_and_invalidate_their_set() -> None:
    def validator(
        segments: list[Segment], delims: Delimiters, version: str, ix: int, group: int, ts: int
    ) -> list[Finding] | None:
        if segments[0].get(2) != "0002":
            return []
        where = Location(ix, group, ts, 2, "REF", 1)
        return [Finding(Code.ELEMENT_INVALID_CODE, "bad code", where, Severity.ERROR, "XX")]

    segments = simple_interchange(sets=("0001", "0002", "0003"))
    result = parse(x12(*segments), validator=validator)
    assert [(f.code, f.location) for f in result.findings] == [
        (Code.ELEMENT_INVALID_CODE, Location(0, 0, 1, 2, "REF", 1))
    ]
    assert [t.valid for t in result.summaries[0].groups[0].transactions] == [True, False, True]


def test_validator_without_a_schema_gives_an_info_finding() -> None:
    def no_schema(
        segments: list[Segment], delims: Delimiters, version: str, ix: int, group: int, ts: int
    ) -> list[Finding] | None:
        return None

    result = parse(x12(*simple_interchange()), validator=no_schema)
    assert [(f.code, f.severity, f.location) for f in result.findings] == [
        (Code.SET_UNSUPPORTED, Severity.INFO, Location(0, 0, 0))
    ]
    assert not result.has_errors
    assert result.summaries[0].groups[0].transactions[0].valid
