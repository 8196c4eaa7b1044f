"""MappingDeviations: format rules and merging a profile's deviations over a named variant."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from gateway.domain.profiles.deviations import MappingDeviations, merge


def test_empty_by_default() -> None:
    deviations = MappingDeviations()
    assert deviations.is_empty()
    assert deviations.field_sources == {}
    assert deviations.ignore_segments == []
    assert not MappingDeviations(keep_references=["ZZ"]).is_empty()


def test_valid_deviations() -> None:
    deviations = MappingDeviations.model_validate(
        {
            "field_sources": {
                "po_number": "REF*PO",
                "order_date": "BEG05",
                "ship_to.name": "N102",
                "x": "SV101-2",
            },
            "party_roles": {"BY": "buyer", "ST": "ship_to", "Z7": "mark_for"},
            "code_maps": {"uom": {"CA": "CS"}, "carrier": {"UPSN": "UPS"}},
            "defaults": {"currency": "USD", "terms_days": 30},
            "ignore_segments": ["MSG", "REF*ZZ", "N9"],
            "keep_references": ["IA", "DP", 19],
            "json_fields": {"shipment_id": "data.shipmentId", "tracking": "data.packages.0.tracking_no"},
        }
    )
    assert deviations.defaults["terms_days"] == "30"
    assert deviations.keep_references == ["IA", "DP", "19"]


@pytest.mark.parametrize(
    ("data", "loc"),
    [
        ({"field_sources": {"po_number": "BEG3"}}, ("field_sources", "po_number")),
        ({"field_sources": {"po_number": "beg03"}}, ("field_sources", "po_number")),
        ({"field_sources": {"po_number": "REF*"}}, ("field_sources", "po_number")),
        ({"field_sources": {"po_number": "BEG00"}}, ("field_sources", "po_number")),
        ({"field_sources": {"PO Number": "BEG03"}}, ("field_sources", "PO Number", "[key]")),
        ({"party_roles": {"BYER": "buyer"}}, ("party_roles", "BYER", "[key]")),
        ({"party_roles": {"BY": "Buyer"}}, ("party_roles", "BY")),
        ({"code_maps": {"uom": {"": "CS"}}}, ("code_maps", "uom", "", "[key]")),
        ({"ignore_segments": ["ref"]}, ("ignore_segments", 0)),
        ({"ignore_segments": ["REFERENCE"]}, ("ignore_segments", 0)),
        ({"ignore_segments": ["1EF"]}, ("ignore_segments", 0)),
        ({"keep_references": ["ABCD"]}, ("keep_references", 0)),
        ({"json_fields": {"id": "data..id"}}, ("json_fields", "id")),
        ({"json_fields": {"id": "data/id"}}, ("json_fields", "id")),
        ({"unknown": {}}, ("unknown",)),
    ],
)
def test_invalid_deviations(data: dict[str, Any], loc: tuple[Any, ...]) -> None:
    with pytest.raises(ValidationError) as info:
        MappingDeviations.model_validate(data)
    errors = info.value.errors()
    assert len(errors) == 1
    assert errors[0]["loc"] == loc


@pytest.mark.parametrize("ignored", ["REF*ZZ", "REF"])
def test_kept_reference_cannot_also_be_ignored(ignored: str) -> None:
    with pytest.raises(ValidationError) as info:
        MappingDeviations.model_validate({"keep_references": ["DP", "ZZ"], "ignore_segments": [ignored]})
    problems = info.value.errors()[0]["ctx"]["error"].items
    expected = [(("keep_references", 1), "REF*ZZ is also in ignore_segments")]
    if ignored == "REF":
        expected.insert(0, (("keep_references", 0), "REF*DP is also in ignore_segments"))
    assert problems == expected


def test_merge_override_wins_and_lists_unite() -> None:
    base = MappingDeviations(
        field_sources={"po_number": "BEG03", "order_date": "BEG05"},
        party_roles={"BY": "buyer", "Z7": "ship_to"},
        code_maps={"uom": {"EA": "EA", "CA": "CA"}, "carrier": {"UPSN": "UPS"}},
        defaults={"currency": "USD"},
        ignore_segments=["MSG", "REF*IA"],
        keep_references=["DP"],
        json_fields={"id": "id"},
    )
    override = MappingDeviations(
        field_sources={"po_number": "REF*PO"},
        party_roles={"Z7": "mark_for"},
        code_maps={"uom": {"CA": "CS"}, "terms": {"01": "NET30"}},
        defaults={"currency": "CAD"},
        ignore_segments=["TD5", "MSG"],
        keep_references=["ZZ"],
        json_fields={"id": "data.id"},
    )
    merged = merge(base, override)
    assert merged.field_sources == {"po_number": "REF*PO", "order_date": "BEG05"}
    assert merged.party_roles == {"BY": "buyer", "Z7": "mark_for"}
    assert merged.code_maps == {
        "uom": {"EA": "EA", "CA": "CS"},
        "carrier": {"UPSN": "UPS"},
        "terms": {"01": "NET30"},
    }
    assert merged.defaults == {"currency": "CAD"}
    assert merged.ignore_segments == ["MSG", "REF*IA", "TD5"]
    assert merged.keep_references == ["DP", "ZZ"]
    assert merged.json_fields == {"id": "data.id"}
    # inputs are untouched
    assert base.code_maps["uom"]["CA"] == "CA"
    assert base.ignore_segments == ["MSG", "REF*IA"]


def test_merge_with_empty_sides_is_identity() -> None:
    deviations = MappingDeviations(party_roles={"Z7": "mark_for"}, ignore_segments=["MSG"])
    assert merge(MappingDeviations(), deviations) == deviations
    assert merge(deviations, MappingDeviations()) == deviations


def test_merge_resolves_keep_versus_ignore_in_favour_of_override() -> None:
    base_keeps = MappingDeviations(keep_references=["ZZ", "DP"])
    override_ignores = MappingDeviations(ignore_segments=["REF*ZZ"])
    merged = merge(base_keeps, override_ignores)
    assert merged.keep_references == ["DP"]
    assert merged.ignore_segments == ["REF*ZZ"]

    base_ignores = MappingDeviations(ignore_segments=["REF*ZZ", "MSG"])
    override_keeps = MappingDeviations(keep_references=["ZZ"])
    merged = merge(base_ignores, override_keeps)
    assert merged.keep_references == ["ZZ"]
    assert merged.ignore_segments == ["MSG"]

    all_refs_ignored = merge(base_keeps, MappingDeviations(ignore_segments=["REF"]))
    assert all_refs_ignored.keep_references == []
    assert all_refs_ignored.ignore_segments == ["REF"]
