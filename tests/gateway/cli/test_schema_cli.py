"""``edigate schema export``: writes deterministic schemas, checks drift, and docs/schemas is current."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.cli.main import main
from gateway.domain.canonical import DocumentType, document_model

REPO_ROOT = Path(__file__).resolve().parents[3]
CHECKED_IN = REPO_ROOT / "docs" / "schemas"
EXPECTED_FILES = {f"{t.value}.schema.json" for t in DocumentType} | {"index.json"}


def _read_dir(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(path.iterdir()) if p.is_file()}


def test_export_writes_one_schema_per_type_and_an_index(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "schemas"
    assert main(["schema", "export", "--out", str(out)]) == 0
    assert {p.name for p in out.iterdir()} == EXPECTED_FILES
    assert len(capsys.readouterr().out.splitlines()) == len(EXPECTED_FILES)

    index = json.loads((out / "index.json").read_text(encoding="utf-8"))
    assert index["discriminator"] == "type"
    listed = {entry["type"]: entry for entry in index["documents"]}
    assert set(listed) == {t.value for t in DocumentType}
    assert listed["functional_ack"]["x12_transaction_sets"] == ["997", "999", "TA1"]
    assert listed["ship_notice"]["x12_transaction_sets"] == ["856"]

    for doc_type in DocumentType:
        text = (out / f"{doc_type.value}.schema.json").read_text(encoding="utf-8")
        assert text.endswith("}\n")
        schema = json.loads(text)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["title"] == document_model(doc_type).__name__
        assert schema["properties"]["type"]["const"] == doc_type.value
        assert schema["properties"]["schema_version"]["const"] == "1.0"
        assert schema["additionalProperties"] is False
        # keys are sorted at every level, so regeneration is byte-stable
        assert text == json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_decimals_are_strings_in_the_schema(tmp_path: Path) -> None:
    assert main(["schema", "export", "--out", str(tmp_path)]) == 0
    schema = json.loads((tmp_path / "invoice.schema.json").read_text(encoding="utf-8"))
    amount = schema["$defs"]["Money"]["properties"]["amount"]
    kinds = {alt["type"] for alt in amount["anyOf"]}
    assert kinds == {"string", "integer"}
    assert "number" not in json.dumps(schema["$defs"]["Money"])


def test_export_is_deterministic_and_removes_stale_schemas(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    assert main(["schema", "export", "--out", str(first)]) == 0
    (second).mkdir()
    (second / "delivery_note.schema.json").write_text("{}\n", encoding="utf-8")
    (second / "README.md").write_text("kept\n", encoding="utf-8")
    assert main(["schema", "export", "--out", str(second)]) == 0
    assert not (second / "delivery_note.schema.json").exists()
    assert (second / "README.md").read_text(encoding="utf-8") == "kept\n"
    (second / "README.md").unlink()
    assert _read_dir(first) == _read_dir(second)


def test_check_reports_drift(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "export", "--out", str(tmp_path)]) == 0
    assert main(["schema", "export", "--check", "--out", str(tmp_path)]) == 0
    capsys.readouterr()

    (tmp_path / "invoice.schema.json").write_text("{}\n", encoding="utf-8")
    (tmp_path / "index.json").unlink()
    (tmp_path / "old.schema.json").write_text("{}\n", encoding="utf-8")
    assert main(["schema", "export", "--check", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "invoice.schema.json: differs from the models" in err
    assert "index.json: missing" in err
    assert "old.schema.json: no such document type" in err
    assert "regenerate with: edigate schema export" in err
    assert (tmp_path / "invoice.schema.json").read_text(encoding="utf-8") == "{}\n"  # --check writes nothing


def test_export_into_an_unwritable_place_fails_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory\n", encoding="utf-8")
    assert main(["schema", "export", "--out", str(blocker / "schemas")]) == 2
    assert "cannot write" in capsys.readouterr().err


def test_checked_in_schemas_match_the_models(tmp_path: Path) -> None:
    """Drift test: docs/schemas must be exactly what the models generate."""
    assert main(["schema", "export", "--out", str(tmp_path)]) == 0
    fresh, checked_in = _read_dir(tmp_path), _read_dir(CHECKED_IN)
    stale = sorted(set(fresh) ^ set(checked_in))
    changed = sorted(name for name in set(fresh) & set(checked_in) if fresh[name] != checked_in[name])
    hint = (
        "docs/schemas is out of date with the canonical models. Regenerate with "
        "`.venv/bin/edigate schema export` from the repository root and commit docs/schemas."
    )
    assert not stale, f"{hint} Added/removed: {stale}"
    assert not changed, f"{hint} Changed: {changed}"
