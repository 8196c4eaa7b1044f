"""Pollers of several gateway instances on one store, against a real sshd: slots, locks, failures.

Two :class:`Gateway` objects on one database (SQLite file, or PostgreSQL) stand for two
instances. Their pollers share a clock shifted to just before a slot boundary, so a
test sees two slots in a few seconds; the store's leases use the real clock plus the
same lease lengths, so the shift is consistent.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry
from sqlalchemy.engine import make_url

from gateway.adapters.http import build_admin_app
from gateway.adapters.metrics import Metrics
from gateway.adapters.sftp import (
    PollLockLost,
    SftpMetrics,
    SftpPoller,
    SftpSettings,
    run_lock_name,
)
from gateway.config import ApiToken, ChannelSettings, Role
from gateway.domain.profiles import SecretRef
from gateway.domain.runtime.records import ChannelMeta, StoreOutcome
from gateway.runtime import Gateway
from tests.support.openssh import Sshd
from tests.support.postgres import create_database, drop_database
from tests.support.tcp_proxy import TcpProxy

from .conftest import ClientKeys, open_gateway, poll_profile, stored

PARTNER = "north-shared"


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    url = create_database()
    yield url
    drop_database(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """One database both instances use."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/shared.db"
    url: str = request.getfixturevalue("pg_url")
    return url


async def _empty(gateway: Gateway) -> None:
    if gateway.store.dialect != "postgresql":
        return
    from sqlalchemy import text

    from gateway.adapters.store.tables import metadata

    async with gateway.store.engine.begin() as conn:
        names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
        await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


def shifted_clock(target: datetime) -> Callable[[], datetime]:
    """A clock that reads ``target`` now and then runs at the real pace."""
    offset = target - datetime.now(UTC)
    return lambda: datetime.now(UTC) + offset


class Remote:
    def __init__(self, root: Path) -> None:
        self.root = root
        for area in ("inbox", "outbox", "archive"):
            (root / area).mkdir(parents=True)

    def put(self, name: str, content: bytes) -> Path:
        path = self.root / "inbox" / name
        path.write_bytes(content)
        return path

    def inbox(self) -> list[str]:
        return sorted(p.name for p in (self.root / "inbox").iterdir())


@pytest.fixture
def sshd(tmp_path: Path, client_keys: ClientKeys) -> Iterator[Sshd]:
    server = Sshd(tmp_path / "sshd", [client_keys.public["ours"]])
    server.start()
    yield server
    server.stop()


def _profile(sshd: Sshd, keys: ClientKeys, remote: Remote, **extra: Any) -> dict[str, Any]:
    return poll_profile(PARTNER, "NORTHS", sshd, keys.path("ours"), remote.root, "delete", **extra)


def _poller(gateway: Gateway, tmp: Path, name: str, **kwargs: Any) -> tuple[SftpPoller, SftpMetrics]:
    metrics = SftpMetrics(CollectorRegistry())
    settings = SftpSettings.under(tmp / "var", connect_timeout_seconds=10, poll_lock_seconds=3)
    poller = SftpPoller(
        gateway.registry,
        gateway.receive,
        gateway.store,
        settings,
        instance_id=name,
        observer=metrics,
        **kwargs,
    )
    return poller, metrics


def _running(poller: SftpPoller) -> bool:
    return poller.running  # read through a call: mypy would otherwise narrow it across awaits


def _count(metrics: SftpMetrics, result: str) -> float:
    value: float = metrics.polls.labels(partner=PARTNER, result=result)._value.get()
    return value


