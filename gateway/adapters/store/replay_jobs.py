"""Replay jobs' summaries in the store: written by the instance that runs a job, read by any."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.adapters.store import tables as t
from gateway.adapters.store.rows import aware, now
from gateway.domain.runtime.store import StoredReplayJob

__all__ = ["ReplayJobOps"]


class ReplayJobOps:
    engine: AsyncEngine

    async def save_replay_job(
        self, job_id: str, summary: dict[str, Any], *, started_at: datetime, finished_at: datetime | None
    ) -> None:
        j = t.replay_jobs.c
        values = {"summary": summary, "updated_at": now(), "finished_at": finished_at}
        async with self.engine.begin() as conn:
            changed = await conn.execute(update(t.replay_jobs).where(j.id == job_id).values(**values))
            if not changed.rowcount:  # one writer per job (the instance running it): no race
                await conn.execute(t.replay_jobs.insert().values(id=job_id, started_at=started_at, **values))

    async def replay_job(self, job_id: str) -> StoredReplayJob | None:
        j = t.replay_jobs.c
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(j.summary, j.updated_at).where(j.id == job_id))).first()
        return _stored(row.summary, row.updated_at) if row is not None else None

    async def replay_jobs(self, limit: int = 100) -> list[StoredReplayJob]:
        j = t.replay_jobs.c
        stmt = select(j.summary, j.updated_at).order_by(j.started_at.desc()).limit(limit)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return [_stored(r.summary, r.updated_at) for r in rows]


def _stored(summary: dict[str, Any], updated_at: datetime) -> StoredReplayJob:
    return StoredReplayJob(dict(summary), aware(updated_at) or now())
