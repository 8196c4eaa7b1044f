"""``edigate partners validate`` and ``edigate partners show``: exit codes, problem lines, redaction."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import pytest
import yaml

from gateway.cli import partners

REPO = Path(__file__).resolve().parents[3]
PARTNERS = REPO / "partners"
INVALID = REPO / "tests" / "fixtures_profiles" / "invalid"


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="edigate")
    partners.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    code: int = args.handler(args)
    return code


def test_partners_group_is_registered() -> None:
    from gateway.cli.main import COMMAND_MODULES

    assert "partners" in COMMAND_MODULES


def test_validate_examples_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("partners", "validate", str(PARTNERS)) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert "3 partner profile(s) valid" in err


def test_validate_defaults_to_partners_dir(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    assert run("partners", "validate") == 0


def test_validate_invalid_exit_1_one_problem_per_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("partners", "validate", str(INVALID)) == 1
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == 5
    expected = {
        ("missing-field.yaml", "name"),
        ("bad-qualifier.yaml", "identity.isa_qualifier"),
        ("inline-secret.yaml", "channels.webhook.inbound.secret"),
        ("bad-certificate.yaml", "channels.as2.partner_certificates[1].path"),
        ("duplicate-b.yaml", "partner_id"),
    }
    seen = set()
    for line in lines:
        file, path, reason = line.split(": ", 2)
        seen.add((Path(file).name, path))
        assert reason
    assert seen == expected
    assert "hunter2" not in out
    assert "5 problem(s) in 5 file(s)" in err


def test_validate_prints_every_problem_of_a_file_with_field_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A field error does not hold back the file's routing problem or a duplicate partner ID."""
    shutil.copy(INVALID / "duplicate-a.yaml", tmp_path)
    data = yaml.safe_load((INVALID / "duplicate-b.yaml").read_text())
    data.update(name="", routing={"856": ["erp"]})
    (tmp_path / "duplicate-b.yaml").write_text(yaml.safe_dump(data))
    assert run("partners", "validate", str(tmp_path), "--mappings", str(REPO / "mappings")) == 1
    out, err = capsys.readouterr()
    b = tmp_path / "duplicate-b.yaml"
    assert out.splitlines() == [
        f"{b}: name: String should have at least 1 character",
        f"{b}: routing.856: no inbound document of type 856 is configured",
        f"{b}: partner_id: duplicate partner_id 'duplicate-partner', also in {tmp_path / 'duplicate-a.yaml'}",
    ]
    assert "3 problem(s) in 1 file(s)" in err


def test_validate_missing_directory_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("partners", "validate", str(tmp_path / "absent")) == 2
    assert "not a directory" in capsys.readouterr().err


def test_validate_checks_mapping_variants_on_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "mappings").mkdir()
    assert run("partners", "validate", str(PARTNERS), "--mappings", str(tmp_path / "mappings")) == 1
    out = capsys.readouterr().out
    assert "acme-retail.yaml: documents[0].mapping.variant: no mapping 'x12-850-004010'" in out


def test_show_redacts_secrets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SWIFT_3PL_INBOUND_SECRET", "inbound-hmac-VALUE-123")
    monkeypatch.setenv("SWIFT_3PL_OUTBOUND_SECRET", "outbound-hmac-VALUE-456")
    assert run("partners", "show", "swift-3pl", "--dir", str(PARTNERS)) == 0
    out = capsys.readouterr().out
    assert "VALUE" not in out
    data = yaml.safe_load(out)
    assert data["channels"]["webhook"]["inbound"]["secret"] == "env:SWIFT_3PL_INBOUND_SECRET"
    assert data["channels"]["webhook"]["outbound"]["secret"] == "env:SWIFT_3PL_OUTBOUND_SECRET"
    assert data["routing"] == {"shipment_confirmation_json": ["wms", "erp"]}
    assert out.startswith(f"# source: {PARTNERS / 'swift-3pl.yaml'}")


def test_show_file_secret_as_reference_json(capsys: pytest.CaptureFixture[str]) -> None:
    key_text = (REPO / "deploy/dev-keys/edigate-test-as2.key").read_text()
    assert run("partners", "show", "acme-retail", "--dir", str(PARTNERS), "--format", "json") == 0
    out = capsys.readouterr().out
    assert "PRIVATE KEY" not in out
    assert key_text.splitlines()[1] not in out
    data = json.loads(out)
    as2 = data["channels"]["as2"]
    assert as2["our_key"] == f"file:{REPO / 'deploy/dev-keys/edigate-test-as2.key'}"
    assert as2["partner_certificates"][1]["not_before"] == "2027-09-01T00:00:00Z"
    assert data["documents"][0]["type"] == "850"


def test_show_unknown_partner_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("partners", "show", "nobody", "--dir", str(PARTNERS)) == 1
    err = capsys.readouterr().err
    assert "no valid profile 'nobody'" in err
    assert "acme-retail, northwind-supply, swift-3pl" in err


def test_show_works_when_another_profile_is_broken(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(PARTNERS / "swift-3pl.yaml", tmp_path)
    (tmp_path / "broken.yaml").write_text("partner_id: broken\n")
    assert run("partners", "show", "swift-3pl", "--dir", str(tmp_path)) == 0
    out, err = capsys.readouterr()
    assert yaml.safe_load(out)["partner_id"] == "swift-3pl"
    assert "problem(s) elsewhere" in err
