"""Our poller and outbound uploads against a real OpenSSH ``sshd`` started for each test.

The remote folders are local temporary directories served by that sshd, so the
tests can check the partner's side directly.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from gateway.adapters.sftp import (
    HostKeyRefused,
    PublicKey,
    RemoteAuthFailed,
    RemoteTransferFailed,
    RemoteUnavailable,
    SftpMetrics,
    SftpPartnerChannel,
    SftpPoller,
    SftpSettings,
    open_remote,
)
from gateway.domain.profiles import SecretRef
from gateway.domain.runtime.records import ChannelMeta, StoreOutcome
from gateway.runtime import Gateway
from tests.support.openssh import Sshd

from .conftest import ClientKeys, audit_states, open_gateway, poll_profile, stored

ARCHIVING, DELETING = "north-archive", "north-delete"


@dataclass
class PollEnv:
    sshd: Sshd
    gateway: Gateway
    poller: SftpPoller
    metrics: SftpMetrics
    remote: Path
    settings: SftpSettings

    def folder(self, partner_id: str, area: str) -> Path:
        return self.remote / partner_id / area

    def put(self, partner_id: str, name: str, content: bytes) -> Path:
        path = self.folder(partner_id, "inbox") / name
        path.write_bytes(content)
        return path


@pytest.fixture
async def env(tmp_path: Path, client_keys: ClientKeys) -> AsyncIterator[PollEnv]:
    sshd = Sshd(tmp_path / "sshd", [client_keys.public["ours"]])
    sshd.start()
    remote = tmp_path / "remote"
    for partner in (ARCHIVING, DELETING):
        for area in ("inbox", "outbox", "archive"):
            (remote / partner / area).mkdir(parents=True)
    key = client_keys.path("ours")
    profiles = [
        poll_profile(ARCHIVING, "NORTHA", sshd, key, remote / ARCHIVING, "archive"),
        poll_profile(DELETING, "NORTHD", sshd, key, remote / DELETING, "delete"),
    ]
    gateway = await open_gateway(tmp_path, profiles)
    metrics = SftpMetrics(CollectorRegistry())
    settings = SftpSettings.under(tmp_path / "var", connect_timeout_seconds=10, poll_lock_seconds=6)
    poller = SftpPoller(
        gateway.registry, gateway.receive, gateway.store, settings, instance_id="gw-a", observer=metrics
    )
    yield PollEnv(sshd, gateway, poller, metrics, remote, settings)
    await poller.stop()
    await gateway.stop()
    sshd.stop()


async def test_pickup_commits_matching_files_then_archives_them(env: PollEnv) -> None:
    env.put(ARCHIVING, "a.x12", b"first document")
    env.put(ARCHIVING, "b.x12", b"second document")
    env.put(ARCHIVING, "notes.txt", b"not matching the pattern")
    env.put(ARCHIVING, "c.x12.part", b"still being written")
    report = await env.poller.poll_once(ARCHIVING)
    assert len(report.new) == 2
    assert report.repeats == []
    records = await stored(env.gateway, ARCHIVING)
    assert sorted(r.meta["filename"] for r in records) == ["a.x12", "b.x12"]
    assert all(r.meta["remote"].startswith("sftp://") for r in records)
    contents = {await env.gateway.store.payload_content(r.id) for r in records}
    assert contents == {b"first document", b"second document"}
    assert sorted(p.name for p in env.folder(ARCHIVING, "inbox").iterdir()) == ["c.x12.part", "notes.txt"]
    assert sorted(p.name for p in env.folder(ARCHIVING, "archive").iterdir()) == ["a.x12", "b.x12"]
    states = await audit_states(env.gateway, "sftp.picked_up", ARCHIVING)
    assert states.count("sftp.picked_up") == 2
    assert env.metrics.files.labels(partner=ARCHIVING, result="new")._value.get() == 2


async def test_pickup_then_delete(env: PollEnv) -> None:
    env.put(DELETING, "a.x12", b"one")
    report = await env.poller.poll_once(DELETING)
    assert len(report.new) == 1
    assert list(env.folder(DELETING, "inbox").iterdir()) == []
    assert list(env.folder(DELETING, "archive").iterdir()) == []
    again = await env.poller.poll_once(DELETING)
    assert again.new == again.repeats == []
    assert len(await stored(env.gateway, DELETING)) == 1


async def test_failure_between_commit_and_archive_does_not_duplicate(env: PollEnv) -> None:
    env.put(ARCHIVING, "a.x12", b"committed, then the clean-up failed")
    archive = env.folder(ARCHIVING, "archive")
    archive.rmdir()  # the rename into the archive fails after the commit
    with pytest.raises(RemoteTransferFailed, match="north-archive: moving"):
        await env.poller.poll_once(ARCHIVING)
    [first] = await stored(env.gateway, ARCHIVING)
    assert (env.folder(ARCHIVING, "inbox") / "a.x12").exists()
    assert "sftp.poll_failed" in await audit_states(env.gateway, "sftp.poll_failed", ARCHIVING)
    archive.mkdir()
    report = await env.poller.poll_once(ARCHIVING)
    assert report.new == []
    assert report.repeats == [first.id]  # recognised through the store: created=False
    assert [r.id for r in await stored(env.gateway, ARCHIVING)] == [first.id]
    assert [p.name for p in archive.iterdir()] == ["a.x12"]
    assert list(env.folder(ARCHIVING, "inbox").iterdir()) == []


async def test_a_delete_that_fails_after_the_commit_does_not_duplicate_the_document(env: PollEnv) -> None:
    path = env.put(DELETING, "a.x12", b"committed, then the partner's server refused the delete")
    env.sshd.denied = ("remove",)  # the real sshd refuses every SFTP remove, as a broken server would
    env.sshd.restart()
    assert await env.poller.run_with_retries(DELETING) is None  # 1 try + 2 retries, all failing to delete
    [first] = await stored(env.gateway, DELETING)
    assert path.exists()
    trail = await env.gateway.store.audit_trail("partner", DELETING)
    assert [e.state for e in trail] == ["sftp.poll_failed"] * 3
    assert "deleting" in (trail[0].detail or "")
    assert env.metrics.polls.labels(partner=DELETING, result="failed")._value.get() == 3
    assert env.metrics.files.labels(partner=DELETING, result="duplicate")._value.get() == 0  # never cleaned
    env.sshd.denied = ()
    env.sshd.restart()
    report = await env.poller.poll_once(DELETING)
    assert report.new == []
    assert report.repeats == [first.id]  # recognised through the store: created=False
    assert not path.exists()
    assert [r.id for r in await stored(env.gateway, DELETING)] == [first.id]
    assert "sftp.repeat_cleaned_up" in await audit_states(env.gateway, "sftp.repeat_cleaned_up", DELETING)


async def test_an_unexpected_restart_between_commit_and_delete_is_cleaned_up_by_the_next_poller(
    env: PollEnv,
) -> None:
    path = env.put(DELETING, "a.x12", b"the poller was stopped right after committing this")
    committed = asyncio.Event()

    async def commit_then_wait(content: bytes, meta: ChannelMeta) -> StoreOutcome:
        outcome = await env.gateway.receive(content, meta)
        committed.set()
        await asyncio.Event().wait()  # the task is killed here, before the remote delete
        return outcome

    dying = SftpPoller(
        env.gateway.registry, commit_then_wait, env.gateway.store, env.settings, instance_id="gw-dying"
    )
    run = asyncio.create_task(dying.poll_once(DELETING))
    await asyncio.wait_for(committed.wait(), 20)
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    [first] = await stored(env.gateway, DELETING)
    assert path.exists()
    report = await env.poller.poll_once(DELETING)  # another instance, once the lock is released
    assert (report.new, report.repeats) == ([], [first.id])
    assert not path.exists()
    assert len(await stored(env.gateway, DELETING)) == 1


async def test_a_new_file_with_the_same_name_is_a_new_payload(env: PollEnv) -> None:
    path = env.put(DELETING, "daily.x12", b"monday")
    await env.poller.poll_once(DELETING)
    path.write_bytes(b"tuesday")
    os.utime(path, (1_900_000_000, 1_900_000_000))
    report = await env.poller.poll_once(DELETING)
    assert len(report.new) == 1
    assert len(await stored(env.gateway, DELETING)) == 2


async def test_changed_host_key_is_refused_with_both_fingerprints(env: PollEnv) -> None:
    pinned = PublicKey.parse(env.sshd.host_key_line).fingerprint
    new_line = env.sshd.new_host_key()
    env.sshd.restart()
    env.put(ARCHIVING, "a.x12", b"must not be fetched from an impostor")
    with pytest.raises(HostKeyRefused) as caught:
        await env.poller.poll_once(ARCHIVING)
    message = str(caught.value)
    assert "north-archive" in message
    assert pinned in message
    assert PublicKey.parse(new_line).fingerprint in message
    assert not caught.value.retryable
    assert await env.poller.run_with_retries(ARCHIVING) is None  # not retried: one more failure only
    assert env.metrics.polls.labels(partner=ARCHIVING, result="failed")._value.get() == 2
    assert (env.folder(ARCHIVING, "inbox") / "a.x12").exists()
    assert await stored(env.gateway, ARCHIVING) == []
    trail = await env.gateway.store.audit_trail("partner", ARCHIVING)
    assert [e.state for e in trail] == ["sftp.poll_failed", "sftp.poll_failed"]
    assert pinned in (trail[0].detail or "")


async def test_a_server_without_the_pinned_key_type_is_refused(env: PollEnv, client_keys: ClientKeys) -> None:
    profile = env.poller.profile(DELETING)
    ecdsa_pin = profile.model_copy(update={"known_host_key": client_keys.public["ecdsa"]})
    with pytest.raises(HostKeyRefused, match="offers no ecdsa-sha2-nistp256 host key") as caught:
        await asyncio.to_thread(open_remote, DELETING, ecdsa_pin, timeout=10)
    assert caught.value.expected == PublicKey.parse(client_keys.public["ecdsa"]).fingerprint
    assert caught.value.presented is None


@dataclass
class TimedPolls:
    """An SftpObserver that records when each poll result was counted (monotonic seconds)."""

    polls: list[tuple[float, str]] = field(default_factory=list)

    def login(self, partner_id: str | None, ok: bool) -> None: ...

    def upload(self, partner_id: str, result: str) -> None: ...

    def connection_refused(self) -> None: ...

    def poll(self, partner_id: str, result: str) -> None:
        self.polls.append((time.monotonic(), result))

    def picked_up(self, partner_id: str, result: str) -> None: ...


async def test_unreachable_server_is_retried_with_backoff_and_audited(env: PollEnv) -> None:
    env.sshd.stop()
    timed = TimedPolls()
    poller = SftpPoller(
        env.gateway.registry, env.gateway.receive, env.gateway.store, env.settings,
        instance_id="gw-t", observer=timed,
    )  # fmt: skip
    assert await poller.run_with_retries(DELETING) is None
    assert [result for _, result in timed.polls] == ["failed"] * 3  # 1 + 2 retries
    (t0, _), (t1, _), (t2, _) = timed.polls
    assert 0.2 <= t1 - t0 < 2.0  # backoff_seconds before retry 1
    assert 0.4 <= t2 - t1 < 2.5  # doubled (multiplier 2) before retry 2
    trail = await env.gateway.store.audit_trail("partner", DELETING)
    assert [e.state for e in trail] == ["sftp.poll_failed"] * 3
    assert "cannot connect" in (trail[0].detail or "")
    with pytest.raises(RemoteUnavailable):
        await env.poller.poll_once(DELETING)


async def test_wrong_client_key_is_a_clear_auth_error(env: PollEnv, client_keys: ClientKeys) -> None:
    profile = env.poller.profile(DELETING)
    stranger = profile.model_copy(update={"key": SecretRef("file", str(client_keys.path("stranger")))})
    with pytest.raises(RemoteAuthFailed, match=r"north-delete: .* refused our key"):
        await asyncio.to_thread(open_remote, DELETING, stranger, timeout=10)


async def test_only_the_lock_holder_polls(env: PollEnv) -> None:
    env.put(DELETING, "a.x12", b"one")
    assert await env.gateway.store.try_lock(f"sftp-poll:{DELETING}", "gw-b/sftp-poller", 30)
    report = await env.poller.poll_once(DELETING)
    assert report.locked_elsewhere
    assert (env.folder(DELETING, "inbox") / "a.x12").exists()
    await env.gateway.store.release_lock(f"sftp-poll:{DELETING}", "gw-b/sftp-poller")
    assert len((await env.poller.poll_once(DELETING)).new) == 1
    assert await env.gateway.store.try_lock(f"sftp-poll:{DELETING}", "gw-b/sftp-poller", 30)  # released


async def test_schedule_runs_the_first_poll_at_start(env: PollEnv) -> None:
    env.put(DELETING, "a.x12", b"picked up by the scheduled loop")
    await env.poller.start()
    for _ in range(100):
        if await stored(env.gateway, DELETING):
            break
        await asyncio.sleep(0.1)
    assert len(await stored(env.gateway, DELETING)) == 1
    await env.poller.stop()


async def test_outbound_upload_uses_a_temporary_name_then_renames(env: PollEnv) -> None:
    channel = SftpPartnerChannel(env.gateway.registry, None, timeout=10, store=env.gateway.store)
    first = await channel.send(DELETING, "11111111-aaaa", b"ISA first", "po.x12")
    assert first.ok, first.detail
    second = await channel.send(DELETING, "22222222-bbbb", b"ISA second", "po.x12")
    assert second.ok, second.detail
    outbox = env.folder(DELETING, "outbox")
    assert sorted(p.name for p in outbox.iterdir()) == ["po.22222222.x12", "po.x12"]
    assert (outbox / "po.x12").read_bytes() == b"ISA first"
    assert (outbox / "po.22222222.x12").read_bytes() == b"ISA second"
    # What sshd's sftp-server saw: bytes written only to hidden .part names, then one rename each.
    temp = re.compile(rf'"{re.escape(str(outbox))}/\.po\.x12\.[0-9a-f]{{8}}\.part"')
    writes = [line for line in env.sshd.sftp_requests("open") if "WRITE" in line]
    assert len(writes) == 2
    assert all(temp.match(line) for line in writes), writes
    closes = [line for line in env.sshd.sftp_requests("close") if "written 0" not in line]
    assert [line.rsplit(" ", 1)[1] for line in closes] == ["9", "10"]  # complete, under the temp names
    assert all(temp.match(line) for line in closes), closes
    renames = env.sshd.sftp_requests("rename") + env.sshd.sftp_requests("posix-rename")
    finals = [line.split(" new ", 1)[1] for line in renames]
    assert finals == [f'"{outbox}/po.x12"', f'"{outbox}/po.22222222.x12"']
    assert all(temp.match(line.removeprefix("old ")) for line in renames), renames
    trail = await env.gateway.store.audit_trail("partner", DELETING)
    assert [e.state for e in trail] == ["sftp.delivered", "sftp.delivered"]
    assert "payload 11111111-aaaa (9 bytes): uploaded to 127.0.0.1 as" in (trail[0].detail or "")
    env.sshd.stop()
    down = await channel.send(DELETING, "33333333-cccc", b"ISA third", "po.x12")
    assert not down.ok
    assert down.retryable
    failed = (await env.gateway.store.audit_trail("partner", DELETING))[-1]
    assert failed.state == "sftp.delivery_failed"
    assert (failed.detail or "").endswith("; will be retried")
