"""Replay job summaries in the store, on SQLite and PostgreSQL: created, updated, read, listed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gateway.adapters.store import SqlStore


async def test_a_job_is_created_then_updated_and_listed_newest_first(store: SqlStore) -> None:
    t0 = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
    first = {"id": "job-1", "running": True, "done": 0, "failed": [], "started_at": t0.isoformat()}
    await store.save_replay_job("job-1", first, started_at=t0, finished_at=None)
    later = {"id": "job-2", "running": True, "done": 0, "failed": [], "started_at": "later"}
    await store.save_replay_job("job-2", later, started_at=t0 + timedelta(minutes=1), finished_at=None)
    done = dict(first, running=False, done=3, failed=[{"id": "p9", "error": "no such payload"}])
    before = datetime.now(UTC)
    await store.save_replay_job("job-1", done, started_at=t0, finished_at=t0 + timedelta(seconds=9))

    stored = await store.replay_job("job-1")
    assert stored is not None
    assert stored.summary == done  # nested JSON survives, and the update replaced the summary
    assert stored.updated_at.tzinfo is not None
    assert stored.updated_at >= before - timedelta(seconds=1)
    assert await store.replay_job("job-3") is None
    assert [s.summary["id"] for s in await store.replay_jobs()] == ["job-2", "job-1"]
    assert [s.summary["id"] for s in await store.replay_jobs(limit=1)] == ["job-2"]
