"""The OpenAPI document: served, complete (routes <-> document both ways) and self-consistent."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from gateway.adapters.http import ROUTES

Client = TestClient[Any, Any]

_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def _registered(app: web.Application) -> set[tuple[str, str]]:
    out = set()
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        path = info.get("path") or info.get("formatter")
        if route.method == "HEAD" or path is None:  # aiohttp adds HEAD beside every GET
            continue
        out.add((route.method.lower(), str(path)))
    return out


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        for value in node.values():
            found |= _refs(value)
        return found
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node)) if node else set()
    return set()


async def test_document_lists_every_registered_route_and_nothing_else(client: Client) -> None:
    response = await client.get("/api/v1/openapi.json")
    assert response.status == 200
    doc = await response.json()
    assert doc["openapi"] == "3.1.0"
    documented = {
        (method, path) for path, item in doc["paths"].items() for method in item if method in _METHODS
    }
    registered = _registered(client.app)
    api = {(m, p) for m, p in registered if p.startswith("/api/v1")}
    assert api, "no /api/v1 routes registered"
    assert {(m, p) for m, p in documented if p.startswith("/api/v1")} == api
    assert documented == registered  # the operations endpoints are documented too
    assert {(ep.method.lower(), ep.path) for ep in ROUTES} == registered


async def test_operations_are_fully_described(client: Client) -> None:
    doc = await (await client.get("/api/v1/openapi.json")).json()
    assert doc["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "an API token from the gateway settings (api_tokens)",
    }
    operation_ids = []
    for path, item in doc["paths"].items():
        templated = set(re.findall(r"{(\w+)}", path))
        for method, op in item.items():
            operation_ids.append(op["operationId"])
            assert op["summary"], (method, path)
            assert op["tags"], (method, path)
            params = op.get("parameters", [])
            assert {p["name"] for p in params if p["in"] == "path"} == templated, (method, path)
            assert all(p["required"] for p in params if p["in"] == "path")
            assert "200" in op["responses"] or "202" in op["responses"]
            assert all(r["description"] for r in op["responses"].values())
            if path.startswith("/api/v1") and path != "/api/v1/openapi.json":
                assert op["security"] == [{"bearer": []}], (method, path)
                assert {"401", "403"} <= set(op["responses"]), (method, path)
                assert op["x-roles"]
            else:
                assert op["security"] == []
    assert len(operation_ids) == len(set(operation_ids))

    messages = doc["paths"]["/api/v1/messages"]["get"]
    query = {p["name"]: p for p in messages["parameters"] if p["in"] == "query"}
    assert set(query) == {
        "partner",
        "document_type",
        "state",
        "direction",
        "channel",
        "since",
        "until",
        "business_number",
        "correlation_id",
        "limit",
        "offset",
    }
    assert (query["limit"]["schema"]["maximum"], query["limit"]["required"]) == (500, False)
    assert query["since"]["description"] == "received at or after (ISO 8601; UTC without an offset)"
    assert "X12 set ID (850)" in query["document_type"]["description"]

    replay = doc["paths"]["/api/v1/replays"]["post"]
    assert replay["requestBody"]["required"] is True
    body_ref = replay["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body_schema = doc["components"]["schemas"][body_ref.rsplit("/", 1)[1]]
    assert {"mode", "reason"} <= set(body_schema["required"])
    assert set(body_schema["properties"]) == {
        "mode",
        "reason",
        "payload_ids",
        "document_ids",
        "filter",
        "renew_control_numbers",
    }
    assert "422" in replay["responses"]
    assert "202" in replay["responses"]

    raw = doc["paths"]["/api/v1/messages/{id}/raw"]["get"]
    assert raw["responses"]["200"]["content"]["application/octet-stream"]["schema"]["format"] == "binary"

    schemas = doc["components"]["schemas"]
    for ref in _refs(doc):
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.rsplit("/", 1)[1] in schemas, ref
