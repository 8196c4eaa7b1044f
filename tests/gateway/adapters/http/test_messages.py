"""Message endpoints over real HTTP, on SQLite and on PostgreSQL: list, filter, page, show, raw, overdue."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from gateway.adapters.store import SqlStore
from gateway.config import Role
from tests.gateway.adapters.http.helpers import bearer, seed_failed, seed_overdue, seed_routed

Client = TestClient[Any, Any]
SUPPORT = bearer(Role.SUPPORT)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/store.db"
    url: str = request.getfixturevalue("pg_url")
    return url


async def _list(client: Client, **params: str | int) -> tuple[int, dict[str, Any]]:
    response = await client.get("/api/v1/messages", params=params, headers=SUPPORT)
    return response.status, await response.json()


async def test_list_filter_and_paginate(client: Client, store: SqlStore) -> None:
    first = await seed_routed(store, b"ISA*first", business_numbers=("PO-100",), correlation_id="corr-a")
    await asyncio.sleep(0.01)
    second = await seed_routed(store, b"ISA*second", partner="northwind-supply", business_numbers=("PO-200",))
    await asyncio.sleep(0.01)
    failed = await seed_failed(store, b"garbage")

    status, page = await _list(client)
    assert status == 200
    assert [m["id"] for m in page["items"]] == [failed.id, second.id, first.id]  # newest first
    assert page["next_offset"] is None
    top = page["items"][1]
    assert (top["partner_id"], top["state"], top["channel"], top["direction"]) == (
        "northwind-supply",
        "routed",
        "as2",
        "inbound",
    )
    assert (top["filename"], top["size"]) == ("po.edi", len(b"ISA*second"))

    _, one = await _list(client, limit=1)
    assert ([m["id"] for m in one["items"]], one["next_offset"]) == ([failed.id], 1)
    _, two = await _list(client, limit=1, offset=one["next_offset"])
    assert ([m["id"] for m in two["items"]], two["next_offset"]) == ([second.id], 2)
    _, last = await _list(client, limit=2, offset=1)
    assert ([m["id"] for m in last["items"]], last["next_offset"]) == ([second.id, first.id], None)

    filters: list[tuple[dict[str, str | int], list[str]]] = [
        ({"partner": "northwind-supply"}, [second.id]),
        ({"state": "failed"}, [failed.id]),
        ({"state": "routed", "partner": "acme-retail"}, [first.id]),
        ({"document_type": "purchase_order"}, [second.id, first.id]),
        ({"direction": "outbound"}, []),
        ({"channel": "sftp"}, [failed.id]),
        ({"business_number": "PO-200"}, [second.id]),
        ({"correlation_id": "corr-a"}, [first.id]),
        ({"since": second.received_at.isoformat()}, [failed.id, second.id]),
        ({"until": second.received_at.isoformat()}, [first.id]),
        (
            {"since": first.received_at.isoformat(), "until": failed.received_at.isoformat()},
            [second.id, first.id],
        ),
    ]
    for params, expected in filters:
        status, body = await _list(client, **params)
        assert status == 200, body
        assert [m["id"] for m in body["items"]] == expected, params


async def test_invalid_query_parameters_are_named(client: Client) -> None:
    status, body = await _list(client, limit=501, state="lost", since="yesterday", partner_id="acme")
    assert status == 422
    fields = {d["field"] for d in body["details"]}
    assert fields == {"limit", "state", "since", "partner_id"}
    status, body = await _list(client, since="2025-02-01T00:00:00Z", until="2025-01-01T00:00:00Z")
    assert (status, [d["field"] for d in body["details"]]) == (422, ["until"])
    status, _ = await _list(client, limit=500)
    assert status == 200


async def test_show_has_envelopes_documents_findings_and_audit_trail(client: Client, store: SqlStore) -> None:
    record = await seed_routed(store, b"ISA*po", business_numbers=("PO-1", "PO-2"))
    [message] = await store.claim_outbox("relay", 1, 60)
    await store.mark_published([message.id])

    response = await client.get(f"/api/v1/messages/{record.id}", headers=SUPPORT)
    assert response.status == 200
    body = await response.json()
    assert body["id"] == record.id
    assert body["state"] == "routed"
    assert sorted(body["business_numbers"]) == ["PO-1", "PO-2"]
    assert body["findings"] == [{"code": "element_too_long", "segment_id": "BEG", "element": 3}]
    assert [e["st02"] for e in body["envelopes"]] == ["0001", "0002"]
    assert {e["isa13"] for e in body["envelopes"]} == {"000000007"}
    assert body["audit"][0]["state"] == "received"
    assert body["audit"][-1]["state"] == "routed"
    docs = {d["business_number"]: d for d in body["documents"]}
    assert set(docs) == {"PO-1", "PO-2"}
    published = next(d for d in docs.values() if d["id"] == message.document_id)
    assert published["state"] == "delivered"
    assert [e["state"] for e in published["audit"]][-1] == "delivered"
    assert body["meta"]["content_type"] == "application/edi-x12"

    missing = await client.get("/api/v1/messages/no-such-id", headers=SUPPORT)
    assert missing.status == 404
    assert (await missing.json())["error"] == "NotFound"


async def test_raw_download_returns_the_stored_bytes(client: Client, store: SqlStore) -> None:
    content = bytes(range(256)) * 40 + b"ISA*00*~"
    record = await seed_routed(store, content, filename="in/ACME PO 2025-01.edi")
    response = await client.get(f"/api/v1/messages/{record.id}/raw", headers=SUPPORT)
    assert response.status == 200
    assert await response.read() == content
    assert response.headers["Content-Type"] == "application/edi-x12"
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=\"ACME PO 2025-01.edi\"; filename*=UTF-8''ACME%20PO%202025-01.edi"
    )

    unnamed = await seed_routed(store, b"plain", filename=None, content_type=None)
    response = await client.get(f"/api/v1/messages/{unnamed.id}/raw", headers=SUPPORT)
    assert await response.read() == b"plain"
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert f'filename="{unnamed.id}.bin"' in response.headers["Content-Disposition"]

    missing = await client.get("/api/v1/messages/no-such-id/raw", headers=SUPPORT)
    assert missing.status == 404


async def test_overdue_acks(client: Client, store: SqlStore) -> None:
    empty = await client.get("/api/v1/acks/overdue", headers=SUPPORT)
    assert (await empty.json())["items"] == []
    record = await seed_overdue(store, gs06="41")
    response = await client.get("/api/v1/acks/overdue", headers=SUPPORT)
    assert response.status == 200
    [item] = (await response.json())["items"]
    assert (item["payload_id"], item["partner_id"], item["gs06"], item["ack_kind"], item["ack_status"]) == (
        record.id,
        "acme-retail",
        "41",
        "997",
        "overdue",
    )
    assert item["ack_due_at"] is not None
