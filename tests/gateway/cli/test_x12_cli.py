"""The ``edigate x12 inspect|validate`` contract: JSON shape, text tree, exit codes, bad input, memory.

Most tests call :func:`gateway.cli.main.main` in-process; a few run the installed
console script, which is what scripts and support use.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from edi.delimiters import Delimiters
from edi.findings import Code, Finding, Location
from edi.model import Segment
from gateway.cli import x12 as x12_cli
from gateway.cli.main import main

SENDER, RECEIVER = "SENDER", "RECEIVER"


def isa(control: str = "000000001", version: str = "00401", isa11: str = "U", ack: str = "1") -> str:
    text = (
        f"ISA*00*{'':10}*00*{'':10}*ZZ*{SENDER:15}*ZZ*{RECEIVER:15}*240102*1230*{isa11}*{version}*"
        f"{control}*{ack}*T*>~"
    )
    assert len(text) == 106
    return text


def transaction(control: str, lines: int, se01: int | None = None, set_id: str = "850") -> str:
    """ST, BEG, ``lines`` PO1 segments, CTT, SE: ``lines + 4`` segments."""
    segments = [f"ST*{set_id}*{control}", "BEG*00*SA*PO1**20240102"]
    segments += [f"PO1*{n}*1*EA*9.99**VP*ITEM{n}" for n in range(1, lines + 1)]
    segments += [f"CTT*{lines}", f"SE*{se01 if se01 is not None else lines + 4}*{control}"]
    return "~".join(segments) + "~"


def group(control: str, *sets: str, ge01: int | None = None) -> str:
    count = len(sets) if ge01 is None else ge01
    return (
        f"GS*PO*{SENDER}*{RECEIVER}*20240102*1230*{control}*X*004010~"
        + "".join(sets)
        + f"GE*{count}*{control}~"
    )


def interchange(*groups: str, control: str = "000000001", **isa_fields: str) -> str:
    return isa(control, **isa_fields) + "".join(groups) + f"IEA*{len(groups)}*{control}~"


def write(tmp_path: Path, text: str | bytes, name: str = "in.edi") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["x12", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def inspect_json(capsys: pytest.CaptureFixture[str], path: Path, *options: str) -> dict[str, Any]:
    code, out, err = run(capsys, "inspect", str(path), *options)
    assert (code, err) == (0, "")
    document: dict[str, Any] = json.loads(out)
    return document


@pytest.fixture
def two_sets(tmp_path: Path) -> Path:
    """One interchange, one group, two 850s: 7 segments (valid) and 5 segments with SE01=9."""
    return write(tmp_path, interchange(group("17", transaction("0001", 3), transaction("0002", 1, se01=9))))


# --- inspect: JSON ---------------------------------------------------------------------------------------


def test_inspect_json_has_the_documented_shape(capsys: pytest.CaptureFixture[str], two_sets: Path) -> None:
    document = inspect_json(capsys, two_sets)
    assert document["interchanges"] == [
        {
            "sender_qualifier": "ZZ",
            "sender": SENDER,
            "receiver_qualifier": "ZZ",
            "receiver": RECEIVER,
            "control_number": "000000001",
            "version": "00401",
            "usage": "T",
            "ack_requested": True,
            "delimiters": {"element": "*", "component": ">", "segment": "~", "repetition": None},
            "groups": [
                {
                    "functional_id": "PO",
                    "sender": SENDER,
                    "receiver": RECEIVER,
                    "control_number": "17",
                    "version": "004010",
                    "transactions": [
                        {"set_id": "850", "control_number": "0001", "segments": 7, "valid": True},
                        {"set_id": "850", "control_number": "0002", "segments": 5, "valid": False},
                    ],
                }
            ],
        }
    ]
    [finding] = document["findings"]
    assert finding["severity"] == "error"
    assert finding["code"] == "se-count"
    assert finding["location"] == {
        "interchange": 0,
        "group": 0,
        "transaction": 1,
        "segment_position": 5,
        "segment_id": "SE",
        "element": 1,
    }
    assert "9" in finding["message"]


def test_inspect_is_json_by_default_and_exits_0_despite_findings(
    capsys: pytest.CaptureFixture[str], two_sets: Path
) -> None:
    code, out, _ = run(capsys, "inspect", str(two_sets))
    assert code == 0
    assert json.loads(out)["findings"][0]["code"] == "se-count"


def test_inspect_json_covers_several_interchanges_and_delimiters(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    first = interchange(group("1", transaction("0001", 2)), control="000000001")
    second = interchange(
        group("2", transaction("0001", 1), transaction("0002", 2)),
        group("3", transaction("0001", 5)),
        control="000000002",
        version="00501",
        isa11="^",
        ack="0",
    )
    document = inspect_json(capsys, write(tmp_path, first + "\r\n" + second + "\n"))
    assert document["findings"] == []
    ix1, ix2 = document["interchanges"]
    assert (ix1["version"], ix1["delimiters"]["repetition"], ix1["ack_requested"]) == ("00401", None, True)
    assert (ix2["version"], ix2["delimiters"]["repetition"], ix2["ack_requested"]) == ("00501", "^", False)
    shape = [[[t["segments"] for t in g["transactions"]] for g in ix["groups"]] for ix in (ix1, ix2)]
    assert shape == [[[6]], [[5, 6], [9]]]


def test_a_set_is_invalid_only_when_an_error_falls_inside_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # GE01 is wrong (a group error) and the second set's SE02 differs from its ST02 (a set error).
    bad_se02 = transaction("0002", 1).replace("SE*5*0002", "SE*5*0009")
    document = inspect_json(
        capsys, write(tmp_path, interchange(group("5", transaction("0001", 1), bad_se02, ge01=3)))
    )
    assert sorted(f["code"] for f in document["findings"]) == ["ge-count", "se-control-mismatch"]
    sets = document["interchanges"][0]["groups"][0]["transactions"]
    assert [t["valid"] for t in sets] == [True, False]


# --- inspect: text ---------------------------------------------------------------------------------------


def test_inspect_text_prints_a_tree_and_the_findings(
    capsys: pytest.CaptureFixture[str], two_sets: Path
) -> None:
    code, out, err = run(capsys, "inspect", str(two_sets), "--format", "text")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == str(two_sets)
    assert lines[1].startswith("ISA 000000001  ZZ:SENDER -> ZZ:RECEIVER  version 00401  usage T")
    assert "segment '~'" in lines[2]
    assert lines[3].startswith("  GS 17  PO  SENDER -> RECEIVER  version 004010")
    assert lines[4] == "    ST 850 0001  7 segments  valid"
    assert lines[5] == "    ST 850 0002  5 segments  INVALID"
    assert lines[6] == "findings: 1 error(s), 0 warning(s), 0 info"
    assert lines[7].startswith("  error se-count: ")
    assert lines[7].endswith("(interchange 1, group 1, set 2, segment 5 SE01)")
    assert len(lines) == 8


def test_inspect_text_survives_undecodable_bytes(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = interchange(group("1", transaction("0001", 1))).encode().replace(b"ITEM1", b"IT\xff\xfeM1")
    data = data.replace(b"GS*PO*SENDER", b"GS*PO*SEN\xffER")
    code, out, _ = run(capsys, "inspect", str(write(tmp_path, data)), "--format", "text")
    assert code == 0
    assert "SEN\\udcffER -> RECEIVER" in out
    document = inspect_json(capsys, tmp_path / "in.edi")
    assert document["interchanges"][0]["groups"][0]["sender"] == "SEN\udcffER"


# --- schema validation wiring ----------------------------------------------------------------------------


class RecordingValidator:
    """Stands in for the schema validator: flags every BEG as unexpected and records each call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, int]] = []

    def __call__(
        self, segments: list[Segment], delimiters: Delimiters, version: str, ix: int, gx: int, tx: int
    ) -> list[Finding] | None:
        self.calls.append((segments[0].get(2), version, len(segments)))
        position = next(n for n, s in enumerate(segments, start=1) if s.id == "BEG")
        return [
            Finding(Code.SEGMENT_UNEXPECTED, "BEG not allowed here", Location(ix, gx, tx, position, "BEG"))
        ]


