"""Fixtures for the SFTP tests: client keys made by ssh-keygen, partner profiles, a gateway, our server.

The gateway is the real composition root (``Gateway.open``) on a temporary SQLite
database with the embedded spool destination, reading the partner profiles written
here into a temporary directory.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.adapters.sftp import AccountDirectory, SftpServer, SftpSettings
from gateway.config import ChannelSettings, Settings
from gateway.domain.runtime.store import MessageFilter
from gateway.runtime import Gateway
from tests.support.openssh import Sshd, keygen, require_openssh, sftp_batch

REPO = Path(__file__).resolve().parents[4]
SAMPLE_850 = (REPO / "fixtures/x12/sample-850.edi").read_bytes()
PUSH_PARTNER = "sftp-acme"
PUSH_USER = "acme"


@dataclass(frozen=True)
class ClientKeys:
    """Private key paths; ``public[name]`` is the OpenSSH public line."""

    directory: Path
    public: dict[str, str]

    def path(self, name: str) -> Path:
        return self.directory / name


@pytest.fixture(scope="session")
def client_keys(tmp_path_factory: pytest.TempPathFactory) -> ClientKeys:
    require_openssh()
    folder = tmp_path_factory.mktemp("client-keys")
    public = {
        "ed25519": keygen(folder / "ed25519"),
        "ecdsa": keygen(folder / "ecdsa", "ecdsa", 256),
        "rsa": keygen(folder / "rsa", "rsa", 2048),
        "stranger": keygen(folder / "stranger"),
        "ours": keygen(folder / "ours"),
    }
    return ClientKeys(folder, public)


def push_profile(keys: list[str], *, password_hash: str | None = None) -> dict[str, Any]:
    account: dict[str, Any] = {"username": PUSH_USER, "authorized_keys": keys}
    if password_hash is not None:
        account["password_hash"] = password_hash
    return {
        "partner_id": PUSH_PARTNER,
        "name": "ACME over SFTP (test)",
        "environment": "production",
        "identity": {"isa_qualifier": "ZZ", "isa_id": "ACMERETAIL"},
        "channels": {
            "sftp": {
                "mode": "push",
                "account": account,
                "paths": {"inbox": "/inbox", "outbox": "/outbox", "archive": "/archive"},
            }
        },
        "documents": [
            {
                "direction": "inbound",
                "type": "850",
                "format": "x12",
                "version": "004010",
                "mapping": {"variant": "x12-850-004010"},
                "ack": {"type": "997"},
            }
        ],
        "routing": {"850": ["erp"]},
    }


def poll_profile(
    partner_id: str,
    isa_id: str,
    sshd: Sshd,
    key: Path,
    remote: Path,
    after: str,
    *,
    schedule: dict[str, Any] | None = None,
    retry: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A poll-mode profile for ``sshd``, whose folders for this partner are under ``remote``."""
    return {
        "partner_id": partner_id,
        "name": f"{partner_id} (test)",
        "environment": "production",
        "identity": {"isa_qualifier": "ZZ", "isa_id": isa_id},
        "channels": {
            "sftp": {
                "mode": "poll",
                "host": "127.0.0.1",
                "port": sshd.port,
                "username": sshd.user,
                "key": f"file:{key}",
                "known_host_key": sshd.host_key_line,
                "paths": {
                    "inbox": str(remote / "inbox"),
                    "outbox": str(remote / "outbox"),
                    "archive": str(remote / "archive"),
                },
                "filename_pattern": "*.x12",
                "schedule": schedule or {"interval_seconds": 10},
                "after_pickup": after,
                "retry": retry or {"limit": 2, "backoff_seconds": 0.2, "max_backoff_seconds": 1},
            }
        },
        "documents": [{"direction": "inbound", "type": "850", "format": "x12", "version": "004010"}],
    }


def write_profile(partners: Path, profile: dict[str, Any]) -> None:
    partners.mkdir(parents=True, exist_ok=True)
    (partners / f"{profile['partner_id']}.yaml").write_text(yaml.safe_dump(profile, sort_keys=False))


async def open_gateway(
    tmp_path: Path,
    profiles: list[dict[str, Any]],
    *,
    database_url: str | None = None,
    instance_id: str = "test-instance",
    channels: ChannelSettings | None = None,
    **extra: Any,
) -> Gateway:
    """The real composition root on ``database_url`` (default: SQLite in ``tmp_path``)."""
    partners = tmp_path / "partners"
    for profile in profiles:
        write_profile(partners, profile)
    settings = Settings(
        database_url=database_url or f"sqlite:///{tmp_path}/gateway.db",
        partners_dir=partners,
        mappings_dir=REPO / "mappings",
        var_dir=tmp_path / "var",
        spool_dir=tmp_path / "spool",
        filedrop_dir=tmp_path / "filedrop",
        instance_id=instance_id,
        # outbound (our 997) over SFTP
        channels=channels or ChannelSettings(send_via_partner_channels=True),
        **extra,
    )
    gateway = await Gateway.open(settings)
    await gateway.destination.start()
    return gateway


@pytest.fixture
async def gateway(tmp_path: Path, client_keys: ClientKeys) -> AsyncIterator[Gateway]:
    keys = [client_keys.public[k] for k in ("ed25519", "ecdsa", "rsa")]
    gw = await open_gateway(tmp_path, [push_profile(keys)])
    yield gw
    await gw.stop()


StartServer = Callable[..., Awaitable[SftpServer]]


@pytest.fixture
async def start_server(gateway: Gateway, tmp_path: Path) -> AsyncIterator[StartServer]:
    """Start our SFTP server on a free loopback port; settings can be overridden per test."""
    started: list[SftpServer] = []

    async def start(**overrides: Any) -> SftpServer:
        settings = SftpSettings.under(tmp_path / "var", port=0, **overrides)
        server = SftpServer(settings, AccountDirectory(gateway.registry), gateway.receive, gateway.store)
        await server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        await server.stop()


def known_hosts(server: SftpServer, folder: Path) -> Path:
    host, port = server.address
    path = folder / "known_hosts"
    path.write_text("".join(f"[{host}]:{port} {line}\n" for line in server.host_key_lines))
    return path


async def run_sftp(
    server: SftpServer, identity: Path, commands: list[str], cwd: Path, user: str = PUSH_USER
) -> subprocess.CompletedProcess[str]:
    """The OpenSSH sftp client in batch mode, in a thread (our server runs on this loop)."""
    hosts = known_hosts(server, cwd)
    return await asyncio.to_thread(sftp_batch, server.address[1], user, identity, hosts, commands, cwd=cwd)


async def stored(gateway: Gateway, partner_id: str = PUSH_PARTNER) -> list[Any]:
    return await gateway.store.list_payloads(MessageFilter(partner_id=partner_id, channel="sftp", limit=1000))


async def audit_states(
    gateway: Gateway, expect: str, partner_id: str = PUSH_PARTNER, entity: str = "partner"
) -> list[str]:
    """The audit states on the partner once ``expect`` is among them (server audits are not awaited)."""
    for _ in range(100):
        states = [event.state for event in await gateway.store.audit_trail(entity, partner_id)]
        if expect in states:
            return states
        await asyncio.sleep(0.05)
    return states
