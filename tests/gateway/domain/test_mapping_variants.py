"""Named mapping variants: the shipped files load, ``extends`` merges, bad files name file and reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.domain.mapping import DEFAULT_SHAPES, Mapper, MappingError, load_variants
from tests.gateway.domain.test_mapping_support import ROOT, profiles


def test_shipped_variants_load_and_cover_every_profile() -> None:
    variants = load_variants(ROOT / "mappings")
    named = {d.mapping.variant for p in profiles() for d in p.documents if d.mapping.variant}
    assert named <= set(variants)
    assert variants["x12-850-005010"].file.name == "x12-850-005010.yaml"
    assert variants["vics-850"].deviations.keep_references == ["19"]


def test_json_variant_files_restate_the_default_shapes() -> None:
    variants = load_variants(ROOT / "mappings")
    for name, document_type in (
        ("json-shipment-confirmation", "shipment_confirmation_json"),
        ("json-po", "po_json"),
    ):
        stated = variants[name].deviations.json_fields
        assert stated
        assert all(DEFAULT_SHAPES[document_type][k] == v for k, v in stated.items())


def test_extends_merges_base_first(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text(
        "deviations: {keep_references: [ZZ], code_maps: {uom: {CS: CA, PC: EA}}}\n"
    )
    (tmp_path / "child.yaml").write_text("extends: base\ndeviations: {code_maps: {uom: {PC: PCE}}}\n")
    child = load_variants(tmp_path)["child"].deviations
    assert child.keep_references == ["ZZ"]
    assert child.code_maps == {"uom": {"CS": "CA", "PC": "PCE"}}


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"a.yaml": "deviations: [1, 2\n"}, "a.yaml: not valid YAML"),
        ({"a.yaml": "- just a list\n"}, "a.yaml: a variant file is a mapping"),
        ({"a.yaml": "deviation: {}\n"}, "a.yaml: unknown key(s) deviation"),
        (
            {"a.yaml": "deviations: {field_sources: {po_number: BEG3}}\n"},
            "a.yaml: deviations.field_sources.po_number",
        ),
        ({"a.yaml": "extends: b\n", "b.yaml": "extends: a\n"}, "extends: cycle"),
        ({"a.yaml": "extends: missing\n"}, "a.yaml: extends: no variant 'missing'"),
        ({"a.yaml": "{}\n", "a.yml": "{}\n"}, "variant 'a' is defined twice"),
    ],
)
def test_bad_variant_files(tmp_path: Path, files: dict[str, str], message: str) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    with pytest.raises(MappingError) as caught:
        Mapper.load(tmp_path)
    assert message in str(caught.value)


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="not a directory of mapping variants"):
        Mapper.load(tmp_path / "nope")


def test_deviations_for_northwind() -> None:
    northwind = profiles()["northwind-supply"]
    policy = northwind.document_policy("inbound", "856")
    merged = Mapper.load(ROOT / "mappings").deviations_for(northwind, policy)
    assert merged.field_sources == {"po_number": "REF*PO"}
    assert merged.ignore_segments == ["TD3", "REF*IA"]
    assert merged.keep_references == ["ZZ", "BM", "CN"]
    assert Mapper.load(ROOT / "mappings").deviations_for(northwind, None).is_empty()
