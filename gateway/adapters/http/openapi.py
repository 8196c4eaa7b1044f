"""The OpenAPI 3.1 document, generated from the same route table the app registers.

Schemas come from the pydantic models the handlers parse and render with (JSON Schema
2020-12, which OpenAPI 3.1 uses as is); they are hoisted into ``components.schemas``.
Protected operations name the bearer scheme, the roles allowed (``x-roles``) and their
401/403 answers; operations endpoints declare ``security: []``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from gateway.adapters.http.base import API_PREFIX, Endpoint, Reply
from gateway.adapters.http.schemas import ErrorOut

__all__ = ["DOCUMENT", "ENDPOINT", "build_document"]

DOCUMENT: web.AppKey[dict[str, Any]] = web.AppKey("edigate_openapi")
_REF = "#/components/schemas/{model}"

_Mode = Literal["validation", "serialization"]


def _models(endpoints: Sequence[Endpoint]) -> list[tuple[type[BaseModel], _Mode]]:
    wanted: dict[tuple[type[BaseModel], _Mode], None] = {(ErrorOut, "serialization"): None}
    for ep in endpoints:
        for model in (ep.query, ep.body):
            if model is not None:
                wanted[(model, "validation")] = None
        for reply in ep.responses.values():
            if reply.model is not None:
                wanted[(reply.model, "serialization")] = None
    return list(wanted)


def _content(reply: Reply, refs: dict[tuple[type[BaseModel], _Mode], Any]) -> dict[str, Any]:
    schema: dict[str, Any]
    if reply.model is None:
        if reply.media_type == "application/json":
            schema = {"type": "object"}
        elif reply.media_type == "application/octet-stream":
            schema = {"type": "string", "format": "binary"}
        else:
            schema = {"type": "string"}
    else:
        schema = refs[(reply.model, "serialization")]
    return {reply.media_type: {"schema": schema}}


def _parameters(ep: Endpoint, defs: dict[str, Any], refs: dict[Any, Any]) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "description": text, "schema": {"type": "string"}}
        for name, text in ep.path_params.items()
    ]
    if ep.query is not None:
        name = refs[(ep.query, "validation")]["$ref"].rsplit("/", 1)[1]
        schema = defs[name]
        required = set(schema.get("required", []))
        for prop, prop_schema in schema.get("properties", {}).items():
            param: dict[str, Any] = {
                "name": prop,
                "in": "query",
                "required": prop in required,
                "schema": {k: v for k, v in prop_schema.items() if k != "description"},
            }
            if "description" in prop_schema:
                param["description"] = prop_schema["description"]
            params.append(param)
    return params


def _operation(ep: Endpoint, defs: dict[str, Any], refs: dict[Any, Any]) -> dict[str, Any]:
    op: dict[str, Any] = {"operationId": ep.operation_id, "summary": ep.summary, "tags": [ep.tag]}
    if ep.description:
        op["description"] = ep.description
    params = _parameters(ep, defs, refs)
    if params:
        op["parameters"] = params
    if ep.body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(ep.body, "validation")]}},
        }
    responses: dict[str, Any] = {}
    for status, reply in sorted(ep.responses.items()):
        entry: dict[str, Any] = {"description": reply.description, "content": _content(reply, refs)}
        if reply.headers:
            entry["headers"] = {
                h: {"description": d, "schema": {"type": "string"}} for h, d in reply.headers.items()
            }
        responses[str(status)] = entry
    error = {"application/json": {"schema": refs[(ErrorOut, "serialization")]}}
    if ep.roles is None:
        op["security"] = []
    else:
        op["security"] = [{"bearer": []}]
        op["x-roles"] = sorted(role.value for role in ep.roles)
        responses.setdefault(
            "401",
            {
                "description": "missing or invalid bearer token",
                "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
                "content": error,
            },
        )
        responses.setdefault("403", {"description": "the token's role may not do this", "content": error})
    responses.setdefault(
        "500", {"description": "unexpected error; quote the correlation ID", "content": error}
    )
    op["responses"] = responses
    return op


def build_document(
    endpoints: Sequence[Endpoint], *, title: str = "edigate admin API", version: str = "1"
) -> dict[str, Any]:
    refs, top = models_json_schema(_models(endpoints), ref_template=_REF)
    defs: dict[str, Any] = dict(top.get("$defs", {}))
    paths: dict[str, dict[str, Any]] = {}
    for ep in endpoints:
        paths.setdefault(ep.path, {})[ep.method.lower()] = _operation(ep, defs, refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": "Support, replay and onboarding operations of the edigate EDI gateway. "
            "Every response carries X-Correlation-ID (send one to choose it).",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": defs,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "an API token from the gateway settings (api_tokens)",
                }
            },
        },
    }


async def openapi_json(request: web.Request) -> web.StreamResponse:
    return web.json_response(request.app[DOCUMENT])


ENDPOINT = Endpoint(
    "GET",
    f"{API_PREFIX}/openapi.json",
    openapi_json,
    "openapi",
    "This OpenAPI 3.1 document",
    "operations",
    None,
    {200: Reply("the document")},
)
