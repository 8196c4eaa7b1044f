"""Our SFTP server end to end: uploads to RabbitMQ, every transfer audited, abandoned and late uploads.

The OpenSSH ``sftp`` client (batch mode) is the partner; RabbitMQ is the real broker.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aio_pika
import paramiko
import pytest

from gateway.adapters.rabbitmq import delete_topology
from gateway.adapters.sftp import AccountDirectory, SftpServer, SftpSettings
from gateway.adapters.sftp.storage import PartnerStorage
from gateway.config import RabbitSettings
from gateway.domain.canonical import PurchaseOrder, parse_document
from gateway.domain.runtime.lifecycle import State
from gateway.runtime import Gateway, rabbit_topology
from tests.support.rabbitmq import collect, queue_depth
from tests.support.services import rabbitmq_url

from .conftest import (
    PUSH_PARTNER,
    PUSH_USER,
    SAMPLE_850,
    ClientKeys,
    StartServer,
    audit_states,
    open_gateway,
    push_profile,
    run_sftp,
    stored,
)


def _order(number: str) -> bytes:
    return SAMPLE_850.replace(b"PO-778812", f"PO-{number}".encode())


def _inbox(server: SftpServer) -> list[str]:
    return sorted(p.name for p in (server.settings.root / PUSH_PARTNER / "inbox").iterdir())


@pytest.fixture
async def rabbit_gateway(tmp_path: Path, client_keys: ClientKeys) -> AsyncIterator[Gateway]:
    sfx = uuid.uuid4().hex[:8]
    rabbit = RabbitSettings(
        exchange=f"edigate.documents.{sfx}",
        dead_letter_exchange=f"edigate.dlx.{sfx}",
        dead_letter_queue=f"edigate.dead-letter.{sfx}",
        outbound_queue=f"edigate.outbound.{sfx}",
        queue_prefix=f"edigate.{sfx}.",
    )
    gateway = await open_gateway(
        tmp_path, [push_profile([client_keys.public["ed25519"]])], amqp_url=rabbitmq_url(), rabbit=rabbit
    )
    yield gateway
    await gateway.stop()
    connection = await aio_pika.connect(rabbitmq_url())
    async with connection:
        await delete_topology(await connection.channel(), rabbit_topology(gateway.settings))


async def test_plain_part_and_tmp_uploads_each_reach_the_rabbitmq_queue_exactly_once(
    rabbit_gateway: Gateway, client_keys: ClientKeys, tmp_path: Path
) -> None:
    gateway = rabbit_gateway
    settings = SftpSettings.under(tmp_path / "var", port=0)
    server = SftpServer(settings, AccountDirectory(gateway.registry), gateway.receive, gateway.store)
    await server.start()
    try:
        for number in ("PLAIN", "PART", "TMP"):
            (tmp_path / f"{number}.x12").write_bytes(_order(number))
        commands = [
            "put PLAIN.x12 /inbox/plain.x12",
            "put PART.x12 /inbox/part.x12.part",
            "rename /inbox/part.x12.part /inbox/part.x12",
            "put TMP.x12 /inbox/tmp.x12.tmp",
            "rename /inbox/tmp.x12.tmp /inbox/tmp.x12",
        ]
        done = await run_sftp(server, client_keys.path("ed25519"), commands, tmp_path)
        assert done.returncode == 0, done.stderr
        records = {r.meta["filename"]: r for r in await stored(gateway)}
        assert sorted(records) == ["part.x12", "plain.x12", "tmp.x12"]
        await gateway.start()
        queue = f"{gateway.settings.rabbit.queue_prefix}erp"
        connection = await aio_pika.connect(rabbitmq_url())
        async with connection:
            channel = await connection.channel()
            messages = await collect(channel, queue, 3, timeout=30)
            await asyncio.sleep(1.0)  # anything published twice would arrive by now
            assert await queue_depth(channel, queue) == 0
    finally:
        await server.stop()
    assert len(messages) == 3
    documents = [parse_document(m.body) for m in messages]
    assert all(isinstance(d, PurchaseOrder) for d in documents)
    by_payload = {d.header.raw_document_id: d for d in documents}
    assert set(by_payload) == {r.id for r in records.values()}  # each upload once, none twice
    for name, number in (("plain.x12", "PLAIN"), ("part.x12", "PART"), ("tmp.x12", "TMP")):
        document = by_payload[records[name].id]
        assert isinstance(document, PurchaseOrder)
        assert document.po_number == f"PO-{number}"
        assert document.header.source_channel == "sftp"
    for record in records.values():
        final = await gateway.store.get_payload(record.id)
        assert final is not None
        assert final.state is State.DELIVERED


async def test_uploads_carry_their_own_correlation_id_into_the_stored_payload(
    gateway: Gateway, start_server: StartServer, client_keys: ClientKeys, tmp_path: Path
) -> None:
    server = await start_server()
    for number in ("A", "B"):
        (tmp_path / f"{number}.x12").write_bytes(_order(number))
    done = await run_sftp(
        server, client_keys.path("ed25519"), ["put A.x12 /inbox/", "put B.x12 /inbox/"], tmp_path
    )
    assert done.returncode == 0, done.stderr
    records = await stored(gateway)
    assert len(records) == 2
    for record in records:
        assert str(uuid.UUID(record.correlation_id)) == record.correlation_id
        assert record.correlation_id != record.id  # ours, not the store's fallback
        assert record.meta["correlation_id"] == record.correlation_id
    assert len({r.correlation_id for r in records}) == 2
    await server.stop()  # waits for the audit writes it fired: nothing is lost when the gateway stops
    states = [e.state for e in await gateway.store.audit_trail("partner", PUSH_PARTNER)]
    assert states.count("sftp.upload") == 2


async def test_downloads_renames_and_removals_are_on_the_audit_trail(
    gateway: Gateway, start_server: StartServer, client_keys: ClientKeys, tmp_path: Path
) -> None:
    server = await start_server()
    storage = PartnerStorage(server.settings.root, PUSH_PARTNER)
    storage.write_outbox("997.x12", b"ISA*00*for the partner to collect~", "aaaa1111")
    (tmp_path / "draft.x12").write_bytes(b"not finished")
    commands = [
        "get /outbox/997.x12 collected.x12",
        "put draft.x12 /inbox/draft.x12.part",
        "rename /inbox/draft.x12.part /inbox/draft.x12.tmp",
        "rm /inbox/draft.x12.tmp",
        "rm /outbox/997.x12",
    ]
    done = await run_sftp(server, client_keys.path("ed25519"), commands, tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "collected.x12").read_bytes() == b"ISA*00*for the partner to collect~"
    states = await audit_states(gateway, "sftp.collected")
    assert states == ["sftp.login", "sftp.download", "sftp.renamed", "sftp.removed", "sftp.collected"]
    trail = {e.state: e.detail for e in await gateway.store.audit_trail("partner", PUSH_PARTNER)}
    assert trail["sftp.download"] == "/outbox/997.x12: 34 bytes sent (complete)"
    assert trail["sftp.renamed"] == "/inbox/draft.x12.part renamed to /inbox/draft.x12.tmp (still temporary)"
    assert trail["sftp.removed"] == "/inbox/draft.x12.tmp removed by partner"
    assert await stored(gateway) == []  # temporary files never entered the pipeline


async def test_abandoned_temporary_uploads_are_removed_after_the_configured_age_and_audited(
    gateway: Gateway, start_server: StartServer, client_keys: ClientKeys
) -> None:
    server = await start_server(abandoned_upload_seconds=60)
    inbox = server.settings.root / PUSH_PARTNER / "inbox"
    hour_ago = time.time() - 3600

    def leave_uploads() -> tuple[paramiko.Transport, paramiko.SFTPFile]:
        transport = paramiko.Transport(("127.0.0.1", server.address[1]))
        transport.connect(username=PUSH_USER, pkey=paramiko.Ed25519Key.from_private_key_file(
            str(client_keys.path("ed25519"))))  # fmt: skip
        sftp = paramiko.SFTPClient.from_transport(transport)
        assert sftp is not None
        with sftp.open("/inbox/left.part", "wb") as handle:
            handle.write(b"an upload the partner never renamed")
        with sftp.open("/inbox/fresh.tmp", "wb") as handle:
            handle.write(b"written a moment ago")
        still_open = sftp.open("/inbox/slow.filepart", "wb")
        still_open.write(b"a slow upload, still open")
        still_open.flush()
        return transport, still_open

    transport, still_open = await asyncio.to_thread(leave_uploads)
    try:
        for name in ("left.part", "slow.filepart"):
            os.utime(inbox / name, (hour_ago, hour_ago))  # nothing written to them for an hour
        assert await asyncio.to_thread(server.sweep_abandoned) == 1
        assert _inbox(server) == ["fresh.tmp", "slow.filepart"]  # too young, and still open
        trail = await audit_states(gateway, "sftp.upload_abandoned")
        assert trail.count("sftp.upload_abandoned") == 1
        await asyncio.to_thread(still_open.close)
        os.utime(inbox / "slow.filepart", (hour_ago, hour_ago))
        assert await asyncio.to_thread(server.sweep_abandoned) == 1
        assert _inbox(server) == ["fresh.tmp"]
    finally:
        await asyncio.to_thread(transport.close)
    details = [
        e.detail or "" for e in await gateway.store.audit_trail("partner", PUSH_PARTNER)
        if e.state == "sftp.upload_abandoned"
    ]  # fmt: skip
    assert details[0].startswith("/inbox/left.part: 35 bytes, not written for 36")
    assert "abandoned_upload_seconds is 60" in details[0]
    assert details[1].startswith("/inbox/slow.filepart: 25 bytes")
    assert await stored(gateway) == []


async def test_the_watchdog_sweeps_abandoned_uploads_on_its_own(
    gateway: Gateway, start_server: StartServer, client_keys: ClientKeys, tmp_path: Path
) -> None:
    server = await start_server(abandoned_upload_seconds=1)
    (tmp_path / "x.x12").write_bytes(b"never renamed")
    done = await run_sftp(server, client_keys.path("ed25519"), ["put x.x12 /inbox/x.x12.part"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert _inbox(server) == ["x.x12.part"]
    assert "sftp.upload_abandoned" in await audit_states(gateway, "sftp.upload_abandoned")  # ~1.5 s
    assert _inbox(server) == []


async def test_a_commit_that_outlasts_the_timeout_is_archived_when_it_lands_and_a_resend_is_a_duplicate(
    gateway: Gateway, start_server: StartServer, client_keys: ClientKeys, tmp_path: Path
) -> None:
    server = await start_server(commit_timeout_seconds=0.5)
    database = gateway.settings.database_url.removeprefix("sqlite:///")
    (tmp_path / "order.x12").write_bytes(SAMPLE_850)
    blocker = sqlite3.connect(database, isolation_level=None)
    try:
        blocker.execute("BEGIN EXCLUSIVE")  # another writer holds the database: the commit waits
        failed = await run_sftp(server, client_keys.path("ed25519"), ["put order.x12 /inbox/"], tmp_path)
        assert failed.returncode != 0  # told "failure" after 0.5 s, while the commit still waits
        staged = list((server.settings.root / PUSH_PARTNER / "inbox").iterdir())
        assert len(staged) == 1  # our staging file is kept until the commit ends
        assert staged[0].name.startswith(".edigate-upload-")
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    states = await audit_states(gateway, "sftp.upload_late_commit")
    assert "sftp.upload_pending" in states
    [first] = await stored(gateway)
    archive = server.settings.root / PUSH_PARTNER / "archive"
    assert [p.name for p in archive.iterdir()] == ["order.x12"]
    assert _inbox(server) == []
    late = [
        e for e in await gateway.store.audit_trail("partner", PUSH_PARTNER) if e.state.endswith("late_commit")
    ]
    assert f"payload {first.id}" in (late[0].detail or "")
    assert "the pipeline marks it a duplicate" in (late[0].detail or "")

    again = await run_sftp(server, client_keys.path("ed25519"), ["put order.x12 /inbox/"], tmp_path)
    assert again.returncode == 0, again.stderr  # the client sends it again, as it was told to
    records = sorted(await stored(gateway), key=lambda r: r.received_at)
    assert records[0].id == first.id
    second = records[1]
    assert (await gateway.process_now(first.id)) is not None
    result = await gateway.process_now(second.id)
    assert result is not None
    assert result.state is State.DUPLICATE
    assert result.duplicate_of == first.id
    assert sorted(p.name for p in archive.iterdir()) == sorted(["order.x12", f"order.{second.id[:8]}.x12"])
    await gateway.flush_outbox()
    spooled = sorted((Path(gateway.settings.spool_dir) / "erp").glob("*.json"))
    assert len(spooled) == 1  # routed once
    assert json.loads(spooled[0].read_text())["body"]["header"]["raw_document_id"] == first.id
