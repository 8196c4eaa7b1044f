"""The durable store on SQLAlchemy 2 (async): SQLite via aiosqlite, PostgreSQL via asyncpg."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.adapters.store.engine import create_engine, normalise_url, upgrade
from gateway.adapters.store.outbox import OutboxOps
from gateway.adapters.store.payloads import OutboundOps
from gateway.adapters.store.queries import QueryOps
from gateway.adapters.store.tracking import TrackingOps

__all__ = ["SqlStore", "create_engine", "normalise_url", "open_store", "upgrade"]


class SqlStore(OutboundOps, OutboxOps, TrackingOps, QueryOps):
    """Implements :class:`gateway.domain.runtime.store.Store` on one engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def close(self) -> None:
        await self.engine.dispose()


async def open_store(url: str, *, migrate: bool = True) -> SqlStore:
    """Create the engine, run migrations (unless told not to) and return the store."""
    engine = create_engine(url)
    if migrate:
        await upgrade(engine)
    return SqlStore(engine)
