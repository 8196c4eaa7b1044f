"""Profile deviations checked against the mapping engine (``partners validate`` and profile loading):
what would otherwise only surface when the first document arrives, or never."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.cli import partners as partners_cli
from gateway.domain.mapping.checks import CODE_LIST_USE, check_profile
from gateway.domain.profiles import PartnerProfile, check_profiles
from tests.gateway.domain.test_mapping_support import ROOT, mapper

BASE: dict[str, Any] = {
    "partner_id": "check-partner",
    "name": "Check partner",
    "environment": "test",
    "identity": {"isa_qualifier": "ZZ", "isa_id": "CHECKPARTNER"},
    "channels": {"webhook": {"inbound": {"secret": "env:CHECK_PARTNER_SECRET"}}},
}


def profile(*documents: dict[str, Any]) -> PartnerProfile:
    return PartnerProfile.model_validate({**BASE, "documents": list(documents)})


def x12(
    set_id: str, deviations: dict[str, Any], direction: str = "inbound", variant: str | None = None
) -> Any:
    mapping: dict[str, Any] = {"deviations": deviations}
    if variant:
        mapping["variant"] = variant
    return {"direction": direction, "type": set_id, "format": "x12", "version": "004010", "mapping": mapping}


def js(kind: str, deviations: dict[str, Any], direction: str = "inbound", variant: str | None = None) -> Any:
    mapping: dict[str, Any] = {"deviations": deviations}
    if variant:
        mapping["variant"] = variant
    return {"direction": direction, "type": kind, "format": "json", "mapping": mapping}


def problems(*documents: dict[str, Any]) -> dict[str, str]:
    """Problems by field path, the first rule's ``documents[0].mapping.deviations.`` left out."""
    found, _ = check_profile(profile(*documents), mapper())
    return {path.removeprefix(DEVIATIONS): reason for path, reason in found}


DEVIATIONS = "documents[0].mapping.deviations."


def test_the_shipped_examples_are_sound() -> None:
    result = check_profiles(ROOT / "partners", mappings_dir=ROOT / "mappings")
    assert result.problems == []
    assert [w for w in result.warnings if "effect" in w.reason] == []


def test_the_audited_profile_is_rejected_on_every_count() -> None:
    found = problems(
        x12(
            "850",
            {
                "code_maps": {"colour": {"R": "RED"}, "line_status": {"X": "IA"}},
                "party_roles": {"MA": "marked_for"},
                "defaults": {"nonexistent_field": "X", "currency": "not a currency", "lines.unit_price": "1"},
                "field_sources": {"nonsense_field": "BEG03", "po_numbr": "REF*PO"},
            },
            variant="no-such-variant",
        ),
    )
    assert found == {
        "code_maps.colour": found["code_maps.colour"],
        "code_maps.line_status": "the 850 mapping never reads or writes line_status codes",
        "party_roles.MA": found["party_roles.MA"],
        "defaults.nonexistent_field": "PurchaseOrder has no field nonexistent_field",
        "defaults.currency": "'not a currency' does not match ^[A-Z]{3}$",
        "defaults.lines.unit_price": (
            "lines.unit_price is not a single value (a default is text, a code, a number or a date)"
        ),
        "field_sources.nonsense_field": "not a single-valued field of the 850 document",
        "field_sources.po_numbr": "not a single-valued field of the 850 document",
        "documents[0].mapping.variant": "no mapping 'no-such-variant' in mappings/",
    }
    assert found["code_maps.colour"].startswith("unknown code list; known: ack_type")
    assert "unknown role 'marked_for'; known: bill_to" in found["party_roles.MA"]


def test_field_sources_must_sit_in_the_loop_the_field_is_read_in() -> None:
    assert problems(x12("856", {"field_sources": {"shipment_id": "REF*SI", "po_number": "REF*PO"}})) == {
        "field_sources.shipment_id": (
            "REF is not a segment of the heading and summary of the 856, "
            "where shipment_id is read and written"
        ),
    }
    assert (
        problems(
            x12("850", {"field_sources": {"lines.item.buyer_part": "REF*BP", "lines.line_number": "PO101"}})
        )
        == {}
    )
    assert problems(x12("850", {"field_sources": {"lines.item.buyer_part": "BEG03"}})) == {
        "field_sources.lines.item.buyer_part": (
            "BEG is not a segment of the PO1 loop of the 850, where lines.item.buyer_part is read and written"
        ),
    }
    assert problems(x12("856", {"field_sources": {"lines.line_number": "LIN01"}})) == {
        "field_sources.lines.line_number": "an 856 has no lines (its items are HL levels)"
    }
    assert problems(x12("850", {"field_sources": {"lines.dates": "DTM02"}})) == {
        "field_sources.lines.dates": "not a single-valued field of the 850 line"
    }


