"""``edigate x12 ack``: acks on stdout, exit codes, and one-line errors for bad input."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gateway.cli.main import main

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "acks"
CORPUS = Path(__file__).resolve().parents[4] / "shared" / "corpus" / "x12"
FIXTURE = str(FIXTURES / "850-errors.x12")
AT = ["--timestamp", "2024-01-15T11:00"]


def run(capsysbinary: pytest.CaptureFixture[bytes], *args: str) -> tuple[int, bytes, str]:
    code = main(["x12", "ack", *args])
    out, err = capsysbinary.readouterr()
    return code, out, err.decode()


def test_writes_the_golden_acks(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    code, out, err = run(capsysbinary, FIXTURE, *AT)
    assert (code, err) == (0, "")
    assert out == (FIXTURES / "850-errors.validated.ack").read_bytes()


def test_envelope_only(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    code, out, _ = run(capsysbinary, FIXTURE, *AT, "--envelope-only")
    assert code == 0
    assert out == (FIXTURES / "850-errors.envelope-only.ack").read_bytes()


def test_type_ta1_and_control_number(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    code, out, _ = run(capsysbinary, FIXTURE, *AT, "--type", "ta1", "--control-number", "42", "--no-newline")
    assert code == 0
    segments = out.decode().split("~")
    assert segments[0].endswith("*240115*1100*U*00401*000000042*0*P*>")
    assert segments[1:3] == ["TA1*000000101*240115*1030*A*000", "IEA*0*000000042"]
    assert segments[3].endswith("*ZZ*SELLER         *ZZ*BUYER          *240115*1100*^*00501*000000043*0*P*>")
    assert segments[4:] == ["TA1*000000102*240115*1031*A*000", "IEA*0*000000043", ""]


def test_type_997_for_a_005010_group(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    code, out, _ = run(capsysbinary, FIXTURE, *AT, "--type", "997", "--control-number", "7")
    assert code == 0
    lines = out.decode().splitlines()
    assert "ST*997*0008~" in lines  # the second ack interchange's set: counters run on from 7
    assert "IK5*A~" not in lines
    assert "GS*FA*SELLERAPP*BUYERAPP*20240115*1100*8*X*005010~" in lines


def test_lf_terminated_input_gets_no_extra_newlines(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    code, out, _ = run(capsysbinary, str(CORPUS / "850" / "node-x12__850_3.edi"), *AT)
    assert code == 0
    assert b"\n\n" not in out
    assert out.split(b"\n")[1].startswith(b"GS*FA*")


def test_nothing_to_acknowledge(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    code, out, err = run(capsysbinary, str(CORPUS / "997" / "staedi__simple997.edi"))
    assert (code, out) == (0, b"")
    assert err.endswith("nothing to acknowledge\n")


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("missing.x12", None, "No such file or directory"),
        ("garbage.x12", b"this is not X12 at all\n", "no ISA"),
        ("empty.x12", b"", ""),
    ],
)
def test_unreadable_input_exits_2_with_one_line(
    capsysbinary: pytest.CaptureFixture[bytes], tmp_path: Path, name: str, content: bytes | None, reason: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    code, out, err = run(capsysbinary, str(path))
    assert (code, out) == (2, b"")
    assert err.startswith(f"edigate x12 ack: {path}: ")
    assert reason in err
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_directory_is_unreadable(capsysbinary: pytest.CaptureFixture[bytes], tmp_path: Path) -> None:
    code, _, err = run(capsysbinary, str(tmp_path))
    assert code == 2
    assert err.count("\n") == 1


@pytest.mark.parametrize("value", ["0", "1000000000", "abc"])
def test_bad_control_number_is_a_usage_error(capsysbinary: pytest.CaptureFixture[bytes], value: str) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["x12", "ack", FIXTURE, "--control-number", value])
    assert exc.value.code == 2


def test_control_numbers_past_nine_digits_fail_cleanly(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    code, out, err = run(capsysbinary, FIXTURE, "--control-number", "999999999")
    assert (code, out) == (2, b"")
    assert "cannot write the acknowledgement" in err


def test_console_script_writes_bytes_to_stdout(edigate_script: Path) -> None:
    done = subprocess.run(
        [str(edigate_script), "x12", "ack", FIXTURE, *AT], capture_output=True, timeout=60, check=False
    )
    assert (done.returncode, done.stderr) == (0, b"")
    assert done.stdout == (FIXTURES / "850-errors.validated.ack").read_bytes()