async def test_two_instances_poll_each_slot_exactly_once(
    shared_db: str, tmp_path: Path, client_keys: ClientKeys, sshd: Sshd
) -> None:
    url = shared_db
    remote = Remote(tmp_path / "remote")
    profile = _profile(sshd, client_keys, remote)
    first = await open_gateway(tmp_path / "a", [profile], database_url=url, instance_id="gw-a")
    await _empty(first)
    second = await open_gateway(tmp_path / "b", [profile], database_url=url, instance_id="gw-b")
    clock = shifted_clock(datetime(2026, 3, 2, 10, 0, 7, tzinfo=UTC))  # 3 s before the 10:00:10 slot
    a, a_metrics = _poller(first, tmp_path / "a", "gw-a", clock=clock)
    b, b_metrics = _poller(second, tmp_path / "b", "gw-b", clock=clock)
    remote.put("first.x12", b"picked up in the 10:00:00 slot")
    started = time.monotonic()
    try:
        await asyncio.gather(a.start(), b.start())
        while len(await stored(first, PARTNER)) < 1 and time.monotonic() - started < 3:
            await asyncio.sleep(0.05)
        remote.put("second.x12", b"picked up in the 10:00:10 slot")
        await asyncio.sleep(max(0.0, started + 5.5 - time.monotonic()))  # into the second slot
    finally:
        await asyncio.gather(a.stop(), b.stop())
        trail = await first.store.audit_trail("partner", PARTNER)
        await second.stop()
        await first.stop()
    assert remote.inbox() == []
    states = [event.state for event in trail]
    assert states.count("sftp.picked_up") == 2
    assert "sftp.repeat_cleaned_up" not in states  # nobody fetched a file a second time
    ok = [_count(a_metrics, "ok"), _count(b_metrics, "ok")]
    elsewhere = [_count(a_metrics, "claimed_elsewhere"), _count(b_metrics, "claimed_elsewhere")]
    assert sum(ok) == 2, (ok, elsewhere)  # one run per slot in all, not one per instance
    assert sum(elsewhere) == 2, (ok, elsewhere)  # each instance saw the other's claim once per slot
    assert _count(a_metrics, "locked") + _count(b_metrics, "locked") == 0


async def test_the_lease_is_renewed_during_a_long_run_and_a_lost_lease_stops_the_run(
    tmp_path: Path, client_keys: ClientKeys, sshd: Sshd
) -> None:
    remote = Remote(tmp_path / "remote")
    gateway = await open_gateway(tmp_path, [_profile(sshd, client_keys, remote)])

    async def slow_receive(content: bytes, meta: ChannelMeta) -> StoreOutcome:
        await asyncio.sleep(0.8)  # a slow store: five files take longer than the 3 s lease
        return await gateway.receive(content, meta)

    settings = SftpSettings.under(tmp_path / "var", connect_timeout_seconds=10, poll_lock_seconds=3)
    metrics = SftpMetrics(CollectorRegistry())
    slow = SftpPoller(
        gateway.registry, slow_receive, gateway.store, settings, instance_id="gw-a", observer=metrics
    )
    other, _ = _poller(gateway, tmp_path, "gw-b")
    try:
        for n in range(5):
            remote.put(f"{n}.x12", f"file {n}".encode())
        run = asyncio.create_task(slow.poll_once(PARTNER))
        await asyncio.sleep(3.6)  # past the first lease: held only because it was renewed
        assert (await other.poll_once(PARTNER)).locked_elsewhere
        report = await run
        assert len(report.new) == 5

        for n in range(5, 10):
            remote.put(f"{n}.x12", f"file {n}".encode())
        run = asyncio.create_task(slow.poll_once(PARTNER))
        while len(await stored(gateway, PARTNER)) < 6:
            await asyncio.sleep(0.05)
        lock = run_lock_name(PARTNER)  # another instance takes the lock over (say, after a long pause)
        await gateway.store.release_lock(lock, "gw-a/sftp-poller")
        assert await gateway.store.try_lock(lock, "gw-b/sftp-poller", 30)
        with pytest.raises(PollLockLost, match="could not be renewed"):
            await run
        left = remote.inbox()
        assert 1 <= len(left) <= 4  # stopped before the next file once the renewal failed
        assert len(await stored(gateway, PARTNER)) == 10 - len(left)
        assert metrics.polls.labels(partner=PARTNER, result="lock_lost")._value.get() == 1
        states = [e.state for e in await gateway.store.audit_trail("partner", PARTNER)]
        assert states.count("sftp.poll_lock_lost") == 1
        assert await gateway.store.try_lock(lock, "gw-b/sftp-poller", 30)  # still gw-b's: not released
    finally:
        await gateway.stop()