def test_json_rules_are_checked_against_their_shape() -> None:
    found = problems(
        js(
            "po_json",
            {
                "party_roles": {"ZZ": "buyer"},
                "keep_references": ["ZZ"],
                "json_fields": {"po_numbr": "order.id", "lines.sku": "article"},
                "json_formats": {"po_number": "%Y", "po_date": "%d.%m.%Y@Mars/Olympus"},
                "defaults": {"order_type": "drop ship"},
            },
        ),
    )
    assert found == {
        "party_roles.ZZ": "party roles translate X12 N101 codes; this is a JSON document",
        "keep_references": "applies to X12 segments; this is a JSON document",
        "json_fields.po_numbr": "not a name of the po_json shape (see mappings/ and docs/partners.md)",
        "json_formats.po_number": found["json_formats.po_number"],
        "json_formats.po_date": "unknown time zone 'Mars/Olympus'",
        "defaults.order_type": "'drop ship' does not match ^[A-Z0-9]{1,6}$",
    }
    assert "not a date or timestamp of the po_json shape" in found["json_formats.po_number"]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            js("shipment_confirmation_json", {}, "outbound"),
            "no outbound JSON mapping for shipment_confirmation_json",
        ),
        (js("canonical_json", {}), "no inbound JSON mapping for canonical_json"),
        (js("invoice_json", {}), "no inbound JSON mapping for invoice_json"),
        (x12("860", {}), "the mapping has no canonical document for X12 860"),
    ],
)
def test_document_types_the_engine_cannot_map_in_that_direction(
    document: dict[str, Any], message: str
) -> None:
    [(path, reason)] = problems(document).items()
    assert path == "documents[0].type"
    assert reason.startswith(message)


def test_variants_are_checked_too_and_no_op_entries_warn() -> None:
    found, warnings = check_profile(
        profile(
            x12(
                "856",
                {"party_roles": {"Z7": "mark_for", "SN": "ship_to"}, "code_maps": {"uom": {"EA": "EA"}}},
                variant="x12-850-004010",
            ),
        ),
        mapper(),
    )
    assert found == []
    assert dict(warnings) == {
        f"{DEVIATIONS}party_roles.Z7": "Z7 already is the mark_for role: this entry has no effect",
        f"{DEVIATIONS}code_maps.uom.EA": "maps a code to itself: this entry has no effect",
        "documents[0].mapping.variant": "x12-850-004010 is meant for 850, not 856",
    }


def test_every_code_list_is_used_somewhere() -> None:
    from gateway.domain.mapping import CODE_LISTS

    assert set(CODE_LIST_USE) == set(CODE_LISTS)


def _write(directory: Path, data: dict[str, Any]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "check-partner.yaml").write_text(yaml.safe_dump(data))


def test_cli_validate_uses_the_mappings_beside_the_profiles(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")  # no ./mappings here: DIR/../mappings is used
    (tmp_path / "mappings").mkdir()
    (tmp_path / "mappings" / "x12-850-004010.yaml").write_text("deviations: {}\n")
    _write(tmp_path / "partners", {**BASE, "documents": [x12("850", {}, variant="x12-850-005010")]})
    parser = argparse.ArgumentParser(prog="edigate")
    partners_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["partners", "validate", str(tmp_path / "partners")])
    assert args.handler(args) == 1
    out, _ = capsys.readouterr()
    assert f"documents[0].mapping.variant: no mapping 'x12-850-005010' in {tmp_path / 'mappings'}" in out
    args = parser.parse_args(
        ["partners", "validate", str(tmp_path / "partners"), "--mappings", str(ROOT / "mappings")]
    )
    assert args.handler(args) == 0