@pytest.fixture
def recording(monkeypatch: pytest.MonkeyPatch) -> RecordingValidator:
    validator = RecordingValidator()
    monkeypatch.setattr(x12_cli, "SCHEMA_VALIDATOR", validator)
    return validator


def test_inspect_runs_schema_validation_per_set(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, recording: RecordingValidator
) -> None:
    path = write(tmp_path, interchange(group("1", transaction("0001", 2), transaction("0002", 1))))
    document = inspect_json(capsys, path)
    assert recording.calls == [("0001", "004010", 6), ("0002", "004010", 5)]
    assert [f["code"] for f in document["findings"]] == ["segment-unexpected", "segment-unexpected"]
    assert [t["valid"] for t in document["interchanges"][0]["groups"][0]["transactions"]] == [False, False]
    code, out, _ = run(capsys, "validate", str(path))
    assert code == 1
    assert len(out.splitlines()) == 2


def test_envelope_only_skips_schema_validation(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, recording: RecordingValidator
) -> None:
    path = write(tmp_path, interchange(group("1", transaction("0001", 2))))
    document = inspect_json(capsys, path, "--envelope-only")
    assert (recording.calls, document["findings"]) == ([], [])
    assert run(capsys, "validate", str(path), "--envelope-only")[0] == 0
    assert recording.calls == []


