"""Operations endpoints, error bodies and request logs over real HTTP."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from gateway.adapters.http import build_admin_app
from gateway.adapters.metrics import Metrics
from gateway.adapters.store import SqlStore, create_engine
from gateway.config import Role, Settings
from gateway.domain.runtime.ports import DestinationHealth
from gateway.domain.runtime.records import PayloadRecord
from gateway.domain.runtime.store import MessageFilter
from gateway.domain.usecases.services import GatewayServices, Observer
from gateway.logging import capture_logs
from tests.gateway.adapters.http.helpers import bearer, seed_overdue, seed_routed

Client = TestClient[Any, Any]


async def test_healthz(client: Client) -> None:
    response = await client.get("/healthz")
    assert (response.status, await response.json()) == (200, {"status": "ok"})


async def test_readyz_reports_store_destinations_and_backlog(client: Client, store: SqlStore) -> None:
    await seed_routed(store, b"ISA*po", business_numbers=("PO-1", "PO-2"))
    response = await client.get("/readyz")
    assert response.status == 200
    body = await response.json()
    assert (body["ready"], body["store"], body["outbox_backlog"], body["reasons"]) == (True, "ok", 2, [])
    assert body["destinations"]["erp"] == {"ready": True, "detail": "spool ok"}


async def test_readyz_is_503_when_a_destination_is_not_ready(
    client: Client, destinations: dict[str, DestinationHealth]
) -> None:
    destinations["erp"] = DestinationHealth(False, "broker connection lost: 127.0.0.1:5672 refused")
    response = await client.get("/readyz")
    assert response.status == 503
    body = await response.json()
    assert body["ready"] is False
    assert body["reasons"] == ["destination erp: broker connection lost: 127.0.0.1:5672 refused"]
    assert body["destinations"]["wms"]["ready"] is True
    assert body["outbox_backlog"] == 0


async def test_readyz_is_503_when_the_store_is_unreachable(client: Client, services: GatewayServices) -> None:
    services.store = SqlStore(create_engine("sqlite:////nonexistent-dir/edigate/store.db"))
    response = await client.get("/readyz")
    assert response.status == 503
    body = await response.json()
    assert body["store"].startswith("unreachable")
    assert body["reasons"][0].startswith("store: unreachable")
    assert body["outbox_backlog"] is None
    await services.store.close()


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def _labels(**labels: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(labels.items()))


async def test_metrics_expose_store_observer_and_certificate_series(
    client: Client, store: SqlStore, metrics: Metrics
) -> None:
    await seed_routed(store, b"ISA*po", business_numbers=("PO-1", "PO-2"))
    await seed_overdue(store)
    metrics.pipeline_finished(0.3, "routed")
    metrics.pipeline_finished(7.0, "failed")
    metrics.published(2, "erp")
    metrics.overdue("acme-retail", 1)

    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    samples = _samples(await response.text())
    docs = _labels(partner="acme-retail", document_type="purchase_order", state="routed")
    assert samples[("edigate_documents", docs)] == 2
    payloads = _labels(partner="acme-retail", document_type="payload", state="routed")
    assert samples[("edigate_documents", payloads)] == 1
    assert samples[("edigate_outbox_backlog", ())] == 2
    assert samples[("edigate_acks_overdue", _labels(partner="acme-retail"))] == 1
    assert samples[("edigate_acks_overdue_detected_total", _labels(partner="acme-retail"))] == 1
    assert samples[("edigate_pipeline_seconds_count", _labels(state="routed"))] == 1
    assert samples[("edigate_pipeline_seconds_bucket", _labels(state="failed", le="5.0"))] == 0
    assert samples[("edigate_pipeline_seconds_bucket", _labels(state="failed", le="10.0"))] == 1
    assert samples[("edigate_published_total", _labels(destination="erp"))] == 2
    assert samples[("edigate_profiles_loaded", ())] == 3

    # acme-retail's current certificate window ends 2027-09-01 (narrowed in its profile)
    expected = (datetime(2027, 9, 1, tzinfo=UTC) - datetime.now(UTC)).total_seconds()
    cert = _labels(partner="acme-retail", certificate="partner_certificates[0]")
    assert abs(samples[("edigate_certificate_expiry_seconds", cert)] - expected) < 60
    ours = _labels(partner="acme-retail", certificate="our_certificate")
    assert ("edigate_certificate_expiry_seconds", ours) in samples
    assert not any(
        name == "edigate_certificate_expiry_seconds" and dict(labels)["partner"] == "swift-3pl"
        for name, labels in samples
    )

    # values are read again at every scrape; series that no longer exist disappear
    claimed = await store.claim_outbox("relay", 10, 60)
    await store.mark_published([m.id for m in claimed])
    again = _samples(await (await client.get("/metrics")).text())
    assert again[("edigate_outbox_backlog", ())] == 0
    assert ("edigate_documents", docs) not in again
    delivered = _labels(partner="acme-retail", document_type="purchase_order", state="delivered")
    assert again[("edigate_documents", delivered)] == 2
    assert (
        again[
            ("edigate_documents", _labels(partner="acme-retail", document_type="payload", state="delivered"))
        ]
        == 1
    )


class _BrokenStore(SqlStore):
    async def list_payloads(self, flt: MessageFilter) -> list[PayloadRecord]:
        raise RuntimeError("connection string postgres://user:hunter2@db failed")


async def test_unexpected_errors_are_500_with_a_correlation_id_only(
    client: Client, services: GatewayServices, store: SqlStore
) -> None:
    services.store = _BrokenStore(store.engine)
    with capture_logs("gateway") as lines:
        response = await client.get(
            "/api/v1/messages", headers={**bearer(Role.SUPPORT), "X-Correlation-ID": "corr-500"}
        )
    assert response.status == 500
    text = await response.text()
    assert "hunter2" not in text
    assert "Traceback" not in text
    assert "RuntimeError" not in text
    body = await response.json()
    assert (body["error"], body["correlation_id"]) == ("InternalError", "corr-500")
    [logged] = [line for line in lines if line["message"] == "unhandled error"]
    assert logged["correlation_id"] == "corr-500"
    assert "RuntimeError" in logged["exc"]


async def test_request_logs_are_json_with_the_correlation_id(client: Client) -> None:
    with capture_logs("gateway") as lines:
        given = await client.get("/healthz", headers={"X-Correlation-ID": "ticket-4711"})
        fresh = await client.get("/api/v1/partners", headers=bearer(Role.SUPPORT))
        unsafe = await client.get("/healthz", headers={"X-Correlation-ID": "x" * 300})
        widest = await client.get("/healthz", headers={"X-Correlation-ID": "w" * 64})
        too_wide = await client.get("/healthz", headers={"X-Correlation-ID": "w" * 65})
    assert widest.headers["X-Correlation-ID"] == "w" * 64  # the store's column width
    assert uuid.UUID(too_wide.headers["X-Correlation-ID"])  # longer: replaced, never truncated
    assert given.headers["X-Correlation-ID"] == "ticket-4711"
    generated = fresh.headers["X-Correlation-ID"]
    assert uuid.UUID(generated)
    assert unsafe.headers["X-Correlation-ID"] != "x" * 300
    requests = [line for line in lines if line["logger"] == "gateway.http"]
    assert [(r["path"], r["status"], r["correlation_id"]) for r in requests] == [
        ("/healthz", 200, "ticket-4711"),
        ("/api/v1/partners", 200, generated),
        ("/healthz", 200, unsafe.headers["X-Correlation-ID"]),
        ("/healthz", 200, "w" * 64),
        ("/healthz", 200, too_wide.headers["X-Correlation-ID"]),
    ]
    assert all(r["level"] == "info" and r["duration_ms"] >= 0 for r in requests)


async def test_unknown_routes_get_json_problems(client: Client) -> None:
    response = await client.get("/api/v1/nothing-here")
    assert response.status == 404
    body = await response.json()
    assert (body["error"], body["correlation_id"]) == ("NotFound", response.headers["X-Correlation-ID"])
    wrong_method = await client.delete("/api/v1/messages")
    assert wrong_method.status == 405
    assert "GET" in wrong_method.headers["Allow"]


async def test_installs_into_an_existing_application_beside_channel_routes(
    services: GatewayServices, settings: Settings
) -> None:
    async def as2_inbound(request: web.Request) -> web.Response:
        raise web.HTTPUnsupportedMediaType()

    root = web.Application()
    root.router.add_post("/as2", as2_inbound)
    app = build_admin_app(services, settings, Metrics(), app=root)
    assert app is root
    async with TestClient(TestServer(root, host="127.0.0.1")) as client:
        channel = await client.post("/as2", data=b"x", headers={"X-Correlation-ID": "as2-1"})
        assert (channel.status, channel.headers["X-Correlation-ID"]) == (415, "as2-1")
        assert (await channel.json())["error"] == "UnsupportedMediaType"
        assert (await client.get("/healthz")).status == 200


def test_metrics_implement_the_observer_protocol() -> None:
    observer: Observer = Metrics()  # checked by mypy; the calls below by the registry
    observer.pipeline_finished(0.01, "delivered")
    observer.payload_settled(2.0, "delivered")
    observer.published(3, "wms")
    observer.overdue("acme-retail", 2)
    assert isinstance(observer, Metrics)
    text = observer.render().decode()
    assert 'edigate_published_total{destination="wms"} 3.0' in text
    assert 'edigate_pipeline_latency_seconds_count{state="delivered"} 1.0' in text
    assert 'edigate_acks_overdue_detected_total{partner="acme-retail"} 2.0' in text
    assert 'edigate_pipeline_seconds_count{state="delivered"} 1.0' in text
