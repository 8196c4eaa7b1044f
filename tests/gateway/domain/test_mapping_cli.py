"""``edigate translate``: X12/JSON -> canonical JSON lines, canonical -> X12, one-line errors, exit codes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from gateway.cli.main import main
from gateway.domain.canonical import parse_document
from tests.gateway.domain.test_mapping_support import FIXTURES, ROOT, plain, read_x12

DIRS = ["--partners", str(ROOT / "partners"), "--mappings", str(ROOT / "mappings")]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main([*argv, *DIRS])
    out, err = capsys.readouterr()
    return code, out, err


def test_x12_to_canonical_json_lines(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "translate", str(FIXTURES / "856-004010.x12"), "--partner", "acme-retail")
    assert (code, err) == (0, "")
    [line] = out.splitlines()
    doc = parse_document(line)
    assert doc.type == "ship_notice"
    assert doc.header.st02 == "0001"
    assert doc.header.x12_version == "004010"
    [direct] = read_x12((FIXTURES / "856-004010.x12").read_bytes())
    assert {k: v for k, v in plain(doc).items() if k != "header"} == {
        k: v for k, v in plain(direct).items() if k != "header"
    }


def test_partner_json_to_canonical(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "translate", str(FIXTURES / "swift-shipment-confirmation.json"), "--partner", "swift-3pl"
    )
    assert code == 0
    assert json.loads(out)["confirmation_id"] == "SW-SHIP-1001"


def test_canonical_to_x12_and_back(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "translate", str(FIXTURES / "850-005010.x12"), "--partner", "acme-retail")
    data = json.loads(out)
    data["header"]["partner_id"] = "northwind-supply"  # as our ERP would publish a PO for Northwind
    canonical = tmp_path / "po.jsonl"
    canonical.write_text((json.dumps(data) + "\n") * 2)  # two documents, as JSON lines
    code, out, err = run(
        capsys,
        "translate",
        str(canonical),
        "--partner",
        "northwind-supply",
        "--to",
        "x12",
        "--control-number",
        "41",
        "--sender-id",
        "ACMEBUYER",
    )
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].startswith("ISA*00*          *00*          *ZZ*ACMEBUYER      *01*0123456789     *")
    assert lines[0].endswith("*00501*000000041*0*T*:~")
    gs = lines[1].split("*")
    assert (gs[0], gs[1], gs[3], gs[6]) == ("GS", "PO", "0123456789", "41")  # GS03: first GS application ID
    assert [line for line in lines if line.startswith("ST*")] == ["ST*850*0041~", "ST*850*0042~"]
    assert "REF*PO*PO-4711~" in lines  # Northwind's outbound 850 deviation
    x12 = tmp_path / "po.x12"
    x12.write_text(out)
    code, again, _ = run(capsys, "translate", str(x12), "--partner", "northwind-supply")
    assert code == 0
    docs = [parse_document(line) for line in again.splitlines()]
    assert [d.header.direction.value for d in docs] == ["outbound", "outbound"]  # Northwind's 850 rule
    code, _, err = run(capsys, "translate", str(x12), "--partner", "acme-retail")
    assert code == 1
    assert "ISA15 is 'T' (test) but the partner profile is set up for production" in err
    code, again, _ = run(capsys, "translate", str(x12), "--partner", "acme-retail", "--ignore-usage")
    assert code == 0
    assert len(again.splitlines()) == 2


def test_documents_for_another_partner_are_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = run(capsys, "translate", str(FIXTURES / "850-004010.x12"), "--partner", "acme-retail")
    canonical = tmp_path / "po.json"
    canonical.write_text(out)
    code, out, err = run(capsys, "translate", str(canonical), "--partner", "northwind-supply", "--to", "x12")
    assert (code, out) == (1, "")
    assert "document 1 is for partner 'acme-retail', not 'northwind-supply'" in err


def test_a_ta1_interchange_becomes_a_functional_ack(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    ta1 = tmp_path / "ta1.x12"
    ta1.write_text(
        "ISA*00*          *00*          *ZZ*ACMERETAIL     *ZZ*EDIGATE        "
        "*250301*0900*U*00401*000000777*0*P*>~\n"
        "TA1*000000042*250228*1530*R*022~\n"
        "IEA*0*000000777~\n"
    )
    code, out, err = run(capsys, "translate", str(ta1), "--partner", "acme-retail")
    assert (code, err) == (0, "")
    doc = parse_document(out)
    assert doc.type == "functional_ack"
    assert doc.ack_kind == "TA1"
    [result] = doc.interchanges
    assert (result.control_number, result.status.value, result.note_code) == ("000000042", "rejected", "022")
    assert (result.date, result.time) == (dt.date(2025, 2, 28), dt.time(15, 30))
    ta1.write_text(ta1.read_text().replace("*R*022~", "*Q*022~"))
    code, _, err = run(capsys, "translate", str(ta1), "--partner", "acme-retail")
    assert code == 1
    assert (
        err.strip()
        == "edigate translate: TA104 (status_code) 'Q' is not a TA104 status (A, E or R) at segment 1 TA1"
    )


def test_json_type_must_be_one_the_partner_has(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(
        capsys, "translate", str(FIXTURES / "po-default.json"), "--partner", "swift-3pl", "--type", "po_json"
    )
    assert code == 2
    assert "swift-3pl has no inbound po_json (its inbound JSON: shipment_confirmation_json)" in err


def test_canonical_to_partner_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(
        capsys,
        "translate",
        str(FIXTURES / "acme-marketplace-po.json"),
        "--partner",
        "acme-retail",
        "--type",
        "po_json",
    )
    assert code == 0
    data = json.loads(out)
    data["header"]["partner_id"] = "swift-3pl"
    canonical = tmp_path / "po.json"
    canonical.write_text(json.dumps(data))
    code, out, err = run(capsys, "translate", str(canonical), "--partner", "swift-3pl", "--to", "json")
    assert (code, err) == (0, "")
    order = json.loads(out)["order"]
    assert (order["clientOrderRef"], order["shipTo"]["name"]) == ("MKT-1001", "JANE DOE")
    code, _, err = run(capsys, "translate", str(canonical), "--partner", "swift-3pl", "--to", "x12")
    assert code == 2
    assert "swift-3pl has no ISA identity" in err


@pytest.mark.parametrize(
    ("argv", "expected_code", "message"),
    [
        (
            ["/no/such/file.x12", "--partner", "acme-retail"],
            2,
            "/no/such/file.x12: No such file or directory",
        ),
        ([str(FIXTURES / "850-004010.x12"), "--partner", "nobody"], 2, "no partner 'nobody'"),
        ([str(FIXTURES / "README.md"), "--partner", "acme-retail"], 2, "neither X12 (no ISA) nor JSON"),
        ([str(FIXTURES / "po-default.json"), "--partner", "swift-3pl"], 1, "data.shipmentId: is missing"),
    ],
)
def test_errors_are_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], expected_code: int, message: str
) -> None:
    code, out, err = run(capsys, "translate", *argv)
    assert code == expected_code
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert message in err
    assert "Traceback" not in err


def test_mapping_error_in_x12(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.x12"
    bad.write_bytes((FIXTURES / "850-004010.x12").read_bytes().replace(b"PO1*1*24*EA", b"PO1*1*ABC*EA"))
    code, _, err = run(capsys, "translate", str(bad), "--partner", "acme-retail")
    assert code == 1
    assert err.strip() == "edigate translate: PO102 (quantity) 'ABC' is not a number at segment 20 PO1"


def test_invalid_canonical_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "doc.json"
    bad.write_text(json.dumps({"type": "purchase_order", "po_number": "X"}))
    code, _, err = run(capsys, "translate", str(bad), "--partner", "acme-retail", "--to", "x12")
    assert code == 1
    assert "not a canonical document" in err


def test_bad_mappings_directory(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("deviations: {keep_references: [lowercase!]}\n")
    code = main(
        [
            "translate",
            str(FIXTURES / "850-004010.x12"),
            "--partner",
            "acme-retail",
            "--partners",
            str(ROOT / "partners"),
            "--mappings",
            str(tmp_path),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "broken.yaml: deviations.keep_references.0" in err
