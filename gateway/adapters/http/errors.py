"""Request middleware: the correlation ID, one structured log line per request, and error bodies.

* The correlation ID comes from ``X-Correlation-ID`` (when it is a sane token) or is a new
  UUID; it is set in :data:`gateway.logging.correlation_id` for the request's task and echoed
  in the response header.
* A :class:`GatewayError` becomes a JSON problem with the error's own ``http_status``
  (``as_problem()`` plus ``status`` and ``correlation_id``); a 401 carries
  ``WWW-Authenticate: Bearer``.
* aiohttp's own HTTP errors (unknown route, wrong method) keep their status and headers and
  get the same JSON shape.
* Anything unexpected is logged with its traceback and answered with a 500 naming only the
  correlation ID, never the exception or a traceback.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from aiohttp import web

from gateway.adapters.http.base import Handler
from gateway.domain.runtime.correlation import SANE_CORRELATION_ID
from gateway.domain.runtime.errors import GatewayError
from gateway.domain.runtime.ids import new_uuid
from gateway.logging import correlation_scope

__all__ = ["CORRELATION_HEADER", "gateway_middleware", "problem_response"]

CORRELATION_HEADER = "X-Correlation-ID"
_SANE_ID = SANE_CORRELATION_ID

log = logging.getLogger("gateway.http")


def problem_response(
    status: int,
    error: str,
    message: str,
    correlation: str,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    body: dict[str, Any] = {
        "error": error,
        "message": message,
        "status": status,
        "correlation_id": correlation,
    }
    if details:
        body["details"] = details
    return web.json_response(body, status=status, headers=headers)


def _from_gateway_error(exc: GatewayError, request: web.Request, correlation: str) -> web.Response:
    problem = exc.as_problem()
    headers: dict[str, str] = {}
    if exc.http_status == 401:
        challenge = 'Bearer realm="edigate"'
        if "Authorization" in request.headers:
            challenge += ', error="invalid_token"'
        headers["WWW-Authenticate"] = challenge
    return problem_response(
        exc.http_status, problem["error"], problem["message"], correlation, problem.get("details"), headers
    )


def _from_http_exception(exc: web.HTTPException, correlation: str) -> web.Response:
    keep = {k: v for k, v in exc.headers.items() if k.lower() not in ("content-type", "content-length")}
    return problem_response(
        exc.status, type(exc).__name__.removeprefix("HTTP"), exc.reason, correlation, None, keep
    )


def _correlation(request: web.Request) -> str:
    given = request.headers.get(CORRELATION_HEADER, "")
    return given if _SANE_ID.fullmatch(given) else str(new_uuid())


def _log_request(request: web.Request, status: int, started: float) -> None:
    log.info(
        "%s %s %s",
        request.method,
        request.path,
        status,
        extra={
            "method": request.method,
            "path": request.path,
            "status": status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
        },
    )


@web.middleware
async def gateway_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    correlation = _correlation(request)
    started = time.perf_counter()
    with correlation_scope(correlation):
        response: web.StreamResponse
        try:
            response = await handler(request)
        except GatewayError as exc:
            response = _from_gateway_error(exc, request, correlation)
        except web.HTTPException as exc:
            if exc.status < 400:  # redirects and the like pass through as aiohttp raised them
                exc.headers[CORRELATION_HEADER] = correlation
                _log_request(request, exc.status, started)
                raise
            response = _from_http_exception(exc, correlation)
        except Exception:
            log.exception("unhandled error", extra={"method": request.method, "path": request.path})
            response = problem_response(
                500, "InternalError", f"internal error; quote correlation ID {correlation}", correlation
            )
        if not response.prepared:
            response.headers[CORRELATION_HEADER] = correlation
        _log_request(request, response.status, started)
        return response