# --- validate --------------------------------------------------------------------------------------------


def test_validate_exits_0_for_a_valid_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write(tmp_path, interchange(group("1", transaction("0001", 2))))
    code, out, err = run(capsys, "validate", str(path))
    assert (code, out) == (0, "")
    assert err.strip() == f"{path}: valid; 1 interchange(s), 1 set(s)"


def test_validate_exits_1_and_prints_one_line_per_finding(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    text = interchange(
        group("1", transaction("0001", 2, se01=3), transaction("0002", 1)), control="000000042"
    )
    path = write(tmp_path, text.replace("IEA*1*000000042", "IEA*1*000000043"))
    code, out, err = run(capsys, "validate", str(path))
    assert code == 1
    lines = out.splitlines()
    assert len(lines) == 2
    assert all(line.startswith(f"{path}: error ") for line in lines)
    assert {line.split()[2].rstrip(":") for line in lines} == {"se-count", "iea-control-mismatch"}
    assert "2 error(s), 0 warning(s)" in err


def test_validate_exits_1_when_there_are_only_warnings(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # The last segment lacks its terminator: a warning, still a finding.
    path = write(tmp_path, interchange(group("1", transaction("0001", 1)))[:-1])
    code, out, err = run(capsys, "validate", str(path))
    assert code == 1
    assert out.count("\n") == 1
    assert ": warning interchange-structure: " in out
    assert f"{path}: 0 error(s), 1 warning(s); 1 interchange(s), 1 set(s)" in err


def test_validate_errors_only_ignores_warnings(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write(tmp_path, interchange(group("1", transaction("0001", 1)))[:-1])
    code, out, err = run(capsys, "validate", str(path), "--errors-only")
    assert (code, out) == (0, "")
    assert f"{path}: valid; 1 interchange(s), 1 set(s)" in err
    bad = write(tmp_path, interchange(group("1", transaction("0001", 1, se01=9)))[:-1], "bad.edi")
    code, out, _ = run(capsys, "validate", str(bad), "--errors-only")
    assert code == 1
    assert [line.split()[2] for line in out.splitlines()] == ["se-count:"]


def test_validate_info_notes_are_printed_but_do_not_count(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # An 860 has no shipped schema: "envelope checked only" is an info note, not a problem.
    path = write(tmp_path, interchange(group("1", transaction("0001", 1, set_id="860"))))
    code, out, err = run(capsys, "validate", str(path))
    assert code == 0
    assert ": info set-unsupported: " in out
    assert ": valid; " in err


# --- bad input -------------------------------------------------------------------------------------------


def _bad_inputs(tmp_path: Path) -> dict[str, Path]:
    garbage = bytes(range(256)) * 40
    return {
        "missing": tmp_path / "does-not-exist.edi",
        "directory": tmp_path,
        "empty": write(tmp_path, b"", "empty.edi"),
        "binary": write(tmp_path, b"\x89PNG\r\n\x1a\n" + garbage, "image.png"),
        "not-x12": write(tmp_path, "UNA:+.? 'UNB+UNOC:3+SENDER+RECEIVER'", "edifact.txt"),
        "truncated-isa": write(tmp_path, "ISA*00*          *00", "truncated.edi"),
        "multibyte-terminator": write(tmp_path, isa()[:-1].encode() + "…GS*PO…".encode(), "ellipsis.edi"),
    }


@pytest.mark.parametrize("command", ["inspect", "validate"])
@pytest.mark.parametrize(
    "case", ["missing", "directory", "empty", "binary", "not-x12", "truncated-isa", "multibyte-terminator"]
)
def test_unreadable_input_gives_exit_2_and_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str, case: str
) -> None:
    path = _bad_inputs(tmp_path)[case]
    code, out, err = run(capsys, command, str(path))
    assert code == 2
    assert out == ""
    assert len(err.splitlines()) == 1
    assert err.startswith(f"edigate x12 {command}: {path}: ")
    assert "Traceback" not in err


def test_unreadable_reasons_are_specific(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    inputs = _bad_inputs(tmp_path)
    reasons = {
        case: run(capsys, "inspect", str(path))[2].rsplit(": ", 1)[1].strip() for case, path in inputs.items()
    }
    assert reasons["missing"] == "No such file or directory"
    assert reasons["directory"] == "Is a directory"
    assert "empty" in reasons["empty"]
    assert "not X12" in reasons["binary"]


def test_bad_arguments_are_a_usage_error(capsys: pytest.CaptureFixture[str], two_sets: Path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["x12", "inspect", str(two_sets), "--format", "xml"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


# --- the installed console script ------------------------------------------------------------------------


def _script(script: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(script), "x12", *argv], capture_output=True, text=True, timeout=60, check=False
    )


def test_console_script_inspect_and_validate(edigate_script: Path, two_sets: Path) -> None:
    inspected = _script(edigate_script, "inspect", str(two_sets), "--format", "json")
    assert (inspected.returncode, inspected.stderr) == (0, "")
    sets = json.loads(inspected.stdout)["interchanges"][0]["groups"][0]["transactions"]
    assert [(t["control_number"], t["segments"], t["valid"]) for t in sets] == [
        ("0001", 7, True),
        ("0002", 5, False),
    ]
    validated = _script(edigate_script, "validate", str(two_sets))
    assert validated.returncode == 1
    assert validated.stdout.count("se-count") == 1


def test_console_script_bad_input(edigate_script: Path, tmp_path: Path) -> None:
    result = _script(edigate_script, "validate", str(write(tmp_path, b"\x00\x01\x02garbage", "garbage.bin")))
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert "Traceback" not in result.stderr


# --- memory ----------------------------------------------------------------------------------------------

_RSS_LIMIT_MB = 150
_MEASURE = (
    "import resource, subprocess, sys\n"
    "done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)\n"
    "print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def _write_large_file(path: Path, size: int) -> int:
    """One interchange of ~``size`` bytes of small 850s (30 PO1 lines, ~900 bytes each): many sets,
    so the per-set summaries the reader keeps weigh as much as they can. Returns the number of sets."""
    template = transaction("#########", 30)
    block_sets = 1000
    block = "\n".join(template.replace("#########", f"@@@@{n:05d}") for n in range(block_sets)).encode()
    sets = 0
    with path.open("wb") as fh:
        fh.write((isa() + "GS*PO*S*R*20240102*1230*1*X*004010~\n").encode())
        while fh.tell() < size:
            fh.write(block.replace(b"@@@@", b"%04d" % (sets // block_sets)) + b"\n")
            sets += block_sets
        fh.write(f"GE*{sets}*1~IEA*1*000000001~".encode())
    return sets


def _peak_rss_mb(argv: Sequence[str]) -> tuple[int, float]:
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, *argv], capture_output=True, text=True, timeout=600, check=True
    )
    code, kib = done.stdout.split()
    return int(code), int(kib) / 1024


@pytest.mark.slow
def test_inspect_of_200_mb_stays_under_150_mb_rss(edigate_script: Path, tmp_path: Path) -> None:
    path = tmp_path / "large.edi"
    try:
        sets = _write_large_file(path, 200 * 1000 * 1000)
        assert path.stat().st_size > 200 * 1000 * 1000
        code, peak = _peak_rss_mb([str(edigate_script), "x12", "inspect", str(path), "--format", "json"])
    finally:
        path.unlink(missing_ok=True)  # pytest keeps recent tmp dirs: do not leave 200 MB behind
    assert code == 0
    assert peak < _RSS_LIMIT_MB, f"inspect of {sets} sets peaked at {peak:.0f} MB"


# --- ack is part of the x12 group ------------------------------------------------------------------------


def test_ack_is_wired_into_the_x12_group(capsys: pytest.CaptureFixture[str], two_sets: Path) -> None:
    code, out, _ = run(capsys, "ack", str(two_sets), "--type", "997", "--timestamp", "2024-01-02T12:30")
    assert code == 0
    segments = [line.rstrip("~") for line in out.splitlines()]
    assert segments[0].startswith("ISA*00*")
    assert "ST*997*0001" in segments
    assert "AK2*850*0001" in segments
    assert "AK2*850*0002" in segments
    assert run(capsys, "ack", str(two_sets.parent / "missing.edi"))[0] == 2
