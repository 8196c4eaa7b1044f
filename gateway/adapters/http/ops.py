"""Operations endpoints, open without a token: liveness, readiness and Prometheus metrics.

* ``/healthz``: the process answers (no dependency is checked).
* ``/readyz``: the store answers (reading the outbox backlog), every destination reports
  ready and no background loop keeps failing; otherwise 503 with a reason for each failing
  part. The outbox backlog is reported either way, so a broker outage shows how much waits.
* ``/metrics``: store-backed gauges are read here, asynchronously, and only then rendered.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from gateway.adapters.http.base import METRICS, SERVICES, Endpoint, Reply, model_response
from gateway.adapters.http.schemas import DestinationOut, HealthOut, LoopOut, ReadinessOut
from gateway.adapters.metrics import CONTENT_TYPE
from gateway.domain.runtime.ports import DestinationHealth

__all__ = ["ENDPOINTS", "READY_TIMEOUT"]

#: How long a readiness probe waits for the store and for the destinations.
READY_TIMEOUT = 5.0

log = logging.getLogger("gateway.http.ops")


async def healthz(request: web.Request) -> web.StreamResponse:
    return model_response(HealthOut(status="ok"))


async def readyz(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    reasons: list[str] = []
    backlog: int | None = None
    store_state = "ok"
    try:
        backlog = await asyncio.wait_for(services.store.outbox_backlog(), READY_TIMEOUT)
    except Exception as exc:  # any failure means "not ready"; the class name says which
        store_state = f"unreachable ({type(exc).__name__})"
        reasons.append(f"store: {store_state}")
        log.warning("readiness: store check failed", exc_info=True)
    destinations: dict[str, DestinationHealth] = {}
    try:
        destinations = await asyncio.wait_for(services.health(), READY_TIMEOUT)
    except Exception as exc:
        reasons.append(f"destinations: health check failed ({type(exc).__name__})")
        log.warning("readiness: destination health check failed", exc_info=True)
    for name, health in sorted(destinations.items()):
        if not health.ready:
            reasons.append(f"destination {name}: {health.detail or 'not ready'}")
    loops = services.loops()
    reasons += [f"loop {s.name}: {s.describe()}" for s in loops if not s.healthy]
    out = ReadinessOut(
        ready=not reasons,
        store=store_state,
        outbox_backlog=backlog,
        destinations={n: DestinationOut(ready=h.ready, detail=h.detail) for n, h in destinations.items()},
        loops={s.name: LoopOut(ok=s.healthy, failures=s.failures, detail=s.describe()) for s in loops},
        reasons=reasons,
    )
    return model_response(out, status=200 if out.ready else 503)


async def metrics(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    body = await request.app[METRICS].scrape(services.store, services.profiles.current)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


ENDPOINTS = [
    Endpoint(
        "GET",
        "/healthz",
        healthz,
        "healthz",
        "Liveness: the process answers",
        "operations",
        None,
        {200: Reply("alive", HealthOut)},
    ),
    Endpoint(
        "GET",
        "/readyz",
        readyz,
        "readyz",
        "Readiness: the store and every destination are reachable, and no background loop keeps failing",
        "operations",
        None,
        {
            200: Reply("ready", ReadinessOut),
            503: Reply("not ready; reasons name each failing part", ReadinessOut),
        },
    ),
    Endpoint(
        "GET",
        "/metrics",
        metrics,
        "metrics",
        "Prometheus metrics (text exposition format)",
        "operations",
        None,
        {200: Reply("the metrics", media_type="text/plain")},
    ),
]
