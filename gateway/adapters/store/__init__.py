"""The durable store on SQLAlchemy 2 (async): SQLite via aiosqlite, PostgreSQL via asyncpg."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.adapters.store.bulk import bulk_inserter
from gateway.adapters.store.engine import create_engine, normalise_url, upgrade
from gateway.adapters.store.errors import translating
from gateway.adapters.store.finishing import FinishOps
from gateway.adapters.store.outbox import OutboxOps
from gateway.adapters.store.queries import QueryOps
from gateway.adapters.store.replay_jobs import ReplayJobOps
from gateway.adapters.store.tracking import TrackingOps

__all__ = ["SqlStore", "create_engine", "normalise_url", "open_store", "upgrade"]


@translating
class SqlStore(FinishOps, OutboxOps, TrackingOps, QueryOps, ReplayJobOps):
    """Implements :class:`gateway.domain.runtime.store.Store` on one engine.

    Every public method is one transaction; a database that is unreachable surfaces as
    :class:`gateway.domain.runtime.errors.TransientFailure` (see :mod:`.errors`).
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.bulk = bulk_inserter(engine.dialect)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def close(self) -> None:
        await self.engine.dispose()


async def open_store(url: str, *, migrate: bool = True) -> SqlStore:
    """Create the engine, run migrations (unless told not to) and return the store."""
    engine = create_engine(url)
    if migrate:
        try:
            await upgrade(engine)
        except BaseException:
            await engine.dispose()
            raise
    return SqlStore(engine)
