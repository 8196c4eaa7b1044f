"""A throwaway PostgreSQL database per test session (127.0.0.1:5432, trust auth).

Under ``CI=true`` an unreachable server fails the tests; elsewhere they skip
with a message saying how to start PostgreSQL.
"""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest

PG_HOST = os.environ.get("EDIGATE_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("EDIGATE_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("EDIGATE_TEST_PG_USER", "postgres")
START_HINT = "start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"


def _unavailable(reason: str) -> None:
    message = f"PostgreSQL at {PG_HOST}:{PG_PORT} is not available ({reason}); {START_HINT}"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


async def _admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database="test", timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def create_database() -> str:
    """Create a fresh database and return its SQLAlchemy URL."""
    name = f"edigate_t_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except (TimeoutError, OSError) as exc:
        _unavailable(str(exc))
    except Exception as exc:  # asyncpg's own errors (auth, missing role) are reported the same way
        _unavailable(f"{type(exc).__name__}: {exc}")
    return f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"


def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
