"""The admin app over real HTTP on 127.0.0.1, against a real SQL store and real profile files.

* ``partners_dir``: a copy of the repository's example profiles (with their certificates and
  the test-only keys they reference), so tests can break or add profiles freely.
* Tokens are configured by reference (``env:...``) and their values set in the environment,
  as in production; ``helpers.TOKENS`` maps each role to its value for the tests' requests.
* ``db_url`` is SQLite in ``tmp_path``; a module can override it (see ``test_messages``).
* Destination health is the one stand-in: ``destinations`` is a mutable mapping of
  :class:`DestinationHealth` the readiness probe reads.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from gateway.adapters.http import build_admin_app
from gateway.adapters.metrics import Metrics
from gateway.adapters.store import SqlStore, open_store
from gateway.config import ApiToken, Settings
from gateway.domain.profiles import SecretRef
from gateway.domain.runtime.ports import DestinationHealth
from gateway.domain.runtime.records import ChannelMeta, NewPayload, StoreOutcome
from gateway.domain.usecases.registry import ProfileRegistry
from gateway.domain.usecases.replay import ReplayService
from gateway.domain.usecases.services import GatewayServices
from tests.gateway.adapters.http.helpers import ACTORS, REPO, TOKENS
from tests.support.postgres import create_database, drop_database


@pytest.fixture
def partners_dir(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    shutil.copytree(REPO / "partners", root / "partners")
    shutil.copytree(REPO / "deploy" / "dev-keys", root / "deploy" / "dev-keys")
    return root / "partners"


@pytest.fixture
def settings(partners_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    tokens = []
    for role, value in TOKENS.items():
        variable = f"EDIGATE_TEST_API_TOKEN_{role.value.upper()}"
        monkeypatch.setenv(variable, value)
        tokens.append(ApiToken(name=ACTORS[role], role=role, token=SecretRef("env", variable)))
    return Settings(partners_dir=partners_dir, api_tokens=tokens, var_dir=partners_dir.parent / "var")


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    url = create_database()
    yield url
    drop_database(url)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/store.db"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database, copied for each test (running the migrations takes a while)."""
    path = tmp_path_factory.mktemp("template") / "store.db"

    async def migrate() -> None:
        store = await open_store(f"sqlite:///{path}")
        await store.close()

    asyncio.run(migrate())
    return path


@pytest.fixture
async def store(db_url: str, sqlite_template: Path) -> AsyncIterator[SqlStore]:
    if db_url.startswith("sqlite:///"):
        shutil.copyfile(sqlite_template, db_url.removeprefix("sqlite:///"))
        s = await open_store(db_url, migrate=False)
    else:
        s = await open_store(db_url)
    if s.dialect == "postgresql":
        from sqlalchemy import text

        from gateway.adapters.store.tables import metadata

        async with s.engine.begin() as conn:  # each test starts from empty tables
            names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    yield s
    await s.close()


@pytest.fixture
def destinations() -> dict[str, DestinationHealth]:
    return {"erp": DestinationHealth(True, "spool ok"), "wms": DestinationHealth(True, "spool ok")}


@pytest.fixture
def services(
    store: SqlStore, settings: Settings, destinations: dict[str, DestinationHealth]
) -> GatewayServices:
    async def receive(content: bytes, meta: ChannelMeta) -> StoreOutcome:
        [outcome] = await store.save_payloads([NewPayload(content, meta)])
        return outcome

    async def health() -> dict[str, DestinationHealth]:
        return dict(destinations)

    return GatewayServices(
        store=store,
        profiles=ProfileRegistry(settings.partners_dir),
        replay=ReplayService(store),
        receive=receive,
        health=health,
    )


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
async def client(
    services: GatewayServices, settings: Settings, metrics: Metrics
) -> AsyncIterator[TestClient[Any, Any]]:
    app = build_admin_app(services, settings, metrics)
    async with TestClient(TestServer(app, host="127.0.0.1")) as test_client:
        yield test_client
