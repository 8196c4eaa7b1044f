"""Our SFTP server against the OpenSSH ``sftp`` client in batch mode (strict host key checking).

Each upload must reach the store exactly once, only when complete, and be
acknowledged only after the commit; refusals must leave nothing behind.
"""

from __future__ import annotations

import json
from pathlib import Path

from gateway.adapters.sftp import SftpServer
from gateway.domain.runtime.lifecycle import State
from gateway.runtime import Gateway

from .conftest import PUSH_PARTNER, SAMPLE_850, ClientKeys, StartServer, audit_states, run_sftp, stored


def _partner_dir(server: SftpServer) -> Path:
    return server.settings.root / PUSH_PARTNER


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


async def test_plain_upload_is_committed_once_then_archived(
    gateway: Gateway, start_server: StartServer, client_keys: ClientKeys, tmp_path: Path
) -> None:
    server = await start_server()
    (tmp_path / "order.x12").write_bytes(SAMPLE_850)
    done = await run_sftp(server, client_keys.path("ed25519"), ["put order.x12 /inbox/order.x12"], tmp_path)
    assert done.returncode == 0, done.stderr
    [record] = await stored(gateway)
    assert record.state is State.RECEIVED
    assert record.size == len(SAMPLE_850)
    assert record.meta["filename"] == "order.x12"
    assert record.meta["remote"].startswith("sftp://acme@127.0.0.1:")
    assert record.meta["remote"].endswith("/inbox/order.x12")
    assert await gateway.store.payload_content(record.id) == SAMPLE_850
    root = _partner_dir(server)
    assert _names(root / "inbox") == []  # no staging file left
    assert _names(root / "archive") == ["order.x12"]
    states = await audit_states(gateway, "sftp.upload")
    assert states[:2] == ["sftp.login", "sftp.upload"]


async def test_part_upload_enters_only_on_rename(
    gateway: Gateway, start_server: StartServer, client_keys: ClientKeys, tmp_path: Path
) -> None:
    server = await start_server()
    key = client_keys.path("ed25519")
    (tmp_path / "order.x12").write_bytes(SAMPLE_850)
    first = await run_sftp(server, key, ["put order.x12 /inbox/order.x12.part", "ls -1 /inbox"], tmp_path)
    assert first.returncode == 0, first.stderr
    assert "order.x12.part" in first.stdout
    assert await stored(gateway) == []  # a temporary name never enters the pipeline
    second = await run_sftp(server, key, ["rename /inbox/order.x12.part /inbox/order.x12"], tmp_path)
    assert second.returncode == 0, second.stderr
    [record] = await stored(gateway)
    assert record.meta["filename"] == "order.x12"
    assert await gateway.store.payload_content(record.id) == SAMPLE_850
    root = _partner_dir(server)
    assert _names(root / "inbox") == []
    assert _names(root / "archive") == ["order.x12"]


async def test_every_key_type_of_the_partner_logs_in(
    gateway: Gateway, start_server: StartServer, client_keys: ClientKeys, tmp_path: Path
) -> None:
    server = await start_server()
    for kind in ("ed25519", "ecdsa", "rsa"):
        (tmp_path / f"{kind}.x12").write_bytes(SAMPLE_850.replace(b"PO-778812", f"PO-{kind}".encode()))
        done = await run_sftp(server, client_keys.path(kind), [f"put {kind}.x12 /inbox/"], tmp_path)
        assert done.returncode == 0, (kind, done.stderr)
    names = sorted(r.meta["filename"] for r in await stored(gateway))
    assert names == ["ecdsa.x12", "ed25519.x12", "rsa.x12"]


async def test_wrong_key_is_refused_and_audited(
    gateway: Gateway, start_server: StartServer, client_keys: ClientKeys, tmp_path: Path
) -> None:
    server = await start_server()
    (tmp_path / "order.x12").write_bytes(SAMPLE_850)
    done = await run_sftp(server, client_keys.path("stranger"), ["put order.x12 /inbox/"], tmp_path)
    assert done.returncode != 0
    assert "Permission denied (publickey)" in done.stderr
    assert await stored(gateway) == []
    assert "sftp.login_failed" in await audit_states(gateway, "sftp.login_failed")
    assert "sftp.login" not in await audit_states(gateway, "sftp.login_failed")


async def test_traversal_absolute_paths_links_and_directories_are_refused(
    gateway: Gateway, start_server: StartServer, client_keys: ClientKeys, tmp_path: Path
) -> None:
    server = await start_server()
    (tmp_path / "x").write_bytes(b"not for you")
    commands = [
        "-put x ../../etc/x",
        "-put x /etc/x",
        "-put x /outbox/x",
        "-put x /archive/x",
        "-put x /inbox/.hidden",
        "-cd /etc",
        "-cd ..",
        "-get /../../etc/passwd stolen",
        "-get /etc/passwd stolen",
        "-symlink /etc/passwd /inbox/link",
        "-mkdir /inbox/sub",
        "cd /",
        "ls -1 /",
    ]
    done = await run_sftp(server, client_keys.path("ed25519"), commands, tmp_path)
    assert done.returncode == 0, done.stderr  # every refusal was tolerated by the '-' prefix
    output = done.stdout + done.stderr
    assert output.count("Permission denied") == 8, output  # 5 puts, cd /etc, symlink, mkdir
    assert "realpath /..: Failure" in output  # cd .. above the root
    assert 'File "/../../etc/passwd" not found' in output
    listing = done.stdout.split("ls -1 /", 1)[1].split()
    assert listing == ["/archive", "/inbox", "/outbox"]  # "/" is the partner's own root
    assert not Path("/etc/x").exists()
    assert not (tmp_path / "stolen").exists()
    root = _partner_dir(server)
    assert [_names(root / a) for a in ("inbox", "outbox", "archive")] == [[], [], []]
    assert await stored(gateway) == []


