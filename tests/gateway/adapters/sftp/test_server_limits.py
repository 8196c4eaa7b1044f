"""Our SFTP server's limits, lifecycle and auth options, driven by a paramiko client.

Interrupted transfers, password accounts, connection limits, idle timeouts,
channel types other than SFTP, and the host key kept across restarts.
"""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path

import paramiko
import pytest
from prometheus_client import CollectorRegistry

from gateway.adapters.sftp import AccountDirectory, SftpMetrics, SftpServer, SftpSettings, hash_password
from gateway.runtime import Gateway

from .conftest import (
    PUSH_PARTNER,
    PUSH_USER,
    SAMPLE_850,
    ClientKeys,
    StartServer,
    audit_states,
    open_gateway,
    push_profile,
    stored,
)


def _connect(
    server: SftpServer, key_path: Path | None = None, password: str | None = None
) -> paramiko.Transport:
    transport = paramiko.Transport(socket.create_connection(server.address, timeout=10))
    transport.start_client(timeout=10)
    if key_path is not None:
        transport.auth_publickey(PUSH_USER, paramiko.Ed25519Key.from_private_key_file(str(key_path)))
    elif password is not None:
        transport.auth_password(PUSH_USER, password)
    return transport


async def test_interrupted_upload_never_enters_the_pipeline(
    gateway: Gateway, start_server: StartServer, client_keys: ClientKeys
) -> None:
    server = await start_server()

    def upload_half_then_drop() -> None:
        transport = _connect(server, client_keys.path("ed25519"))
        sftp = paramiko.SFTPClient.from_transport(transport)
        assert sftp is not None
        handle = sftp.open("/inbox/order.x12", "wb")
        handle.write(SAMPLE_850[:100])
        handle.flush()
        transport.close()  # the connection drops before CLOSE

    await asyncio.to_thread(upload_half_then_drop)
    inbox = server.settings.root / PUSH_PARTNER / "inbox"
    for _ in range(50):
        if not list(inbox.iterdir()):
            break
        await asyncio.sleep(0.05)
    assert list(inbox.iterdir()) == []  # the staging file was discarded
    assert await stored(gateway) == []


async def test_a_temporary_upload_cannot_be_renamed_while_it_is_still_being_written(
    gateway: Gateway, start_server: StartServer, client_keys: ClientKeys
) -> None:
    """Renaming an open .part would commit what has arrived so far: refused until it is closed."""
    server = await start_server()

    def rename_while_open(from_second_connection: bool) -> tuple[str, str]:
        transport = _connect(server, client_keys.path("ed25519"))
        other = _connect(server, client_keys.path("ed25519")) if from_second_connection else transport
        try:
            sftp = paramiko.SFTPClient.from_transport(transport)
            renamer = paramiko.SFTPClient.from_transport(other)
            assert sftp is not None
            assert renamer is not None
            name = "order-2" if from_second_connection else "order-1"
            handle = sftp.open(f"/inbox/{name}.x12.part", "wb")
            handle.write(SAMPLE_850[:100])
            handle.flush()
            with pytest.raises(OSError):
                renamer.posix_rename(f"/inbox/{name}.x12.part", f"/inbox/{name}.x12")
            with pytest.raises(OSError):  # nor to another temporary name, to dodge the check later
                renamer.posix_rename(f"/inbox/{name}.x12.part", f"/inbox/{name}.x12.tmp")
            handle.write(SAMPLE_850[100:])
            handle.close()
            renamer.posix_rename(f"/inbox/{name}.x12.part", f"/inbox/{name}.x12")  # closed: accepted
            return name, "ok"
        finally:
            if other is not transport:
                other.close()
            transport.close()

    for second in (False, True):
        await asyncio.to_thread(rename_while_open, second)
    payloads = await stored(gateway)
    assert len(payloads) == 2
    for record in payloads:
        assert await gateway.store.payload_content(record.id) == SAMPLE_850  # whole, never 100 bytes
    states = await audit_states(gateway, "sftp.rename_refused")
    assert states.count("sftp.rename_refused") >= 2


async def test_only_sftp_sessions_are_allowed(
    gateway: Gateway, start_server: StartServer, client_keys: ClientKeys
) -> None:
    server = await start_server()

    def try_exec() -> str:
        transport = _connect(server, client_keys.path("ed25519"))
        try:
            channel = transport.open_session()
            channel.exec_command("id")
        except paramiko.SSHException as exc:
            return str(exc)
        finally:
            transport.close()
        return "exec accepted"

    assert await asyncio.to_thread(try_exec) != "exec accepted"