async def test_a_store_outage_while_storing_a_download_is_retried_counted_audited_and_shown_by_the_api(
    tmp_path: Path, client_keys: ClientKeys, sshd: Sshd, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    remote = Remote(tmp_path / "remote")
    database = make_url(pg_url)
    async with TcpProxy(database.host or "127.0.0.1", database.port or 5432) as proxy:
        proxied = database.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        gateway = await open_gateway(tmp_path, [_profile(sshd, client_keys, remote)], database_url=proxied)
        await _empty(gateway)
        loop = asyncio.get_running_loop()
        connects = 0

        def cut_on_first_connect(partner_id: str, profile: Any) -> Any:
            """The database goes away while the first run is connected to the partner."""
            nonlocal connects
            connects += 1
            if connects == 1:
                loop.call_soon_threadsafe(proxy.cut)
                time.sleep(0.2)
            from gateway.adapters.sftp import open_remote

            return open_remote(partner_id, profile, timeout=10)

        poller, metrics = _poller(gateway, tmp_path, "gw-a", connector=cut_on_first_connect)

        async def restore_after_the_failure() -> None:
            while poller.trail.pending < 1:  # the failure was counted, and its audit event kept for later
                await asyncio.sleep(0.005)
            proxy.restore()

        remote.put("order.x12", b"stored on the second try")
        watcher = asyncio.create_task(restore_after_the_failure())
        try:
            report = await poller.run_with_retries(PARTNER)
            await watcher
            assert report is not None
            assert len(report.new) == 1
            assert remote.inbox() == []
            assert metrics.polls.labels(partner=PARTNER, result="failed")._value.get() == 1
            assert metrics.polls.labels(partner=PARTNER, result="ok")._value.get() == 1
            assert poller.trail.pending == 0
            trail = await gateway.store.audit_trail("partner", PARTNER)
            assert [e.state for e in trail] == ["sftp.poll_failed", "sftp.picked_up"]
            failure = trail[0].detail or ""
            assert "the poll run failed on our side" in failure
            assert "written late: the store was unavailable" in failure

            monkeypatch.setenv("EDIGATE_TEST_SUPPORT_TOKEN", "support-token-for-sftp-tests")
            token = ApiToken(
                name="sam", role=Role.SUPPORT, token=SecretRef("env", "EDIGATE_TEST_SUPPORT_TOKEN")
            )
            settings = gateway.settings.model_copy(update={"api_tokens": [token]})
            app = build_admin_app(gateway.services, settings, Metrics())
            async with TestClient(TestServer(app, host="127.0.0.1")) as client:
                response = await client.get(
                    f"/api/v1/partners/{PARTNER}/audit",
                    headers={"Authorization": "Bearer support-token-for-sftp-tests"},
                )
                assert response.status == 200
                events = (await response.json())["events"]
            assert [e["state"] for e in events] == ["sftp.poll_failed", "sftp.picked_up"]
            assert "on our side" in events[0]["detail"]
        finally:
            watcher.cancel()
            await gateway.stop()


async def test_the_gateway_starts_the_poller_from_its_settings(
    tmp_path: Path, client_keys: ClientKeys, sshd: Sshd
) -> None:
    remote = Remote(tmp_path / "remote")
    remote.put("order.x12", b"collected by the gateway's own poller")
    gateway = await open_gateway(
        tmp_path,
        [_profile(sshd, client_keys, remote)],
        channels=ChannelSettings(sftp_poll=True),
        sftp={"server_enabled": False, "connect_timeout_seconds": 10},
    )
    try:
        assert gateway.sftp is not None
        assert gateway.sftp.server is None
        poller = gateway.sftp.poller
        assert not _running(poller)
        await gateway.start()
        assert _running(poller)
        deadline = time.monotonic() + 15
        # The remote file is removed only after the commit: wait for both.
        while (not await stored(gateway, PARTNER) or remote.inbox()) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        [record] = await stored(gateway, PARTNER)
        assert record.meta["headers"]["sftp-mode"] == "poll"
        assert remote.inbox() == []
    finally:
        await gateway.stop()
    assert gateway.sftp is not None
    assert not _running(gateway.sftp.poller)


async def test_a_cron_schedule_polls_at_its_minute_not_at_start(
    tmp_path: Path, client_keys: ClientKeys, sshd: Sshd
) -> None:
    remote = Remote(tmp_path / "remote")
    gateway = await open_gateway(
        tmp_path, [_profile(sshd, client_keys, remote, schedule={"cron": "0 11 * * *"})]
    )
    clock = shifted_clock(datetime(2026, 3, 2, 10, 59, 58, 500_000, tzinfo=UTC))  # 1.5 s before 11:00
    poller, metrics = _poller(gateway, tmp_path, "gw-a", clock=clock)
    remote.put("order.x12", b"due at 11:00 UTC")
    try:
        await poller.start()
        await asyncio.sleep(1.0)
        assert remote.inbox() == ["order.x12"]  # cron does not poll at start-up
        deadline = time.monotonic() + 10
        ok = metrics.polls.labels(partner=PARTNER, result="ok")
        while ok._value.get() < 1 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert ok._value.get() == 1  # the run has ended
        assert remote.inbox() == []
        assert clock() >= datetime(2026, 3, 2, 11, 0, tzinfo=UTC)
        remote.put("later.x12", b"due at 11:00 tomorrow")
        await asyncio.sleep(1.0)
        assert remote.inbox() == ["later.x12"]  # the next slot is a day away
    finally:
        await poller.stop()
        await gateway.stop()
