"""Configuration of the SFTP server and poller (one ``sftp:`` section of the gateway settings).

Every limit has a safe default; ``SftpSettings.under(var_dir)`` places the partner
folders and the host key under the gateway's var directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["SftpSettings"]


class SftpSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Run our SFTP server (push-mode partners). The poller runs whenever poll-mode profiles exist.
    server_enabled: bool = True
    #: Address the server listens on; port 0 picks a free port (tests).
    host: str = "127.0.0.1"
    port: int = Field(2222, ge=0, le=65535)
    #: Partner folders: ``<root>/<partner_id>/{inbox,outbox,archive}``.
    root: Path = Path("var/sftp/partners")
    #: Where the host keys are generated once (mode 0600) and kept across restarts.
    host_key_dir: Path = Path("var/sftp")
    #: Host key types to present; add ``rsa`` for clients that cannot use Ed25519.
    host_key_types: tuple[Literal["ed25519", "rsa"], ...] = ("ed25519",)
    #: Open connections (authenticated or not) beyond which new ones are closed at once.
    max_connections: int = Field(64, ge=1, le=10_000)
    #: Largest file accepted by upload or picked up by the poller.
    max_file_bytes: int = Field(100 * 1024 * 1024, ge=1024)
    #: A connection with no SFTP request or auth attempt for this long is closed.
    idle_timeout_seconds: float = Field(300.0, gt=0)
    #: Time allowed for authentication after the SSH handshake.
    auth_timeout_seconds: float = Field(30.0, gt=0)
    #: Time the store may take to commit an upload before the client is told it failed.
    commit_timeout_seconds: float = Field(120.0, gt=0)
    #: A temporary upload (``.part``, ``.filepart``, ``.tmp``) not written for this long is removed (audited).
    abandoned_upload_seconds: float = Field(86_400.0, ge=1)
    #: Poller: the per-partner lock's lease (renewed at a third of it while polling).
    poll_lock_seconds: float = Field(60.0, ge=3)
    #: Poller: how often the set of poll-mode partners is compared with the live profiles.
    poll_refresh_seconds: float = Field(30.0, gt=0)
    #: Poller and outbound uploads: TCP connect, SSH handshake and per-request timeout.
    connect_timeout_seconds: float = Field(30.0, gt=0)

    @classmethod
    def under(cls, var_dir: Path, **overrides: object) -> SftpSettings:
        """Defaults placed under ``var_dir`` (``var_dir/sftp/...``)."""
        values: dict[str, object] = {"root": var_dir / "sftp" / "partners", "host_key_dir": var_dir / "sftp"}
        values.update(overrides)
        return cls.model_validate(values)