async def test_password_only_for_accounts_with_a_hash(tmp_path: Path, client_keys: ClientKeys) -> None:
    hash_file = tmp_path / "acme.hash"
    hash_file.write_text(hash_password("correct horse", cost=10) + "\n")
    profile = push_profile([client_keys.public["ed25519"]], password_hash=f"file:{hash_file}")
    gateway = await open_gateway(tmp_path, [profile])
    server = SftpServer(
        SftpSettings.under(tmp_path / "var", port=0),
        AccountDirectory(gateway.registry),
        gateway.receive,
        gateway.store,
    )
    await server.start()
    try:
        good = await asyncio.to_thread(_connect, server, None, "correct horse")
        assert good.is_authenticated()
        good.close()
        with pytest.raises(paramiko.AuthenticationException):
            await asyncio.to_thread(_connect, server, None, "wrong")
    finally:
        await server.stop()
        await gateway.stop()


async def test_passwords_are_off_by_default(
    gateway: Gateway, start_server: StartServer, client_keys: ClientKeys
) -> None:
    server = await start_server()
    with pytest.raises(paramiko.BadAuthenticationType) as caught:
        await asyncio.to_thread(_connect, server, None, "anything")
    assert caught.value.allowed_types == ["publickey"]


async def test_connections_beyond_the_limit_are_closed(
    gateway: Gateway, start_server: StartServer, client_keys: ClientKeys, tmp_path: Path
) -> None:
    server = await start_server(max_connections=1)
    metrics = SftpMetrics(CollectorRegistry())
    server._observer = metrics
    first = await asyncio.to_thread(_connect, server, client_keys.path("ed25519"))
    try:
        with pytest.raises((paramiko.SSHException, EOFError, OSError)):
            await asyncio.to_thread(_connect, server, client_keys.path("ed25519"))
        assert metrics.refused._value.get() == 1
    finally:
        first.close()
    for _ in range(50):  # the first connection's slot is freed once its transport ended
        await asyncio.sleep(0.05)
        server._reap()
        if server.connections == 0:
            break
    again = await asyncio.to_thread(_connect, server, client_keys.path("ed25519"))
    assert again.is_authenticated()
    again.close()


async def test_idle_connections_are_closed(
    gateway: Gateway, start_server: StartServer, client_keys: ClientKeys
) -> None:
    server = await start_server(idle_timeout_seconds=0.4)
    transport = await asyncio.to_thread(_connect, server, client_keys.path("ed25519"))
    sftp = await asyncio.to_thread(paramiko.SFTPClient.from_transport, transport)
    assert sftp is not None
    for _ in range(60):
        if not transport.is_active():
            break
        await asyncio.sleep(0.05)
    assert not transport.is_active()
    assert "sftp.idle_timeout" in await audit_states(gateway, "sftp.idle_timeout")


async def test_host_key_is_generated_once_and_kept(gateway: Gateway, tmp_path: Path) -> None:
    settings = SftpSettings.under(tmp_path / "var", port=0)
    accounts = AccountDirectory(gateway.registry)
    first = SftpServer(settings, accounts, gateway.receive, gateway.store)
    await first.start()
    keys = first.host_key_lines
    await first.stop()
    second = SftpServer(settings, accounts, gateway.receive, gateway.store)
    await second.start()
    assert second.host_key_lines == keys
    await second.stop()
    key_file = settings.host_key_dir / "ssh_host_ed25519_key"
    assert os.stat(key_file).st_mode & 0o777 == 0o600
    assert (settings.host_key_dir / "ssh_host_ed25519_key.pub").read_text().startswith(keys[0])


async def test_a_second_sftp_channel_on_one_connection_still_commits(
    gateway: Gateway, start_server: StartServer, client_keys: ClientKeys
) -> None:
    server = await start_server()

    def two_channels() -> None:
        transport = _connect(server, client_keys.path("ed25519"))
        try:
            first = paramiko.SFTPClient.from_transport(transport)
            assert first is not None
            first.close()  # ends the first SFTP subsystem only
            second = paramiko.SFTPClient.from_transport(transport)
            assert second is not None
            with second.open("/inbox/order.x12", "wb") as handle:
                handle.write(SAMPLE_850)
            second.close()
        finally:
            transport.close()

    await asyncio.to_thread(two_channels)
    [record] = await stored(gateway)
    assert record.size == len(SAMPLE_850)