async def test_over_the_size_limit_fails_and_leaves_nothing(
    gateway: Gateway, start_server: StartServer, client_keys: ClientKeys, tmp_path: Path
) -> None:
    server = await start_server(max_file_bytes=2048)
    (tmp_path / "big.x12").write_bytes(b"x" * 5000)
    done = await run_sftp(server, client_keys.path("ed25519"), ["put big.x12 /inbox/"], tmp_path)
    assert done.returncode != 0
    assert await stored(gateway) == []
    assert _names(_partner_dir(server) / "inbox") == []
    assert "sftp.upload_refused" in await audit_states(gateway, "sftp.upload_refused")


async def test_upload_is_acknowledged_only_after_the_commit(
    gateway: Gateway, start_server: StartServer, client_keys: ClientKeys, tmp_path: Path
) -> None:
    server = await start_server()
    assert server._services is not None

    async def store_down(content: bytes, meta: object) -> object:
        raise ConnectionError("database unreachable")

    server._services.receive = store_down  # type: ignore[assignment]
    (tmp_path / "order.x12").write_bytes(SAMPLE_850)
    failed = await run_sftp(server, client_keys.path("ed25519"), ["put order.x12 /inbox/"], tmp_path)
    assert failed.returncode != 0  # the client is told: the file is not ours yet
    root = _partner_dir(server)
    assert _names(root / "inbox") == []
    assert _names(root / "archive") == []
    assert "sftp.upload_failed" in await audit_states(gateway, "sftp.upload_failed")
    server._services.receive = gateway.receive
    again = await run_sftp(server, client_keys.path("ed25519"), ["put order.x12 /inbox/"], tmp_path)
    assert again.returncode == 0, again.stderr
    assert len(await stored(gateway)) == 1


async def test_document_reaches_the_spool_once_and_the_997_waits_in_the_outbox(
    gateway: Gateway, start_server: StartServer, client_keys: ClientKeys, tmp_path: Path
) -> None:
    from gateway.adapters.sftp import SftpPartnerChannel

    server = await start_server()
    gateway.channels["sftp"] = SftpPartnerChannel(gateway.registry, server.settings.root)
    key = client_keys.path("ed25519")
    (tmp_path / "order.x12").write_bytes(SAMPLE_850)
    commands = [
        "put order.x12 /inbox/order.x12.filepart",
        "rename /inbox/order.x12.filepart /inbox/order.x12",
    ]
    done = await run_sftp(server, key, commands, tmp_path)
    assert done.returncode == 0, done.stderr
    [record] = await stored(gateway)
    await gateway.process_now(record.id)
    await gateway.flush_outbox()
    await gateway.send_pending()
    spooled = sorted((Path(gateway.settings.spool_dir) / "erp").glob("*.json"))
    assert len(spooled) == 1
    message = json.loads(spooled[0].read_text())
    assert message["routing_key"] == "erp.purchase_order.sftp-acme"
    assert message["body"]["header"]["raw_document_id"] == record.id
    [ack_name] = _names(_partner_dir(server) / "outbox")
    commands = [f"get /outbox/{ack_name} ack.x12", f"rm /outbox/{ack_name}"]
    collect = await run_sftp(server, key, commands, tmp_path)
    assert collect.returncode == 0, collect.stderr
    ack = (tmp_path / "ack.x12").read_bytes()
    assert b"ST*997*" in ack
    assert b"AK1*PO*4711" in ack
    assert _names(_partner_dir(server) / "outbox") == []
    assert "sftp.collected" in await audit_states(gateway, "sftp.collected")


async def test_install_sftp_wires_server_poller_and_channel(
    gateway: Gateway, client_keys: ClientKeys, tmp_path: Path
) -> None:
    from gateway.adapters.sftp import SftpSettings, install_sftp

    service = install_sftp(
        gateway.registry,
        gateway.receive,
        gateway.store,
        SftpSettings.under(tmp_path / "var", port=0),
        instance_id="test-instance",
    )
    assert service.channel.kind == "sftp"
    assert service.server is not None
    gateway.channels["sftp"] = service.channel
    profile = gateway.registry.current.get(PUSH_PARTNER)
    assert profile is not None
    assert gateway.channel_for(profile) == "sftp"
    await service.start()
    try:
        (tmp_path / "order.x12").write_bytes(SAMPLE_850)
        done = await run_sftp(service.server, client_keys.path("ecdsa"), ["put order.x12 /inbox/"], tmp_path)
        assert done.returncode == 0, done.stderr
        assert len(await stored(gateway)) == 1
    finally:
        await service.stop()
