"""The HTTP edge (aiohttp): the admin API under ``/api/v1``, operations endpoints, OpenAPI.

The composition root builds :class:`gateway.domain.usecases.services.GatewayServices` and a
:class:`gateway.adapters.metrics.Metrics`, then calls :func:`build_admin_app`; channel
endpoints can be added to the returned application before it starts.
"""

from gateway.adapters.http.app import ROUTES, build_admin_app
from gateway.adapters.http.auth import TokenAuthenticator
from gateway.adapters.http.base import API_PREFIX, Endpoint, Principal
from gateway.adapters.http.errors import CORRELATION_HEADER, gateway_middleware
from gateway.adapters.http.openapi import build_document

__all__ = [
    "API_PREFIX",
    "CORRELATION_HEADER",
    "ROUTES",
    "Endpoint",
    "Principal",
    "TokenAuthenticator",
    "build_admin_app",
    "build_document",
    "gateway_middleware",
]
