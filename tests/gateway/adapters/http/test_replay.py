"""Replay endpoints over real HTTP: single raw replay, bulk by filter with progress, 422s, job lists."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp.test_utils import TestClient

from gateway.adapters.store import SqlStore
from gateway.config import Role
from gateway.domain.runtime.lifecycle import State
from tests.gateway.adapters.http.helpers import ACTORS, bearer, seed_failed, seed_routed

Client = TestClient[Any, Any]
SUPPORT = bearer(Role.SUPPORT)


async def _finished(client: Client, job_id: str) -> dict[str, Any]:
    for _ in range(200):
        response = await client.get(f"/api/v1/replays/{job_id}", headers=SUPPORT)
        assert response.status == 200
        job: dict[str, Any] = await response.json()
        if not job["running"]:
            return job
        await asyncio.sleep(0.02)
    raise AssertionError(f"replay job {job_id} did not finish")


async def test_single_raw_replay_resets_the_payload_with_actor_and_reason(
    client: Client, store: SqlStore
) -> None:
    record = await seed_routed(store, b"ISA*po")
    body = {"mode": "raw", "reason": "mapping fixed (OPS-12)", "payload_ids": [record.id]}
    response = await client.post("/api/v1/replays", json=body, headers=SUPPORT)
    assert response.status == 202
    started = await response.json()
    assert response.headers["Location"] == f"/api/v1/replays/{started['id']}"
    assert (started["mode"], started["actor"], started["total"]) == ("raw", ACTORS[Role.SUPPORT], 1)

    job = await _finished(client, started["id"])
    assert (job["done"], job["succeeded"], job["failed"]) == (1, 1, [])
    assert job["finished_at"] is not None
    after = await store.get_payload(record.id)
    assert after is not None
    assert (after.state, after.replay_count) == (State.RECEIVED, 1)
    replayed = [e for e in await store.audit_trail("payload", record.id) if e.state == "replayed"]
    assert [(e.actor, e.reason) for e in replayed] == [(ACTORS[Role.SUPPORT], "mapping fixed (OPS-12)")]

    shown = await client.get(f"/api/v1/messages/{record.id}", headers=SUPPORT)
    trail = (await shown.json())["audit"]
    assert trail[-1]["state"] == "replayed"
    assert (trail[-1]["actor"], trail[-1]["reason"]) == (ACTORS[Role.SUPPORT], "mapping fixed (OPS-12)")


async def test_bulk_replay_by_filter_reports_progress_and_a_summary(client: Client, store: SqlStore) -> None:
    failed = [await seed_failed(store, b"bad %d" % i) for i in range(3)]
    other = await seed_failed(store, b"other partner", partner="northwind-supply")
    kept = await seed_routed(store, b"ISA*fine")
    body = {
        "mode": "raw",
        "reason": "parser fix deployed",
        "filter": {"partner": "acme-retail", "state": "failed"},
    }
    response = await client.post("/api/v1/replays", json=body, headers=bearer(Role.ADMIN))
    assert response.status == 202
    started = await response.json()
    assert started["total"] == 3
    assert 0 <= started["done"] <= 3
    job = await _finished(client, started["id"])
    assert (job["total"], job["done"], job["succeeded"], job["failed"]) == (3, 3, 3, [])
    assert job["actor"] == ACTORS[Role.ADMIN]
    for record in failed:
        after = await store.get_payload(record.id)
        assert after is not None
        assert after.state is State.RECEIVED
    untouched = [await store.get_payload(r.id) for r in (other, kept)]
    assert [r.state if r else None for r in untouched] == [State.FAILED, State.ROUTED]

    listed = await client.get("/api/v1/replays", headers=SUPPORT)
    assert [j["id"] for j in (await listed.json())["items"]] == [started["id"]]


async def test_items_that_cannot_be_replayed_are_listed_as_failed(client: Client, store: SqlStore) -> None:
    record = await seed_routed(store, b"ISA*po")
    body = {"mode": "outbound", "reason": "resend", "payload_ids": [record.id, "no-such-payload"]}
    response = await client.post("/api/v1/replays", json=body, headers=SUPPORT)
    job = await _finished(client, (await response.json())["id"])
    assert (job["done"], job["succeeded"]) == (2, 0)
    errors = {item["id"]: item["error"] for item in job["failed"]}
    assert "inbound" in errors[record.id]
    assert "no stored payload" in errors["no-such-payload"]


async def test_invalid_replay_requests_name_each_field(client: Client, store: SqlStore) -> None:
    record = await seed_routed(store, b"ISA*po")
    cases: list[tuple[Any, set[str]]] = [
        ({"mode": "raw", "payload_ids": [record.id]}, {"reason"}),
        ({"mode": "raw", "reason": "   ", "payload_ids": [record.id]}, {"reason"}),
        ({"mode": "sideways", "reason": "x", "payload_ids": [record.id], "colour": 1}, {"mode", "colour"}),
        ({"mode": "raw", "reason": "x"}, {"payload_ids"}),
        ({"mode": "raw", "reason": "x", "filter": {}}, {"filter"}),
        (
            {"mode": "raw", "reason": "x", "filter": {"state": "lost", "since": "never"}},
            {"filter.state", "filter.since"},
        ),
        ({"mode": "raw", "reason": "x", "document_ids": ["d1"]}, {"document_ids"}),
        (["not", "an", "object"], {"body"}),
    ]
    for body, fields in cases:
        response = await client.post("/api/v1/replays", json=body, headers=SUPPORT)
        assert response.status == 422, body
        problem = await response.json()
        assert problem["error"] == "InvalidDocument"
        assert {d["field"] for d in problem["details"]} == fields, body
    raw = await client.post("/api/v1/replays", data=b"{not json", headers=SUPPORT)
    assert raw.status == 422
    after = await store.get_payload(record.id)
    assert after is not None
    assert after.state is State.ROUTED  # nothing was replayed
    assert (await (await client.get("/api/v1/replays", headers=SUPPORT)).json())["items"] == []


async def test_unknown_job_is_404(client: Client) -> None:
    response = await client.get("/api/v1/replays/no-such-job", headers=SUPPORT)
    assert response.status == 404
    assert (await response.json())["error"] == "NotFound"


async def test_jobs_are_kept_in_the_store_for_every_instance_and_a_silent_one_is_interrupted(
    client: Client, store: SqlStore
) -> None:
    """Another instance (a second ReplayService on the same store) and a restarted process see
    a job's summary; a job whose instance stopped saving it shows as interrupted."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from gateway.adapters.store import tables
    from gateway.domain.usecases.replay import ReplayService

    failed = [await seed_failed(store, b"bad %d" % i) for i in range(2)]
    body = {"mode": "raw", "reason": "fixed", "payload_ids": [r.id for r in failed]}
    started = await (await client.post("/api/v1/replays", json=body, headers=SUPPORT)).json()
    assert await store.replay_job(started["id"]) is not None  # saved before the 202 is answered
    job = await _finished(client, started["id"])
    for _ in range(100):  # the final summary is saved as the job ends
        saved = await store.replay_job(started["id"])
        if saved is not None and not saved.summary["running"]:
            break
        await asyncio.sleep(0.02)

    from gateway.adapters.http.schemas import ReplayJobOut

    elsewhere = ReplayService(store)  # nothing in its memory
    seen_there = ReplayJobOut.model_validate(await elsewhere.job_summary(started["id"]))
    assert seen_there.model_dump(mode="json") == job
    assert [j["id"] for j in await elsewhere.job_summaries()] == [started["id"]]
    listed = await (await client.get("/api/v1/replays", headers=SUPPORT)).json()
    assert [j["id"] for j in listed["items"]] == [started["id"]]

    # a job left running by an instance that died: no heartbeat for over a minute
    ghost = dict(job, id="00000000-0000-0000-0000-00000000dead", running=True, finished_at=None, done=1)
    await store.save_replay_job(ghost["id"], ghost, started_at=datetime.now(UTC), finished_at=None)
    shown = await elsewhere.job_summary(ghost["id"])
    assert (shown["running"], shown["interrupted"]) == (True, False)  # it beat just now
    async with store.engine.begin() as conn:
        await conn.execute(
            update(tables.replay_jobs)
            .where(tables.replay_jobs.c.id == ghost["id"])
            .values(updated_at=datetime.now(UTC) - timedelta(minutes=5))
        )
    response = await client.get(f"/api/v1/replays/{ghost['id']}", headers=SUPPORT)
    assert response.status == 200
    interrupted = await response.json()
    assert (interrupted["running"], interrupted["interrupted"], interrupted["done"]) == (False, True, 1)
    missing = await client.get("/api/v1/replays/no-such-job", headers=SUPPORT)
    assert missing.status == 404
