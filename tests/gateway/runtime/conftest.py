from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.config import RabbitSettings, Settings
from gateway.runtime import Gateway
from tests.support.postgres import create_database, drop_database

REPO = Path(__file__).resolve().parents[3]


def make_settings(tmp_path: Path, database_url: str, **extra: Any) -> Settings:
    defaults: dict[str, Any] = {
        "partners_dir": REPO / "partners",
        "mappings_dir": REPO / "mappings",
        "var_dir": tmp_path / "var",
        "spool_dir": tmp_path / "spool",
        "filedrop_dir": tmp_path / "filedrop",
    }
    return Settings(database_url=database_url, **{**defaults, **extra})


def unique_rabbit() -> RabbitSettings:
    sfx = uuid.uuid4().hex[:8]
    return RabbitSettings(
        exchange=f"edigate.documents.{sfx}",
        dead_letter_exchange=f"edigate.dlx.{sfx}",
        dead_letter_queue=f"edigate.dead-letter.{sfx}",
        outbound_queue=f"edigate.outbound.{sfx}",
        queue_prefix=f"edigate.{sfx}.",
    )


@pytest.fixture(scope="session")
def pg_runtime_url() -> Iterator[str]:
    url = create_database()
    yield url
    drop_database(url)


@pytest.fixture
def fresh_pg() -> Iterator[str]:
    """A new, empty PostgreSQL database for one test (dropped afterwards)."""
    url = create_database()
    yield url
    drop_database(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/gateway.db"
    url: str = request.getfixturevalue("pg_runtime_url")
    return url


async def truncate(gateway: Gateway) -> None:
    """Empty every table of a PostgreSQL test database (the session shares one database)."""
    await _truncate(gateway)


async def _truncate(gateway: Gateway) -> None:
    if gateway.store.dialect != "postgresql":
        return
    from sqlalchemy import text

    from gateway.adapters.store.tables import metadata

    async with gateway.store.engine.begin() as conn:
        names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
        await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture
async def gateway(tmp_path: Path, database_url: str) -> AsyncIterator[Gateway]:
    gw = await Gateway.open(make_settings(tmp_path, database_url))
    await _truncate(gw)
    await gw.destination.start()
    yield gw
    await gw.stop()
