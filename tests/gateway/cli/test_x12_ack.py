"""``edigate x12 ack``: acks on stdout, exit codes, and one-line errors for bad input."""

from __future__ import annotations

import subprocess
import sys
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


# --- damaged and unreadable ISAs still get their TA1 ----------------------------------------------------


def _segments(out: bytes) -> list[str]:
    return [line.rstrip("~") for line in out.decode("latin-1").splitlines()]


def test_a_damaged_isa_gets_a_rejecting_ta1_in_a_safe_envelope(
    capsysbinary: pytest.CaptureFixture[bytes], tmp_path: Path
) -> None:
    # A one-letter sender qualifier: the ISA is 105 bytes, its delimiters are recovered, and the
    # reply swaps the parties, so 'Z' would be the ack's receiver qualifier: it is padded to 'Z '.
    path = tmp_path / "damaged.x12"
    path.write_bytes((FIXTURES / "850-errors.x12").read_bytes().replace(b"*ZZ*BUYER ", b"*Z*BUYER ", 1))
    code, out, err = run(capsysbinary, str(path), *AT)
    assert (code, err) == (0, "")
    segments = _segments(out)
    assert segments[0] == (
        "ISA*00*          *00*          *ZZ*SELLER         *Z *BUYER          "
        "*240115*1100*U*00401*000000001*0*P*>"
    )
    assert segments[1] == "TA1*000000101*240115*1030*R*005"  # invalid sender qualifier, not just "022"
    assert segments[2] == "IEA*0*000000001"
    assert segments[3].startswith("ISA*")  # the second, sound interchange is acknowledged as before
    assert "AK9*R*3*2*0*5" in segments


def test_an_over_long_id_is_cut_to_fit_the_reply(
    capsysbinary: pytest.CaptureFixture[bytes], tmp_path: Path
) -> None:
    path = tmp_path / "long.x12"
    path.write_bytes(
        (FIXTURES / "850-errors.x12")
        .read_bytes()
        .replace(b"*ZZ*BUYER          *", b"*ZZ*BUYER-ID-OF-20-CHARS*", 1)
    )
    code, out, _ = run(capsysbinary, str(path), *AT, "--type", "ta1")
    assert code == 0
    segments = _segments(out)
    assert "*ZZ*BUYER-ID-OF-20-*" in segments[0]  # ISA08 of the reply: the first 15 characters
    assert segments[1] == "TA1*000000101*240115*1030*R*006"


def test_an_unreadable_last_isa_gets_a_ta1_and_the_others_their_acks(
    capsysbinary: pytest.CaptureFixture[bytes], tmp_path: Path
) -> None:
    fixture = (FIXTURES / "850-errors.x12").read_bytes()
    truncated = (
        b"ISA*00*          *00*          *ZZ*BUYER          *ZZ*SELLER         *240115*1032*U*00401*000000103"
    )
    path = tmp_path / "truncated.x12"
    path.write_bytes(fixture + truncated)
    code, out, err = run(capsysbinary, str(path), *AT)
    assert (code, err) == (0, "")
    golden = (FIXTURES / "850-errors.validated.ack").read_bytes()
    assert out.startswith(golden)  # the two readable interchanges: the same acks as without the damage
    assert _segments(out[len(golden) :]) == [
        "ISA*00*          *00*          *ZZ*SELLER         *ZZ*BUYER          "
        "*240115*1100*U*00401*000000003*0*P*>",
        "TA1*000000103*240115*1032*R*022",
        "IEA*0*000000003",
    ]


# --- streaming ------------------------------------------------------------------------------------------

_MEASURE = (
    "import resource, subprocess, sys\n"
    "done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)\n"
    "print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def _write_large_file(path: Path, size: int) -> int:
    """One 004010 interchange of ~``size`` bytes: 850s of 20 PO1 lines each. Returns the number of sets."""
    head = (
        "ISA*00*          *00*          *ZZ*BUYER          *ZZ*SELLER         "
        "*240115*1030*U*00401*000000001*0*P*>~\n"
    )
    lines = "".join(f"PO1*{n}*10*EA*9.99**VP*WIDGET-{n}~\n" for n in range(1, 21))
    sets = 0
    with path.open("wb") as fh:
        fh.write((head + "GS*PO*BUYERAPP*SELLERAPP*20240115*1030*1*X*004010~\n").encode())
        while fh.tell() < size:
            block = []
            for _ in range(1000):
                sets += 1
                block.append(
                    f"ST*850*{sets:09d}~\nBEG*00*SA*PO-{sets}**20240115~\n{lines}CTT*20~\nSE*24*{sets:09d}~\n"
                )
            fh.write("".join(block).encode())
        fh.write(f"GE*{sets}*1~\nIEA*1*000000001~\n".encode())
    return sets


@pytest.mark.slow
def test_ack_streams_a_large_file_in_bounded_memory(edigate_script: Path, tmp_path: Path) -> None:
    path = tmp_path / "large.x12"
    try:
        sets = _write_large_file(path, 60 * 1000 * 1000)
        done = subprocess.run(
            [sys.executable, "-c", _MEASURE, str(edigate_script), "x12", "ack", str(path)],
            capture_output=True,
            text=True,
            timeout=900,
            check=True,
        )
    finally:
        path.unlink(missing_ok=True)
    code, kib = done.stdout.split()
    assert int(code) == 0
    # parse() held every segment: about 12 MB of RSS per MB of input. Streaming keeps summaries only.
    assert int(kib) / 1024 < 150, f"ack of {sets} sets peaked at {int(kib) / 1024:.0f} MB"
