"""What every admin handler shares: the route table entry, application keys, request parsing, JSON.

An :class:`Endpoint` is the single description of a route: the app registers it from this
entry and the OpenAPI document is generated from the same entry, so they cannot drift.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from gateway.adapters.metrics import Metrics
from gateway.config import Role
from gateway.domain.runtime.errors import InvalidDocument
from gateway.domain.usecases.services import GatewayServices

__all__ = [
    "ALL_ROLES",
    "API_PREFIX",
    "METRICS",
    "PRINCIPAL",
    "SERVICES",
    "Endpoint",
    "Handler",
    "Principal",
    "Reply",
    "model_response",
    "parse_body",
    "parse_query",
    "problems_from",
]

API_PREFIX = "/api/v1"
ALL_ROLES = frozenset(Role)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who called: the token's name (the actor in audit trails) and its role."""

    name: str
    role: Role


@dataclass(frozen=True, slots=True)
class Reply:
    """One documented response of an endpoint."""

    description: str
    model: type[BaseModel] | None = None
    media_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)  # name -> description


@dataclass(frozen=True, slots=True)
class Endpoint:
    method: str
    path: str  # the full path, e.g. "/api/v1/messages/{id}"
    handler: Handler
    operation_id: str
    summary: str
    tag: str
    roles: frozenset[Role] | None  # None: open to anyone (operations endpoints)
    responses: Mapping[int, Reply]
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    path_params: Mapping[str, str] = field(default_factory=dict)  # name -> description
    description: str = ""


SERVICES = web.AppKey("edigate_services", GatewayServices)
METRICS = web.AppKey("edigate_metrics", Metrics)
PRINCIPAL = web.RequestKey("edigate_principal", Principal)


def problems_from(error: ValidationError, where: str) -> list[dict[str, Any]]:
    """One ``{"field", "error"}`` per pydantic error; the field is dotted (``filter.since``)."""
    details = []
    for item in error.errors(include_url=False, include_input=False):
        loc = ".".join(str(part) for part in item["loc"]) or where
        details.append({"field": loc, "error": item["msg"].removeprefix("Value error, ")})
    return details


def parse_query(request: web.Request, model: type[M]) -> M:
    """Validate the query string; repeated parameters are refused rather than silently merged."""
    data: dict[str, str] = {}
    repeated: list[dict[str, Any]] = []
    for key, value in request.query.items():
        if key in data:
            repeated.append({"field": key, "error": "given more than once"})
        data[key] = value
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        raise InvalidDocument(
            "invalid query parameters", details=repeated + problems_from(exc, "query")
        ) from None
    if repeated:
        raise InvalidDocument("invalid query parameters", details=repeated)
    return parsed


async def parse_body(request: web.Request, model: type[M]) -> M:
    """Validate a JSON request body against ``model``; every invalid field is reported."""
    raw = await request.read()
    try:
        data = json.loads(raw or b"null")
    except ValueError:
        raise InvalidDocument(
            "the request body is not JSON", details=[{"field": "body", "error": "not valid JSON"}]
        ) from None
    if not isinstance(data, dict):
        raise InvalidDocument(
            "the request body must be a JSON object", details=[{"field": "body", "error": "not an object"}]
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidDocument("invalid request body", details=problems_from(exc, "body")) from None


def model_response(model: BaseModel, status: int = 200) -> web.Response:
    return web.Response(
        status=status, text=model.model_dump_json(), content_type="application/json", charset="utf-8"
    )
