"""Bulk replays over real HTTP, on SQLite and PostgreSQL, selected by business number, document
type (canonical type or X12 set ID) and time range: each selects exactly the payloads it names.
A filter without criteria replays nothing."""

from __future__ import annotations

import asyncio
from datetime import UTC, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from gateway.adapters.store import SqlStore
from gateway.config import Role
from gateway.domain.runtime.lifecycle import State
from tests.gateway.adapters.http.helpers import bearer, seed_failed, seed_rejected, seed_routed

Client = TestClient[Any, Any]
SUPPORT = bearer(Role.SUPPORT)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/store.db"
    url: str = request.getfixturevalue("pg_url")
    return url


async def _seed(store: SqlStore) -> dict[str, str]:
    """Five payloads received one after the other, by name."""
    ids: dict[str, str] = {}
    seeds = [
        ("po", seed_routed(store, b"ISA*po", business_numbers=("PO-100",))),
        ("rejected_850", seed_rejected(store, b"ISA*rejected 850")),  # no canonical document
        (
            "invoice",
            seed_routed(
                store, b"ISA*inv", business_numbers=("INV-7",), document_type="invoice", set_id="810"
            ),
        ),
        ("unparsed", seed_failed(store, b"garbage")),
        (
            "other_po",
            seed_routed(store, b"ISA*po2", partner="northwind-supply", business_numbers=("PO-100",)),
        ),
    ]
    for name, seeding in seeds:
        ids[name] = (await seeding).id
        await asyncio.sleep(0.01)
    return ids


async def _replay(client: Client, store: SqlStore, ids: dict[str, str], flt: dict[str, Any]) -> set[str]:
    """Replay (raw) by ``flt`` and return the names of the payloads it replayed."""
    before = {name: await _replays(store, pid) for name, pid in ids.items()}
    body = {"mode": "raw", "reason": "mapping fixed (OPS-9)", "filter": flt}
    response = await client.post("/api/v1/replays", json=body, headers=SUPPORT)
    assert response.status == 202, await response.text()
    job = await _finished(client, (await response.json())["id"])
    replayed = {name for name, pid in ids.items() if await _replays(store, pid) > before[name]}
    assert (job["total"], job["done"], job["succeeded"], job["failed"]) == (
        len(replayed),
        len(replayed),
        len(replayed),
        [],
    ), flt
    return replayed


async def _replays(store: SqlStore, payload_id: str) -> int:
    record = await store.get_payload(payload_id)
    assert record is not None
    return record.replay_count


async def _finished(client: Client, job_id: str) -> dict[str, Any]:
    for _ in range(500):
        job: dict[str, Any] = await (await client.get(f"/api/v1/replays/{job_id}", headers=SUPPORT)).json()
        if not job["running"]:
            return job
        await asyncio.sleep(0.02)
    raise AssertionError(f"replay job {job_id} did not finish")


async def test_bulk_replay_by_business_number(client: Client, store: SqlStore) -> None:
    ids = await _seed(store)
    assert await _replay(client, store, ids, {"business_number": "PO-100"}) == {"po", "other_po"}
    only_acme = {"business_number": "PO-100", "partner": "acme-retail"}
    assert await _replay(client, store, ids, only_acme) == {"po"}
    assert await _replay(client, store, ids, {"business_number": "INV-7"}) == {"invoice"}
    assert await _replay(client, store, ids, {"business_number": "PO-999"}) == set()


async def test_bulk_replay_by_document_type_in_both_spellings(client: Client, store: SqlStore) -> None:
    ids = await _seed(store)
    rejected = {"document_type": "850", "partner": "acme-retail", "state": "rejected"}
    assert await _replay(client, store, ids, rejected) == {"rejected_850"}  # first: a replay resets state
    orders = {"po", "rejected_850", "other_po"}  # the rejected 850 never became a purchase_order
    assert await _replay(client, store, ids, {"document_type": "purchase_order"}) == orders
    assert await _replay(client, store, ids, {"document_type": "850"}) == orders
    assert await _replay(client, store, ids, {"document_type": "invoice"}) == {"invoice"}
    assert await _replay(client, store, ids, {"document_type": "810"}) == {"invoice"}
    assert await _replay(client, store, ids, {"document_type": "856"}) == set()


async def test_bulk_replay_by_time_range(client: Client, store: SqlStore) -> None:
    ids = await _seed(store)
    received = {}
    for name, pid in ids.items():
        record = await store.get_payload(pid)
        assert record is not None
        received[name] = record.received_at.astimezone(UTC)
    since, until = received["rejected_850"], received["unparsed"]
    window = {"since": since.isoformat(), "until": until.isoformat()}
    assert await _replay(client, store, ids, window) == {"rejected_850", "invoice"}
    naive = {"since": since.replace(tzinfo=None).isoformat(), "until": until.replace(tzinfo=None).isoformat()}
    assert await _replay(client, store, ids, naive) == {"rejected_850", "invoice"}  # no offset: UTC
    ahead = timezone(timedelta(hours=2))
    shifted = {"since": since.astimezone(ahead).isoformat(), "until": until.astimezone(ahead).isoformat()}
    assert await _replay(client, store, ids, shifted) == {"rejected_850", "invoice"}
    assert await _replay(client, store, ids, {"since": until.isoformat()}) == {"unparsed", "other_po"}
    assert await _replay(client, store, ids, {"until": since.isoformat()}) == {"po"}


async def test_a_filter_without_criteria_replays_nothing(client: Client, store: SqlStore) -> None:
    ids = await _seed(store)
    for flt in ({}, {"partner": None, "since": None, "document_type": None}):
        body = {"mode": "raw", "reason": "replay everything?", "filter": flt}
        response = await client.post("/api/v1/replays", json=body, headers=SUPPORT)
        assert response.status == 422
        problem = await response.json()
        assert [d["field"] for d in problem["details"]] == ["filter"]
        assert "at least one criterion" in problem["details"][0]["error"]
    assert (await (await client.get("/api/v1/replays", headers=SUPPORT)).json())["items"] == []
    assert [await _replays(store, pid) for pid in ids.values()] == [0] * len(ids)
    record = await store.get_payload(ids["unparsed"])
    assert record is not None
    assert record.state is State.FAILED
