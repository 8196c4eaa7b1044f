"""Migrations: the migrated schema is exactly ``tables.py``; concurrent start-ups on an empty
PostgreSQL take turns; SQLite commits are durable across power loss (synchronous=FULL)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from gateway.adapters.store import SqlStore, open_store
from gateway.adapters.store.tables import metadata
from gateway.domain.runtime.records import ChannelMeta, NewPayload
from tests.support.postgres import create_database, drop_database


@pytest.fixture
def empty_pg() -> Iterator[str]:
    url = create_database()
    yield url
    drop_database(url)


async def test_the_migrated_schema_is_the_declared_one(store: SqlStore) -> None:
    def diff(connection: object) -> list[object]:
        return list(compare_metadata(MigrationContext.configure(connection), metadata))  # type: ignore[arg-type]

    async with store.engine.connect() as conn:
        assert await conn.run_sync(diff) == []


async def test_instances_starting_together_on_an_empty_database_both_come_up(empty_pg: str) -> None:
    stores = await asyncio.gather(*(open_store(empty_pg) for _ in range(3)))
    try:
        for store in stores:
            async with store.engine.connect() as conn:
                head = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
            assert head == ["0004"]
        [outcome] = await stores[1].save_payloads([NewPayload(b"ISA*x", ChannelMeta("file", "acme"))])
        assert await stores[2].payload_content(outcome.record.id) == b"ISA*x"
    finally:
        for store in stores:
            await store.close()


async def test_sqlite_commits_are_synced_to_disk(tmp_path: Path) -> None:
    store = await open_store(f"sqlite:///{tmp_path}/durable.db")
    try:
        async with store.engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar_one() == "wal"
            assert (await conn.execute(text("PRAGMA synchronous"))).scalar_one() == 2  # FULL
    finally:
        await store.close()
