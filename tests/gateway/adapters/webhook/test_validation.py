"""The dry run that names every invalid field of a webhook body (pure, on the repo's swift-3pl profile)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gateway.adapters.webhook import check_body
from gateway.adapters.webhook.validation import collect_errors
from gateway.domain.mapping import Mapper, MappingError
from gateway.domain.profiles import PartnerProfile
from gateway.domain.usecases.registry import ProfileRegistry

from .conftest import REPO, SHIPMENT


@pytest.fixture(scope="module")
def mapper() -> Mapper:
    return Mapper.load(REPO / "mappings")


@pytest.fixture(scope="module")
def swift() -> PartnerProfile:
    profile = ProfileRegistry(REPO / "partners", REPO / "mappings").current.get("swift-3pl")
    assert profile is not None
    return profile


def _check(body: bytes, mapper: Mapper, profile: PartnerProfile, **extra: Any) -> Any:
    return check_body(
        body, document_type="shipment_confirmation_json", profile=profile, mapper=mapper, **extra
    )


def test_a_valid_document_is_accepted(mapper: Mapper, swift: PartnerProfile) -> None:
    verdict = _check(SHIPMENT, mapper, swift)
    assert (verdict.status, verdict.errors, verdict.config_problem) == (202, [], None)


def test_not_json_is_400(mapper: Mapper, swift: PartnerProfile) -> None:
    verdict = _check(b"\xff\xfe{", mapper, swift)
    assert verdict.status == 400
    assert verdict.summary().startswith("the body is not JSON")


def test_json_that_is_not_an_object_is_422_about_the_whole_document(
    mapper: Mapper, swift: PartnerProfile
) -> None:
    verdict = _check(b"[]", mapper, swift)
    assert verdict.status == 422
    assert [e.as_dict() for e in verdict.errors] == [
        {
            "path": "<document>",
            "pointer": "",
            "reason": "a shipment_confirmation_json document must be a JSON object",
        }
    ]


def test_every_invalid_field_is_named_once_in_document_order(mapper: Mapper, swift: PartnerProfile) -> None:
    data = json.loads(SHIPMENT)
    data["data"]["clientOrderRef"] = ""
    data["data"]["shippedAt"] = "2026-11-20T16:42:00"  # no time zone
    data["data"]["carrier"]["scac"] = "TOOLONGSCAC"
    verdict = _check(json.dumps(data).encode(), mapper, swift)
    assert verdict.status == 422
    assert verdict.complete
    assert [e.path for e in verdict.errors] == ["data.clientOrderRef", "data.shippedAt", "data.carrier.scac"]
    assert verdict.errors[1].reason == "'2026-11-20T16:42:00': needs a time zone (e.g. 'Z' or '+02:00')"
    assert "does not match" in verdict.errors[2].reason
    assert verdict.summary().startswith("3 invalid field(s): data.clientOrderRef: is missing")


def test_the_error_budget_marks_the_list_incomplete(mapper: Mapper, swift: PartnerProfile) -> None:
    verdict = _check(b'{"data": {}}', mapper, swift, max_errors=1)
    assert verdict.status == 422
    assert [e.path for e in verdict.errors] == ["data.shipmentId"]
    assert not verdict.complete
    assert "(and possibly more)" in verdict.summary()


def test_a_document_type_the_profile_does_not_map_is_left_to_the_pipeline(
    mapper: Mapper, swift: PartnerProfile
) -> None:
    verdict = check_body(SHIPMENT, document_type="po_json", profile=swift, mapper=mapper)
    assert verdict.accepted
    assert verdict.config_problem is not None


def test_collect_errors_stops_when_nothing_gets_past_a_field() -> None:
    def stubborn(data: Any) -> object:
        raise MappingError.in_json("a.b", "is never right")

    errors, complete = collect_errors(stubborn, {"a": {"b": 1}})
    assert [(e.path, e.reason) for e in errors] == [("a.b", "is never right")]
    assert not complete


def test_collect_errors_builds_the_way_to_missing_required_fields() -> None:
    def needs_x_y_and_z(data: Any) -> object:
        for path in ("x.y", "z"):
            node = data
            for part in path.split("."):
                if not isinstance(node, dict) or part not in node:
                    raise MappingError.in_json(path, "is missing")
                node = node[part]
        return data

    data: dict[str, Any] = {}
    errors, complete = collect_errors(needs_x_y_and_z, data)
    assert [e.path for e in errors] == ["x.y", "z"]
    assert complete


def test_deeply_nested_json_is_refused_not_crashed_on(mapper: Mapper, swift: PartnerProfile) -> None:
    verdict = _check(b"[" * 100_000 + b"]" * 100_000, mapper, swift)
    assert verdict.status == 400
    assert "nested too deeply" in verdict.summary()


def test_an_unexpected_mapping_error_accepts_the_body_for_the_pipeline(swift: PartnerProfile) -> None:
    class Broken(Mapper):
        def json_to_canonical(self, data: object, **kwargs: Any) -> Any:
            raise RuntimeError("a bug")

    verdict = _check(SHIPMENT, Broken.load(REPO / "mappings"), swift)
    assert verdict.accepted
    assert verdict.config_problem == "the dry run failed unexpectedly: RuntimeError: a bug"
