"""Builds the admin HTTP application: operations endpoints, the ``/api/v1`` admin API and its document.

:func:`build_admin_app` returns a root :class:`aiohttp.web.Application` (or installs into one
the caller passes), with the request middleware (correlation ID, JSON errors, request log)
on that root, so channel endpoints added later (AS2, webhooks) as sub-apps or routes of the
same application get the same treatment. Routes are registered from :data:`ROUTES`, the same
table the OpenAPI document is generated from.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from gateway.adapters.http import control_numbers, messages, ops, partners, replay
from gateway.adapters.http.auth import TokenAuthenticator, guard
from gateway.adapters.http.base import METRICS, SERVICES, Endpoint
from gateway.adapters.http.errors import gateway_middleware
from gateway.adapters.http.openapi import DOCUMENT, ENDPOINT, build_document
from gateway.adapters.metrics import Metrics
from gateway.config import Settings
from gateway.domain.usecases.services import GatewayServices

__all__ = ["AUTHENTICATOR", "ROUTES", "build_admin_app"]

#: Every endpoint this module registers, in registration order.
ROUTES: tuple[Endpoint, ...] = (
    *ops.ENDPOINTS,
    ENDPOINT,
    *messages.ENDPOINTS,
    *replay.ENDPOINTS,
    *partners.ENDPOINTS,
    *control_numbers.ENDPOINTS,
)

AUTHENTICATOR = web.AppKey("edigate_authenticator", TokenAuthenticator)


def build_admin_app(
    services: GatewayServices,
    settings: Settings,
    metrics: Metrics,
    *,
    app: web.Application | None = None,
    authenticator: TokenAuthenticator | None = None,
) -> web.Application:
    """The admin and operations application, or ``app`` with them installed.

    Token values are read from ``settings.api_tokens`` now (a missing secret raises
    :class:`gateway.domain.profiles.SecretUnavailable` naming the token and reference),
    unless an ``authenticator`` is given. ``app`` must not be running yet.
    """
    target = app if app is not None else web.Application()
    auth = (
        authenticator if authenticator is not None else TokenAuthenticator.from_settings(settings.api_tokens)
    )
    target.middlewares.append(gateway_middleware)
    target[SERVICES] = services
    target[METRICS] = metrics
    target[AUTHENTICATOR] = auth
    target[partners.RELOAD_LOCK] = asyncio.Lock()
    target[DOCUMENT] = build_document(ROUTES)
    for endpoint in ROUTES:
        target.router.add_route(
            endpoint.method, endpoint.path, guard(endpoint, auth), name=endpoint.operation_id
        )
    return target
